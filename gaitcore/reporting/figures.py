"""Figures of the paper's results, drawn with matplotlib's Agg backend and written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_figure(fig, path: str | Path, dpi: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)  # keeps the format suffix for matplotlib
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path


def to_unit(frames: np.ndarray) -> np.ndarray:
    """Frames ``[N, 64, 64]`` (or ``[N, 1, 64, 64]``): uint8, or float in [-1, 1] -> float in [0, 1]."""
    x = np.asarray(frames)
    if x.ndim == 4:
        x = x[:, 0]
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    return np.clip((x.astype(np.float32) + 1.0) / 2.0, 0.0, 1.0)


def _grid(frames: np.ndarray, cols: int, pad: int = 2) -> np.ndarray:
    n, h, w = frames.shape
    rows = -(-n // cols)
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 0.5, dtype=np.float32)
    for i, frame in enumerate(frames):
        r, c = divmod(i, cols)
        canvas[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = frame
    return canvas


def fig8_wgan_samples(
    generated: np.ndarray,
    path: str | Path,
    *,
    real: np.ndarray | None = None,
    binary: np.ndarray | None = None,
    cols: int = 8,
    title: str = "WGAN-GP generated silhouettes",
    dpi: int = 150,
) -> Path:
    """The paper's Fig. 8: a grid of generated silhouettes, optionally above the same frames
    thresholded to 0/255 and a grid of real ones.

    ``generated``: frames ``[N, 1, 64, 64]`` or ``[N, 64, 64]``, float in [-1, 1] (the generator's
    output) or uint8; ``binary`` and ``real`` likewise (the thresholded frames the attack emits with
    ``attack.binary_frames``; e.g. store frames) for comparison. Written atomically.
    """
    panels = [("generated", to_unit(generated))]
    if binary is not None:
        panels.append(("generated, thresholded to 0/255", to_unit(binary)))
    if real is not None:
        panels.append(("real (training subjects)", to_unit(real)))
    grids = [(label, _grid(frames, cols)) for label, frames in panels]
    heights = [g.shape[0] for _, g in grids]
    width = grids[0][1].shape[1]
    fig, axes = plt.subplots(len(grids), 1, figsize=(width / 60, sum(heights) / 60 + 0.35 * len(grids) + 0.3),
                             gridspec_kw={"height_ratios": heights}, squeeze=False, layout="constrained")
    for ax, (label, grid) in zip(axes[:, 0], grids, strict=True):
        ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path, dpi)
