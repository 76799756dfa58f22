"""Frame-level measures of imperceptibility (beyond He et al., whose Sec. 4.5 / Fig. 7 claims are
visual): foreground shape statistics, their 1-D Wasserstein distances, IoU with neighbouring frames,
the share of grey (non-binary) pixels and the pixel change against the natural frame.
:mod:`gaitcore.experiments.imperceptibility` applies them to every attack setting."""

from __future__ import annotations

import numpy as np

FOREGROUND = 128  # uint8 threshold of a silhouette pixel


# ---------------------------------------------------------------------------------------- measures
def foreground(frames: np.ndarray) -> np.ndarray:
    """Silhouette masks (bool, same shape) of uint8 frames."""
    return np.asarray(frames) >= FOREGROUND


def shape_statistics(frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame of uint8 ``[n, H, W]``: foreground ``area`` (pixels), bounding-box ``width`` and ``height``
    (0 if empty)."""
    masks = foreground(frames)
    rows, cols = masks.any(2), masks.any(1)

    def extent(hit: np.ndarray) -> np.ndarray:
        first = hit.argmax(1)
        last = hit.shape[1] - 1 - hit[:, ::-1].argmax(1)
        return np.where(hit.any(1), last - first + 1, 0).astype(np.float64)

    return {"area": masks.sum((1, 2)).astype(np.float64), "width": extent(cols), "height": extent(rows)}


def non_binary(frames: np.ndarray) -> np.ndarray:
    """Per uint8 frame ``[n, H, W]``: the share of its pixels that are neither 0 nor 255 (a sensor's
    silhouette is binary; resizing leaves grey edges, a generator grey blobs)."""
    frames = np.asarray(frames)
    return ((frames != 0) & (frames != 255)).mean((1, 2)) if len(frames) else np.empty(0)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Foreground IoU of uint8 frames ``a`` and ``b`` ``[n, H, W]`` -> ``[n]`` (two empty frames: 1)."""
    ma, mb = foreground(a), foreground(b)
    inter = (ma & mb).sum((1, 2))
    union = (ma | mb).sum((1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def wasserstein_1d(a: np.ndarray, b: np.ndarray) -> float:
    """The 1-D Wasserstein (earth mover's) distance between two samples: ``integral |F_a - F_b|``."""
    a, b = np.sort(np.asarray(a, dtype=np.float64)), np.sort(np.asarray(b, dtype=np.float64))
    if not len(a) or not len(b):
        return float("nan")
    grid = np.concatenate([a, b])
    grid.sort(kind="mergesort")
    cdf_a = np.searchsorted(a, grid[:-1], side="right") / len(a)
    cdf_b = np.searchsorted(b, grid[:-1], side="right") / len(b)
    return float(np.sum(np.abs(cdf_a - cdf_b) * np.diff(grid)))


def pixel_change(altered: np.ndarray, natural: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: L0 (share of pixels changed) and L2 (on [0, 1] pixels) of ``altered`` against ``natural``."""
    diff = (np.asarray(altered, dtype=np.float64) - np.asarray(natural, dtype=np.float64)) / 255.0
    flat = diff.reshape(len(diff), -1)
    return (flat != 0).mean(1), np.sqrt((flat**2).sum(1))


def neighbour_iou(sequence: np.ndarray, places: np.ndarray) -> np.ndarray:
    """Mean IoU of each frame at ``places`` with the frames just before and after it in ``sequence``."""
    out = np.empty(len(places))
    for i, p in enumerate(places):
        others = [q for q in (p - 1, p + 1) if 0 <= q < len(sequence)]
        out[i] = iou(np.repeat(sequence[p][None], len(others), 0), sequence[others]).mean() if others else np.nan
    return out


def consecutive_iou(sequence: np.ndarray) -> np.ndarray:
    """IoU of every pair of consecutive frames of a sequence ``[N - 1]``."""
    return iou(sequence[:-1], sequence[1:]) if len(sequence) > 1 else np.empty(0)


def sequence_inconsistency(sequence: np.ndarray) -> float:
    """A sequence detector's score (beyond He et al.; issue 23): the largest temporal inconsistency
    of any frame of ``sequence`` ``[N, H, W]``, a frame's inconsistency being one minus its mean IoU
    with the frames just before and after it. A walker's silhouette changes little from frame to
    frame, so a foreign frame stands out against its neighbours; nothing is fitted, so the score
    never sees any subject. A sequence of one frame scores 0."""
    pairs = consecutive_iou(np.asarray(sequence))
    if not len(pairs):
        return 0.0
    before = np.concatenate([[np.nan], pairs])  # IoU with the frame before, per frame
    after = np.concatenate([pairs, [np.nan]])
    return float(1.0 - np.nanmean(np.stack([before, after]), axis=0).min())


__all__ = ["consecutive_iou", "foreground", "iou", "neighbour_iou", "pixel_change", "sequence_inconsistency",
           "shape_statistics", "wasserstein_1d"]
