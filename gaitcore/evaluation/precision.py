"""How precise a cell can get: the spread of per-probe scores between and within subjects, and the
half-width of a subject-level 95 % interval at another probe budget (the readings' power target).

A cell's estimate is the mean of its probes' scores (:func:`gaitcore.evaluation.attack_accuracy.probe_scores`).
Its probes come from subjects; a one-way random-effects model splits a score into the subject's own
level and the probe's deviation from it::

    score[i, j] = mu + b[i] + e[i, j],   Var b = sd_between ** 2,   Var e = sd_within ** 2

so the mean of ``N`` probes with ``n_i`` probes of subject ``i`` has variance
``sd_between ** 2 * sum(n_i ** 2) / N ** 2 + sd_within ** 2 / N``. More probes of the same subjects
shrink only the second term; the first shrinks only with more subjects. The components are the
ANOVA (method-of-moments) estimates for unbalanced groups (Searle, Casella and McCulloch 1992,
"Variance Components", Sec. 3.6), the between component clipped at 0. Where no subject has two
probes the split cannot be estimated: the whole variance is then counted as between subjects, the
cautious choice (more probes per subject are assumed not to help).

The projected half-width is the normal-approximation ``z * sqrt(variance)``; it plans a budget, while
the tables' intervals stay the subject-level bootstrap's (:mod:`gaitcore.evaluation.uncertainty`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from gaitcore.evaluation.uncertainty import CONFIDENCE


@dataclass(frozen=True)
class VarianceComponents:
    """Standard deviations of a score between subjects and within a subject (in the scores' unit)."""

    between: float
    within: float


def variance_components(scores: Sequence[float], subjects: Sequence) -> VarianceComponents:
    """The ANOVA estimates of :class:`VarianceComponents` from per-probe ``scores`` of ``subjects``
    (NaN scores are left out). ``ValueError`` with fewer than two subjects."""
    frame = pd.DataFrame({"score": np.asarray(scores, dtype=np.float64), "subject": np.asarray(subjects, object)})
    frame = frame.dropna(subset=["score"])
    groups = frame.groupby("subject")["score"]
    counts, means = groups.size().to_numpy(float), groups.mean()
    total, n_subjects = counts.sum(), len(counts)
    if n_subjects < 2:
        raise ValueError(f"variance components need probes of at least two subjects, got {n_subjects}")
    grand = frame["score"].mean()
    if total == n_subjects:  # one probe per subject: between and within cannot be told apart
        return VarianceComponents(between=float(frame["score"].std(ddof=1)), within=0.0)
    within_ms = float(((frame["score"] - frame["subject"].map(means)) ** 2).sum() / (total - n_subjects))
    between_ms = float((counts * (means.to_numpy() - grand) ** 2).sum() / (n_subjects - 1))
    per_subject = (total - (counts ** 2).sum() / total) / (n_subjects - 1)
    between = max((between_ms - within_ms) / per_subject, 0.0)
    return VarianceComponents(between=math.sqrt(between), within=math.sqrt(within_ms))


def even_spread(probes: int, subjects: int) -> np.ndarray:
    """Probes per subject when ``probes`` are spread over ``subjects`` as evenly as they go (the probe
    design's way, :mod:`gaitcore.evaluation.probe_design`); fewer probes than subjects use one each."""
    used = min(probes, subjects)
    base, extra = divmod(probes, used)
    return np.array([base + 1] * extra + [base] * (used - extra))


def _z(confidence: float) -> float:
    """The standard normal quantile of a two-sided ``confidence`` interval."""
    return float(norm.ppf(0.5 + confidence / 2))


def half_width(components: VarianceComponents, probes_per_subject: Sequence[int],
               confidence: float = CONFIDENCE) -> float:
    """The half-width of the ``confidence`` interval of the mean of probes laid out as
    ``probes_per_subject`` (normal approximation; see the module docstring)."""
    counts = np.asarray(probes_per_subject, dtype=np.float64)
    counts = counts[counts > 0]
    total = counts.sum()
    variance = components.between ** 2 * (counts ** 2).sum() / total ** 2 + components.within ** 2 / total
    return _z(confidence) * math.sqrt(variance)


def subjects_for(components: VarianceComponents, probes_per_subject: int, target: float,
                 confidence: float = CONFIDENCE) -> int:
    """The fewest subjects, each with ``probes_per_subject`` probes, whose interval's half-width is at
    most ``target``."""
    per_subject = components.between ** 2 + components.within ** 2 / probes_per_subject
    return max(math.ceil(_z(confidence) ** 2 * per_subject / target ** 2 - 1e-9), 1)


__all__ = ["VarianceComponents", "even_spread", "half_width", "subjects_for", "variance_components"]
