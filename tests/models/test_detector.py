"""The frame detector: shapes, batch independence, its AUC and its weights file."""

import numpy as np
import pytest
import torch

from gaitcore.errors import CheckpointError
from gaitcore.models.detector import build_detector, detection_auc, frames_to_input, load_detector, save_detector

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def frames(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 64, 64), dtype=np.uint8)


def test_one_logit_per_frame_whatever_the_batch():
    torch.manual_seed(0)
    detector = build_detector(4).eval()
    batch = frames(5)
    together = detector.score(batch)
    assert together.shape == (5,) and together.dtype == np.float64
    alone = np.concatenate([detector.score(batch[i : i + 1]) for i in range(5)])
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(detector.score(batch, batch=2), together)


def test_input_is_the_frame_in_0_1_and_other_shapes_are_refused():
    x = frames_to_input(np.array([[[0, 255] * 32] * 64], dtype=np.uint8))
    assert x.shape == (1, 1, 64, 64) and float(x.min()) == 0.0 and float(x.max()) == 1.0
    with pytest.raises(ValueError, match="uint8 frames"):
        frames_to_input(np.zeros((1, 64, 44), np.uint8))
    with pytest.raises(ValueError, match=r"\[n, 1, 64, 64\]"):
        build_detector(2)(torch.zeros(1, 64, 64))


def test_detection_auc_counts_generated_frames_above_real_ones():
    assert detection_auc(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 1.0
    assert detection_auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 0.0
    assert detection_auc(np.array([1.0, 1.0]), np.array([1.0, 2.0])) == 0.75  # a tie counts 1/2


def test_weights_round_trip_and_a_foreign_file_is_refused(tmp_path):
    torch.manual_seed(1)
    detector = build_detector(3)
    save_detector(detector, tmp_path / "d.pt", extra={"validation_auc": 0.9})
    loaded, extra = load_detector(tmp_path / "d.pt")
    assert not loaded.training and loaded.config() == {"width": 3} and extra == {"validation_auc": 0.9}
    np.testing.assert_array_equal(loaded.score(frames(3)), detector.eval().score(frames(3)))
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="train_frame_detector"):
        load_detector(tmp_path / "other.pt")
