"""The heat map of the transfer matrix of adversarial sequences across victims (beyond the paper; the
transfer idea is He et al.'s Sec. 4.3, Table 3: GaitSet's attack scored by GaitGAN).

Rows are the sources (the victim each attack was crafted against), columns the targets (the model
that scores the adversarial sequences), one panel per condition (``"all"``, the mean over the
conditions, first). A cell's colour is the target's rank-1 drop in points (natural minus after the
attack, on the source's attacked probes), its text the drop and its paired 95 % subject-level
bootstrap interval; the diagonal (white-box: source = target) is outlined. Drawn from
:func:`gaitcore.experiments.transfer_matrix.transfer_matrix`'s table; written atomically.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from gaitcore.reporting.figures import save_figure  # noqa: E402

ALL = "all"  # the condition of the mean over the conditions present
GAITGAN = "GaitGAN"  # the non-victim target column (He et al. Table 3's black-box model)


def condition_label(condition: str) -> str:
    """``"all conditions (mean)"`` for :data:`ALL`, else the condition in capitals (``"NM"``)."""
    return "all conditions (mean)" if condition == ALL else str(condition).upper()


def cell_text(drop: float, low: float, high: float, digits: int = 1, sep: str = " ") -> str:
    """``drop [low, high]`` (the interval left out where it is NaN; ``"n/a"`` without a drop)."""
    if pd.isna(drop):
        return "n/a"
    text = f"{drop:.{digits}f}"
    if not (pd.isna(low) or pd.isna(high)):
        text += f"{sep}[{low:.{digits}f}, {high:.{digits}f}]"
    return text


def transfer_matrix_figure(table: pd.DataFrame, path: str | Path, *, dpi: int = 150) -> Path:
    """Heat maps of ``table``'s ``drop`` (columns ``source``, ``target``, ``condition``, ``drop``,
    ``drop_low``, ``drop_high``; the mode columns ``kind``, ``goal``, ``setting``, ``sparsity`` for the
    title): one panel per condition in the table's order, sources and targets in their order of
    appearance, one colour scale centred on 0 (a negative drop, the attack helping, shows blue).
    Raises ``ValueError`` on an empty table. Written atomically."""
    if table.empty:
        raise ValueError("the transfer matrix has no rows to draw")
    sources = list(dict.fromkeys(table["source"]))
    targets = list(dict.fromkeys(table["target"]))
    conditions = list(dict.fromkeys(table["condition"]))
    finite = np.abs(table["drop"].to_numpy(dtype=float))
    limit = max(float(np.nanmax(finite)) if np.isfinite(finite).any() else 0.0, 1.0)
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="lightgrey")
    width = len(conditions) * (1.25 * len(targets) + 1.2) + 1.0
    fig, axes = plt.subplots(1, len(conditions), figsize=(width, 0.8 * len(sources) + 2.0), squeeze=False,
                             layout="constrained")
    image = None
    for ax, condition in zip(axes[0], conditions, strict=True):
        cells = table[table["condition"] == condition].set_index(["source", "target"])
        values = np.full((len(sources), len(targets)), np.nan)
        for (source, target), row in cells.iterrows():
            values[sources.index(source), targets.index(target)] = row["drop"]
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
        for i, source in enumerate(sources):
            for j, target in enumerate(targets):
                row = cells.loc[(source, target)] if (source, target) in cells.index else None
                text = "n/a" if row is None else cell_text(row["drop"], row["drop_low"], row["drop_high"], sep="\n")
                dark = np.isfinite(values[i, j]) and abs(values[i, j]) > 0.6 * limit
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
                if source == target:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.5))
        ax.set_xticks(range(len(targets)), targets, rotation=30, ha="right")
        ax.set_yticks(range(len(sources)), sources)
        ax.set_xlabel("target (scores the sequences)")
        if ax is axes[0, 0]:
            ax.set_ylabel("source (attacked victim)")
        ax.set_title(condition_label(condition), fontsize=10)
    fig.colorbar(image, ax=list(axes[0]), label="rank-1 drop (points)", shrink=0.9)
    first = table.iloc[0]
    mode = " ".join(str(first[c]) for c in ("kind", "goal", "setting") if c in table)
    sparsity = f", S = {first['sparsity']}" if "sparsity" in table else ""
    fig.suptitle(f"Transfer of adversarial sequences across victims ({mode}{sparsity}): rank-1 drop, "
                 "paired 95 % CI; outlined: white-box", fontsize=10)
    return save_figure(fig, path, dpi)


__all__ = ["ALL", "GAITGAN", "cell_text", "condition_label", "transfer_matrix_figure"]
