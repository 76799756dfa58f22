"""Baseline settings in the attack tables, and Fig. 6 (with its error bars) from a hand-made long table."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer

from gaitcore.attacks.records import load_attacks
from gaitcore.evaluation.attack_accuracy import attack_accuracy
from gaitcore.reporting.perturbation_figures import fig6_perturbation_comparison
from tests.reporting.test_attack_tables import PNG, A, B, row, values, write


def test_baselines_are_settings_of_the_same_tables_ordered_after_the_attack(tmp_path):
    paths = [
        write(tmp_path / "pgd.parquet", [row(A, 0, (B, A), setting="pgd"), row(B, 0, (B, B), setting="pgd")]),
        write(tmp_path / "adv.parquet", [row(A, 0, (B, B)), row(B, 0, (A, A))]),
        write(tmp_path / "fgsm.parquet", [row(A, 0, (A, A), setting="fgsm"), row(B, 0, (B, B), setting="fgsm")]),
    ]
    long = attack_accuracy(*load_attacks(paths))
    assert list(dict.fromkeys(long["setting"])) == ["natural", "adversary", "fgsm", "pgd"]
    # identical view 0 excluded: only gallery view 18 counts
    assert values(long, setting="pgd") == {0: 100.0, "mean": 100.0}
    assert values(long, setting="adversary") == {0: 0.0, "mean": 0.0}
    assert values(long, setting="natural") == {0: 100.0, "mean": 100.0}  # the same probes, counted once
    assert long.loc[long["setting"] == "natural", "probes"].tolist() == [2, 2]


def test_unknown_settings_are_still_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown setting"):
        load_attacks([write(tmp_path / "x.parquet", [row(A, 0, (A, A), setting="cw")])])


def test_fig6_draws_every_method_or_says_nothing_is_there(tmp_path):
    rows = [row(s, v, (s, s), setting=setting, condition=c)
            for setting in ("adversary", "fgsm", "pgd", "mifgsm") for c in ("nm", "cl")
            for s in (A, B) for v in (0, 18)]
    long = attack_accuracy(*load_attacks([write(tmp_path / "t.parquet", rows)]))
    assert fig6_perturbation_comparison(long, tmp_path / "f6.png", sparsity="1/40").read_bytes()[:8] == PNG
    assert fig6_perturbation_comparison(long, tmp_path / "none.png", sparsity="1/10").read_bytes()[:8] == PNG


def drawn_figure(monkeypatch, long, tmp_path, **kw):
    """Draw Fig. 6 and hand back the matplotlib figure as it was when saved."""
    import gaitcore.reporting.perturbation_figures as figures

    captured = []
    save = figures.save_figure
    monkeypatch.setattr(figures, "save_figure", lambda fig, path, dpi: (captured.append(fig), save(fig, path, dpi))[1])
    assert fig6_perturbation_comparison(long, tmp_path / "f6.png", sparsity="1/40", **kw).read_bytes()[:8] == PNG
    return captured[0]


def test_fig6_draws_each_points_interval_as_an_error_bar(tmp_path, monkeypatch):
    # A fooled by every method at every view, B by the attack only at view 18: intervals of two subjects.
    rows = [row(A, v, (B, B), setting=setting) for setting in ("adversary", "fgsm") for v in (0, 18)]
    rows += [row(B, v, (A, A) if setting == "adversary" and v == 18 else (B, B), setting=setting)
             for setting in ("adversary", "fgsm") for v in (0, 18)]
    long = attack_accuracy(*load_attacks([write(tmp_path / "t.parquet", rows)]))
    points = long[long["probe_view"] != "mean"]
    assert points[["ci_low", "ci_high"]].notna().all().all()
    fig = drawn_figure(monkeypatch, long, tmp_path)
    bars = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3  # natural, adversary, FGSM
    drawn = sorted((round(float(s[0, 1]), 9), round(float(s[1, 1]), 9)) for bar in bars
                   for s in bar.lines[2][0].get_segments())
    assert drawn == sorted(zip(points["ci_low"].round(9), points["ci_high"].round(9), strict=True))
    xs = sorted({round(float(s[0, 0]), 6) for bar in bars for s in bar.lines[2][0].get_segments()})
    assert len(xs) == 6  # the settings' bars side by side at each of the 2 views
    assert "95 % CI" in [t.get_text() for t in fig.legends[0].get_texts()]
    plt.close("all")
    # Cells without an interval (a single subject) are drawn as points without bars.
    fig = drawn_figure(monkeypatch, long.assign(ci_low=np.nan, ci_high=np.nan), tmp_path)
    assert not [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    assert "95 % CI" not in [t.get_text() for t in fig.legends[0].get_texts()]
