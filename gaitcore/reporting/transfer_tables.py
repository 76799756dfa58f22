"""Tables 3 and 4 as Markdown (He et al. Sec. 4.3, 4.4), each with a line on the paper's finding
decided by a stated rule (Table 3: rule `findings`, docs/findings.md; Table 4: accuracy falls as sparsity grows).

Each value cell reads ``value [low, high]`` (its 95 % subject-level bootstrap interval, the
``<column>_low``/``<column>_high`` columns of :mod:`gaitcore.experiments.transfer`); the finding's
line quotes the intervals too, but its verdict is decided by the values alone, as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitcore.evaluation.attack_accuracy import AVERAGE
from gaitcore.reporting.attack_tables import markdown_table

NATURAL_ATTACKED = "natural (attacked probes)"
NATURAL_ALL = "natural (all probes)"
AFTER = "after attack"
DROP = "drop"
DROP_DIFFERENCE_MODEL = "GaitSet - GaitGAN"
DROP_DIFFERENCE = "drop difference (GaitSet - GaitGAN)"  # GaitSet's drop minus GaitGAN's, paired on the same probes


def table3_markdown(table: pd.DataFrame) -> str:
    """Table 3 as Markdown with one decimal (as the paper) and a line on the two models' drops (the
    paper's finding is decided by rule `findings`: results/tables/findings.md)."""
    text = markdown_table(table, "casia_b NM: black-box transfer of the S = 1/40 frame-alteration attack on GaitSet to "
                     "GaitGAN, rank-1 accuracy (%) (paper Table 3)", {}, default_digits=1)
    cells = table.set_index(["model", "setting"])
    drop = cells[AVERAGE]
    try:
        gan, gaitset = drop[("GaitGAN", DROP)], drop[("GaitSet", DROP)]
    except KeyError:
        return text
    natural_gaitset = drop[("GaitSet", NATURAL_ATTACKED)]
    gan_ci, gaitset_ci = (_ci(cells, (model, DROP)) for model in ("GaitGAN", "GaitSet"))
    text += (f"\nAverage drop: GaitGAN {gan:.1f} points{gan_ci}, GaitSet {gaitset:.1f} points{gaitset_ci} "
             f"(of {natural_gaitset:.1f}) on the same probes. The paper's finding (GaitGAN barely moves while "
             "GaitSet collapses) is decided from these intervals in findings.md (docs/findings.md).\n")
    key = (DROP_DIFFERENCE_MODEL, DROP_DIFFERENCE)
    if key in cells.index and not pd.isna(cells.loc[key, AVERAGE]):
        text += (f"GaitSet's drop minus GaitGAN's, paired on the same probes: {cells.loc[key, AVERAGE]:.1f} "
                 f"points{_ci(cells, key)}.\n")
    return text


def _ci(cells: pd.DataFrame, key: tuple[str, str]) -> str:
    """`` (95 % CI [low, high])`` of a row's average, or nothing where it has no interval."""
    low, high = (cells.loc[key, f"{AVERAGE}_{end}"] if f"{AVERAGE}_{end}" in cells else np.nan
                 for end in ("low", "high"))
    return "" if pd.isna(low) or pd.isna(high) else f" (95 % CI [{low:.1f}, {high:.1f}])"


def table4_markdown(table: pd.DataFrame) -> str:
    """Table 4 as Markdown with two decimals (as the paper) and a line on the paper's finding."""
    text = markdown_table(table, "casia_a: cross-dataset frame-alteration nontargeted attack, rank-1 accuracy (%) "
                     "(paper Table 4)", {"probes": 0}, default_digits=2)
    measured = table[table["sparsity"] != "0 (all probes)"]
    ordered = measured[AVERAGE].to_numpy()
    if len(ordered) < 2:
        return text
    falls = bool(np.all(np.diff(ordered) <= 0))
    text += (f"\nAverage accuracy by sparsity: {', '.join(f'{v:.1f}' for v in ordered)}; the paper's finding "
             f"(accuracy falls as sparsity grows) {'holds' if falls else 'does not hold'} here.\n")
    if {"change", "change_low", "change_high"} <= set(table.columns):
        changes = [f"{row.sparsity} {row.change:.1f} [{row.change_low:.1f}, {row.change_high:.1f}]"
                   if not (pd.isna(row.change_low) or pd.isna(row.change_high)) else f"{row.sparsity} {row.change:.1f}"
                   for row in measured.itertuples(index=False) if not pd.isna(row.change)]
        if changes:
            text += ("Change of the average from sparsity 0 on the same probes (paired 95 % CI): "
                     + "; ".join(changes) + ".\n")
    return text


__all__ = ["table3_markdown", "table4_markdown"]
