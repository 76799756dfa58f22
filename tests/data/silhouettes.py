"""Hand-made silhouettes for the data tests."""

from pathlib import Path

import cv2
import numpy as np


def person_frame(shape=(240, 320), width=20, offset=0):
    """A 0/255 silhouette: a 120-row tall body whose width identifies the 'subject'."""
    frame = np.zeros(shape, dtype=np.uint8)
    left = 140 + offset
    frame[60:180, left : left + width] = 255
    frame[40:60, left + width // 2 - 6 : left + width // 2 + 6] = 255  # head
    return frame


def write_png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
