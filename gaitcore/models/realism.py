"""A calibrated realism probability from a WGAN critic (Platt scaling).

The attack's realism term (He et al. Eq. 5) is a binary cross-entropy on the discriminator's output,
``BCE(D(G(z)), 1)``, which needs a probability. A WGAN critic's score is unbounded and its offset
arbitrary (only differences of scores matter to the Wasserstein estimate), so it is mapped to a
probability by a logistic function fitted on held-out frames (Platt, "Probabilistic outputs for
support vector machines", 1999)::

    p(x) = sigmoid(a * D(x) + b)

fitted on the scores of held-out real frames (label 1) and generated frames (label 0).

**Regularisation.** A trained critic often separates held-out real from generated frames perfectly
(the default run's critic reaches an AUC near 1, docs/wgan.md). A plain maximum-likelihood
logistic fit then has no finite
optimum (the slope grows without bound). :func:`fit_platt` uses two safeguards, either of which
alone gives a finite, unique optimum:

* Platt's own targets instead of 0/1 labels: ``t+ = (N+ + 1) / (N+ + 2)`` for the real frames,
  ``t- = 1 / (N- + 2)`` for the generated ones (a Bayesian prior: the fitted probability of a
  class never exceeds what N observations can support);
* an L2 penalty ``l2 / 2 * alpha^2`` on the slope ``alpha`` of the standardised score
  ``(D(x) - mean) / std``, added to the mean cross-entropy.

The fit is a damped Newton method in float64 on the two parameters of the standardised score
(convex objective, so the optimum is global), then converted back to ``a`` and ``b`` on the raw
score. The map is monotonic increasing when ``a > 0``, i.e. whenever the critic scores real frames
higher on average (the fit reports the AUC so that a useless critic shows).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

DEFAULT_L2 = 1e-3


@dataclass(frozen=True)
class PlattCalibration:
    """The fitted map ``p = sigmoid(slope * score + intercept)`` and how it was obtained."""

    slope: float  # a
    intercept: float  # b
    auc: float  # ROC AUC of the raw score, real vs generated (1.0: perfectly separated)
    n_real: int
    n_fake: int
    real_score_mean: float
    fake_score_mean: float
    target_real: float  # Platt target of the real frames
    target_fake: float  # Platt target of the generated frames
    l2: float
    mean_realism_real: float  # mean fitted probability on the fitting frames
    mean_realism_fake: float

    def as_dict(self) -> dict[str, Any]:
        """Plain values (stored in the weights file)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PlattCalibration:
        return cls(**values)

    def probability(self, scores: np.ndarray | Tensor) -> np.ndarray | Tensor:
        """Realism probability of raw critic scores (NumPy or torch, same type back)."""
        if isinstance(scores, Tensor):
            return torch.sigmoid(self.slope * scores + self.intercept)
        z = self.slope * np.asarray(scores, dtype=np.float64) + self.intercept
        return _sigmoid(z)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def roc_auc(real_scores: np.ndarray, fake_scores: np.ndarray) -> float:
    """P(score of a real frame > score of a generated one), ties counting 1/2 (Mann-Whitney U)."""
    real = np.asarray(real_scores, dtype=np.float64).ravel()
    fake = np.asarray(fake_scores, dtype=np.float64).ravel()
    if not len(real) or not len(fake):
        raise ValueError("roc_auc needs at least one real and one generated score")
    values = np.concatenate([real, fake])
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    # average 1-based ranks over runs of ties
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(values)]])
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    u = ranks[: len(real)].sum() - len(real) * (len(real) + 1) / 2.0
    return float(u / (len(real) * len(fake)))


def fit_platt(
    real_scores: np.ndarray | Tensor,
    fake_scores: np.ndarray | Tensor,
    l2: float = DEFAULT_L2,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> PlattCalibration:
    """Fit ``p = sigmoid(a * score + b)`` to real (1) vs generated (0) critic scores; see the module docstring.

    Finite for every input, including perfectly separated scores and constant scores (then
    ``a = 0`` and ``p`` is the smoothed share of real frames).
    """
    if l2 < 0:
        raise ValueError(f"l2 must be non-negative, got {l2}")
    real = np.asarray(torch.as_tensor(real_scores).detach().cpu(), dtype=np.float64).ravel()
    fake = np.asarray(torch.as_tensor(fake_scores).detach().cpu(), dtype=np.float64).ravel()
    if not len(real) or not len(fake):
        raise ValueError("fit_platt needs at least one real and one generated score")
    if not (np.isfinite(real).all() and np.isfinite(fake).all()):
        raise ValueError("fit_platt: the critic produced non-finite scores")
    n_real, n_fake = len(real), len(fake)
    t_real, t_fake = (n_real + 1.0) / (n_real + 2.0), 1.0 / (n_fake + 2.0)
    scores = np.concatenate([real, fake])
    targets = np.concatenate([np.full(n_real, t_real), np.full(n_fake, t_fake)])
    center, scale = float(scores.mean()), float(scores.std())
    if scale == 0.0 or not np.isfinite(scale):
        scale = 1.0
    u = (scores - center) / scale

    def objective(alpha: float, beta: float) -> float:
        z = alpha * u + beta
        ce = -(targets * _log_sigmoid(z) + (1.0 - targets) * _log_sigmoid(-z))
        return float(ce.mean() + 0.5 * l2 * alpha * alpha)

    prior = targets.mean()
    alpha, beta = 0.0, math.log(prior / (1.0 - prior))
    value = objective(alpha, beta)
    n = len(u)
    for _ in range(max_iter):
        p = _sigmoid(alpha * u + beta)
        r = p - targets
        grad = np.array([(r * u).sum() / n + l2 * alpha, r.sum() / n])
        w = p * (1.0 - p)
        hess = np.array([[(w * u * u).sum() / n + l2, (w * u).sum() / n], [(w * u).sum() / n, w.sum() / n]])
        hess += np.eye(2) * 1e-12
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:  # backtracking line search (Armijo)
            cand = (alpha - t * step[0], beta - t * step[1])
            cand_value = objective(*cand)
            if cand_value <= value - 1e-4 * t * float(grad @ step) or t < 1e-10:
                break
            t *= 0.5
        if t < 1e-10:
            break
        alpha, beta = cand
        improvement, value = value - cand_value, cand_value
        if float(np.abs(grad).max()) < tol or improvement < tol * 1e-3:
            break
    slope = alpha / scale
    intercept = beta - alpha * center / scale
    probs = _sigmoid(slope * scores + intercept)
    return PlattCalibration(
        slope=float(slope),
        intercept=float(intercept),
        auc=roc_auc(real, fake),
        n_real=n_real,
        n_fake=n_fake,
        real_score_mean=float(real.mean()),
        fake_score_mean=float(fake.mean()),
        target_real=float(t_real),
        target_fake=float(t_fake),
        l2=float(l2),
        mean_realism_real=float(probs[:n_real].mean()),
        mean_realism_fake=float(probs[n_real:].mean()),
    )


class RealismScore(nn.Module):
    """``p(x) = sigmoid(a * D(x) + b)``: the critic's calibrated realism probability, differentiable in ``x``.

    ``x``: frames ``[N, 1, 64, 64]`` in [-1, 1] (the generator's output space). :meth:`logits`
    gives ``a * D(x) + b``; use it with ``F.binary_cross_entropy_with_logits`` for a numerically
    stable realism loss (He et al. Eq. 5's ``BCE(D(G(z)), 1)`` is ``softplus(-logits)``).
    The critic is a submodule (moves with ``.to()``); its parameters are not meant to be trained.
    """

    def __init__(self, critic: nn.Module, slope: float, intercept: float) -> None:
        super().__init__()
        self.critic = critic
        self.register_buffer("slope", torch.tensor(float(slope)))
        self.register_buffer("intercept", torch.tensor(float(intercept)))

    def logits(self, x: Tensor) -> Tensor:
        return self.critic(x) * self.slope + self.intercept

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.logits(x))
