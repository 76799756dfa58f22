"""He et al. Fig. 6 (the attack against FGSM, PGD and MI-FGSM) and Fig. 7 (their altered frames), Sec. 4.5.

Fig. 6: nontargeted frame-alteration rank-1 accuracy (%) per probe view at one fixed sparsity (the
paper's text does not state it; the config's ``attack.baselines.figure_sparsity``, 1/40 by default),
one panel per walking condition, one line per setting: Natural, FGSM, PGD, MI-FGSM and the attack
("Ours"), with an error bar of the line's colour (the settings side by side) for each point's 95 %
subject-level bootstrap confidence interval (``ci_low``/``ci_high`` of the long table,
:mod:`gaitcore.evaluation.uncertainty`; a point without an interval, e.g. of a single subject, has
no bar). Fig. 7: one probe's natural frames at the altered places (and the next two frames for
context), above each method's frames there. Both written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from gaitcore.data.layout import CASIA_B  # noqa: E402
from gaitcore.evaluation.attack_accuracy import NATURAL, conditions_of, of_dataset
from gaitcore.evaluation.rank1 import MEAN_ROW  # noqa: E402
from gaitcore.reporting.figures import save_figure, to_unit  # noqa: E402

# Fig. 6/7's settings in the paper's order, with their labels.
METHOD_LABELS = {NATURAL: "Natural", "fgsm": "FGSM", "pgd": "PGD", "mifgsm": "MI-FGSM", "adversary": "Ours"}
METHOD_STYLES = {NATURAL: ("black", "-", "o"), "fgsm": ("tab:orange", "--", "s"), "pgd": ("tab:green", "--", "D"),
                 "mifgsm": ("tab:purple", "--", "v"), "adversary": ("tab:red", ":", "^")}
CONTEXT = 2  # natural frames shown after the altered ones in Fig. 7
DODGE = 0.015  # x offset between the settings' error bars, as a share of the probe views' span


def _error_bars(ax, line: pd.DataFrame, x: np.ndarray, colour: str) -> bool:
    """Draw ``line``'s intervals (``ci_low``/``ci_high``) as error bars at ``x``; whether any was drawn."""
    if not {"ci_low", "ci_high"} <= set(line.columns):
        return False
    low, high = line["ci_low"].to_numpy(float), line["ci_high"].to_numpy(float)
    known = np.isfinite(low) & np.isfinite(high)
    if not known.any():
        return False
    value = line["value"].to_numpy(float)[known]
    ax.errorbar(x[known], value, yerr=np.clip(np.stack([value - low[known], high[known] - value]), 0, None),
                fmt="none", ecolor=colour, elinewidth=0.8, capsize=2, alpha=0.7)
    return True


def fig6_perturbation_comparison(long: pd.DataFrame, path: str | Path, *, sparsity: str, kind: str = "alteration",
                                 dataset: str | None = CASIA_B, dpi: int = 150) -> Path:
    """Fig. 6: nontargeted ``kind`` accuracy per probe view at ``sparsity``, a panel per condition.

    ``long``: :func:`gaitcore.evaluation.attack_accuracy.attack_accuracy`'s table. Each point has an
    error bar for its 95 % interval where the table gives one. What is missing is not drawn; with
    nothing to draw the figure says so.
    """
    d = of_dataset(long, dataset)
    name = str(d["dataset"].iloc[0])
    rows = d[(d["kind"] == kind) & (d["sparsity"] == sparsity) & (d["probe_view"] != MEAN_ROW)
             & (d["setting"].isin(list(METHOD_LABELS))) & ((d["setting"] == NATURAL) | (d["goal"] == "nontargeted"))]
    conditions = conditions_of(rows) or ["nm"]
    fig, axes = plt.subplots(1, len(conditions), figsize=(4.2 * len(conditions), 3.6), squeeze=False, sharey=True,
                             layout="constrained")
    shown = [int(v) for v in rows["probe_view"]]
    span = max(shown) - min(shown) if shown else 0
    dodge = DODGE * (span or 1.0)  # the settings' error bars side by side, not on top of each other
    barred = False
    for ax, condition in zip(axes[0], conditions, strict=True):
        of_condition = rows[rows["condition"] == condition]
        for rank, (setting, label) in enumerate(METHOD_LABELS.items()):
            line = of_condition[of_condition["setting"] == setting]
            if line.empty:
                continue
            line = line.assign(x=line["probe_view"].astype(int)).sort_values("x")
            colour, style, marker = METHOD_STYLES[setting]
            ax.plot(line["x"], line["value"], color=colour, linestyle=style, marker=marker, markersize=3,
                    linewidth=1.3, label=label)
            offset = dodge * (rank - (len(METHOD_LABELS) - 1) / 2)
            barred |= _error_bars(ax, line, line["x"].to_numpy(float) + offset, colour)
        ax.set_xticks(sorted({int(v) for v in of_condition["probe_view"]}))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(condition.upper(), fontsize=10)
        ax.set_xlabel("probe view (°)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("rank-1 accuracy (%)")
    if rows.empty:
        axes[0, 0].text(0.5, 0.5, f"no nontargeted frame-{kind} results at sparsity {sparsity}", ha="center",
                        va="center", transform=axes[0, 0].transAxes)
    else:
        handles, labels = axes[0, 0].get_legend_handles_labels()
        if barred:
            handles.append(Line2D([], [], color="grey", linestyle="none", marker="|", markersize=8))
            labels.append("95 % CI")
        fig.legend(handles, labels, loc="outside right center", fontsize=8, frameon=False)
    fig.suptitle(f"{name}: nontargeted frame-{kind} at sparsity {sparsity}, perturbation baselines vs ours (Fig. 6)",
                 fontsize=10)
    return save_figure(fig, path, dpi)


def fig7_examples(examples: Sequence[tuple[str, np.ndarray]], path: str | Path, *, sparsity: str,
                  dataset: str = CASIA_B, dpi: int = 150) -> Path:
    """Fig. 7: one row per ``(label, uint8 frames)`` of ``examples`` (natural frames, then each
    method's altered frames of one probe: :func:`gaitcore.experiments.imperceptibility.example_frames`)."""
    rows = max(len(examples), 1)
    cols = max((len(f) for _, f in examples), default=1)
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols + 0.4, 1.25 * rows + 0.4), squeeze=False,
                             layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    for r, (label, frames) in enumerate(examples):
        for c, frame in enumerate(to_unit(frames)):
            axes[r, c].imshow(frame, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        axes[r, 0].set_title(label, fontsize=7, loc="left")
    if not examples:
        axes[0, 0].text(0.5, 0.5, f"no frame-alteration results at sparsity {sparsity}", ha="center", va="center")
    fig.suptitle(f"{dataset}: natural frames and altered frames per method, sparsity {sparsity} "
                 f"(altered places, then {CONTEXT} natural frames; Fig. 7)", fontsize=8)
    return save_figure(fig, path, dpi)
