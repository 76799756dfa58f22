"""Gait energy images (GEI, Han & Bhanu 2006): the mean of a sequence's aligned silhouettes, the
template GaitGAN reads (He et al. Sec. 4.3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitcore.data.store import FRAME_SIZE, FrameStore


def gait_energy_image(frames: np.ndarray) -> np.ndarray:
    """GEI of one sequence: the mean of its aligned uint8 frames ``[T, 64, 64]``, float32 in [0, 1]."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 3 or frames.shape[1:] != (FRAME_SIZE, FRAME_SIZE):
        raise ValueError(f"expected uint8 frames [T, 64, 64], got {frames.dtype} {frames.shape}")
    if not len(frames):
        raise ValueError("a GEI needs at least one frame")
    return (frames.mean(axis=0, dtype=np.float64) / 255.0).astype(np.float32)


def store_geis(store: FrameStore, rows: pd.DataFrame) -> np.ndarray:
    """GEIs ``[len(rows), 64, 64]`` (float32, [0, 1]) of the store's sequences in ``rows`` (index rows, in order)."""
    out = np.empty((len(rows), FRAME_SIZE, FRAME_SIZE), dtype=np.float32)
    for i, row in enumerate(rows.index):
        out[i] = gait_energy_image(store.sequence(int(row)))
    return out
