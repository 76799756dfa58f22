"""GaitSet's kept snapshots and the validation curve read from them (validation subjects only)."""

from dataclasses import replace

import pytest
import torch

from gaitcore.experiments.gaitset_validation import validation_curve, validation_curve_markdown
from gaitcore.models.gaitset import load_gaitset
from gaitcore.training.gaitset import snapshot_path, snapshot_paths, train_gaitset
from tests.training.test_subject_roles import GAITSET, build_store

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CONFIG = replace(GAITSET, iterations=6, checkpoint_every=2, snapshots=(2, 4))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("snapshots") / "casia_b")


def _state(path):
    return load_gaitset(path)[0].state_dict()


def test_a_snapshot_holds_the_weights_a_run_to_that_iteration_ends_with(store, tmp_path):
    train_gaitset(store, tmp_path / "w.pt", tmp_path / "r.pt", CONFIG, snapshot_dir=tmp_path / "snapshots")
    assert snapshot_paths(tmp_path / "snapshots") == [snapshot_path(tmp_path / "snapshots", i) for i in (2, 4)]
    assert load_gaitset(snapshot_path(tmp_path / "snapshots", 4))[1]["iterations"] == 4
    short = replace(CONFIG, iterations=4, snapshots=(2,))
    train_gaitset(store, tmp_path / "w4.pt", tmp_path / "r4.pt", short)
    a, b = _state(snapshot_path(tmp_path / "snapshots", 4)), _state(tmp_path / "w4.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_resumed_run_still_writes_the_snapshots_it_passed_before(store, tmp_path):
    train_gaitset(store, tmp_path / "w.pt", tmp_path / "r.pt", replace(CONFIG, iterations=5))  # stops at 5
    train_gaitset(store, tmp_path / "w.pt", tmp_path / "r.pt", CONFIG, snapshot_dir=tmp_path / "s")  # resumes
    straight = tmp_path / "straight"
    train_gaitset(store, straight / "w.pt", straight / "r.pt", CONFIG, snapshot_dir=straight / "s")
    for i in (2, 4):
        a, b = _state(snapshot_path(tmp_path / "s", i)), _state(snapshot_path(straight / "s", i))
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_snapshots_must_lie_inside_the_run():
    with pytest.raises(ValueError, match=r"snapshots \[6\] must lie between 1 and iterations - 1 = 5"):
        replace(CONFIG, snapshots=(6,))


def test_the_validation_curve_reads_validation_subjects_only(store, tmp_path):
    train_gaitset(store, tmp_path / "w.pt", tmp_path / "r.pt", CONFIG, snapshot_dir=tmp_path / "s")
    table = validation_curve([*snapshot_paths(tmp_path / "s"), tmp_path / "w.pt"], store, validation_subjects=(5, 6),
                             device="cpu")
    assert table["iteration"].tolist() == [2, 4, 6] and set(table["condition"]) == {"nm"}
    assert (table["subjects"] == 2).all() and (table["probes"] == 2 * 2 * 2).all()  # 2 subjects x nm-05/06 x 2 views
    assert table["rank1"].between(0, 100).all()
    assert ((table["ci_low"] <= table["rank1"]) | table["ci_low"].isna()).all()
    text = validation_curve_markdown(table)
    assert text.splitlines()[4].startswith("| iteration | NM |") and "| 6 |" in text
