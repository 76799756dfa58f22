"""The precision of the headline cells against the readings' power target (``precision.{csv,md}``).

The headline cells (CASIA-B, nontargeted, the adversary and the random control, every kind, sparsity
and condition; He et al. Fig. 5 and Fig. 10) should each carry a 95 % interval no wider than
``target`` points either side. For each cell the table gives its bootstrap half-width (from
``attack_accuracy.csv``), the spread of its per-probe scores between and within subjects
(:mod:`gaitcore.evaluation.precision`) and what that spread implies: the half-width if every test
subject were attacked at every view (the most this test set can give), the smallest subjects-per-view
budget that would reach the target, and the number of test subjects the target would need. Verdicts:

* ``met``: the cell's bootstrap half-width is at most the target;
* ``larger budget``: not met, but a budget of ``subjects_per_view_needed`` subjects per view (at most
  the number of test subjects) reaches it;
* ``more test subjects``: not even every test subject at every view reaches it: the subjects differ
  too much for this test set (``test_subjects_needed`` subjects, each at every view, would);
* ``no interval``: the cell has probes of fewer than two subjects.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gaitcore.attacks.records import load_attacks
from gaitcore.attacks.vocabulary import KINDS, sparsity_value
from gaitcore.data.layout import CASIA_B, CONDITIONS
from gaitcore.evaluation.attack_accuracy import cell_scores
from gaitcore.evaluation.precision import even_spread, half_width, subjects_for, variance_components
from gaitcore.evaluation.rank1 import MEAN_ROW
from gaitcore.reporting.attack_tables import count_cell, with_interval
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

HEADLINE_SETTINGS = ("random", "adversary")
MET, LARGER_BUDGET, MORE_SUBJECTS = "met", "larger budget", "more test subjects"
NO_INTERVAL = "no interval"  # fewer than two subjects: no interval, no spread between subjects
COLUMNS = ["kind", "sparsity", "setting", "condition", "value", "ci_low", "ci_high", "probes", "subjects",
           "subjects_per_view", "half_width", "model_half_width", "sd_between", "sd_within", "full_design_half_width",
           "subjects_per_view_needed", "test_subjects_needed", "verdict"]


def _published(accuracy: pd.DataFrame, **cell: str) -> pd.Series:
    """The mean-over-views row of ``attack_accuracy.csv`` for one cell."""
    match = accuracy[(accuracy["dataset"] == CASIA_B) & (accuracy["goal"] == "nontargeted")
                     & (accuracy["probe_view"].astype(str) == MEAN_ROW)]
    for key, value in cell.items():
        match = match[match[key] == value]
    if match.empty:
        raise ValueError(f"attack_accuracy.csv has no mean row for {cell}; rerun rule aggregate_attacks")
    return match.iloc[0]


def precision_table(rows: pd.DataFrame, metas: Mapping[str, Mapping], accuracy: pd.DataFrame, *,
                    test_subjects: int, target: float) -> pd.DataFrame:
    """One row per headline cell present in ``rows`` (:func:`load_attacks`), columns :data:`COLUMNS`;
    ``accuracy`` is the run's ``attack_accuracy.csv``, ``test_subjects`` the size of the test role."""
    records = []
    plain = rows[(rows["dataset"] == CASIA_B) & (rows["goal"] == "nontargeted")]
    for kind in KINDS:
        for sparsity in sorted(set(plain.loc[plain["kind"] == kind, "sparsity"]), key=sparsity_value):
            for setting in HEADLINE_SETTINGS:
                for condition in CONDITIONS:
                    cell = dict(kind=kind, setting=setting, sparsity=sparsity, condition=condition)
                    scores = cell_scores(rows, metas, goal="nontargeted", **cell)["score"].dropna()
                    if scores.empty:
                        continue
                    records.append(_row(scores, _published(accuracy, **cell), cell,
                                        test_subjects=test_subjects, target=target))
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    log.info("%d headline cells against a half-width of %g points: %s", len(table), target,
             table["verdict"].value_counts().to_dict())
    return table


def _row(scores: pd.Series, published: pd.Series, cell: dict, *, test_subjects: int, target: float) -> dict:
    subjects = scores.index.get_level_values("subject").astype(str).to_numpy(dtype=object)
    views = scores.index.get_level_values("view").nunique()
    if len(set(subjects)) < 2:
        return {**cell, "value": published["value"], "probes": len(scores), "subjects": len(set(subjects)),
                "subjects_per_view": len(scores) / views, "verdict": NO_INTERVAL}
    components = variance_components(scores.to_numpy(), subjects)
    layout = pd.Series(subjects).value_counts().to_numpy()
    bootstrap = (published["ci_high"] - published["ci_low"]) / 2
    needed = next((k for k in range(1, test_subjects + 1)
                   if half_width(components, even_spread(k * views, test_subjects)) <= target), None)
    verdict = MET if bootstrap <= target else (LARGER_BUDGET if needed is not None else MORE_SUBJECTS)
    return {**cell, "value": published["value"], "ci_low": published["ci_low"], "ci_high": published["ci_high"],
            "probes": len(scores), "subjects": len(layout), "subjects_per_view": len(scores) / views,
            "half_width": bootstrap, "model_half_width": half_width(components, layout),
            "sd_between": components.between, "sd_within": components.within,
            "full_design_half_width": half_width(components, np.full(test_subjects, views)),
            "subjects_per_view_needed": needed, "test_subjects_needed": subjects_for(components, views, target),
            "verdict": verdict}


def precision_markdown(table: pd.DataFrame, target: float, test_subjects: int) -> str:
    counts = table["verdict"].value_counts()
    lines = ["# Precision of the headline cells", "",
             f"Target: a 95 % interval half-width of at most {target:g} points. half-width: the cell's subject-level "
             "bootstrap interval (attack_accuracy.csv); model: the normal approximation from the spread of its "
             "per-probe scores between and within subjects (SD, points), which plans the budget; every subject: "
             f"the model's half-width with all {test_subjects} test subjects attacked at every view. "
             f"Cells: {int(counts.get(MET, 0))} {MET}, {int(counts.get(LARGER_BUDGET, 0))} need a larger budget, "
             f"{int(counts.get(MORE_SUBJECTS, 0))} need more test subjects than the test set has, "
             f"{int(counts.get(NO_INTERVAL, 0))} have probes of fewer than two subjects (not listed).", "",
             "| kind | S | setting | condition | rank-1 [95 % CI] | probes | subjects | half-width | model | "
             "SD between | SD within | every subject | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in table[table["verdict"] != NO_INTERVAL].itertuples(index=False):
        verdict = row.verdict
        if verdict == LARGER_BUDGET:
            verdict += f" ({count_cell(row.subjects_per_view_needed)} subjects per view)"
        elif verdict == MORE_SUBJECTS:
            verdict += f" ({count_cell(row.test_subjects_needed)} subjects at every view)"
        lines.append(f"| {row.kind} | {row.sparsity} | {row.setting} | {str(row.condition).upper()} | "
                     f"{with_interval(row.value, row.ci_low, row.ci_high, 1)} | {row.probes} | {row.subjects} | "
                     f"{row.half_width:.1f} | {row.model_half_width:.1f} | {row.sd_between:.1f} | "
                     f"{row.sd_within:.1f} | {row.full_design_half_width:.1f} | {verdict} |")
    return "\n".join(lines) + "\n"


def write_precision(attack_paths: Sequence[str | Path], accuracy_csv: str | Path, csv_path: str | Path,
                    md_path: str | Path, *, test_role: Sequence[int], target: float) -> pd.DataFrame:
    """Write ``precision.{csv,md}`` for the headline cells of ``attack_paths``, atomically;
    ``test_role`` is the first and last test subject (``subjects.casia_b.test``)."""
    first, last = test_role
    test_subjects = last - first + 1
    rows, metas = load_attacks(attack_paths)
    accuracy = pd.read_csv(accuracy_csv, dtype={"probe_view": str})
    table = precision_table(rows, metas, accuracy, test_subjects=test_subjects, target=target)
    write_table(table, csv_path, md_path, markdown=precision_markdown(table, target, test_subjects))
    return table


__all__ = ["COLUMNS", "LARGER_BUDGET", "MET", "MORE_SUBJECTS", "NO_INTERVAL", "precision_table", "write_precision"]
