"""Rank-1 accuracy per (probe view, gallery view) and the paper's view-averaged summaries.

For every probe set and every pair of probe view and gallery view, each probe sequence is matched
to its nearest gallery sequence of that gallery view; rank-1 accuracy is the percentage of probes
whose nearest gallery sequence is of the same subject (GaitSet ``test.py``). The summary averages,
per probe view, over the gallery views, excluding the identical view where the protocol says so
(CASIA-B: 10 views; CASIA-A: 3 views, identical included), and adds the mean over probe views.

Distances: ``euclidean`` (default) is the Euclidean distance between flattened ``[parts * hidden]``
features, as the original GaitSet evaluates; ``part_mean`` is OpenGait's mean over parts of each
part's Euclidean distance; ``manhattan`` is the L1 distance between flattened features (GaitGAN's 1-NN
on generated GEIs, :mod:`gaitcore.evaluation.gei`). All are computed in float64.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gaitcore.evaluation.features import read_features
from gaitcore.evaluation.protocols import Protocol, protocol_for

METRICS = ("euclidean", "part_mean", "manhattan")
LONG_COLUMNS = ["dataset", "condition", "probe_view", "gallery_view", "rank1"]
SUMMARY_COLUMNS = ["dataset", "condition", "probe_view", "rank1"]
MEAN_ROW = "mean"


@dataclass(frozen=True)
class PreparedGallery:
    """Gallery features made ready once for many distance queries (an attack job asks several times).

    ``features`` are float64 ``[n, parts, hidden]`` on the CPU; ``flat_squared`` ``[n]`` and
    ``part_squared`` ``[n, parts]`` are their squared norms, flattened and per part. Distances to
    a prepared gallery equal those to the raw features bit for bit.
    """

    features: torch.Tensor
    flat_squared: torch.Tensor
    part_squared: torch.Tensor


def prepare_gallery(gallery: np.ndarray | torch.Tensor | PreparedGallery) -> PreparedGallery:
    """``gallery`` ``[n, parts, hidden]`` as a :class:`PreparedGallery` (returned as is if it is one)."""
    if isinstance(gallery, PreparedGallery):
        return gallery
    features = _float64(gallery)
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

    def nearest(self, probe: np.ndarray | torch.Tensor, views: Sequence[int], metric: str = "euclidean") -> np.ndarray:
        """:func:`rank1_identities` of ``probe`` against this gallery."""
        return rank1_identities(probe, self.features, self.subjects, self.views, views, metric)


def _float64(values: np.ndarray | torch.Tensor) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values.detach().to("cpu", torch.float64)
    return torch.as_tensor(np.asarray(values), dtype=torch.float64)


def distances(
    probe: np.ndarray | torch.Tensor, gallery: np.ndarray | torch.Tensor | PreparedGallery, metric: str = "euclidean"
) -> torch.Tensor:
    """Distances ``[len(probe), len(gallery)]`` (float64) between features ``[n, parts, hidden]``."""
    if metric not in METRICS:
        raise ValueError(f"unknown distance metric {metric!r}; use one of {METRICS}")
    p, g = _float64(probe), prepare_gallery(gallery)
    if metric == "euclidean":
        return _euclidean(p.flatten(1), p.flatten(1).pow(2).sum(1), g.features.flatten(1), g.flat_squared)
    if metric == "manhattan":  # GaitGAN's 1-NN on generated GEIs (gaitcore.evaluation.gei)
        return torch.cdist(p.flatten(1), g.features.flatten(1), p=1.0)
    total = torch.zeros(p.shape[0], g.features.shape[0], dtype=torch.float64)
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


def rank1_per_view_pair(
    features: np.ndarray, index: pd.DataFrame, protocol: Protocol, metric: str = "euclidean"
) -> pd.DataFrame:
    """Long-form rank-1 accuracy (%): one row per (condition, probe view, gallery view).

    ``features[i]`` belongs to ``index`` row ``i`` (positional); identical-view pairs are included
    here (see :func:`summarize_rank1`). Pairs without probes or gallery sequences are left out.
    """
    index = index.reset_index(drop=True)
    gallery = protocol.gallery_mask(index)
    if not gallery.any():
        raise ValueError(f"{protocol.dataset}: no gallery sequence among the {len(index)} given")
    g_rows = np.flatnonzero(gallery)
    g_subjects = index["subject"].to_numpy()[g_rows]
    g_views = index["view"].to_numpy()[g_rows]
    records = []
    for condition, _ in protocol.probes:
        p_rows = np.flatnonzero(protocol.probe_mask(index, condition))
        if not len(p_rows):
            continue
        nearest = rank1_identities(features[p_rows], features[g_rows], g_subjects, g_views, protocol.views, metric)
        correct = nearest == index["subject"].to_numpy()[p_rows, None]
        p_views = index["view"].to_numpy()[p_rows]
        for probe_view in protocol.views:
            of_view = p_views == probe_view
            if not of_view.any():
                continue
            for j, gallery_view in enumerate(protocol.views):
                if nearest[of_view, j][0] is None:
                    continue
                records.append(
                    (protocol.dataset, condition, int(probe_view), int(gallery_view),
                     100.0 * float(correct[of_view, j].mean()))
                )
    return pd.DataFrame.from_records(records, columns=LONG_COLUMNS)


def summarize_rank1(long: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """Per (condition, probe view) the mean over gallery views, plus a ``"mean"`` row per condition.

    The identical view is excluded when ``protocol.exclude_identical_view`` (CASIA-B). The
    ``probe_view`` column holds ints and, in the mean rows, the string ``"mean"``.
    """
    used = long[long["dataset"] == protocol.dataset]
    if protocol.exclude_identical_view:
        used = used[used["probe_view"] != used["gallery_view"]]
    rows: list[tuple[str, str, int | str, float]] = []
    for condition, _ in protocol.probes:
        per_view = used[used["condition"] == condition].groupby("probe_view", sort=True)["rank1"].mean()
        if per_view.empty:
            continue
        rows += [(protocol.dataset, condition, int(view), float(acc)) for view, acc in per_view.items()]
        rows.append((protocol.dataset, condition, MEAN_ROW, float(per_view.mean())))
    summary = pd.DataFrame.from_records(rows, columns=SUMMARY_COLUMNS)
    summary["probe_view"] = summary["probe_view"].astype(object)
    return summary


def summary_markdown(summary: pd.DataFrame, digits: int = 1) -> str:
    """Markdown tables (one per dataset): conditions as rows, probe views and the mean as columns."""
    parts = []
    for dataset, table in summary.groupby("dataset", sort=False):
        columns = list(dict.fromkeys(table["probe_view"].tolist()))
        columns = [c for c in columns if c != MEAN_ROW] + [MEAN_ROW]
        head = "| condition | " + " | ".join(str(c) for c in columns) + " |"
        rule = "|---|" + "---:|" * len(columns)
        lines = [f"### {dataset}: rank-1 accuracy (%) per probe view", "", head, rule]
        for condition, rows in table.groupby("condition", sort=False):
            by_view = dict(zip(rows["probe_view"], rows["rank1"], strict=True))
            cells = [f"{by_view[c]:.{digits}f}" if c in by_view else "" for c in columns]
            lines.append(f"| {condition.upper()} | " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def evaluate_rank1(
    features: np.ndarray, index: pd.DataFrame, protocol: Protocol, metric: str = "euclidean"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long-form and summary rank-1 tables of one dataset's stored features."""
    long = rank1_per_view_pair(features, index, protocol, metric)
    return long, summarize_rank1(long, protocol)


def natural_accuracy(
    feature_files: Mapping[str, tuple[str | Path, str | Path]],
    *,
    metric: str = "euclidean",
    test_subjects: tuple[int, int] = (75, 124),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank-1 tables of several datasets from their stored features ``{dataset: (array, index)}``."""
    longs, summaries = [], []
    for dataset, (array_path, index_path) in feature_files.items():
        features, index, _ = read_features(array_path, index_path)
        long, summary = evaluate_rank1(np.asarray(features), index, protocol_for(dataset, test_subjects), metric)
        longs.append(long)
        summaries.append(summary)
    return pd.concat(longs, ignore_index=True), pd.concat(summaries, ignore_index=True)
