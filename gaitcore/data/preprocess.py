"""GaitSet's silhouette preprocessing (Chao et al., AAAI 2019, ``pretreatment.py``), step for step.

For every raw 0/255 silhouette frame:

1. drop it when its pixel sum is at most 10000 (fewer than ~40 foreground pixels);
2. crop to the rows that hold the person (first to last non-empty row);
3. resize to height 64 keeping the aspect ratio (``cv2.INTER_CUBIC``, width ``int(64 * w / h)``);
4. find the column where the cumulative column sum first passes half of the total: the person's
   horizontal centre;
5. cut 64 columns centred there, padding 32 zero columns on both sides first when the window would
   leave the image.

Frames come out as uint8 ``[64, 64]``. The model later cuts 10 columns from each side to 64x44.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

FRAME_SIZE = 64
MIN_PIXEL_SUM = 10000


def preprocess_frame(frame: np.ndarray) -> np.ndarray | None:
    """Align one raw silhouette; ``None`` when GaitSet would drop it.

    ``frame`` is a 2-D uint8 array with background 0 and foreground 255 (grey levels between
    are kept as they are, like the original code does).
    """
    if frame.ndim != 2:
        raise ValueError(f"expected a 2-D grey-level frame, got shape {frame.shape}")
    if int(frame.sum(dtype=np.int64)) <= MIN_PIXEL_SUM:
        return None
    rows = np.flatnonzero(frame.sum(axis=1, dtype=np.int64))
    person = frame[rows[0] : rows[-1] + 1]
    width = int(FRAME_SIZE * person.shape[1] / person.shape[0])
    resized = cv2.resize(person, (width, FRAME_SIZE), interpolation=cv2.INTER_CUBIC)
    column_mass = resized.sum(axis=0, dtype=np.int64).cumsum()
    if column_mass[-1] == 0:  # the cubic resize rounded a faint frame away
        return None
    centre = int(np.argmax(column_mass > column_mass[-1] / 2))
    half = FRAME_SIZE // 2
    left, right = centre - half, centre + half
    if left <= 0 or right >= resized.shape[1]:
        pad = np.zeros((FRAME_SIZE, half), dtype=np.uint8)
        resized = np.concatenate([pad, resized, pad], axis=1)
        left, right = left + half, right + half
    return np.ascontiguousarray(resized[:, left:right])


def preprocess_sequence(frames: Iterable[np.ndarray]) -> tuple[np.ndarray, int]:
    """Align every frame of a sequence: ``(kept uint8 [T, 64, 64], number dropped)``."""
    kept: list[np.ndarray] = []
    dropped = 0
    for frame in frames:
        aligned = preprocess_frame(frame)
        if aligned is None:
            dropped += 1
        else:
            kept.append(aligned)
    if not kept:
        return np.zeros((0, FRAME_SIZE, FRAME_SIZE), dtype=np.uint8), dropped
    return np.stack(kept), dropped
