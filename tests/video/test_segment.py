"""Background subtraction recovers the person: rendered frames and composited adversarial frames."""

import numpy as np
import pytest

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.synthetic import SyntheticConfig
from gaitcore.video.frames import composite
from gaitcore.video.segment import BackgroundModel, iou, segment
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
