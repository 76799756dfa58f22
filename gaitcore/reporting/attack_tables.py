"""The attack's tables as Markdown (He et al. Sec. 4.2, Table 2; Appendix B, Tables 5, 6), from the
long tables of :mod:`gaitcore.evaluation.attack_accuracy`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from gaitcore.data.layout import CASIA_B
from gaitcore.evaluation.attack_accuracy import AVERAGE, NATURAL_GOAL
from gaitcore.evaluation.rank1 import MEAN_ROW


def _cell(value: float, digits: int) -> str:
    return "" if pd.isna(value) else f"{value:.{digits}f}"


def markdown_table(table: pd.DataFrame, title: str, digits: Mapping[str, int], default_digits: int = 2) -> str:
    """A pipe table under a heading; float columns with ``digits[column]`` decimals."""
    if table.empty:
        return f"### {title}\n\nNo results.\n"
    head = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "".join("---|" if table[c].dtype == object else "---:|" for c in table.columns)
    body = []
    for row in table.itertuples(index=False):
        cells = [_cell(v, digits.get(c, default_digits)) if isinstance(v, float) else str(v)
                 for c, v in zip(table.columns, row, strict=True)]
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([f"### {title}", "", head, rule, *body]) + "\n"


def table2_markdown(table: pd.DataFrame, dataset: str = CASIA_B) -> str:
    """Table 2 as Markdown, three decimals as in the paper."""
    title = f"{dataset}: white-box targeted frame-alteration attack, success rate (%) (paper Table 2)"
    return markdown_table(table, title, {c: 3 for c in table.columns})


def targeted_view_markdown(table: pd.DataFrame, kind: str, dataset: str = CASIA_B) -> str:
    """Table 5/6 as Markdown: views with two decimals, the average with three, as in the paper."""
    number = {"insertion": 5, "alteration": 6}.get(kind)
    title = f"{dataset}: targeted frame-{kind} attack, success rate (%) per probe view" + (
        f" (paper Table {number})" if number else "")
    return markdown_table(table, title, {AVERAGE: 3}, default_digits=2)


def attack_accuracy_markdown(long: pd.DataFrame, digits: int = 2) -> str:
    """The long table as Markdown: per (dataset, kind, goal) rows (sparsity, setting, condition), columns views."""
    if long.empty:
        return "No attack results.\n"
    parts = []
    for (dataset, kind, goal), block in long.groupby(["dataset", "kind", "goal"], sort=False):
        views = sorted({int(v) for v in block["probe_view"] if v != MEAN_ROW})
        columns = [*map(str, views), MEAN_ROW]
        what = "success rate" if (block["metric"] == "success").all() else "rank-1 accuracy"
        lines = [f"### {dataset}: frame-{kind} attack, {goal if goal != NATURAL_GOAL else 'clean probes'}: {what} (%)",
                 "", "| sparsity | setting | condition | " + " | ".join(columns) + " | probes | iterations |",
                 "|---|---|---|" + "---:|" * (len(columns) + 2)]
        for (sparsity, setting, condition), rows in block.groupby(["sparsity", "setting", "condition"], sort=False):
            by_view = {str(v): value for v, value in zip(rows["probe_view"], rows["value"])}
            mean_row = rows.loc[rows["probe_view"] == MEAN_ROW]
            probes = int(mean_row["probes"].sum())
            cells = [_cell(by_view.get(c, np.nan), digits) for c in columns]
            iterations = _cell(float(mean_row["iterations"].iloc[0]) if len(mean_row) else np.nan, 1)
            lines.append(f"| {sparsity} | {setting} | {condition.upper()} | " + " | ".join(cells)
                         + f" | {probes} | {iterations} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


