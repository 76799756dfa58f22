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

:func:`frechet_ratios` gives generated sets' ratios to the floor with intervals from a bootstrap
over the real frames' subjects (and the generated frames), paired across sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from gaitcore.evaluation.uncertainty import CONFIDENCE, N_RESAMPLES, SEED, Interval
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


@dataclass(frozen=True)
class FrechetRatios:
    """Fréchet ratios to the floor of several generated sets against one real set, with their
    bootstrap draws (the same resamples for every set, so differences of draws are paired)."""

    estimates: dict[str, float]
    draws: dict[str, np.ndarray]  # [n_resamples] per set
    frames: int  # real frames per half
    subjects: int  # real frames' subjects

    def interval(self, name: str, minus: str | None = None, confidence: float = CONFIDENCE) -> Interval:
        """The percentile interval of set ``name``'s ratio, or of ``name``'s minus ``minus``'s (paired)."""
        estimate = self.estimates[name] - (self.estimates[minus] if minus else 0.0)
        draws = self.draws[name] - (self.draws[minus] if minus else 0.0)
        tail = (1.0 - confidence) / 2.0
        low, high = (float(x) for x in np.quantile(draws, [tail, 1.0 - tail]))
        return Interval(estimate, low, high, self.frames, self.subjects)


def frechet_ratios(real: np.ndarray, subjects: np.ndarray, generated: Mapping[str, np.ndarray], *,
                   n_resamples: int = N_RESAMPLES, seed: int = SEED) -> FrechetRatios:
    """Each generated set's Fréchet distance to real half A over the floor (half A to half B), with a
    bootstrap that resamples the real frames' subjects and the generated frames.

    ``real``: features ``[2N, d]`` of real frames drawn uniformly (first N: half A, the rest: half B)
    and ``subjects`` their walkers; ``generated``: ``{name: features [N, d]}`` of frames from the same
    latent codes row by row. A resample draws subjects with replacement (each brings all its frames of
    both halves) and generated rows with replacement (the same rows for every set).
    """
    real, subjects = np.asarray(real), np.asarray(subjects)
    n = len(real) // 2
    if len(real) != 2 * n or len(subjects) != len(real) or n < 2:
        raise ValueError(f"need an even number (>= 4) of real frames with one subject each, got {len(real)} "
                         f"frames and {len(subjects)} subjects")
    if any(len(g) != n for g in generated.values()):
        raise ValueError(f"every generated set needs {n} frames (half the real ones), got "
                         f"{ {name: len(g) for name, g in generated.items()} }")

    def ratios(a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> dict[str, float]:
        half_a = gaussian_statistics(real[a])
        floor = frechet_distance(*half_a, *gaussian_statistics(real[b]))
        return {name: frechet_distance(*gaussian_statistics(g[rows]), *half_a) / floor for name, g in generated.items()}

    half = np.arange(2 * n) < n
    estimates = ratios(np.flatnonzero(half), np.flatnonzero(~half), np.arange(n))
    walkers, of_walker = np.unique(subjects, return_inverse=True)
    members = [np.flatnonzero(of_walker == w) for w in range(len(walkers))]
    rng = np.random.default_rng(seed)
    draws = {name: np.empty(n_resamples) for name in generated}
    for r in range(n_resamples):
        chosen = np.concatenate([members[w] for w in rng.integers(0, len(walkers), len(walkers))])
        for name, value in ratios(chosen[half[chosen]], chosen[~half[chosen]], rng.integers(0, n, n)).items():
            draws[name][r] = value
    return FrechetRatios(estimates, draws, n, len(walkers))
