"""The camera model of the video attack: soft compositing, sensor noise and JPEG, deterministic under a seed."""

import cv2
import numpy as np
import pytest

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.segment import SEGMENTERS, BackgroundModel, iou, make_segmenter, segment
from gaitcore.data.sensor import (
    JPEG_BLOCK,
    WINDOW_MARGIN,
    SensorModel,
    SensorPath,
    add_noise,
    blend,
    reencode,
)
from gaitcore.data.synthetic import SyntheticConfig
from gaitcore.video.frames import composite
from gaitcore.video.sources import SyntheticVideos

CFG = SyntheticConfig.for_dataset(CASIA_B, subjects=3, frames_min=16, frames_max=16)
PSNR_FLOOR_Q75 = 33.0  # dB; rendered frames measured 37-39 dB at quality 75 (46.9 dB at 100: still lossy)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b) ** 2)))


def _scene(seed: int = 0, frames: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random background and generated frames with a rectangular person mask, 0/255."""
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 256, (frames, 40, 50, 3), dtype=np.uint8)
    generated = rng.integers(0, 256, (frames, 40, 50, 3), dtype=np.uint8)
    mask = np.zeros((frames, 40, 50), dtype=np.uint8)
    mask[:, 10:30, 15:35] = 255
    return background, generated, mask


def test_blend_without_dilation_or_feather_is_the_composite():
    background, generated, mask = _scene()
    mask[1] //= 255  # 0/1 masks too
    batch = blend(background, generated, mask)
    assert batch.dtype == np.uint8
    for t in range(3):
        expected = composite(background[t], generated[t], mask[t])
        assert np.array_equal(blend(background[t], generated[t], mask[t]), expected)
        assert np.array_equal(batch[t], expected)
    assert np.array_equal(SensorModel().paste(background, generated, mask), batch)


def test_feathering_mixes_the_two_images_at_the_edge_only():
    background = np.zeros((40, 50, 3), dtype=np.uint8)
    generated = np.full((40, 50, 3), 200, dtype=np.uint8)
    mask = np.zeros((40, 50), dtype=np.uint8)
    mask[10:30, 15:35] = 255
    out = blend(background, generated, mask, feather=2.0)[..., 0].astype(int)
    assert out[20, 25] == 200 and out[20, 2] == 0  # deep inside, far outside
    row = out[20, 10:21]  # across the left edge at column 15
    assert (np.diff(row) >= 0).all() and 0 < row[4] < 200 and 0 < row[5] < 200
    assert abs(int(row[4]) + int(row[5]) - 200) <= 2  # symmetric about the edge: a = 1/2 there
    # everywhere: I_b (1 - a) + G a with a the blurred mask
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), 2.0)
    assert np.abs(out - np.rint(200 * alpha)).max() <= 1


@pytest.mark.parametrize("dilate", [1, 3])
def test_dilation_grows_the_pasted_region_by_the_stated_pixels(dilate):
    background = np.zeros((40, 50, 3), dtype=np.uint8)
    generated = np.full((40, 50, 3), 255, dtype=np.uint8)
    mask = np.zeros((40, 50), dtype=np.uint8)
    mask[10:30, 15:35] = 255
    mask[20, 40] = 255  # a lone pixel becomes a disc of radius `dilate`
    pasted = blend(background, generated, mask, dilate=dilate)[..., 0] > 0
    rows, cols = np.nonzero(pasted[:, :38])
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (10 - dilate, 29 + dilate, 15 - dilate, 34 + dilate)
    assert pasted[20, 40 + dilate] and pasted[20 + dilate, 40] and not pasted[20, 41 + dilate]
    assert not pasted[20 + dilate, 40 + dilate]  # elliptical, not square
    assert pasted[10:30, 15:35].all()


def test_blend_rejects_mismatched_shapes_and_bad_settings():
    background, generated, mask = _scene()
    with pytest.raises(ValueError, match=r"mask \(3, 40, 49\)"):
        blend(background, generated, mask[..., :49])
    with pytest.raises(ValueError, match=r"generated \(40, 50, 3\)"):
        blend(background, generated[0], mask)
    with pytest.raises(ValueError, match="dilate"):
        blend(background, generated, mask, dilate=-1)
    with pytest.raises(ValueError, match="feather"):
        blend(background, generated, mask, feather=-0.5)


def test_noise_is_deterministic_per_seed_with_the_stated_std():
    grey = np.full((240, 320, 3), 128, dtype=np.uint8)
    first = add_noise(grey, 4.0, np.random.default_rng(7))
    assert first.dtype == np.uint8 and first.shape == grey.shape
    assert np.array_equal(first, add_noise(grey, 4.0, np.random.default_rng(7)))
    assert not np.array_equal(first, add_noise(grey, 4.0, np.random.default_rng(8)))
    residual = first.astype(np.float64) - 128
    assert abs(residual.std() - 4.0) < 0.05 and abs(residual.mean()) < 0.05  # 230k samples: std error ~0.006
    clean = add_noise(grey, 0.0, np.random.default_rng(7))
    assert np.array_equal(clean, grey) and clean is not grey
    assert add_noise(np.zeros((2, 2, 3), np.uint8), 50.0, np.random.default_rng(0)).min() == 0  # clipped
    assert add_noise(np.full((2, 2, 3), 255, np.uint8), 50.0, np.random.default_rng(0)).max() == 255


def test_noise_is_the_rounded_gaussian_independent_per_pixel_and_channel():
    """OpenCV draws the noise, rounded to whole grey levels: its values occur as often as a rounded
    N(0, sigma^2) gives them (chi-square over -11..11 and the two tails beyond, on 2.3 million draws),
    and neighbouring pixels and channels are uncorrelated."""
    from scipy import stats

    residual = (add_noise(np.full((10, 240, 320, 3), 128, np.uint8), 4.0, np.random.default_rng(7)).astype(int)
                - 128).ravel()
    edges = np.r_[-np.inf, np.arange(-11.5, 12), np.inf]  # bins -12 and below, -11, ..., 11, 12 and above
    expected = np.diff(stats.norm.cdf(edges / 4.0)) * residual.size
    observed = np.histogram(residual, np.r_[-1000, np.arange(-11.5, 12), 1000])[0]
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    for lag in (1, 3, 960):  # the next channel, the next pixel, the next row
        assert abs(np.corrcoef(residual[:-lag], residual[lag:])[0, 1]) < 0.005


def test_reencoding_is_lossy_but_close_and_keeps_the_colour_order():
    rgb, _ = SyntheticVideos(CFG).video(SequenceKey(CASIA_B, "001", "nm", 1, 90))
    frames = rgb[:3]
    q75 = reencode(frames, 75)
    assert q75.dtype == np.uint8 and q75.shape == frames.shape
    assert np.array_equal(reencode(frames[1], 75), q75[1])
    assert PSNR_FLOOR_Q75 < _psnr(frames, q75) < _psnr(frames, reencode(frames, 100))
    red = np.zeros((16, 16, 3), dtype=np.uint8)
    red[..., 0] = 230
    assert np.abs(reencode(red, 75)[8, 8].astype(int) - [230, 0, 0]).max() <= 3  # RGB in, RGB out
    for quality in (0, 101, 75.0):
        with pytest.raises(ValueError, match="quality must be an integer in 1..100"):
            reencode(frames, quality)


def test_the_default_sensor_leaves_frames_unchanged_and_capture_is_noise_then_jpeg():
    rgb, _ = SyntheticVideos(CFG).video(SequenceKey(CASIA_B, "002", "cl", 1, 36))
    frames = rgb[:2]
    captured = SensorModel().capture(frames, np.random.default_rng(0))
    assert np.array_equal(captured, frames) and captured is not frames
    camera = SensorModel(noise_sigma=4.0, jpeg_quality=80)
    once = camera.capture(frames, np.random.default_rng(3))
    assert np.array_equal(once, camera.capture(frames, np.random.default_rng(3)))
    assert np.array_equal(once, reencode(add_noise(frames, 4.0, np.random.default_rng(3)), 80))


def test_the_camera_films_the_empty_scene_for_footage_frames_each_with_its_own_noise():
    plate = SyntheticVideos(CFG).background_footage(90)  # the synthetic scene: one rendered frame
    camera = SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=10)
    filmed = camera.film_scene(plate, np.random.default_rng(0))
    assert filmed.shape == (10, *plate.shape[1:])
    assert np.array_equal(filmed, camera.capture(np.repeat(plate, 10, axis=0), np.random.default_rng(0)))
    assert not np.array_equal(filmed[0], filmed[1])  # every frame its own noise
    clip = np.repeat(plate, 12, axis=0)  # footage at least that long is filmed as it is
    filmed = camera.film_scene(clip, np.random.default_rng(1))
    assert np.array_equal(filmed, camera.capture(clip, np.random.default_rng(1)))
    two = np.concatenate([plate, 255 - plate])  # shorter footage is cycled in order
    assert np.array_equal(SensorModel(footage_frames=5).film_scene(two, np.random.default_rng(2)), two[[0, 1, 0, 1, 0]])
    assert np.array_equal(SensorModel().film_scene(plate, np.random.default_rng(3)), plate)  # the default: one frame


def test_mog2_learns_the_cameras_noise_from_filmed_footage():
    """One noisy capture of the plate, learnt ten times over, leaves MOG2 no spread to learn, and the
    noise at the person's edge passes as person; filmed ten times it learns the spread. Measured on
    validation subjects: docs/measurements/2026-12-07-footage-frames.md. Here a training subject's
    key: the person's area over the exact mask's, 1.062 from one frame, 0.963 from ten."""
    source = SyntheticVideos(CFG)
    key = SequenceKey(CASIA_B, "002", "bg", 1, 108)
    rgb, exact = source.video(key)
    person = [t for t in range(len(exact)) if (exact[t] > 0).sum() >= 500]
    areas = []
    for frames in (1, 10):
        path = SensorPath(camera=SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=frames), segmenter="mog2")
        _, found = path.sense(rgb, path.background(source.background_footage(108), np.random.default_rng(0)),
                              np.random.default_rng(1))
        areas.append(sum(int((found[t] > 0).sum()) for t in person) / sum(int((exact[t] > 0).sum()) for t in person))
    assert areas[0] > 1.03 and areas[1] < areas[0] - 0.05


@pytest.mark.parametrize(("settings", "field"), [
    ({"noise_sigma": -1.0}, "noise_sigma"), ({"noise_sigma": float("nan")}, "noise_sigma"),
    ({"jpeg_quality": 0}, "jpeg_quality"), ({"jpeg_quality": 101}, "jpeg_quality"),
    ({"jpeg_quality": 80.5}, "jpeg_quality"), ({"dilate": -2}, "dilate"), ({"dilate": 1.5}, "dilate"),
    ({"feather": -0.1}, "feather"), ({"feather": float("inf")}, "feather"),
    ({"footage_frames": 0}, "footage_frames"), ({"footage_frames": 2.5}, "footage_frames"),
])
def test_sensor_settings_are_validated(settings, field):
    with pytest.raises(ValueError, match=rf"^{field} must be .*, got"):
        SensorModel(**settings)


# ------------------------------------------------------------------------------- the sensor path
STORE_MATCH_BOUND = 0.99  # stated: without a camera, mean IoU of the sensed clean video with the store


def _sensed(method, camera, key):
    """Mean IoUs over frames with a person: sensed vs store, the segmenter's masks vs the exact masks,
    the segmenter's masks vs the store (no artifacts)."""
    source = SyntheticVideos(CFG)
    rgb, exact = source.video(key)
    store = source.silhouettes(key)
    sensor = SensorPath(camera=camera, segmenter=method)
    segmenter = sensor.background(source.background_footage(key.view), np.random.default_rng(0))
    silhouettes, segmented = sensor.sense(rgb, segmenter, np.random.default_rng(1), source.artifacts(key))
    again, _ = sensor.sense(rgb, segmenter, np.random.default_rng(1), source.artifacts(key))
    assert np.array_equal(again, silhouettes)  # the seed fixes the camera
    person = [t for t in range(len(store)) if (store[t] > 0).sum() >= 500]
    assert len(person) >= 8
    return tuple(float(np.mean([iou(a[t], b[t]) for t in person]))
                 for a, b in ((silhouettes, store), (segmented, exact), (segmented, store)))


@pytest.mark.parametrize("method", SEGMENTERS)
def test_a_clean_video_sensed_gives_the_stores_silhouettes(method):
    """Issue 21 item 1: the store's silhouettes and the sensed clean video carry the same recording's
    segmentation errors, so they agree as well as the segmenter finds the rendered person."""
    key = SequenceKey(CASIA_B, "002", "bg", 1, 108)
    sensed, found, bare = _sensed(method, SensorModel(), key)
    assert sensed > STORE_MATCH_BOUND and sensed > bare + 0.03  # measured 0.996 against 0.923
    # Through a camera (sigma 4, JPEG 80) the sensed video is as close to the store as the segmenter's
    # masks are to the exact ones: measured 0.976 / 0.942 / 0.979 (median / mog2 / knn) on this key;
    # MOG2 loses parts of the person here (tests/data/test_segment.py bounds each method's masks).
    sensed, found, bare = _sensed(method, SensorModel(noise_sigma=4.0, jpeg_quality=80), key)
    assert sensed >= found - 0.01 and sensed > bare + 0.02


def test_without_a_camera_the_median_path_is_the_store_up_to_the_segmenters_edge():
    source = SyntheticVideos(CFG)
    key = SequenceKey(CASIA_B, "001", "nm", 1, 90)
    rgb, exact = source.video(key)
    sensor = SensorPath()
    segmenter = sensor.background(source.background_footage(90), np.random.default_rng(0))
    silhouettes, segmented = sensor.sense(rgb, segmenter, np.random.default_rng(0), source.artifacts(key))
    assert np.array_equal(segmented, segment(rgb, BackgroundModel.from_footage(source.background_footage(90))))
    same = segmented == exact  # where the segmenter found the exact mask, the store's silhouette is sensed
    assert same.mean() > 0.99
    store = source.silhouettes(key)
    agree = [np.mean((silhouettes[t] == store[t])[same[t]]) for t in range(len(store))]
    assert min(agree) > 0.98


def _walk(key: SequenceKey) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    source = SyntheticVideos(CFG)
    rgb, exact = source.video(key)
    return rgb, exact, source.background_footage(key.view)


@pytest.mark.parametrize("method", ["median", "mog2"])
def test_sensing_around_the_person_is_sensing_the_whole_frame(method):
    """Issue 21 item 1: the store and the synthetic probes are sensed in a window around the person.
    With a noiseless camera (JPEG only) the window gives the whole frame's masks bit for bit: the
    window keeps JPEG's blocks and reaches past the codec's and the cleanup's neighbourhoods. KNN's
    sampling depends on the image size, so only its distribution is the same (below)."""
    for key in (SequenceKey(CASIA_B, "001", "nm", 1, 0), SequenceKey(CASIA_B, "003", "bg", 2, 162)):
        rgb, exact, footage = _walk(key)
        path = SensorPath(camera=SensorModel(jpeg_quality=80, footage_frames=10), segmenter=method)
        segmenter = path.background(footage, np.random.default_rng(0))
        whole, _ = path.sense(rgb, segmenter, np.random.default_rng(0))
        around, _ = path.sense(rgb, segmenter, np.random.default_rng(0), people=exact)
        assert whole.any()
        assert np.array_equal(around, whole)


@pytest.mark.parametrize("method", SEGMENTERS)
def test_the_cameras_noise_alone_never_passes_the_segmenter(method):
    """Why sensing in windows around the person loses nothing: on whole frames of the empty scene
    through the default camera (noise 4, JPEG 80, ten frames of footage), no segmenter finds anything."""
    camera = SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=10)
    path = SensorPath(camera=camera, segmenter=method)
    for view in (0, 72, 162):
        footage = SyntheticVideos(CFG).background_footage(view)
        empty = np.repeat(footage, 6, axis=0)
        segmenter = path.background(footage, np.random.default_rng(view))
        found, _ = path.sense(empty, segmenter, np.random.default_rng(view + 1))
        assert not found.any()


@pytest.mark.parametrize("method", SEGMENTERS)
def test_sensing_around_the_person_through_a_noisy_camera_matches_the_whole_frame(method):
    """With noise the two draw differently: the masks agree as two recordings of one walk do
    (measured mean IoU 0.984 to 0.996), and the window's draws are fixed by the seed."""
    key = SequenceKey(CASIA_B, "002", "cl", 1, 90)
    rgb, exact, footage = _walk(key)
    path = SensorPath(camera=SensorModel(noise_sigma=4.0, jpeg_quality=80), segmenter=method)
    segmenter = path.background(footage, np.random.default_rng(0))
    whole, _ = path.sense(rgb, segmenter, np.random.default_rng(1))
    around, _ = path.sense(rgb, segmenter, np.random.default_rng(2), people=exact)
    assert np.array_equal(around, path.sense(rgb, segmenter, np.random.default_rng(2), people=exact)[0])
    assert set(np.unique(around)) <= {0, 255}
    assert np.mean([iou(a, b) for a, b in zip(whole, around)]) > 0.97


@pytest.mark.parametrize("method", SEGMENTERS)
def test_each_window_is_segmented_as_by_a_segmenter_learnt_from_that_window(method):
    """The view's segmenter is learnt once from the camera's film of the whole empty scene and cut to
    each window; each window's masks equal those of a segmenter learnt from that window of the filmed
    footage (the plain per-frame method, written out here), on a noisy camera filming ten frames."""
    rgb, exact, footage = _walk(SequenceKey(CASIA_B, "003", "nm", 2, 90))
    exact = exact.copy()  # the source's arrays are read-only
    exact[3] = 0  # a frame without a person stays empty
    camera = SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=10)
    path = SensorPath(camera=camera, segmenter=method)
    seen = camera.film_scene(footage, np.random.default_rng(4))
    rng = np.random.default_rng(5)
    expected = np.zeros(exact.shape, dtype=np.uint8)
    for t in range(len(rgb)):
        ys, xs = np.nonzero(exact[t])
        if ys.size == 0:
            continue
        top, left = (int(v.min()) - WINDOW_MARGIN for v in (ys, xs))
        bottom, right = (int(v.max()) + 1 + WINDOW_MARGIN for v in (ys, xs))
        y0, x0 = (max(0, v) // JPEG_BLOCK * JPEG_BLOCK for v in (top, left))
        y1 = min(exact.shape[1], -(-bottom // JPEG_BLOCK) * JPEG_BLOCK)
        x1 = min(exact.shape[2], -(-right // JPEG_BLOCK) * JPEG_BLOCK)
        window = make_segmenter(method, seen[:, y0:y1, x0:x1])
        expected[t, y0:y1, x0:x1] = window.segment(camera.capture(rgb[t, y0:y1, x0:x1], rng))
    got, _ = path.sense(rgb, path.background(footage, np.random.default_rng(4)), np.random.default_rng(5),
                        people=exact)
    assert expected.any() and not got[3].any()
    assert np.array_equal(got, expected)


def test_sensing_around_nobody_finds_nobody_and_shapes_must_match():
    rgb, exact, footage = _walk(SequenceKey(CASIA_B, "001", "nm", 1, 90))
    path = SensorPath(camera=SensorModel(noise_sigma=4.0, jpeg_quality=80))
    segmenter = path.background(footage, np.random.default_rng(0))
    nobody = np.zeros_like(exact)
    assert not path.sense(rgb, segmenter, np.random.default_rng(0), people=nobody)[0].any()
    with pytest.raises(ValueError, match="person masks"):
        path.sense(rgb, segmenter, np.random.default_rng(0), people=exact[:, :-1])
