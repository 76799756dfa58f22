"""Figures of the nontargeted white-box attack (He et al. Sec. 4.2, Fig. 5; Appendix B, Fig. 10).

One panel per sparsity; x the probe view, y rank-1 accuracy (%) averaged over gallery views; colour
per walking condition (NM, BG, CL) and line style per setting (Natural solid, Random dashed,
Adversary dotted); an error bar of the line's colour (the settings side by side) is each point's 95 %
subject-level bootstrap confidence interval (``ci_low``/``ci_high``, :mod:`gaitcore.evaluation.uncertainty`). Drawn from
:func:`gaitcore.evaluation.attack_accuracy.attack_accuracy`'s long table; what is missing (a
setting, a condition, a sparsity) is simply not drawn.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from gaitcore.attacks.vocabulary import sparsity_value
from gaitcore.data.layout import (
    CASIA_B,  # noqa: E402
    CONDITIONS,
)
from gaitcore.evaluation.attack_accuracy import NATURAL, ROW_SETTINGS, conditions_of, of_dataset
from gaitcore.evaluation.rank1 import MEAN_ROW  # noqa: E402
from gaitcore.reporting.figures import save_figure  # noqa: E402

CONDITION_COLOURS = {"nm": "tab:blue", "bg": "tab:orange", "cl": "tab:green"}
SETTING_STYLES = {"natural": "-", "random": "--", "adversary": ":"}
SETTING_LABELS = {"natural": "Nat", "random": "Ran", "adversary": "Adv"}
SETTING_MARKERS = {"natural": "o", "random": "s", "adversary": "^"}
DODGE = 0.015  # x offset between the settings' error bars, as a share of the probe views' span


def _setting_rank(setting: str) -> int:
    """-1, 0, 1, ... for natural, random, adversary, ...: where a setting's error bars sit around the view."""
    return (ROW_SETTINGS.index(setting) if setting in ROW_SETTINGS else len(ROW_SETTINGS)) - 1


def nontargeted_figure(
    long: pd.DataFrame, path: str | Path, *, kind: str, dataset: str | None = CASIA_B, dpi: int = 150
) -> Path:
    """Fig. 5 (``kind="alteration"``) or Fig. 10 (``"insertion"``): nontargeted rank-1 accuracy per probe view.

    ``long``: the table of :func:`~gaitcore.evaluation.attack_accuracy.attack_accuracy`. Panels are
    the sparsities present (ascending: 1/40, 1/20, 1/10); natural rows are those of the same kind and
    sparsity. Raises ``ValueError`` when ``long`` has no rows of ``dataset``; with no results of
    ``kind`` the figure says so. Written atomically.
    """
    d = of_dataset(long, dataset)
    name = str(d["dataset"].iloc[0])
    rows = d[(d["kind"] == kind) & (d["probe_view"] != MEAN_ROW)
             & ((d["setting"] == NATURAL) | (d["goal"] == "nontargeted"))]
    sparsities = sorted(dict.fromkeys(rows["sparsity"]), key=sparsity_value)
    number = {"alteration": "Fig. 5", "insertion": "Fig. 10"}.get(kind, "")
    panels = max(len(sparsities), 1)
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6), squeeze=False, sharey=True, layout="constrained")
    drawn: set[tuple[str, str]] = set()
    barred = False
    span = max((float(v) for v in rows["probe_view"]), default=0.0) - min((float(v) for v in rows["probe_view"]),
                                                                          default=0.0)
    dodge = DODGE * (span or 1.0)  # the settings' error bars side by side, not on top of each other
    for ax, sparsity in zip(axes[0], sparsities, strict=False):
        of_sparsity = rows[rows["sparsity"] == sparsity]
        for condition in conditions_of(of_sparsity):
            for setting in ROW_SETTINGS:
                line = of_sparsity[(of_sparsity["condition"] == condition) & (of_sparsity["setting"] == setting)]
                if line.empty:
                    continue
                line = line.assign(x=line["probe_view"].astype(int)).sort_values("x")
                ax.plot(line["x"], line["value"], linestyle=SETTING_STYLES.get(setting, "-."),
                        color=CONDITION_COLOURS.get(condition), marker=SETTING_MARKERS.get(setting, "x"),
                        markersize=3, linewidth=1.3)
                if {"ci_low", "ci_high"} <= set(line.columns):
                    low, high = line["ci_low"].to_numpy(float), line["ci_high"].to_numpy(float)
                    known = np.isfinite(low) & np.isfinite(high)  # a single subject has no interval
                    value = line["value"].to_numpy(float)[known]
                    if known.any():
                        ax.errorbar(line["x"].to_numpy(float)[known] + dodge * _setting_rank(setting), value,
                                    yerr=np.clip(np.stack([value - low[known], high[known] - value]), 0, None),
                                    fmt="none", ecolor=CONDITION_COLOURS.get(condition), elinewidth=0.8, capsize=2,
                                    alpha=0.7)
                        barred = True
                drawn.add((condition, setting))
        views = sorted({int(v) for v in of_sparsity["probe_view"]})
        ax.set_xticks(views)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(f"sparsity {sparsity}", fontsize=10)
        ax.set_xlabel("probe view (°)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("rank-1 accuracy (%)")
    if not sparsities:
        axes[0, 0].text(0.5, 0.5, f"no nontargeted frame-{kind} results", ha="center", va="center",
                        transform=axes[0, 0].transAxes)
        axes[0, 0].set_ylim(-2, 102)
    if drawn:
        order = {c: i for i, c in enumerate(CONDITIONS)}
        handles = [
            Line2D([], [], color=CONDITION_COLOURS.get(c), linestyle=SETTING_STYLES.get(s, "-."),
                   marker=SETTING_MARKERS.get(s, "x"), markersize=3, label=f"{c.upper()}-{SETTING_LABELS.get(s, s)}")
            for c, s in sorted(drawn, key=lambda cs: (order.get(cs[0], len(order)), cs[0], ROW_SETTINGS.index(cs[1])))
        ]
        if barred:
            handles.append(Line2D([], [], color="grey", linestyle="none", marker="|", markersize=8,
                                  label="95 % CI"))
        fig.legend(handles=handles, loc="outside right center", fontsize=8, frameon=False)
    fig.suptitle(f"{name}: white-box nontargeted frame-{kind} attack" + (f" ({number})" if number else ""), fontsize=11)
    return save_figure(fig, path, dpi)


def fig5_nontargeted_alteration(long: pd.DataFrame, path: str | Path, *, dataset: str | None = CASIA_B,
                                dpi: int = 150) -> Path:
    """The paper's Fig. 5: nontargeted frame-alteration attack (see :func:`nontargeted_figure`)."""
    return nontargeted_figure(long, path, kind="alteration", dataset=dataset, dpi=dpi)


def fig10_nontargeted_insertion(long: pd.DataFrame, path: str | Path, *, dataset: str | None = CASIA_B,
                                dpi: int = 150) -> Path:
    """The paper's Fig. 10: nontargeted frame-insertion attack (see :func:`nontargeted_figure`)."""
    return nontargeted_figure(long, path, kind="insertion", dataset=dataset, dpi=dpi)
