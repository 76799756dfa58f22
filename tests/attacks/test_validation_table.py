"""The validation table: each candidate setting against the plain one on the same probes."""

import numpy as np
import pytest

from gaitcore.attacks.engine import AttackSettings
from gaitcore.attacks.records import load_attacks
from gaitcore.evaluation.attack_accuracy import cell_scores
from gaitcore.experiments.validation import validation_markdown, validation_table, write_validation_table
from tests.attacks.world import run

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CELL = {"kind": "alteration", "goal": "nontargeted", "sparsity": "1/10", "condition": "nm"}


@pytest.fixture(scope="module")
def jobs(world, tmp_path_factory):
    root = tmp_path_factory.mktemp("validation")
    paths = []
    for name, variant, settings in (
        ("plain", "", AttackSettings(iterations=3, chunk_size=3)),
        ("same", "same", AttackSettings(iterations=3, chunk_size=3)),
        ("weak", "weak", AttackSettings(iterations=1, chunk_size=3)),
    ):
        (root / name).mkdir()
        run(world, root / name, views=(0, 90), settings=settings, variant=variant)
        paths.append(root / name / "t.parquet")
    return paths


def test_each_candidate_has_its_paired_difference_from_the_plain_setting(jobs, tmp_path):
    table = validation_table(jobs)
    assert table["setting"].tolist() == ["adversary", "adversary+same", "adversary+weak"]
    plain, same, weak = (table.iloc[i] for i in range(3))
    assert np.isnan(plain["difference"]) and plain["probes"] == 16 and plain["subjects"] == 4
    assert same["difference"] == 0 and same["difference_low"] == 0 and same["difference_high"] == 0
    rows, metas = load_attacks(jobs)
    scores = {s: cell_scores(rows, metas, setting=s, **CELL)["score"] for s in ("adversary", "adversary+weak")}
    assert weak["difference"] == pytest.approx(scores["adversary+weak"].mean() - scores["adversary"].mean())
    assert weak["difference_low"] <= weak["difference"] <= weak["difference_high"]
    assert weak["iterations"] == 1 and plain["iterations"] == 3
    clean = cell_scores(rows, metas, setting="adversary", clean=True, **CELL)["score"]
    assert plain["clean"] == pytest.approx(clean.mean())
    assert plain["change"] == pytest.approx(plain["value"] - clean.mean())
    text = validation_markdown(table)
    assert "## alteration nontargeted, S = 1/10, NM" in text and "| adversary+same |" in text and "(reference)" in text
    write_validation_table(jobs, tmp_path / "v.csv", tmp_path / "v.md")
    assert (tmp_path / "v.md").read_text().startswith("# Setting choices on validation subjects")
