"""Differentiable augmentation of the critic's inputs (DiffAugment, Zhao et al., NeurIPS 2020): a
lever of the generator's training beyond the paper (issue 23; docs/wgan.md, config/wgan_recipes.yaml).

Real and generated frames pass through the same random family of transforms before every critic
evaluation, the generator's gradient flowing through them, so that a critic trained on few frames
cannot memorise the real ones and keeps giving the generator a useful signal. Frames are
``[N, 1, 64, 64]`` in [-1, 1] with background -1 (:func:`gaitcore.models.wgan.store_to_gan`):

* ``translation``: each frame shifted by whole pixels, independently up to 1/8 of its side in each
  direction; the uncovered border is background;
* ``cutout``: a square of half the side, centred at a random pixel of each frame (clipped at the
  border), set to background.

Policies: ``none`` (the paper), ``translation``, ``translation_cutout``. Draws come from the
trainer's seeded torch CPU generator, so training stays reproducible and resumable.
"""

from __future__ import annotations

import torch
from torch import Tensor

POLICIES: dict[str, tuple[str, ...]] = {
    "none": (),
    "translation": ("translation",),
    "translation_cutout": ("translation", "cutout"),
}
TRANSLATION_RATIO = 0.125  # largest shift, as a share of the side (DiffAugment's)
CUTOUT_RATIO = 0.5  # side of the cut square, as a share of the frame's (DiffAugment's)
BACKGROUND = -1.0


def _grid(frames: Tensor) -> tuple[Tensor, Tensor]:
    """Row and column indices ``[1, H, 1]`` and ``[1, 1, W]`` on the frames' device."""
    _, _, h, w = frames.shape
    return (torch.arange(h, device=frames.device).view(1, h, 1), torch.arange(w, device=frames.device).view(1, 1, w))


def translate(frames: Tensor, generator: torch.Generator, ratio: float = TRANSLATION_RATIO) -> Tensor:
    """Each frame shifted by ``(dy, dx)``, each uniform in ``[-r, r]`` with ``r = round(ratio * side)``,
    background where nothing was shifted in."""
    n, _, h, w = frames.shape
    ry, rx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-ry, ry + 1, (n, 1, 1), generator=generator).to(frames.device)
    dx = torch.randint(-rx, rx + 1, (n, 1, 1), generator=generator).to(frames.device)
    rows, cols = _grid(frames)
    source_rows, source_cols = rows - dy, cols - dx  # output pixel (i, j) shows input (i - dy, j - dx)
    inside = (source_rows >= 0) & (source_rows < h) & (source_cols >= 0) & (source_cols < w)
    flat = (source_rows.clamp(0, h - 1) * w + source_cols.clamp(0, w - 1)).view(n, 1, h * w)
    moved = frames.reshape(n, frames.shape[1], h * w).gather(2, flat.expand(-1, frames.shape[1], -1))
    return torch.where(inside.unsqueeze(1), moved.view_as(frames), torch.full_like(frames, BACKGROUND))


def cutout(frames: Tensor, generator: torch.Generator, ratio: float = CUTOUT_RATIO) -> Tensor:
    """Each frame with a ``round(ratio * side)`` square centred at a uniform random pixel set to
    background (the part inside the frame)."""
    n, _, h, w = frames.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h, (n, 1, 1), generator=generator).to(frames.device)
    cx = torch.randint(0, w, (n, 1, 1), generator=generator).to(frames.device)
    rows, cols = _grid(frames)
    top, left = cy - sy // 2, cx - sx // 2
    cut = (rows >= top) & (rows < top + sy) & (cols >= left) & (cols < left + sx)
    return torch.where(cut.unsqueeze(1), torch.full_like(frames, BACKGROUND), frames)


def diff_augment(frames: Tensor, policy: str, generator: torch.Generator) -> Tensor:
    """``frames`` through the transforms of ``policy`` (see the module docstring), in order."""
    try:
        steps = POLICIES[policy]
    except KeyError:
        raise ValueError(f"unknown augmentation {policy!r}; expected one of {', '.join(POLICIES)}") from None
    for step in steps:
        frames = translate(frames, generator) if step == "translation" else cutout(frames, generator)
    return frames


__all__ = ["POLICIES", "cutout", "diff_augment", "translate"]
