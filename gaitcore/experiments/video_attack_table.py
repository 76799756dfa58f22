"""The video attack table: accuracy through the sensor path beside the silhouette-level attack.

``results/tables/video_attack.{csv,md}``, one row per (segmenter, dataset, kind, goal, setting,
sparsity, condition), rank-1 accuracy in % (Sec. 4.1 "Metrics": per probe view averaged over the gallery
views, the identical view excluded on CASIA-B, then averaged over the probe views), computed by
:func:`gaitcore.evaluation.attack_accuracy.attack_accuracy` on the same probes four times:

* ``natural_silhouettes``: the clean probes' stored silhouettes (the attack job's clean columns);
* ``natural_video``: the clean source video through background subtraction and preprocessing;
* ``attack_silhouettes``: the attack on the silhouettes, as the attack job scored it;
* ``attack_video``: the attacked video (SPADE frames composited in), sensed like the clean one.

``segmentation_iou`` is the mean IoU between the segmented generated frames and their adversarial
silhouettes ``L_a``; ``probes`` the number of attacked probe sequences and ``subjects`` their
distinct subjects (``natural_probes``, ``natural_subjects``: those of the natural cells, every probe
of the (dataset, kind, sparsity, condition) once), as :func:`attack_accuracy` counts them: the same
on both paths, though the video path scores only the probes whose sensed video keeps a frame.

Uncertainty (:mod:`gaitcore.evaluation.uncertainty`): each of the four accuracies carries the 95 %
subject-level bootstrap interval (``<column>_low``, ``<column>_high``; fixed seed) that
:func:`~gaitcore.evaluation.attack_accuracy.attack_accuracy` gives its cell (``ci_low``,
``ci_high`` of the cell's ``"mean"`` row: the same probes and estimator as the value).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gaitcore.attacks.vocabulary import sparsity_value
from gaitcore.data.layout import CONDITIONS
from gaitcore.data.segment import SEGMENTERS
from gaitcore.evaluation.attack_accuracy import NATURAL, attack_accuracy
from gaitcore.evaluation.rank1 import MEAN_ROW
from gaitcore.experiments.video_attack import read_video_attack_table
from gaitcore.reporting.attack_tables import INTERVAL_NOTE, count_cell, with_interval
from gaitcore.utils.tables import write_table

RATES = ["natural_silhouettes", "natural_video", "attack_silhouettes", "attack_video"]
COLUMNS = ["segmenter", "dataset", "kind", "goal", "setting", "sparsity", "condition", *RATES, "segmentation_iou",
           "probes", "subjects", "natural_probes", "natural_subjects",
           *(f"{r}_{end}" for r in RATES for end in ("low", "high"))]


def load_video_attacks(paths: Sequence[str | Path]) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Rows of every video attack table and each dataset's gallery metadata."""
    if not paths:
        raise ValueError("no video attack tables given")
    frames, metas = [], {}
    for path in paths:
        frame, meta = read_video_attack_table(path)
        if frame.empty:
            continue
        dataset = str(frame["dataset"].iloc[0])
        metas.setdefault(dataset, {"gallery_views": meta["gallery_views"],
                                   "exclude_identical_view": meta["exclude_identical_view"]})
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    if "variant" in rows:
        variant = rows["variant"].fillna("").astype(str)
        rows["setting"] = rows["setting"].where(variant == "", rows["setting"] + "+" + variant)
    return rows, metas


def video_path_rows(rows: pd.DataFrame, metas: dict[str, dict]) -> pd.DataFrame:
    """``rows`` with the video path's nearest subjects (``video_rank1_*``, ``video_clean_rank1_*``) in the
    attack table's columns (``rank1_*``, ``clean_rank1_*``), so that the attack tables' scoring reads
    the video path."""
    views = {v for meta in metas.values() for v in meta["gallery_views"]}
    plain = [f"{p}rank1_{v:03d}" for v in views for p in ("", "clean_")]
    return rows.drop(columns=plain).rename(columns={"video_" + c: c for c in plain})


def _path_accuracy(rows: pd.DataFrame, metas: dict[str, dict], prefix: str) -> pd.DataFrame:
    """attack_accuracy's mean rows (over probe views) scored from the ``{prefix}rank1_*`` and
    ``{prefix}clean_rank1_*`` columns."""
    long = attack_accuracy(video_path_rows(rows, metas) if prefix else rows, metas)
    return long[long["probe_view"] == MEAN_ROW]


def _cell_names(column: str, counts: str) -> dict[str, str]:
    """attack_accuracy's cell columns renamed for the table's ``column`` (counts prefixed ``counts``)."""
    return {"value": column, "ci_low": f"{column}_low", "ci_high": f"{column}_high", "probes": f"{counts}probes",
            "subjects": f"{counts}subjects"}


def video_attack_table(rows: pd.DataFrame, metas: dict[str, dict]) -> pd.DataFrame:
    """The table of the module docstring from the rows of the video attack jobs, one block per
    segmenter (in :data:`gaitcore.data.segment.SEGMENTERS` order)."""
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    if "segmenter" not in rows:
        raise ValueError("the video attack rows name no segmenter; rerun the rule `video_attack`")
    blocks = [_segmenter_table(of, metas).assign(segmenter=name)
              for name, of in sorted(rows.groupby("segmenter"), key=lambda item: _segmenter_order(item[0]))]
    return pd.concat(blocks, ignore_index=True)[COLUMNS]


def _segmenter_order(name: str) -> int:
    return SEGMENTERS.index(name) if name in SEGMENTERS else len(SEGMENTERS)


def _segmenter_table(rows: pd.DataFrame, metas: dict[str, dict]) -> pd.DataFrame:
    """The table of one segmenter's rows (every column of :data:`COLUMNS` but ``segmenter``)."""
    key = ["dataset", "kind", "sparsity", "condition"]
    attack_key = [*key, "goal", "setting"]
    paths = {}
    for name, prefix in (("silhouettes", ""), ("video", "video_")):
        long = _path_accuracy(rows, metas, prefix)
        natural = long["setting"] == NATURAL
        cell = ["value", "ci_low", "ci_high", "probes", "subjects"]
        paths[name] = {
            "natural": long.loc[natural, [*key, *cell]].rename(columns=_cell_names(f"natural_{name}", "natural_")),
            "attack": long.loc[~natural, [*attack_key, *cell]].rename(columns=_cell_names(f"attack_{name}", "")),
        }
    counts = ["probes", "subjects", "natural_probes", "natural_subjects"]  # the same rows on both paths
    table = paths["silhouettes"]["attack"].merge(paths["video"]["attack"].drop(columns=counts[:2]), on=attack_key)
    table = table.merge(paths["silhouettes"]["natural"], on=key).merge(
        paths["video"]["natural"].drop(columns=counts[2:]), on=key)
    iou = rows.groupby(["dataset", "kind", "goal", "setting", "sparsity", "condition"], sort=False)["segmentation_iou"]
    table = table.merge(iou.mean().rename("segmentation_iou").reset_index(), on=attack_key)
    table["_sparsity"] = table["sparsity"].map(sparsity_value)
    table["_condition"] = table["condition"].map(lambda c: CONDITIONS.index(c) if c in CONDITIONS else len(CONDITIONS))
    table = table.sort_values(["dataset", "kind", "goal", "setting", "_sparsity", "_condition"], kind="stable")
    return table[COLUMNS[1:]].reset_index(drop=True)


def video_attack_markdown(table: pd.DataFrame, digits: int = 1) -> str:
    """The table as Markdown, per (dataset, kind, goal, setting): each accuracy ``value [low, high]``."""
    if table.empty:
        return "No video attack results.\n"
    parts = []
    groups = table.groupby(["segmenter", "dataset", "kind", "goal", "setting"], sort=False)
    for (segmenter, dataset, kind, goal, setting), block in groups:
        lines = [f"### {dataset}: frame-{kind} attack ({goal}, {setting}) through the video sensor path "
                 f"({segmenter} segmenter), rank-1 accuracy (%)", "",
                 f"{INTERVAL_NOTE}; clean probes, clean subjects: those of the clean columns (every probe of the "
                 "condition once).", "",
                 "| sparsity | condition | clean silhouettes | clean video | attacked silhouettes | attacked video | "
                 "segmentation IoU | probes | subjects | clean probes | clean subjects |",
                 "|---|---|" + "---:|" * 9]
        for _, row in block.iterrows():
            rates = [with_interval(row[r], row[f"{r}_low"], row[f"{r}_high"], digits) for r in RATES]
            counts = [count_cell(row[c]) for c in ("probes", "subjects", "natural_probes", "natural_subjects")]
            lines.append(f"| {row['sparsity']} | {row['condition'].upper()} | " + " | ".join(rates)
                         + f" | {row['segmentation_iou']:.3f} | " + " | ".join(counts) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def aggregate_video_attacks(paths: Sequence[str | Path], csv_path: str | Path, md_path: str | Path) -> pd.DataFrame:
    """Read the video attack jobs' tables and write ``video_attack.{csv,md}``; returns the table."""
    table = video_attack_table(*load_video_attacks(paths))
    write_table(table, csv_path, md_path, markdown=video_attack_markdown(table))
    return table
