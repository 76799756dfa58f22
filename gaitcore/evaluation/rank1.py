"""Rank-1 accuracy per (probe view, gallery view) and the paper's view-averaged summaries.

For every probe set and every pair of probe view and gallery view, each probe sequence is matched
to its nearest gallery sequence of that gallery view; rank-1 accuracy is the percentage of probes
whose nearest gallery sequence is of the same subject (GaitSet ``test.py``). The summary averages,
per probe view, over the gallery views, excluding the identical view where the protocol says so
(CASIA-B: 10 views; CASIA-A: 3 views, identical included), and adds the mean over probe views.

Uncertainty (:mod:`gaitcore.evaluation.uncertainty`): :func:`evaluate_rank1`'s summary gives every
cell (probe view and mean) its numbers of probes and subjects and a 95 % confidence interval
(``ci_low``, ``ci_high``) from a subject-level bootstrap of the cell's own estimator over the
probes' per-gallery-view hits (:func:`rank1_hits`); the per-view-pair table stays as it is.

Distances: ``euclidean`` (default) is the Euclidean distance between flattened ``[parts * hidden]``
features, as the original GaitSet evaluates; ``part_mean`` is OpenGait's mean over parts of each
part's Euclidean distance; ``manhattan`` is the L1 distance between flattened features (GaitGAN's 1-NN
on generated GEIs, :mod:`gaitcore.evaluation.gei`). All are computed in float64, except for an attack's
early-stop test (:meth:`ProtocolGallery.in_dtype`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gaitcore.data.layout import TEST_SUBJECTS
from gaitcore.evaluation.features import read_features
from gaitcore.evaluation.protocols import Protocol, protocol_for
from gaitcore.evaluation.uncertainty import subject_bootstrap, view_columns

METRICS = ("euclidean", "part_mean", "manhattan")
LONG_COLUMNS = ["dataset", "condition", "probe_view", "gallery_view", "rank1"]
SUMMARY_COLUMNS = ["dataset", "condition", "probe_view", "rank1"]
INTERVAL_COLUMNS = ["ci_low", "ci_high", "probes", "subjects"]  # added by summarize_rank1(..., per_probe=...)
PROBE_COLUMNS = ["dataset", "condition", "subject", "view"]
MEAN_ROW = "mean"


@dataclass(frozen=True)
class PreparedGallery:
    """Gallery features made ready once for many distance queries (an attack job asks several times).

    ``features`` are ``[n, parts, hidden]`` on the CPU, float64 unless prepared for a float32 query
    (:func:`prepare_gallery`); ``flat_squared`` ``[n]`` and ``part_squared`` ``[n, parts]`` are their
    squared norms, flattened and per part. Distances are computed in the features' dtype; to a
    float64 prepared gallery they equal those to the raw features bit for bit.
    """

    features: torch.Tensor
    flat_squared: torch.Tensor
    part_squared: torch.Tensor


def prepare_gallery(gallery: np.ndarray | torch.Tensor | PreparedGallery,
                    dtype: torch.dtype = torch.float64) -> PreparedGallery:
    """``gallery`` ``[n, parts, hidden]`` as a :class:`PreparedGallery` whose distances are computed
    in ``dtype`` (float64, the scoring precision; float32 only for a cheap repeated query, such as
    an attack's early-stop test). A prepared gallery is returned as is."""
    if isinstance(gallery, PreparedGallery):
        return gallery
    features = _on_cpu(gallery, dtype)
    return PreparedGallery(features, features.flatten(1).pow(2).sum(1), features.pow(2).sum(2))


@dataclass(frozen=True)
class ProtocolGallery:
    """A protocol's gallery among stored features: prepared features, and each row's subject and view."""

    features: PreparedGallery
    subjects: np.ndarray
    views: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray, index: pd.DataFrame, protocol: Protocol) -> ProtocolGallery:
        """The gallery rows of ``features`` (rows described by the features ``index``) under ``protocol``."""
        rows = np.flatnonzero(protocol.gallery_mask(index))
        return cls(prepare_gallery(np.asarray(features[rows])), index["subject"].to_numpy()[rows],
                   index["view"].to_numpy()[rows])

    def in_dtype(self, dtype: torch.dtype) -> ProtocolGallery:
        """The same gallery with distances computed in ``dtype``. Stored features are float32, so
        float32 holds them exactly; only the sums round differently, moving a nearest neighbour only
        on a near-tie (tests/evaluation/test_rank1.py)."""
        return ProtocolGallery(prepare_gallery(self.features.features, dtype), self.subjects, self.views)

    def nearest(self, probe: np.ndarray | torch.Tensor, views: Sequence[int], metric: str = "euclidean") -> np.ndarray:
        """:func:`rank1_identities` of ``probe`` against this gallery."""
        return rank1_identities(probe, self.features, self.subjects, self.views, views, metric)


def _on_cpu(values: np.ndarray | torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values.detach().to("cpu", dtype)
    return torch.as_tensor(np.asarray(values), dtype=dtype)


def distances(
    probe: np.ndarray | torch.Tensor, gallery: np.ndarray | torch.Tensor | PreparedGallery, metric: str = "euclidean"
) -> torch.Tensor:
    """Distances ``[len(probe), len(gallery)]`` between features ``[n, parts, hidden]``, in the
    prepared gallery's dtype (float64 unless prepared otherwise)."""
    if metric not in METRICS:
        raise ValueError(f"unknown distance metric {metric!r}; use one of {METRICS}")
    g = prepare_gallery(gallery)
    p = _on_cpu(probe, g.features.dtype)
    if metric == "euclidean":
        return _euclidean(p.flatten(1), p.flatten(1).pow(2).sum(1), g.features.flatten(1), g.flat_squared)
    if metric == "manhattan":  # GaitGAN's 1-NN on generated GEIs (gaitcore.evaluation.gei)
        return torch.cdist(p.flatten(1), g.features.flatten(1), p=1.0)
    total = torch.zeros(p.shape[0], g.features.shape[0], dtype=p.dtype)
    for part in range(p.shape[1]):  # one part at a time keeps memory at one [n_probe, n_gallery] matrix
        total += _euclidean(p[:, part], p[:, part].pow(2).sum(1), g.features[:, part], g.part_squared[:, part])
    return total / p.shape[1]


def _euclidean(p: torch.Tensor, p_squared: torch.Tensor, g: torch.Tensor, g_squared: torch.Tensor) -> torch.Tensor:
    squared = p_squared.unsqueeze(1) + g_squared.unsqueeze(0) - 2 * p.matmul(g.T)
    return squared.clamp_min(0).sqrt()


def rank1_identities(
    probe: np.ndarray | torch.Tensor,
    gallery: np.ndarray | torch.Tensor | PreparedGallery,
    gallery_subjects: Sequence[str],
    gallery_views: Sequence[int],
    views: Sequence[int],
    metric: str = "euclidean",
) -> np.ndarray:
    """Subject of the nearest gallery sequence of each gallery view: ``[len(probe), len(views)]``.

    ``gallery_subjects``/``gallery_views`` describe the gallery rows. Equal distances go to the
    gallery row that comes first. Entries for a view without gallery sequences are ``None``.
    Pass a :func:`prepare_gallery` result to query the same gallery many times cheaply.
    """
    dist = distances(probe, gallery, metric)
    subjects = np.asarray(gallery_subjects, dtype=object)
    gviews = np.asarray(gallery_views)
    out = np.full((dist.shape[0], len(views)), None, dtype=object)
    for j, view in enumerate(views):
        columns = np.flatnonzero(gviews == view)
        if len(columns):
            nearest = dist[:, torch.from_numpy(columns)].argmin(1).numpy()
            out[:, j] = subjects[columns[nearest]]
    return out


def rank1_hits(
    features: np.ndarray, index: pd.DataFrame, protocol: Protocol, metric: str = "euclidean"
) -> tuple[pd.DataFrame, np.ndarray]:
    """Every probe of every probe set and its rank-1 hits per gallery view.

    Returns ``probes`` (columns :data:`PROBE_COLUMNS`, ``condition`` the probe set; in probe-set
    order, then index order) and ``hits`` ``[len(probes), len(protocol.views)]``: 1.0 where the
    nearest gallery sequence of that gallery view is the probe's subject, 0.0 where it is not, NaN
    where the gallery has no sequence of that view. ``features[i]`` belongs to ``index`` row ``i``.
    """
    index = index.reset_index(drop=True)
    gallery = protocol.gallery_mask(index)
    if not gallery.any():
        raise ValueError(f"{protocol.dataset}: no gallery sequence among the {len(index)} given")
    g_rows = np.flatnonzero(gallery)
    g_subjects = index["subject"].to_numpy()[g_rows]
    g_views = index["view"].to_numpy()[g_rows]
    frames, blocks = [], []
    for condition, _ in protocol.probes:
        p_rows = np.flatnonzero(protocol.probe_mask(index, condition))
        if not len(p_rows):
            continue
        nearest = rank1_identities(features[p_rows], features[g_rows], g_subjects, g_views, protocol.views, metric)
        hits = (nearest == index["subject"].to_numpy()[p_rows, None]).astype(np.float64)
        hits[pd.isna(nearest)] = np.nan
        blocks.append(hits)
        frames.append(pd.DataFrame({"dataset": protocol.dataset, "condition": condition,
                                    "subject": index["subject"].to_numpy()[p_rows],
                                    "view": index["view"].to_numpy()[p_rows].astype(int)}))
    if not frames:
        return pd.DataFrame(columns=PROBE_COLUMNS), np.zeros((0, len(protocol.views)))
    return pd.concat(frames, ignore_index=True), np.concatenate(blocks)


def _per_view_pair(probes: pd.DataFrame, hits: np.ndarray, protocol: Protocol) -> pd.DataFrame:
    records = []
    for condition, _ in protocol.probes:
        of_set = (probes["condition"] == condition).to_numpy()
        if not of_set.any():
            continue
        p_views, of_hits = probes["view"].to_numpy()[of_set], hits[of_set]
        for probe_view in protocol.views:
            of_view = p_views == probe_view
            if not of_view.any():
                continue
            for j, gallery_view in enumerate(protocol.views):
                column = of_hits[of_view, j]
                if np.isnan(column[0]):  # no gallery sequence of this view
                    continue
                records.append(
                    (protocol.dataset, condition, int(probe_view), int(gallery_view), 100.0 * float(column.mean()))
                )
    return pd.DataFrame.from_records(records, columns=LONG_COLUMNS)


def rank1_per_view_pair(
    features: np.ndarray, index: pd.DataFrame, protocol: Protocol, metric: str = "euclidean"
) -> pd.DataFrame:
    """Long-form rank-1 accuracy (%): one row per (condition, probe view, gallery view).

    ``features[i]`` belongs to ``index`` row ``i`` (positional); identical-view pairs are included
    here (see :func:`summarize_rank1`). Pairs without probes or gallery sequences are left out.
    """
    return _per_view_pair(*rank1_hits(features, index, protocol, metric), protocol)


def summarize_rank1(
    long: pd.DataFrame, protocol: Protocol, per_probe: tuple[pd.DataFrame, np.ndarray] | None = None
) -> pd.DataFrame:
    """Per (condition, probe view) the mean over gallery views, plus a ``"mean"`` row per condition.

    The identical view is excluded when ``protocol.exclude_identical_view`` (CASIA-B). The
    ``probe_view`` column holds ints and, in the mean rows, the string ``"mean"``. With
    ``per_probe`` (:func:`rank1_hits` of the same probes) the columns :data:`INTERVAL_COLUMNS` are
    added: each cell's 95 % subject-level bootstrap interval, its probes and their subjects.
    """
    used = long[long["dataset"] == protocol.dataset]
    if protocol.exclude_identical_view:
        used = used[used["probe_view"] != used["gallery_view"]]
    rows: list[tuple] = []
    for condition, _ in protocol.probes:
        of_condition = used[used["condition"] == condition]
        per_view = of_condition.groupby("probe_view", sort=True)["rank1"].mean()
        if per_view.empty:
            continue
        cells = [(protocol.dataset, condition, int(view), float(acc)) for view, acc in per_view.items()]
        cells.append((protocol.dataset, condition, MEAN_ROW, float(per_view.mean())))
        if per_probe is not None:
            counted = {int(view): np.isin(protocol.views, group["gallery_view"].to_numpy())
                       for view, group in of_condition.groupby("probe_view", sort=True)}
            intervals = _rank1_intervals(*per_probe, condition, counted)
            cells = [(*cell, *intervals[cell[2]]) for cell in cells]
        rows += cells
    columns = SUMMARY_COLUMNS + (INTERVAL_COLUMNS if per_probe is not None else [])
    summary = pd.DataFrame.from_records(rows, columns=columns)
    summary["probe_view"] = summary["probe_view"].astype(object)
    return summary


def _rank1_intervals(
    probes: pd.DataFrame, hits: np.ndarray, condition: str, counted: Mapping[int, np.ndarray]
) -> dict[int | str, tuple[float, float, int, int]]:
    """``{probe view or "mean": (ci_low, ci_high, probes, subjects)}`` of one probe set's summary cells."""
    of_set = (probes["condition"] == condition).to_numpy() & probes["view"].isin(list(counted)).to_numpy()
    subjects = probes["subject"].astype(str).to_numpy(dtype=object)[of_set]
    views, of_hits = probes["view"].to_numpy()[of_set], 100.0 * hits[of_set]
    out: dict[int | str, tuple[float, float, int, int]] = {}
    for view, columns in counted.items():
        rows = views == view
        interval = subject_bootstrap(of_hits[rows][:, columns], subjects[rows])
        out[view] = (interval.low, interval.high, int(rows.sum()), len(set(subjects[rows])))
    values, weights = view_columns(of_hits, views, counted)
    interval = subject_bootstrap(values, subjects, weights=weights)
    out[MEAN_ROW] = (interval.low, interval.high, len(subjects), len(set(subjects)))
    return out


def summary_markdown(summary: pd.DataFrame, digits: int = 1) -> str:
    """Markdown tables (one per dataset): conditions as rows, probe views and the mean as columns.

    With the interval columns (:data:`INTERVAL_COLUMNS`) a cell reads ``value [low, high]`` and the
    condition's probes and subjects (those of its mean) close the row.
    """
    intervals = all(c in summary for c in INTERVAL_COLUMNS)
    parts = []
    for dataset, table in summary.groupby("dataset", sort=False):
        columns = list(dict.fromkeys(table["probe_view"].tolist()))
        columns = [c for c in columns if c != MEAN_ROW] + [MEAN_ROW]
        counts = ["probes", "subjects"] if intervals else []
        head = "| condition | " + " | ".join(str(c) for c in [*columns, *counts]) + " |"
        rule = "|---|" + "---:|" * (len(columns) + len(counts))
        lines = [f"### {dataset}: rank-1 accuracy (%) per probe view", ""]
        if intervals:
            lines += [f"In brackets: 95 % confidence interval ({INTERVAL_NOTE}).", ""]
        lines += [head, rule]
        for condition, rows in table.groupby("condition", sort=False):
            by_view = {view: row for view, (_, row) in zip(rows["probe_view"], rows.iterrows(), strict=True)}
            cells = [_summary_cell(by_view[c], digits, intervals) if c in by_view else "" for c in columns]
            if intervals:
                mean = by_view.get(MEAN_ROW)
                cells += ["", ""] if mean is None else [str(int(mean["probes"])), str(int(mean["subjects"]))]
            lines.append(f"| {condition.upper()} | " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


INTERVAL_NOTE = "subject-level bootstrap, see docs/attack.md \"Uncertainty\""


def _summary_cell(row: pd.Series, digits: int, intervals: bool) -> str:
    text = f"{row['rank1']:.{digits}f}"
    if intervals and not (pd.isna(row["ci_low"]) or pd.isna(row["ci_high"])):
        text += f" [{row['ci_low']:.{digits}f}, {row['ci_high']:.{digits}f}]"
    return text


def evaluate_rank1(
    features: np.ndarray, index: pd.DataFrame, protocol: Protocol, metric: str = "euclidean"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long-form and summary rank-1 tables of one dataset's stored features (the summary with its
    confidence intervals, :func:`summarize_rank1`)."""
    probes, hits = rank1_hits(features, index, protocol, metric)
    long = _per_view_pair(probes, hits, protocol)
    return long, summarize_rank1(long, protocol, per_probe=(probes, hits))


def natural_accuracy(
    feature_files: Mapping[str, tuple[str | Path, str | Path]],
    *,
    metric: str = "euclidean",
    test_subjects: tuple[int, int] = TEST_SUBJECTS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank-1 tables of several datasets from their stored features ``{dataset: (array, index)}``."""
    longs, summaries = [], []
    for dataset, (array_path, index_path) in feature_files.items():
        features, index, _ = read_features(array_path, index_path)
        long, summary = evaluate_rank1(np.asarray(features), index, protocol_for(dataset, test_subjects), metric)
        longs.append(long)
        summaries.append(summary)
    return pd.concat(longs, ignore_index=True), pd.concat(summaries, ignore_index=True)
