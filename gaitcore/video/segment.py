"""The sensor path of the video attack: background subtraction (no pretrained segmenter).

A :class:`BackgroundModel` per view is the per-pixel median of empty-scene footage of that view
(CASIA-B ships such footage; the synthetic source gives the view's static scene). The median of the
walking sequences themselves is no substitute: at views 0 and 180 the walker stays near the image
centre, and the median keeps parts of the person there.

:func:`segment` marks a pixel as person when any colour channel differs from the model by more
than ``threshold`` grey levels, then cleans the mask with a 3x3 morphological opening (isolated
pixels) and closing (pin holes) and keeps connected components of at least ``min_area`` pixels.
The masks are raw 0/255 silhouettes, ready for GaitSet's preprocessing
(:func:`gaitcore.data.preprocess.preprocess_sequence`), like the released silhouettes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

THRESHOLD = 25  # grey levels; the renderer keeps clothes at least 40 away from the background colours
MIN_AREA = 20  # pixels


@dataclass(frozen=True)
class BackgroundModel:
    """The per-pixel median of empty-scene footage of one view, uint8 ``[rows, cols, 3]``."""

    image: np.ndarray

    @classmethod
    def from_footage(cls, frames: np.ndarray) -> BackgroundModel:
        """The model of ``frames`` (uint8 ``[T, rows, cols, 3]``, at least one frame)."""
        if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
            raise ValueError(f"expected RGB footage [T, rows, cols, 3], got {frames.shape}")
        return cls(np.median(frames, axis=0).round().astype(np.uint8))


def segment(frames: np.ndarray, model: BackgroundModel, threshold: int = THRESHOLD,
            min_area: int = MIN_AREA) -> np.ndarray:
    """Silhouettes of RGB ``frames`` (``[T, rows, cols, 3]`` or one frame) against ``model``: uint8 0/255."""
    single = frames.ndim == 3
    batch = frames[None] if single else frames
    if batch.shape[1:] != model.image.shape:
        raise ValueError(f"frames {batch.shape[1:]} and background model {model.image.shape} differ in shape")
    diff = np.abs(batch.astype(np.int16) - model.image.astype(np.int16)).max(axis=-1) > threshold
    kernel = np.ones((3, 3), np.uint8)
    out = np.zeros(diff.shape, dtype=np.uint8)
    for t, raw in enumerate(diff.astype(np.uint8)):
        clean = cv2.morphologyEx(cv2.morphologyEx(raw, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(clean, connectivity=8)
        keep = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_area)
        keep = keep[keep > 0]
        out[t] = np.isin(labels, keep).astype(np.uint8) * np.uint8(255)
    return out[0] if single else out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (positive = person); 1.0 when both are empty."""
    a, b = a > 0, b > 0
    union = int((a | b).sum())
    return 1.0 if union == 0 else float((a & b).sum()) / union
