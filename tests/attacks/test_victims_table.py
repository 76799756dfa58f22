"""The victim table: the same attack against another GaitSet, paired with the victim's on the same probes."""

import numpy as np
import pytest
import torch

from gaitcore.attacks.records import load_attacks
from gaitcore.data.store import FrameStore
from gaitcore.evaluation.attack_accuracy import cell_scores
from gaitcore.evaluation.features import extract_features, feature_index, write_features
from gaitcore.evaluation.protocols import casia_b_protocol
from gaitcore.experiments.victims import per_victim, victim_markdown, victim_table, write_victim_table
from gaitcore.models.gaitset import build_gaitset, save_gaitset
from tests.attacks.world import run

pytestmark = pytest.mark.usefixtures("one_torch_thread")
MODES = ("alteration_nontargeted_random", "alteration_nontargeted_adversary", "alteration_targeted_adversary")


@pytest.fixture(scope="module")
def other_world(world, tmp_path_factory):
    """The attack world with another GaitSet (another initialisation) and its own stored features."""
    root = tmp_path_factory.mktemp("other-victim")
    (root / "casia_b").symlink_to(world / "casia_b")
    (root / "wgan.pt").symlink_to(world / "wgan.pt")
    torch.manual_seed(1)
    gaitset = build_gaitset(channels=(4, 8, 16), hidden_dim=16).eval()
    save_gaitset(gaitset, root / "gaitset.pt")
    store = FrameStore(root / "casia_b")
    rows = casia_b_protocol((75, 78)).sequences(store.index)
    write_features(extract_features(gaitset, store, rows), feature_index(rows), root / "f.npy", root / "f.parquet", {})
    return root


def _jobs(world, root, views=(0, 90)):
    """Each mode's job in ``world``, written below ``root``."""
    paths = []
    for mode in MODES:
        (root / mode).mkdir(parents=True)
        run(world, root / mode, mode=mode, views=views)
        paths.append(root / mode / "t.parquet")
    return paths


@pytest.fixture(scope="module")
def victims(world, other_world, tmp_path_factory):
    root = tmp_path_factory.mktemp("victims")
    return {"default": _jobs(world, root / "default"), "other": _jobs(other_world, root / "other")}


def _effect(paths, setting, goal):
    rows, metas = load_attacks(paths)
    cell = {"kind": "alteration", "goal": goal, "setting": setting, "sparsity": "1/10", "condition": "nm"}
    after = cell_scores(rows, metas, **cell)["score"]
    return after if goal == "targeted" else after - cell_scores(rows, metas, clean=True, **cell)["score"]


def test_a_victim_against_itself_differs_by_nothing(victims):
    table = victim_table({"default": victims["default"], "again": victims["default"]})
    again = table[table["victim"] == "again"]
    assert len(again) == len(MODES)
    assert (again["difference"] == 0).all() and (again["difference_low"] == 0).all()
    assert table[table["victim"] == "default"]["difference"].isna().all()


def test_each_victims_effect_is_paired_with_the_reference_on_the_same_probes(victims):
    table = victim_table(victims)
    assert table["victim"].tolist() == ["default", "other"] * len(MODES)
    for (goal, setting), rows in table.groupby(["goal", "setting"]):
        reference, other = rows.iloc[0], rows.iloc[1]
        assert reference["probes"] == other["probes"] == 16 and other["subjects"] == 4
        ours = _effect(victims["other"], setting, goal)
        theirs = _effect(victims["default"], setting, goal)
        assert other["effect"] == pytest.approx(ours.mean())
        assert other["difference"] == pytest.approx((ours - theirs).mean())
        assert other["difference_low"] <= other["difference"] <= other["difference_high"]
        if goal == "nontargeted":
            assert other["effect"] == pytest.approx(other["value"] - other["clean"])
        else:
            assert other["effect"] == pytest.approx(other["value"])
    # another initialisation is another victim: its effect differs from the reference's somewhere
    assert not np.allclose(table.loc[table["victim"] == "other", "difference"].to_numpy(), 0.0)
    text = victim_markdown(table)
    assert "## alteration nontargeted random, S = 1/10, NM" in text and "| other | 16 | 4 |" in text


def test_victims_attacked_on_other_probes_are_refused(victims, other_world, tmp_path):
    narrower = _jobs(other_world, tmp_path, views=(90,))
    with pytest.raises(ValueError, match="victim 'other' was attacked on other probes than 'default'"):
        victim_table({"default": victims["default"], "other": narrower})


def test_further_victims_are_compared_on_the_probes_every_victim_attacked(victims, other_world, tmp_path):
    """The test-subject table: GaitSet's jobs cover more probes than a further victim's; each cell keeps
    the shared ones, and the reference's values are those of its own rows restricted to them."""
    narrower = _jobs(other_world, tmp_path / "narrow", views=(90,))
    table = victim_table({"default": victims["default"], "other": narrower}, shared_probes=True)
    assert (table["probes"] == 8).all() and (table["subjects"] == 4).all()
    full = victim_table({"default": victims["default"], "other": victims["other"]})
    assert (full["probes"] == 16).all()
    for (goal, setting), rows in table.groupby(["goal", "setting"]):
        reference = _effect(victims["default"], setting, goal)
        at_90 = reference[reference.index.get_level_values("view") == 90]
        assert rows.iloc[0]["effect"] == pytest.approx(at_90.mean())
        assert rows.iloc[1]["difference"] == pytest.approx((_effect(narrower, setting, goal) - at_90).mean())
    write_victim_table({"default": victims["default"], "other": narrower}, tmp_path / "t.csv", tmp_path / "t.md",
                       test=True)
    assert (tmp_path / "t.md").read_text().startswith("# The attack against further victims, on the test subjects")


def test_the_table_is_written_as_csv_and_markdown(victims, tmp_path):
    write_victim_table(victims, tmp_path / "v.csv", tmp_path / "v.md")
    assert (tmp_path / "v.md").read_text().startswith("# The attack against other victims, on validation subjects")
    assert (tmp_path / "v.csv").read_text().splitlines()[0].startswith("kind,goal,sparsity,condition,setting,victim")


def test_a_rules_flat_input_splits_into_one_block_per_victim():
    assert per_victim(["a1", "a2", "b1", "b2"], ["a", "b"]) == {"a": ["a1", "a2"], "b": ["b1", "b2"]}
    with pytest.raises(ValueError, match="3 files do not split into equal blocks"):
        per_victim(["a1", "a2", "b1"], ["a", "b"])
