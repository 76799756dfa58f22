"""The Fréchet distance between two sets of frames in GaitSet's frame features (generator quality,
imperceptibility).

He et al. show generated examples (Appendix A, Fig. 8) but no number. This module measures one:
the Fréchet distance (the FID formula, Heusel et al. 2017) between Gaussian fits of real and
generated frames' features,

    FD = ||mu_1 - mu_2||^2 + tr(C_1 + C_2 - 2 (C_1 C_2)^{1/2}),

in the feature space of the *trained victim*, GaitSet: each frame passes through GaitSet's
frame-level CNN on its own (:meth:`gaitcore.models.gaitset.GaitSet.frame_maps`, the last stage,
``[c3, 16, 11]``) and is pooled spatially as GaitSet's coarsest HPM strip pools (mean + max over the
whole map), giving ``c3`` numbers per frame (64 at the default config's width, 128 at the paper's).
Generated 64x64 frames enter GaitSet as :func:`gaitcore.models.wgan.to_gaitset_frames` maps them,
real store frames as :func:`gaitcore.models.gaitset.silhouettes_to_input` does (the same crop and scale).

The distance has a positive bias that shrinks with the number of frames, so it is only meaningful
next to a **floor**: the same distance, with the same number of frames per side, between two
disjoint random halves of the real frames. A generator whose frames were indistinguishable from
real ones would score at the floor.

The matrix square root term uses no SciPy: ``tr((C_1 C_2)^{1/2})`` equals the sum of the square roots
of the eigenvalues of the symmetric positive semi-definite ``C_1^{1/2} C_2 C_1^{1/2}``, computed with
two symmetric eigendecompositions (``numpy.linalg.eigh``) in float64.
"""

from __future__ import annotations

import numpy as np
import torch

from gaitcore.models.gaitset import GaitSet


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of ``features`` ``[N, d]``, float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need features [N >= 2, d], got shape {x.shape}")
    return x.mean(0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2) (see the module docstring)."""
    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    cov1, cov2 = np.asarray(cov1, dtype=np.float64), np.asarray(cov2, dtype=np.float64)
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"shapes do not match: {mu1.shape}, {cov1.shape}, {mu2.shape}, {cov2.shape}")
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    value = float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2.0 * cross)
    return max(value, 0.0)


def features_frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two feature sets ``[N, d]`` and ``[M, d]``."""
    return frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))


@torch.no_grad()
def gaitset_frame_features(model: GaitSet, frames: torch.Tensor, batch: int = 256) -> np.ndarray:
    """Per-frame GaitSet features ``[N, c3]``: the frame CNN's last map, mean + max over space.

    ``frames``: GaitSet input ``[N, 64, 44]`` in [0, 1] on the model's device.
    """
    out = []
    for chunk in frames.split(batch):
        stage3 = model.frame_maps(chunk)[2].flatten(2)  # [n, c3, 16 * 11]
        out.append((stage3.mean(2) + stage3.amax(2)).float().cpu())
    return torch.cat(out).numpy()
