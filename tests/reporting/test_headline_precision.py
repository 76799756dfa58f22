"""The headline precision table: its half-widths come from attack_accuracy.csv, its verdicts follow
the variance components (met / larger budget / more test subjects), and summary.md shows the cells."""

import pandas as pd
import pytest

from gaitcore.attacks.records import load_attacks
from gaitcore.evaluation.attack_accuracy import attack_accuracy
from gaitcore.experiments.findings import write_findings
from gaitcore.experiments.headline_precision import (
    LARGER_BUDGET,
    MET,
    MORE_SUBJECTS,
    NO_INTERVAL,
    precision_table,
    write_precision,
)
from tests.reporting.test_attack_tables import write
from tests.reporting.test_findings import cell


def tables(tmp_path):
    return [write(tmp_path / "adv.parquet", cell("adversary", 10)),  # half of 20 subjects fooled: 50 %
            write(tmp_path / "rnd.parquet", cell("random", 0))]  # none fooled: 100 %, no spread


@pytest.mark.parametrize("test_subjects, target, verdict", [
    (20, 8.0, MORE_SUBJECTS),  # SD ~51 between subjects: 20 test subjects cannot give +-8
    (400, 8.0, LARGER_BUDGET),  # a larger test set can, with more subjects per view
    (20, 30.0, MET),  # a loose target is met as is
])
def test_verdicts_follow_the_spread_between_subjects(tmp_path, test_subjects, target, verdict):
    rows, metas = load_attacks(tables(tmp_path))
    table = precision_table(rows, metas, attack_accuracy(rows, metas), test_subjects=test_subjects, target=target)
    by_setting = table.set_index("setting")
    adversary, random = by_setting.loc["adversary"], by_setting.loc["random"]
    assert adversary["value"] == pytest.approx(50.0) and adversary["probes"] == 20 and adversary["subjects"] == 20
    assert adversary["sd_within"] == 0.0 and adversary["sd_between"] == pytest.approx(51.3, abs=0.1)
    assert adversary["verdict"] == verdict
    if verdict == LARGER_BUDGET:  # one view: the budget needed is the subjects the target needs
        assert adversary["subjects_per_view_needed"] == adversary["test_subjects_needed"] <= test_subjects
    assert random["half_width"] == 0.0 and random["verdict"] == MET


def test_written_and_quoted_by_the_summary(tmp_path):
    paths = tables(tmp_path)
    rows, metas = load_attacks(paths)
    accuracy = tmp_path / "attack_accuracy.csv"
    attack_accuracy(rows, metas).to_csv(accuracy, index=False)
    out = tmp_path / "out"
    table = write_precision(paths, accuracy, out / "precision.csv", out / "precision.md", test_role=[75, 94],
                            target=8.0)
    assert (out / "precision.md").read_text().count("| alteration | 1/40 |") == 2
    assert pd.read_csv(out / "precision.csv")["verdict"].tolist() == table["verdict"].tolist()
    natural = tmp_path / "natural.csv"
    pd.DataFrame({"dataset": ["casia_b"], "condition": ["nm"], "probe_view": ["mean"], "rank1": [88.1],
                  "ci_low": [84.0], "ci_high": [91.5], "probes": [3300], "subjects": [50]}).to_csv(natural, index=False)
    write_findings(paths, natural, out / "findings.csv", out / "findings.md", out / "summary.md",
                   precision_csv=out / "precision.csv")
    summary = (out / "summary.md").read_text()
    assert "## Headline cells" in summary and "| alteration | 1/40 | adversary | 50.0 [" in summary
    assert f"1 {MET}, 1 {MORE_SUBJECTS}" in summary


def test_a_cell_missing_from_attack_accuracy_is_an_error(tmp_path):
    rows, metas = load_attacks(tables(tmp_path))
    accuracy = attack_accuracy(rows, metas)
    with pytest.raises(ValueError, match="rerun rule aggregate_attacks"):
        precision_table(rows, metas, accuracy[accuracy["setting"] != "random"], test_subjects=20, target=8.0)


def test_a_cell_of_one_subject_has_no_interval(tmp_path):
    path = write(tmp_path / "one.parquet", cell("adversary", 1)[:1])
    rows, metas = load_attacks([path])
    table = precision_table(rows, metas, attack_accuracy(rows, metas), test_subjects=20, target=8.0)
    assert table["verdict"].tolist() == [NO_INTERVAL] and table["subjects"].tolist() == [1]
