"""The attack's tables as Markdown (He et al. Sec. 4.2, Table 2; Appendix B, Tables 5, 6), from the
long tables of :mod:`gaitcore.evaluation.attack_accuracy`."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from gaitcore.data.layout import CASIA_B
from gaitcore.evaluation.attack_accuracy import AVERAGE, NATURAL_GOAL
from gaitcore.evaluation.rank1 import MEAN_ROW

INTERVAL_NOTE = "In brackets: 95 % confidence interval, subject-level bootstrap (docs/attack.md, \"Uncertainty\")"
COUNT_COLUMNS = ("probes", "subjects")


def _cell(value: float, digits: int) -> str:
    return "" if pd.isna(value) else f"{value:.{digits}f}"


def with_interval(value: float, low: float, high: float, digits: int) -> str:
    """``value [low, high]`` (just ``value`` where the interval is missing)."""
    text = _cell(value, digits)
    if text and not (pd.isna(low) or pd.isna(high)):
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    return text


def count_cell(value: object) -> str:
    return "" if pd.isna(value) else str(int(value))


def markdown_table(table: pd.DataFrame, title: str, digits: Mapping[str, int], default_digits: int = 2) -> str:
    """A pipe table under a heading; float columns with ``digits[column]`` decimals.

    A column ``c`` with ``c_low`` and ``c_high`` beside it shows ``value [low, high]`` (the two are not
    shown on their own); count columns (``probes``, ``subjects``, ``c_probes``, ``c_subjects``) as
    integers.
    """
    if table.empty:
        return f"### {title}\n\nNo results.\n"
    folded = {c for c in table.columns if f"{c}_low" in table.columns and f"{c}_high" in table.columns}
    shown = [c for c in table.columns
             if not any(str(c) == f"{base}_{end}" for base in folded for end in ("low", "high"))]
    head = "| " + " | ".join(map(str, shown)) + " |"
    rule = "|" + "".join("---|" if table[c].dtype == object else "---:|" for c in shown)
    body = []
    for _, row in table.iterrows():
        cells = []
        for c in shown:
            value, places = row[c], digits.get(c, default_digits)
            if c in folded:
                cells.append(with_interval(value, row[f"{c}_low"], row[f"{c}_high"], places))
            elif str(c) in COUNT_COLUMNS or str(c).endswith(tuple(f"_{n}" for n in COUNT_COLUMNS)):
                cells.append(count_cell(value))
            else:
                cells.append(_cell(value, places) if isinstance(value, float) else str(value))
        body.append("| " + " | ".join(cells) + " |")
    note = [f"{INTERVAL_NOTE}.", ""] if folded else []
    return "\n".join([f"### {title}", "", *note, head, rule, *body]) + "\n"


def table2_markdown(table: pd.DataFrame, dataset: str = CASIA_B) -> str:
    """Table 2 as Markdown, three decimals as in the paper, each cell with its interval and counts."""
    title = f"{dataset}: white-box targeted frame-alteration attack, success rate (%) (paper Table 2)"
    return markdown_table(table, title, {c: 3 for c in table.columns})


def targeted_view_markdown(table: pd.DataFrame, kind: str, dataset: str = CASIA_B) -> str:
    """Table 5/6 as Markdown: views with two decimals, the average with three, as in the paper; each
    cell with its interval, each row with the probes and subjects of its average."""
    number = {"insertion": 5, "alteration": 6}.get(kind)
    title = f"{dataset}: targeted frame-{kind} attack, success rate (%) per probe view" + (
        f" (paper Table {number})" if number else "")
    return markdown_table(table, title, {AVERAGE: 3}, default_digits=2)


def attack_accuracy_markdown(long: pd.DataFrame, digits: int = 2) -> str:
    """The long table as Markdown: per (dataset, kind, goal) rows (sparsity, setting, condition), columns views.

    Each cell reads ``value [low, high]``; a row ends with the probes and subjects of its mean, the
    mean optimiser iterations and, for attacks, the change of the mean from the same probes before
    the attack with its paired interval.
    """
    if long.empty:
        return "No attack results.\n"
    parts = []
    for (dataset, kind, goal), block in long.groupby(["dataset", "kind", "goal"], sort=False):
        views = sorted({int(v) for v in block["probe_view"] if v != MEAN_ROW})
        columns = [*map(str, views), MEAN_ROW]
        what = "success rate" if (block["metric"] == "success").all() else "rank-1 accuracy"
        attack = goal != NATURAL_GOAL
        tail = ["probes", "subjects", "iterations", *(["change of mean"] if attack else [])]
        note = INTERVAL_NOTE + ("; change: the mean minus that of the same probes before the attack (paired)."
                                if attack else ".")
        lines = [f"### {dataset}: frame-{kind} attack, {goal if attack else 'clean probes'}: {what} (%)", "", note, "",
                 "| sparsity | setting | condition | " + " | ".join([*columns, *tail]) + " |",
                 "|---|---|---|" + "---:|" * (len(columns) + len(tail))]
        for (sparsity, setting, condition), rows in block.groupby(["sparsity", "setting", "condition"], sort=False):
            by_view = {str(v): row for v, (_, row) in zip(rows["probe_view"], rows.iterrows(), strict=True)}
            cells = [with_interval(by_view[c]["value"], by_view[c]["ci_low"], by_view[c]["ci_high"], digits)
                     if c in by_view else "" for c in columns]
            mean = by_view.get(MEAN_ROW)
            if mean is None:
                cells += [""] * len(tail)
            else:
                cells += [count_cell(mean["probes"]), count_cell(mean["subjects"]), _cell(float(mean["iterations"]), 1)]
                if attack:
                    cells.append(with_interval(mean["change"], mean["change_low"], mean["change_high"], digits))
            lines.append(f"| {sparsity} | {setting} | {condition.upper()} | " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
