"""GaitSet's kept snapshots, the validation curve read from them and the recipe comparison (validation
subjects only)."""

from dataclasses import replace

import pandas as pd
import pytest
import torch

from gaitcore.errors import DataError
from gaitcore.evaluation.features import extract_store_features
from gaitcore.experiments.gaitset_validation import (
    REFERENCE,
    recipe_comparison,
    recipe_markdown,
    validation_curve,
    validation_curve_markdown,
)
from gaitcore.models.gaitset import load_gaitset
from gaitcore.training.checkpoint import snapshot_path, snapshot_paths
from gaitcore.training.gaitset import train_gaitset
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


def test_the_final_point_read_from_the_stored_features_equals_the_one_extracted_again(store, tmp_path):
    """Rule gaitset_validation reads its last weights' validation features from rule extract_features
    (which stores the validation sequences too) instead of extracting them a second time: the
    frame CNN is batch-invariant and the head runs one set at a time, so the rows are the same."""
    train_gaitset(store, tmp_path / "w.pt", tmp_path / "r.pt", CONFIG, snapshot_dir=tmp_path / "s")
    stored = (tmp_path / "f.npy", tmp_path / "f.parquet")
    extract_store_features(tmp_path / "w.pt", store, *stored, test_subjects=(3, 4), validation_subjects=(5, 6),
                           device="cpu", batch_frames=7)
    weights = [*snapshot_paths(tmp_path / "s"), tmp_path / "w.pt"]
    again = validation_curve(weights, store, validation_subjects=(5, 6), device="cpu")
    read = validation_curve(weights, store, validation_subjects=(5, 6), device="cpu", final_features=stored)
    pd.testing.assert_frame_equal(read, again)
    with pytest.raises(DataError, match="other weights than .*iteration 6 against 4"):
        validation_curve(weights[:2], store, validation_subjects=(5, 6), device="cpu", final_features=stored)
    extract_store_features(tmp_path / "w.pt", store, *stored, test_subjects=(3, 4), device="cpu")
    with pytest.raises(DataError, match="lacks .* validation sequences"):
        validation_curve(weights, store, validation_subjects=(5, 6), device="cpu", final_features=stored)


def test_recipes_are_compared_with_the_victim_on_the_same_validation_probes(store, tmp_path):
    train_gaitset(store, tmp_path / "w.pt", tmp_path / "r.pt", CONFIG)
    train_gaitset(store, tmp_path / "lr.pt", tmp_path / "rlr.pt", replace(CONFIG, learning_rate=0.1))
    weights = {"lr_0_1": tmp_path / "lr.pt", REFERENCE: tmp_path / "w.pt", "same": tmp_path / "w.pt"}
    table = recipe_comparison(weights, store, validation_subjects=(5, 6), device="cpu")
    assert table["recipe"].tolist() == [REFERENCE, "lr_0_1", "same"]  # the reference first
    assert (table["probes"] == 2 * 2 * 2).all() and (table["subjects"] == 2).all()
    rows = table.set_index("recipe")
    assert pd.isna(rows.at[REFERENCE, "difference"])
    # the same weights differ by exactly nothing; another recipe's difference is its rank-1's difference
    assert rows.at["same", "difference"] == rows.at["same", "difference_low"] == rows.at["same", "difference_high"] == 0
    assert rows.at["lr_0_1", "difference"] == pytest.approx(rows.at["lr_0_1", "rank1"] - rows.at[REFERENCE, "rank1"])
    text = recipe_markdown(table, {"lr_0_1": {"learning_rate": 0.1}, "same": {"iterations": 6}})
    assert "| lr_0_1 | learning_rate 0.1 | NM |" in text and "(reference)" in text
    with pytest.raises(ValueError, match="victim's weights"):
        recipe_comparison({"same": tmp_path / "w.pt"}, store, validation_subjects=(5, 6), device="cpu")


def test_a_recipe_row_never_carries_another_recipes_weights(store, tmp_path):
    train_gaitset(store, tmp_path / "w.pt", tmp_path / "r.pt", CONFIG)
    train_gaitset(store, tmp_path / "lr.pt", tmp_path / "rlr.pt", replace(CONFIG, learning_rate=0.1))
    weights = {REFERENCE: tmp_path / "w.pt", "lr_0_1": tmp_path / "lr.pt", "batch": tmp_path / "w.pt"}
    recipes = {"lr_0_1": {"learning_rate": 0.1}, "batch": {"subjects_per_batch": 2}}  # CONFIG trains with 3
    with pytest.raises(ValueError, match=r"w\.pt: trained with \{'subjects_per_batch': 3\}, not recipe 'batch'"):
        recipe_comparison(weights, store, recipes=recipes, validation_subjects=(5, 6), device="cpu")
    weights["batch"] = tmp_path / "lr.pt"  # swapped labels are caught too
    with pytest.raises(ValueError, match="not recipe 'batch'"):
        recipe_comparison(weights, store, recipes={**recipes, "batch": {"learning_rate": 0.001}},
                          validation_subjects=(5, 6), device="cpu")
