"""Setting choices on validation subjects: the plain attack against each candidate setting.

Every setting the attack runs with that is chosen rather than taken from the paper (lambda, early
stop, ...) is chosen on the validation subjects (config ``subjects.casia_b.validation``), never on
the test subjects. Rule ``attack_validation`` attacks the same validation probes (their own gallery
of the validation subjects' nm-01..04) with the plain settings and with each candidate of
``attack.validation.candidates``; this module tabulates them (``results/tables/validation_settings``):

* per (kind, goal, sparsity, condition) and setting: the rank-1 accuracy (nontargeted) or targeted
  success under attack, with its subject-level 95 % interval, the probes and subjects, and the mean
  number of updates per probe (``iterations``: what early stop saves);
* nontargeted cells: the clean rank-1 of the same probes (``clean``) and the attack's paired change
  from it (``change`` with ``change_low``, ``change_high``): what the attack, or the random
  control, costs;
* per candidate: its paired difference from the plain setting on the same probes, with its interval
  (``difference``, ``difference_low``, ``difference_high``; percentage points). The plain setting
  of a mode is the config's own (``adversary`` or ``random``); a candidate is ``<setting>+<name>``.

The validation gallery has fewer subjects than the test gallery (12 against 50 in the default), so
absolute numbers here are not the test set's; the paired differences are what choose a setting.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gaitcore.attacks.records import load_attacks
from gaitcore.attacks.vocabulary import sparsity_value
from gaitcore.data.layout import CASIA_B
from gaitcore.evaluation.attack_accuracy import cell_scores, paired_scores
from gaitcore.evaluation.uncertainty import subject_bootstrap
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

COLUMNS = ["kind", "goal", "sparsity", "condition", "setting", "metric", "value", "ci_low", "ci_high", "probes",
           "subjects", "iterations", "clean", "change", "change_low", "change_high", "difference", "difference_low",
           "difference_high"]


def validation_table(paths: Sequence[str | Path], *, seed: int = 0) -> pd.DataFrame:
    """One row per (kind, goal, sparsity, condition, setting) of the validation attack tables ``paths``:
    the plain setting first, then each candidate with its paired difference from the plain one."""
    rows, metas = load_attacks(list(paths))
    rows = rows[rows["dataset"] == CASIA_B]
    out = []
    cells = rows[["kind", "goal", "sparsity", "condition"]].drop_duplicates()
    cells = cells.assign(_order=cells["sparsity"].map(sparsity_value)).sort_values(
        ["kind", "goal", "_order", "condition"])
    for cell in cells.drop(columns="_order").to_dict("records"):
        of_cell = rows[(rows[list(cell)] == pd.Series(cell)).all(axis=1)]
        settings = sorted(set(of_cell["setting"]), key=lambda s: ("+" in s, s))
        of_setting = {s: cell_scores(rows, metas, setting=s, **cell)["score"] for s in settings}
        for setting in settings:
            base = setting.split("+")[0]
            plain = of_setting.get(base, pd.Series(dtype=float))
            scores = of_setting[setting].dropna()
            subjects = scores.index.get_level_values("subject").astype(str).to_numpy(dtype=object)
            interval = subject_bootstrap(scores.to_numpy(), subjects, seed=seed)
            difference = paired_scores(scores, plain, seed=seed) if setting != base and len(plain) else None
            change = clean = None
            if cell["goal"] == "nontargeted":
                before = cell_scores(rows, metas, setting=setting, clean=True, **cell)["score"]
                clean = float(before.mean())
                change = paired_scores(scores, before, seed=seed)
            out.append({**cell, "setting": setting, "clean": clean,
                        "change": None if change is None else change.estimate,
                        "change_low": None if change is None else change.low,
                        "change_high": None if change is None else change.high,
                        "metric": "success" if cell["goal"] == "targeted" else "rank1",
                        "value": interval.estimate, "ci_low": interval.low, "ci_high": interval.high,
                        "probes": interval.n_probes, "subjects": interval.n_subjects,
                        "iterations": float(of_cell.loc[of_cell["setting"] == setting, "iterations"].mean()),
                        "difference": None if difference is None else difference.estimate,
                        "difference_low": None if difference is None else difference.low,
                        "difference_high": None if difference is None else difference.high})
    return pd.DataFrame.from_records(out, columns=COLUMNS)


def _number(value: float, signed: bool = False) -> str:
    if pd.isna(value):
        return "n/a"
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def validation_markdown(table: pd.DataFrame) -> str:
    """The validation table as Markdown, one section per attacked cell."""
    lines = ["# Setting choices on validation subjects", "",
             "Each setting attacks the same validation probes (never a test subject). value: rank-1 % "
             "(nontargeted) or targeted success % under attack, with its 95 % subject-level bootstrap "
             "interval; difference: the candidate minus the plain setting on the same probes, in points, "
             "with its paired interval; change: the setting minus the clean rank-1 of the same probes "
             "(nontargeted); iterations: mean updates per probe.", ""]
    for (kind, goal, sparsity, condition), rows in table.groupby(["kind", "goal", "sparsity", "condition"],
                                                                 sort=False):
        lines += [f"## {kind} {goal}, S = {sparsity}, {str(condition).upper()}", "",
                  "| setting | value [95 % CI] | probes | subjects | iterations | clean | change [95 % CI] | "
                  "difference [95 % CI] |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in rows.itertuples(index=False):
            value = f"{_number(row.value)} [{_number(row.ci_low)}, {_number(row.ci_high)}]"
            difference = ("(reference)" if pd.isna(row.difference) else
                          f"{_number(row.difference, True)} [{_number(row.difference_low, True)}, "
                          f"{_number(row.difference_high, True)}]")
            change = ("n/a" if pd.isna(row.change) else
                      f"{_number(row.change, True)} [{_number(row.change_low, True)}, "
                      f"{_number(row.change_high, True)}]")
            lines.append(f"| {row.setting} | {value} | {row.probes} | {row.subjects} | {row.iterations:.1f} | "
                         f"{_number(row.clean)} | {change} | {difference} |")
        lines.append("")
    return "\n".join(lines)


def write_validation_table(paths: Sequence[str | Path], csv_path: str | Path, md_path: str | Path, *,
                           seed: int = 0) -> pd.DataFrame:
    """Write :func:`validation_table` as CSV and Markdown (atomically); returns it."""
    table = validation_table(paths, seed=seed)
    write_table(table, csv_path, md_path, markdown=validation_markdown(table) + "\n")
    log.info("%d validation cells", len(table))
    return table


__all__ = ["validation_markdown", "validation_table", "write_validation_table"]
