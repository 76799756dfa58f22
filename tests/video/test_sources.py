"""CASIA-B's empty-scene footage: read from <subject>-bkgrd-<view>.avi, of the videos' frame size or a DataError.

The AVIs are tiny Motion-JPEG files written here with OpenCV (MJPG writes and reads back with the
installed opencv-python-headless).
"""

from pathlib import Path

import cv2
import numpy as np
import pytest

from gaitcore.errors import DataError
from gaitcore.video.sources import CasiaBVideos

SHAPE = (24, 32)  # rows, cols of the tiny videos


def _write_avi(path: Path, frames: np.ndarray) -> None:
    """RGB ``frames [T, rows, cols, 3]`` as a Motion-JPEG AVI."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (frames.shape[2], frames.shape[1]))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def _scene(rows: int, cols: int, frames: int = 3) -> np.ndarray:
    scene = np.zeros((frames, rows, cols, 3), dtype=np.uint8)
    scene[..., 0], scene[..., 1], scene[..., 2] = 150, 165, 100
    return scene


def test_footage_of_the_videos_size_is_read_as_rgb(tmp_path):
    _write_avi(tmp_path / "001-bkgrd-090.avi", _scene(*SHAPE))
    footage = CasiaBVideos(tmp_path, tmp_path / "silhouettes", SHAPE).background_footage(90)
    assert footage.shape == (3, *SHAPE, 3) and footage.dtype == np.uint8
    assert np.abs(footage.astype(int) - [150, 165, 100]).max() <= 4  # MJPG is lossy; RGB order kept


def test_footage_of_another_size_is_a_data_error_naming_the_file(tmp_path):
    _write_avi(tmp_path / "001-bkgrd-036.avi", _scene(*SHAPE))
    _write_avi(tmp_path / "002-bkgrd-036.avi", _scene(16, 16))
    with pytest.raises(DataError) as error:
        CasiaBVideos(tmp_path, tmp_path / "silhouettes", SHAPE).background_footage(36)
    assert error.value.path == tmp_path / "002-bkgrd-036.avi"
    assert "(16, 16)" in error.value.problem and "(24, 32)" in error.value.problem
    assert "footage of the videos' size (24, 32)" in error.value.fix
    assert str(tmp_path / "002-bkgrd-036.avi") in str(error.value)


def test_missing_footage_is_a_data_error_naming_the_expected_file(tmp_path):
    _write_avi(tmp_path / "001-bkgrd-090.avi", _scene(*SHAPE))
    with pytest.raises(DataError, match=r"001-bkgrd-054\.avi: no empty-scene footage of view 54") as error:
        CasiaBVideos(tmp_path, tmp_path / "silhouettes", SHAPE).background_footage(54)
    assert error.value.path == tmp_path / "001-bkgrd-054.avi"
