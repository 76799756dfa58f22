"""Confidence intervals for rank-1 accuracy and targeted success: a subject-level (cluster) bootstrap.

The probes of one subject are not independent draws (the same body, the same gallery sequences), so
the unit that is resampled is the subject, not the probe: a bootstrap sample draws as many subjects
as there are, with replacement, and every probe of a drawn subject comes along (a subject drawn twice
counts twice). A probe-level bootstrap would treat, say, 10 probes of each of 5 subjects as 50
independent observations and give intervals that are far too narrow.

**Estimator.** A probe's values are given per column (e.g. per gallery view: 1 for a rank-1 hit or a
targeted success, 0 otherwise, NaN where the probe is not counted). A column's value is the mean over
the probes counted there; the estimate is the weighted mean of the column values (uniform weights by
default). With one column this is the plain mean of per-probe values; the tables' per-probe-view
cells are the mean over the counted gallery views of each gallery view's accuracy, and their
``"mean"`` cells the mean over probe views of those (:func:`view_columns` lays the probes out so).
The statistic is computed from per-subject arrays (:func:`subject_totals`: sums and counts per
column) handed to :func:`scipy.stats.bootstrap` with ``paired=True, axis=0``, so each resample
evaluates the estimator on the probes of the drawn subjects. How a resample weighs the columns:

* ``weighting="fixed"`` (the default): every counted entry keeps the weight it has in the sample,
  ``weight[c] / (probes counted in column c)``, and a resample's estimate is the weighted mean of its
  entries. On the sample this is exactly the estimator above; a subject drawn twice counts twice.
* ``weighting="resampled"``: each resample recomputes the column means over its own probes, then
  their weighted mean (a column without probes in a resample is left out, the weights of the others
  renormalised, as a table leaves out a view without probes).

The two agree in every resample when each subject has the same probes in every column (natural
accuracy: every test subject at every view). They differ when subjects and columns are confounded,
e.g. the default attack config's one subject per probe view: there a column mean does not move
when its only subject is drawn twice, so ``"resampled"`` lets the mean over views see only the
distinct subjects drawn and its intervals come out too narrow (in a simulation of 11 subjects, one
per view, 84 % coverage for a 95 % interval against 93 % with ``"fixed"``).

**Interval.** ``confidence`` 0.95, ``n_resamples`` 2000, ``seed`` 0 (``numpy.random.default_rng``),
so every table is reproducible. The method is BCa (bias-corrected and accelerated, Efron and
Tibshirani 1993, Sec. 14.3), second-order accurate and respecting the [0, 100] range of an
accuracy. Where BCa is undefined (its acceleration or bias correction degenerates: NaN bounds) the
percentile interval of the same resamples is used instead. When every resample gives the same value
(all probes equal, e.g. every attacked probe fooled, or two identical inputs to
:func:`paired_difference`) the interval is ``[estimate, estimate]`` without a warning. Fewer than two
subjects give no interval (NaN bounds): a single subject says nothing about others.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
N_RESAMPLES = 2000
SEED = 0
METHOD = "BCa"  # falling back to "percentile" where BCa is undefined (see the module docstring)
WEIGHTINGS = ("fixed", "resampled")  # how a resample weighs its columns (see the module docstring)
_BATCH_ELEMENTS = 4_000_000  # resampled values per array per batch: bounds the memory of one batch


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval ``[low, high]``, from ``n_probes`` probes of ``n_subjects``."""

    estimate: float
    low: float
    high: float
    n_probes: int
    n_subjects: int

    @property
    def width(self) -> float:
        return self.high - self.low


def _as_columns(values: np.ndarray | Sequence) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2:
        raise ValueError(f"values must be [probes] or [probes, columns], got shape {out.shape}")
    return out


def subject_totals(
    values: np.ndarray | Sequence, subjects: Sequence
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per-subject sums and counts per column of ``values`` (``[probes]`` or ``[probes, columns]``).

    NaN entries are not counted; a probe with no counted entry is left out, and so is a subject left
    without probes. Returns ``(subjects, sums, counts, n_probes)``: the subject labels (sorted, as
    strings), ``sums`` and ``counts`` ``[subjects, columns]`` and the number of probes counted.
    """
    values = _as_columns(values)
    subjects = np.asarray(subjects, dtype=object)
    if subjects.shape != (len(values),):
        raise ValueError(f"{len(subjects)} subjects for {len(values)} probes")
    known = ~np.isnan(values)
    counted = known.any(axis=1)
    values, known, subjects = values[counted], known[counted], subjects[counted]
    labels, inverse = np.unique(subjects.astype(str), return_inverse=True)
    inverse = inverse.reshape(-1)
    sums = np.zeros((len(labels), values.shape[1]))
    counts = np.zeros((len(labels), values.shape[1]))
    np.add.at(sums, inverse, np.where(known, values, 0.0))
    np.add.at(counts, inverse, known.astype(np.float64))
    return labels, sums, counts, int(counted.sum())


def view_columns(
    hits: np.ndarray, probe_views: Sequence, used: Mapping[object, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Lay out ``hits`` ``[probes, gallery views]`` for the mean over probe views of per-view accuracies.

    ``probe_views[i]`` is probe ``i``'s view; ``used[view]`` the boolean mask of the gallery views
    counted for that probe view (None: all). Returns ``values [probes, P * G]`` (probe view ``p``'s
    block of ``G`` columns holds its probes' hits at the used gallery views, NaN elsewhere) and
    ``weights [P * G]`` (``1 / (P * used_p)`` on the used columns, 0 elsewhere), so that the estimator
    of :func:`subject_bootstrap` is the mean over the ``P`` probe views of the mean over their used
    gallery views of the accuracy there.
    """
    hits = _as_columns(hits)
    probe_views = np.asarray(probe_views, dtype=object)
    views = list(dict.fromkeys(probe_views.tolist()))
    n_gallery = hits.shape[1]
    values = np.full((len(hits), len(views) * n_gallery), np.nan)
    weights = np.zeros(len(views) * n_gallery)
    for p, view in enumerate(views):
        mask = np.ones(n_gallery, dtype=bool) if used is None else np.asarray(used[view], dtype=bool)
        rows = probe_views == view
        block = slice(p * n_gallery, (p + 1) * n_gallery)
        values[rows, block] = np.where(mask, hits[rows], np.nan)
        weights[block] = mask / (len(views) * max(int(mask.sum()), 1))
    return values, weights


def block_columns(blocks: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Lay out estimators side by side for the equally weighted mean of their estimates.

    ``blocks``: per estimator its ``values [probes_b, columns_b]`` and ``weights [columns_b]`` (e.g.
    one condition's :func:`view_columns`). Returns ``values [sum probes_b, sum columns_b]``, block
    ``b`` on the diagonal and NaN elsewhere, and the concatenated weights divided by the number of
    blocks, so that :func:`subject_bootstrap`'s estimator is the mean over blocks of each block's.
    """
    out = np.full((sum(len(v) for v, _ in blocks), sum(v.shape[1] for v, _ in blocks)), np.nan)
    row = column = 0
    for values, _ in blocks:
        out[row : row + len(values), column : column + values.shape[1]] = values
        row, column = row + len(values), column + values.shape[1]
    return out, np.concatenate([w for _, w in blocks]) / max(len(blocks), 1)


def _estimate(sums: np.ndarray, counts: np.ndarray, weights: np.ndarray, axis: int = -1) -> np.ndarray:
    """The estimator on per-subject arrays ``[columns, ..., subjects]``: weighted mean of present columns."""
    total, n = sums.sum(axis=axis), counts.sum(axis=axis)
    present = n > 0
    w = np.where(present, weights.reshape(weights.shape + (1,) * (total.ndim - 1)), 0.0)
    ratio = np.divide(total, n, out=np.zeros_like(total), where=present)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w * ratio).sum(axis=0) / w.sum(axis=0)


def _merge_columns(
    terms: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Merge columns whose per-subject counts agree in every term (the estimator stays the same).

    Columns with the same counts share their denominator in every resample, so their weighted mean is
    one column of weighted-mean sums: this keeps the resampled arrays small (a probe view's gallery
    views usually merge into one column). Columns counted in no term, or of weight 0, are dropped.
    """
    keep = (weights > 0) & np.any([counts.sum(axis=0) > 0 for _, counts in terms], axis=0)
    weights = weights[keep]
    terms = [(sums[:, keep], counts[:, keep]) for sums, counts in terms]
    key = np.concatenate([counts for _, counts in terms], axis=0).T
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    merged_weights = np.bincount(inverse, weights=weights, minlength=len(first))
    share = np.zeros((len(weights), len(first)))
    share[np.arange(len(weights)), inverse] = weights / merged_weights[inverse]
    return [(sums @ share, counts[:, first]) for sums, counts in terms], merged_weights


def _fix_weights(
    terms: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Fold the columns into one with fixed per-entry weights ``weights[c] / (probes counted in c)``.

    On the sample itself the ratio of the folded sums and counts is the weighted mean of the column
    means (the estimator); in a resample each drawn subject adds its weighted hits and weights as
    many times as it is drawn, whatever column (view) its probes are in.
    """
    out = []
    for sums, counts in terms:
        n = counts.sum(axis=0)
        entry = np.divide(weights, n, out=np.zeros_like(weights), where=n > 0)
        out.append(((sums @ entry)[:, None], (counts @ entry)[:, None]))
    return out, np.ones(1)


def _bootstrap(
    terms: list[tuple[np.ndarray, np.ndarray]],
    signs: Sequence[float],
    weights: np.ndarray,
    n_probes: int,
    *,
    weighting: str,
    confidence: float,
    n_resamples: int,
    seed: int,
) -> Interval:
    """The interval of ``sum(sign * estimate(term))`` over per-subject ``terms`` (rows: the same subjects)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; use one of {WEIGHTINGS}")
    n_subjects = terms[0][0].shape[0]
    if n_subjects == 0:
        return Interval(float("nan"), float("nan"), float("nan"), n_probes, 0)
    fold = _fix_weights if weighting == "fixed" else _merge_columns
    terms, weights = fold(terms, np.asarray(weights, dtype=np.float64))

    def statistic(*arrays: np.ndarray, axis: int = -1) -> np.ndarray:
        out = 0.0
        for t, sign in enumerate(signs):
            out = out + sign * _estimate(arrays[2 * t], arrays[2 * t + 1], weights, axis)
        return out

    data = [array for term in terms for array in term]  # [subjects, columns] each
    estimate = float(statistic(*(array.T for array in data)))
    batch = max(1, min(n_resamples, _BATCH_ELEMENTS // max(1, data[0].size)))
    return _resampled_interval(data, statistic, estimate, n_probes, n_subjects, confidence=confidence,
                               n_resamples=n_resamples, seed=seed, batch=batch)


def _resampled_interval(data: list[np.ndarray], statistic, estimate: float, n_probes: int, n_subjects: int, *,
                        confidence: float, n_resamples: int, seed: int, batch: int) -> Interval:
    """The BCa interval (percentile where BCa degenerates) of the vectorised ``statistic`` over the
    per-subject arrays ``data`` (axis 0: subjects, resampled together), around ``estimate``."""
    # Imported here, not at the top: scipy.stats takes about 0.5 s to import, and every attack job
    # imports gaitcore.evaluation (through rank1) without ever computing an interval.
    from scipy import stats

    if n_subjects < 2 or not np.isfinite(estimate):
        return Interval(estimate, float("nan"), float("nan"), n_probes, n_subjects)
    common = dict(vectorized=True, paired=True, axis=0, confidence_level=confidence, batch=batch)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(data, statistic, n_resamples=n_resamples, method="BCa",
                                 rng=np.random.default_rng(seed), **common)
        resampled = result.bootstrap_distribution
        if float(np.ptp(resampled)) <= 1e-12 * max(1.0, float(np.abs(resampled).max())):
            return Interval(estimate, estimate, estimate, n_probes, n_subjects)
        low, high = (float(x) for x in result.confidence_interval)
        if not (np.isfinite(low) and np.isfinite(high)):  # BCa undefined: the percentile interval
            result = stats.bootstrap(data, statistic, n_resamples=0, bootstrap_result=result, method="percentile",
                                     **common)
            low, high = (float(x) for x in result.confidence_interval)
    return Interval(estimate, low, high, n_probes, n_subjects)


def _column_weights(weights: np.ndarray | Sequence | None, columns: int) -> np.ndarray:
    """``weights`` as an array of one weight per column (uniform when None), checked."""
    out = np.full(columns, 1.0 / columns) if weights is None else np.asarray(weights, float)
    if out.shape != (columns,):
        raise ValueError(f"{len(out)} weights for {columns} columns")
    return out


def subject_bootstrap(
    values: np.ndarray | Sequence,
    subjects: Sequence,
    *,
    weights: np.ndarray | Sequence | None = None,
    weighting: str = "fixed",
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> Interval:
    """The estimate and subject-level bootstrap interval of the (weighted) mean of per-probe values.

    ``values``: ``[probes]`` (a probe's value: its rank-1 hit rate or 0/1 success) or ``[probes,
    columns]`` with NaN where a probe is not counted; the estimate is the ``weights``-weighted mean
    (uniform by default) over columns of each column's mean over its probes. ``subjects[i]`` is probe
    ``i``'s subject, the unit resampled. ``weighting``: ``"fixed"`` or ``"resampled"`` column weights
    in a resample; ``confidence``, ``n_resamples``, ``seed``: the interval's. See the module docstring.
    """
    values = _as_columns(values)
    weights = _column_weights(weights, values.shape[1])
    _, sums, counts, n_probes = subject_totals(values, subjects)
    return _bootstrap([(sums, counts)], [1.0], weights, n_probes, weighting=weighting, confidence=confidence,
                      n_resamples=n_resamples, seed=seed)


def paired_difference(
    a: np.ndarray | Sequence,
    b: np.ndarray | Sequence,
    subjects: Sequence,
    *,
    weights: np.ndarray | Sequence | None = None,
    weighting: str = "fixed",
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> Interval:
    """``estimate(a) - estimate(b)`` on the same probes, with its subject-level bootstrap interval.

    ``a`` and ``b`` have the same shape (rows: the same probes, of ``subjects``); each resample draws
    subjects once and evaluates both on them, so what the two share (the probes' difficulty) cancels.
    The estimates (and the keyword arguments) are those of :func:`subject_bootstrap`; identical inputs
    give exactly ``[0, 0]``.
    """
    a, b = _as_columns(a), _as_columns(b)
    if a.shape != b.shape:
        raise ValueError(f"paired values must have the same shape, got {a.shape} and {b.shape}")
    weights = _column_weights(weights, a.shape[1])
    either = np.where(np.isnan(a), b, a)  # a probe counts where either side counts it
    labels, _, _, n_probes = subject_totals(either, subjects)
    subjects = np.asarray(subjects, dtype=object)
    keep = ~np.isnan(either).all(axis=1)
    terms = []
    for values in (a[keep], b[keep]):
        labels_v, sums, counts, _ = subject_totals(values, subjects[keep])
        full_sums, full_counts = (np.zeros((len(labels), a.shape[1])) for _ in range(2))
        rows = np.searchsorted(labels, labels_v)
        full_sums[rows], full_counts[rows] = sums, counts
        terms.append((full_sums, full_counts))
    return _bootstrap(terms, [1.0, -1.0], weights, n_probes, weighting=weighting, confidence=confidence,
                      n_resamples=n_resamples, seed=seed)


__all__ = [
    "CONFIDENCE",
    "METHOD",
    "N_RESAMPLES",
    "SEED",
    "WEIGHTINGS",
    "Interval",
    "paired_difference",
    "subject_bootstrap",
    "subject_totals",
    "view_columns",
]


def auc_interval(
    real_scores: np.ndarray | Sequence,
    real_subjects: Sequence,
    generated_scores: np.ndarray | Sequence,
    generated_subjects: Sequence,
    *,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> Interval:
    """A detector's ROC AUC, ``P(generated score > real score)`` with ties counting 1/2, and its
    subject-level bootstrap interval.

    A resample draws subjects with replacement; every real and generated frame of a drawn subject
    comes along (a subject drawn twice counts twice on both sides), and the AUC is taken over all
    (generated, real) pairs of the drawn frames, across subjects too. It is exact and vectorised: with
    ``W[s, t]`` the pairs that subject ``s``'s generated frames win against subject ``t``'s real ones
    and ``m`` a resample's draw counts, the resampled AUC is ``m W m / ((m . n_generated)(m . n_real))``.
    ``n_probes`` of the interval counts the generated frames.
    """
    real = np.asarray(real_scores, dtype=np.float64).ravel()
    generated = np.asarray(generated_scores, dtype=np.float64).ravel()
    if len(real) != len(real_subjects) or len(generated) != len(generated_subjects):
        raise ValueError("auc_interval needs one subject per score")
    labels, codes = np.unique(np.concatenate([np.asarray(real_subjects, dtype=object).astype(str),
                                              np.asarray(generated_subjects, dtype=object).astype(str)]),
                              return_inverse=True)
    real_code, generated_code = codes[: len(real)], codes[len(real):]
    n = len(labels)
    if not len(real) or not len(generated):
        return Interval(float("nan"), float("nan"), float("nan"), len(generated), n)
    wins = np.zeros((n, n))
    for t in range(n):
        against = np.sort(real[real_code == t])
        below = np.searchsorted(against, generated, side="left")
        ties = np.searchsorted(against, generated, side="right") - below
        wins[:, t] = np.bincount(generated_code, weights=below + 0.5 * ties, minlength=n)
    n_real = np.bincount(real_code, minlength=n).astype(np.float64)
    n_generated = np.bincount(generated_code, minlength=n).astype(np.float64)

    def statistic(drawn: np.ndarray, axis: int = -1) -> np.ndarray:
        drawn = np.moveaxis(np.asarray(drawn), axis, -1)
        flat = drawn.reshape(-1, drawn.shape[-1]).astype(np.int64)
        counts = np.zeros((len(flat), n))
        np.add.at(counts, (np.arange(len(flat))[:, None], flat), 1.0)
        value = np.einsum("bs,st,bt->b", counts, wins, counts) / ((counts @ n_generated) * (counts @ n_real))
        return value.reshape(drawn.shape[:-1])

    estimate = float(wins.sum() / (n_generated.sum() * n_real.sum()))
    return _resampled_interval([np.arange(n)], statistic, estimate, len(generated), n, confidence=confidence,
                               n_resamples=n_resamples, seed=seed, batch=min(n_resamples, 500))
