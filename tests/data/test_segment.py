"""Background subtraction recovers the person: rendered frames, composited adversarial frames, and frames
through a camera (noise and JPEG), with each of the segmenters."""

import cv2
import numpy as np
import pytest

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.segment import SEGMENTERS, WINDOW_CACHE, BackgroundModel, clean, iou, make_segmenter, segment
from gaitcore.data.sensor import SensorModel
from gaitcore.data.synthetic import SyntheticConfig
from gaitcore.video.frames import composite
from gaitcore.video.sources import SyntheticVideos

CFG = SyntheticConfig.for_dataset(CASIA_B, subjects=3, frames_min=16, frames_max=16)
IOU_BOUND = 0.97  # stated bound: every frame with a person of at least 500 pixels


@pytest.mark.parametrize(("subject", "condition", "view"), [("001", "nm", 0), ("002", "cl", 90), ("003", "bg", 180)])
def test_segmentation_recovers_the_rendered_mask(subject, condition, view):
    source = SyntheticVideos(CFG)
    rgb, mask = source.video(SequenceKey(CASIA_B, subject, condition, 1, view))
    model = BackgroundModel.from_footage(source.background_footage(view))
    found = segment(rgb, model)
    assert found.dtype == np.uint8 and set(np.unique(found)) <= {0, 255}
    scores = [iou(f, m) for f, m in zip(found, mask) if (m > 0).sum() >= 500]
    assert len(scores) >= 8 and min(scores) > IOU_BOUND


def test_segmentation_recovers_a_composited_silhouette():
    source = SyntheticVideos(CFG)
    background = BackgroundModel.from_footage(source.background_footage(54))
    mask = np.zeros(CFG.frame_shape, dtype=np.uint8)
    mask[60:200, 140:170] = 255
    mask[100:140, 120:190] = 255
    generated = np.zeros((*CFG.frame_shape, 3), dtype=np.uint8)
    generated[..., 0] = 230  # a red figure; the background is grey-blue and grey-green
    frame = composite(background.image, generated, mask)
    assert iou(segment(frame, background), mask) > 0.99


def test_the_background_model_is_the_median_and_shapes_are_checked():
    footage = np.stack([np.full((6, 7, 3), v, dtype=np.uint8) for v in (10, 30, 200)])
    model = BackgroundModel.from_footage(footage)
    assert (model.image == 30).all()
    with pytest.raises(ValueError, match="differ in shape"):
        segment(np.zeros((2, 5, 7, 3), dtype=np.uint8), model)
    assert iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0


# The acceptance test (issue 21 item 3): every segmenter recovers the rendered person from frames
# that went through a realistic camera, noise of 4 grey levels and JPEG at quality 80; the empty-scene
# footage (10 frames of the static scene) goes through the same camera with other draws of the noise.
# The settings (segment.DEFAULT_SETTINGS) were chosen on other subjects: keys 004-nm-18, 005-cl-54,
# 006-bg-108, 007-nm-144, 008-cl-162, 009-bg-36 of a 10-subject config, 16 frames each. Mean IoU over
# the frames with >= 500 person pixels, and (in brackets) the worst frame, at sigma 4 / quality 80:
#   median threshold 20 / 25 / 35 / 45 / 60: 0.976 / 0.987 (0.968) / 0.993 / 0.993 / 0.971 (kept at 25)
#   mog2 history 10, var_threshold 64 / 100 / 144 / 225: 0.985 / 0.990 (0.973) / 0.991 (0.969) / 0.983;
#        history 30 / 100 no better (0.989 / 0.987) and 2x / 6x slower
#   knn history 10, dist2_threshold 900 / 1200 / 1600 / 2500: 0.987 / 0.991 (0.976) / 0.993 / 0.994;
#        1200 (35 grey levels) stays below the renderer's 40-level colour margin; history 30 the same, 2x slower
# With the chosen settings those keys give 0.983-0.993 at sigma 3 / quality 85 and sigma 5 / quality 75, and
# 0.996 on clean frames (all three methods). OpenCV's default thresholds (var_threshold 16, dist2_threshold
# 400, at history 30) give 0.931 and 0.968 at sigma 4 / quality 80: they take the noise for the person.
CAMERA = SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=10)  # the default's video_attack.camera
CAMERA_MEAN_IOU_BOUND = 0.95  # stated bounds, set from the tuning keys above with a margin
CAMERA_MIN_IOU_BOUND = 0.90
KNN_SETTLED_IOU_BOUND = 0.995  # stated bound: settled model against one trained afresh, every frame (measured 0.9993+)


def _through_camera(key: SequenceKey, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rendered frames, their masks, and 10 frames of empty-scene footage, both through ``CAMERA``."""
    source = SyntheticVideos(CFG)
    rgb, mask = source.video(key)
    rng = np.random.default_rng(seed)
    footage = CAMERA.film_scene(source.background_footage(key.view), rng)
    return CAMERA.capture(rgb, rng), mask, footage


@pytest.mark.parametrize("method", SEGMENTERS)
@pytest.mark.parametrize(("subject", "condition", "view"), [("001", "nm", 0), ("002", "cl", 90), ("003", "bg", 180)])
def test_every_segmenter_recovers_the_person_through_noise_and_compression(method, subject, condition, view):
    frames, mask, footage = _through_camera(SequenceKey(CASIA_B, subject, condition, 1, view), seed=int(subject))
    found = make_segmenter(method, footage).segment(frames)
    assert found.dtype == np.uint8 and found.shape == mask.shape and set(np.unique(found)) <= {0, 255}
    scores = [iou(f, m) for f, m in zip(found, mask) if (m > 0).sum() >= 500]
    assert len(scores) >= 8
    assert np.mean(scores) > CAMERA_MEAN_IOU_BOUND and min(scores) > CAMERA_MIN_IOU_BOUND


@pytest.mark.parametrize("method", ["mog2", "knn"])
def test_learnt_segmenters_recover_clean_frames_from_a_single_footage_frame(method):
    source = SyntheticVideos(CFG)
    rgb, mask = source.video(SequenceKey(CASIA_B, "002", "nm", 2, 126))
    found = make_segmenter(method, source.background_footage(126)).segment(rgb[::2])
    scores = [iou(f, m) for f, m in zip(found, mask[::2]) if (m > 0).sum() >= 500]
    assert len(scores) >= 4 and min(scores) > IOU_BOUND


def test_the_median_segmenter_is_segment_against_the_median_model():
    frames, _, footage = _through_camera(SequenceKey(CASIA_B, "003", "cl", 2, 72), seed=5)
    model = BackgroundModel.from_footage(footage)
    for settings in ({}, {"threshold": 12, "min_area": 5}):
        expected = segment(frames, model, **settings)
        assert np.array_equal(make_segmenter("median", footage, **settings).segment(frames), expected)
    assert np.array_equal(make_segmenter("median", footage).segment(frames[4]), segment(frames[4], model))


@pytest.mark.parametrize("method", ["mog2", "knn"])
def test_learnt_segmenters_do_not_depend_on_frame_order_and_are_deterministic(method):
    frames, _, footage = _through_camera(SequenceKey(CASIA_B, "001", "bg", 2, 54), seed=9)
    frames = frames[:5]
    segmenter = make_segmenter(method, footage)
    forward = segmenter.segment(frames)
    assert np.array_equal(segmenter.segment(frames[::-1])[::-1], forward)
    assert np.array_equal(np.stack([segmenter.segment(frame) for frame in frames]), forward)
    assert np.array_equal(make_segmenter(method, footage).segment(frames), forward)


@pytest.mark.parametrize("history", [1, 3, 10, 40])
def test_a_trained_knn_model_is_frozen_at_any_history(history):
    """The settled KNN model segments a frame the same after any other frames; at rate 0 (below) it
    would not: OpenCV keeps writing segmented pixels into its samples."""
    frames, _, footage = _through_camera(SequenceKey(CASIA_B, "002", "bg", 1, 36), seed=11)
    segmenter = make_segmenter("knn", footage, history=history)
    first = segmenter.segment(frames[:6])
    assert np.array_equal(segmenter.segment(frames[:6][::-1])[::-1], first)
    assert np.array_equal(segmenter.segment(frames[:6]), first)
    drifting = cv2.createBackgroundSubtractorKNN(history=history, dist2Threshold=1200.0, detectShadows=False)
    for shot in footage:
        drifting.apply(shot)
    assert any(not np.array_equal(drifting.apply(frames[2], learningRate=0), drifting.apply(frames[2], learningRate=0))
               for _ in range(4))


def test_the_settled_knn_model_segments_like_one_trained_afresh_for_each_frame():
    """Against the naive reference (a model trained on the footage for each frame, the frame segmented
    at rate 0 before it can write into the samples): the few samples spent settling barely show."""
    frames, mask, footage = _through_camera(SequenceKey(CASIA_B, "003", "nm", 2, 144), seed=12)
    found = make_segmenter("knn", footage).segment(frames)
    scores = []
    for frame, settled in zip(frames, found):
        cv2.setRNGSeed(0)
        fresh = cv2.createBackgroundSubtractorKNN(history=10, dist2Threshold=1200.0, detectShadows=False)
        for shot in footage:
            fresh.apply(shot)
        scores.append(iou(settled, clean(fresh.apply(frame, learningRate=0))))
    assert min(scores) > KNN_SETTLED_IOU_BOUND


def test_windows_are_learnt_once_and_the_last_ones_kept():
    _, _, footage = _through_camera(SequenceKey(CASIA_B, "001", "nm", 1, 18), seed=13)
    segmenter = make_segmenter("mog2", footage)
    box = (16, 32, 64, 96)
    kept = segmenter.window(*box)
    assert np.array_equal(kept.footage, footage[:, 16:64, 32:96])
    assert kept.window(0, 0, 8, 8).footage.shape[1:3] == (8, 8)
    for x0 in range(WINDOW_CACHE - 1):  # the cache is full, the box the oldest entry
        segmenter.window(0, x0, 16, x0 + 16)
    assert segmenter.window(*box) is kept  # used again: now the newest
    for x0 in range(WINDOW_CACHE):
        segmenter.window(16, x0, 32, x0 + 16)
    assert segmenter.window(*box) is not kept


def test_segment_marks_pixels_where_a_channel_differs_by_more_than_the_threshold():
    frames, _, footage = _through_camera(SequenceKey(CASIA_B, "002", "nm", 1, 108), seed=3)
    model = BackgroundModel.from_footage(footage)
    naive = np.abs(frames.astype(int) - model.image.astype(int)).max(-1) > 25
    assert np.array_equal(segment(frames, model, min_area=1), np.stack([clean(raw, 1) for raw in naive]))
    with pytest.raises(ValueError, match="differ in shape or type"):
        segment(frames.astype(np.int16), model)


@pytest.mark.parametrize("method", SEGMENTERS)
def test_a_window_of_a_segmenter_segments_as_one_learnt_on_the_cropped_footage(method):
    frames, mask, footage = _through_camera(SequenceKey(CASIA_B, "001", "cl", 1, 90), seed=4)
    frames = frames[:3]
    ys, xs = np.nonzero(mask[:3].any(0))
    y0, x0, y1, x1 = max(0, ys.min() - 8), max(0, xs.min() - 8), ys.max() + 9, xs.max() + 9
    found = make_segmenter(method, footage).window(y0, x0, y1, x1).segment(frames[:, y0:y1, x0:x1])
    expected = make_segmenter(method, footage[:, y0:y1, x0:x1]).segment(frames[:, y0:y1, x0:x1])
    assert found.any() and np.array_equal(found, expected)


def test_the_cleanup_drops_specks_and_small_components():
    raw = np.zeros((30, 30), dtype=bool)
    raw[2, 2] = True  # a speck: the opening removes it
    raw[5:25, 5:15] = True
    raw[12, 9] = False  # a pin hole: the closing fills it
    raw[20:24, 20:24] = True  # 16 pixels < MIN_AREA
    cleaned = clean(raw)
    assert cleaned.dtype == np.uint8 and int(cleaned.sum()) // 255 == 200 and cleaned[12, 9] == 255
    assert clean(raw, min_area=16)[21, 21] == 255


def test_make_segmenter_rejects_unknown_methods_settings_and_other_frame_sizes():
    footage = np.zeros((2, 24, 32, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="median, mog2, knn"):
        make_segmenter("grabcut", footage)
    with pytest.raises(ValueError, match="mog2 has no setting threshold; its settings are history, var_threshold"):
        make_segmenter("mog2", footage, threshold=30)
    with pytest.raises(ValueError, match="dist2_threshold must be a number > 0"):
        make_segmenter("knn", footage, dist2_threshold=0)
    with pytest.raises(ValueError, match=r"expected RGB footage \[T, rows, cols, 3\], got \(24, 32, 3\)"):
        make_segmenter("mog2", footage[0])
    for method in SEGMENTERS:
        with pytest.raises(ValueError, match=r"\(20, 32, 3\).*\(24, 32, 3\)"):
            make_segmenter(method, footage).segment(np.zeros((3, 20, 32, 3), dtype=np.uint8))
