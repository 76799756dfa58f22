"""Baseline settings in the attack tables, and Fig. 6 from a hand-made long table."""

import pytest

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
