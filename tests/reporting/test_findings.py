"""The findings' verdict rules on cases that should and should not hold, and the findings table on
hand-made attack tables with known paired differences."""

import math

import pandas as pd
import pytest

from gaitcore.evaluation.uncertainty import Interval
from gaitcore.experiments.findings import (
    CLOSE_POINTS,
    DETECTOR_RULES,
    FAR_POINTS,
    RULES,
    Rule,
    findings_table,
    write_findings,
)
from tests.reporting.test_attack_tables import row, write


def interval(low, high):
    return Interval((low + high) / 2, low, high, 10, 5)


@pytest.mark.parametrize("low, high, verdict", [
    (FAR_POINTS + 1, FAR_POINTS + 30, "holds"),  # the whole interval beyond the threshold
    (FAR_POINTS - 10, FAR_POINTS + 10, "inconclusive"),  # straddles it
    (-5, FAR_POINTS - 1, "fails"),  # entirely short of it
    (FAR_POINTS, FAR_POINTS + 5, "inconclusive"),  # touching the threshold is not beyond it
    (math.nan, math.nan, "inconclusive"),  # no interval (fewer than two subjects)
])
def test_a_threshold_rule(low, high, verdict):
    assert RULES["far_below_random"].verdict(interval(low, high)) == verdict


@pytest.mark.parametrize("low, high, verdict", [
    (-CLOSE_POINTS + 1, CLOSE_POINTS - 1, "holds"),
    (-CLOSE_POINTS, CLOSE_POINTS, "holds"),
    (-2, CLOSE_POINTS + 3, "inconclusive"),
    (CLOSE_POINTS + 0.5, 30, "fails"),
    (-40, -CLOSE_POINTS - 0.5, "fails"),
])
def test_a_closeness_rule(low, high, verdict):
    assert RULES["random_close_to_natural"].verdict(interval(low, high)) == verdict


def test_rules_print_as_docs_state_them():
    assert RULES["far_below_random"].text() == f"random - adversary > {FAR_POINTS:g}"
    assert RULES["random_close_to_natural"].text() == f"|natural - random| <= {CLOSE_POINTS:g}"
    assert Rule("x", "Fig. 1", "a - b", 0.0).text() == "a - b > 0"


SUBJECTS = [f"{i:03d}" for i in range(75, 95)]  # 20 subjects, one probe each at view 90


def cell(setting, fooled, *, goal="nontargeted", sparsity="1/40"):
    """Probes of all SUBJECTS at view 90 (gallery views 0 and 18); the first ``fooled`` of them are
    matched to another subject at both gallery views (or, targeted, to their target)."""
    rows = []
    for i, subject in enumerate(SUBJECTS):
        other = SUBJECTS[(i + 1) % len(SUBJECTS)]
        wrong = i < fooled
        target = other if goal == "targeted" else ""
        nearest = other if wrong else subject
        rows.append(row(subject, 90, (nearest, nearest), goal=goal, setting=setting, sparsity=sparsity, target=target))
    return rows


def test_findings_on_known_cells(tmp_path):
    paths = [
        write(tmp_path / "adv.parquet", cell("adversary", 18)),  # 10 % left
        write(tmp_path / "adv10.parquet", cell("adversary", 20, sparsity="1/10")),  # 0 % left
        write(tmp_path / "rnd.parquet", cell("random", 1)),  # 95 %
        write(tmp_path / "rnd10.parquet", cell("random", 2, sparsity="1/10")),
        write(tmp_path / "tgt.parquet", cell("adversary", 4, goal="targeted")),  # 20 % success
    ]
    table = findings_table(paths)
    by = {(r.finding, r.sparsity): r for r in table.itertuples(index=False)}
    far = by[(RULES["far_below_random"].finding, "1/40")]
    assert far.estimate == pytest.approx(85.0) and far.low > FAR_POINTS and far.verdict == "holds"
    assert far.probes == 20 and far.subjects == 20
    close = by[(RULES["random_close_to_natural"].finding, "1/40")]
    assert close.estimate == pytest.approx(5.0) and close.verdict in ("inconclusive", "fails")
    targeted = by[(RULES["targeted_below_drop"].finding, "1/40")]
    assert targeted.estimate == pytest.approx(90.0 - 20.0) and targeted.verdict == "holds"
    rises = by[(RULES["rises_with_sparsity"].finding, "1/40 vs 1/10")]
    assert rises.estimate == pytest.approx(10.0) and rises.low <= 10.0 <= rises.high
    assert set(table["verdict"]) <= {"holds", "fails", "inconclusive"}


def test_findings_and_summary_are_written(tmp_path):
    paths = [write(tmp_path / "adv.parquet", cell("adversary", 18)), write(tmp_path / "rnd.parquet", cell("random", 1))]
    natural = tmp_path / "natural.csv"
    pd.DataFrame({"dataset": ["casia_b"], "condition": ["nm"], "probe_view": ["mean"], "rank1": [88.1],
                  "ci_low": [84.0], "ci_high": [91.5], "probes": [3300], "subjects": [50]}).to_csv(natural, index=False)
    out = tmp_path / "out"
    write_findings(paths, natural, out / "findings.csv", out / "findings.md", out / "summary.md")
    assert "holds" in (out / "findings.md").read_text()
    summary = (out / "summary.md").read_text()
    assert "| casia_b | NM | 88.1 | [84.0, 91.5] | 3300 | 50 |" in summary
    assert RULES["far_below_random"].finding in summary
    assert pd.read_csv(out / "findings.csv").shape[0] == 2


def test_findings_need_casia_b(tmp_path):
    path = write(tmp_path / "a.parquet", [row("001", 0, ("001", "001"), dataset="casia_a")])
    with pytest.raises(ValueError, match="casia_b"):
        findings_table([path])


def test_a_detector_that_did_not_run_gets_no_finding_row(tmp_path):
    """Without validation attacks the attack-trained detector's column stays empty: no row, no verdict."""
    imperceptibility = tmp_path / "imperceptibility.csv"
    pd.DataFrame({"dataset": "casia_b", "kind": "alteration", "goal": "nontargeted", "sparsity": "1/40",
                  "setting": ["natural", "adversary"], "realism_gain": None, "realism_gain_low": None,
                  "realism_gain_high": None, "realism_gain_probes": 0, "realism_gain_subjects": 0,
                  "detector_auc": 0.9, "detector_auc_low": 0.8, "detector_auc_high": 0.95, "attack_detector_auc": None,
                  "attack_detector_auc_low": None, "attack_detector_auc_high": None, "sequence_auc": 0.5,
                  "sequence_auc_low": 0.45, "sequence_auc_high": 0.55, "frames": 88, "probes": 44,
                  "subjects": 36}).to_csv(imperceptibility, index=False)
    table = findings_table([write(tmp_path / "adv.parquet", cell("adversary", 18))],
                           imperceptibility_csv=imperceptibility)
    assert RULES["passes_attack_detector"].finding not in set(table["finding"])
    assert table[table["finding"] == RULES["passes_detector"].finding]["verdict"].tolist() == ["fails"]


def test_docs_state_every_rule_as_the_code_applies_it():
    from tests.snakemake_run import REPO

    docs = (REPO / "docs" / "findings.md").read_text()
    for rule in RULES.values():
        assert f"| {rule.finding} | {rule.paper} | {rule.comparison}" in docs, rule.finding
        expected = f"interval within +-{rule.threshold:g}" if rule.within else f"low > {rule.threshold:g}"
        line = next(line for line in docs.splitlines() if line.startswith(f"| {rule.finding} |"))
        assert line.rstrip().endswith(f"| {expected} |"), line


@pytest.mark.parametrize("drop, low, high, verdict", [(0.9, -2.0, 3.5, "holds"), (12.0, 7.0, 18.0, "fails"),
                                                      (3.0, -1.0, 8.0, "inconclusive")])
def test_the_transfer_finding_reads_table3s_gaitgan_drop(tmp_path, drop, low, high, verdict):
    table3 = tmp_path / "table3.csv"
    pd.DataFrame({"model": ["GaitGAN", "GaitSet"], "setting": ["drop", "drop"], "probes": [20, 20],
                  "average": [drop, 47.7], "subjects": [20.0, 20.0], "average_low": [low, 40.0],
                  "average_high": [high, 55.0]}).to_csv(table3, index=False)
    paths = [write(tmp_path / "adv.parquet", cell("adversary", 18))]
    table = findings_table(paths, table3_csv=table3)
    transfer = table[table["finding"] == RULES["transfer_gaitgan"].finding].iloc[0]
    assert (transfer.estimate, transfer.low, transfer.high, transfer.verdict) == (drop, low, high, verdict)
    assert (transfer.sparsity, transfer.condition, transfer.subjects) == ("1/40", "nm", 20)
    # GaitSet's side: its drop on the same probes must be far (> 20 points): [40, 55] holds.
    collapse = table[table["finding"] == RULES["transfer_gaitset_collapses"].finding].iloc[0]
    assert (collapse.estimate, collapse.low, collapse.high, collapse.verdict) == (47.7, 40.0, 55.0, "holds")


def test_the_imperceptibility_finding_reads_the_paired_realism_gain_of_each_baseline(tmp_path):
    imperceptibility = tmp_path / "imperceptibility.csv"
    pd.DataFrame({"dataset": "casia_b", "kind": "alteration", "goal": "nontargeted", "sparsity": "1/40",
                  "setting": ["natural", "adversary", "fgsm", "pgd"], "realism_gain": [None, None, 30.0, -2.0],
                  "realism_gain_low": [None, None, 12.0, -9.0], "realism_gain_high": [None, None, 41.0, 4.0],
                  "realism_gain_probes": [0, 0, 44, 44], "realism_gain_subjects": [0, 0, 36, 36],
                  "detector_auc": [0.5, 0.9, 0.6, 0.7], "detector_auc_low": [0.5, 0.8, 0.5, 0.6],
                  "detector_auc_high": [0.5, 0.95, 0.7, 0.8], "sequence_auc": 0.5, "sequence_auc_low": 0.5,
                  "sequence_auc_high": 0.5, "frames": 88, "probes": 44, "subjects": 36}
                 ).to_csv(imperceptibility, index=False)
    paths = [write(tmp_path / "adv.parquet", cell("adversary", 18))]
    table = findings_table(paths, imperceptibility_csv=imperceptibility)
    realism = table[table["finding"] == RULES["more_realistic"].finding].set_index("comparison")
    assert realism["verdict"].to_dict() == {"adversary - fgsm (judge realism, points)": "holds",
                                            "adversary - pgd (judge realism, points)": "inconclusive"}
    assert realism["probes"].tolist() == [44, 44] and realism["subjects"].tolist() == [36, 36]


@pytest.mark.parametrize("detector", list(DETECTOR_RULES))
@pytest.mark.parametrize("auc, low, high, verdict", [(0.9, 0.8, 0.95, "fails"), (0.55, 0.45, 0.58, "holds"),
                                                     (0.62, 0.55, 0.7, "inconclusive")])
def test_the_detector_findings_read_the_adversarys_auc_as_points_from_chance(tmp_path, detector, auc, low, high,
                                                                             verdict):
    """Passes a (frame, attack-trained or sequence) detector: the AUC's interval within 10 points of
    chance (0.4..0.6); fails entirely beyond. Each detector's column is read by its own finding only."""
    imperceptibility = tmp_path / "imperceptibility.csv"
    others = {column: 0.5 for other in DETECTOR_RULES if other != detector
              for column in (other, f"{other}_low", f"{other}_high")}
    pd.DataFrame({"dataset": "casia_b", "kind": "insertion", "goal": "targeted", "sparsity": "1/10",
                  "setting": ["natural", "adversary", "pgd"], "realism_gain": None, "realism_gain_low": None,
                  "realism_gain_high": None, "realism_gain_probes": 0, "realism_gain_subjects": 0,
                  detector: [0.5, auc, 0.99], f"{detector}_low": [0.5, low, 0.98],
                  f"{detector}_high": [0.5, high, 1.0], **others,
                  "frames": 360, "probes": 120, "subjects": 40}).to_csv(imperceptibility, index=False)
    table = findings_table([write(tmp_path / "adv.parquet", cell("adversary", 18))],
                           imperceptibility_csv=imperceptibility)
    key = DETECTOR_RULES[detector]
    for other in DETECTOR_RULES:
        if other != detector:
            assert table[table["finding"] == RULES[DETECTOR_RULES[other]].finding]["verdict"].tolist() == ["holds"]
    detected = table[table["finding"] == RULES[key].finding]
    assert len(detected) == 1  # the adversary only, not the baselines
    row = detected.iloc[0]
    assert (row.kind, row.sparsity, row.condition, row.probes, row.subjects) == ("insertion targeted", "1/10", "all",
                                                                                120, 40)
    assert (row.estimate, row.low, row.high) == pytest.approx((100 * auc - 50, 100 * low - 50, 100 * high - 50))
    assert row.verdict == verdict
