"""One attack job end to end on a tiny store: table schema, rank-1 columns, frames, targets, errors, and
a job over several views giving exactly the rows of single-view jobs."""

import dataclasses
import json
import zlib

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from gaitcore.attacks.engine import AttackSettings
from gaitcore.attacks.perturbation import PerturbationSettings
from gaitcore.attacks.records import META_KEY, read_attack_frames
from gaitcore.attacks.vocabulary import Mode
from gaitcore.data.layout import CASIA_B
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.rank1 import rank1_identities
from gaitcore.experiments.attack_job import AttackJob, choose_target, run_attack_job, settings_for
from gaitcore.models.gaitset import build_gaitset, silhouettes_to_input
from tests.attacks.world import SUBJECTS, VIEWS, run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_nontargeted_job_writes_a_row_per_probe_with_rank1_per_gallery_view(world, tmp_path):
    job, table = run(world, tmp_path)
    assert table[["subject", "seq"]].values.tolist() == [[f"{s:03d}", q] for s in SUBJECTS for q in (5, 6)]
    assert (table["condition"] == "nm").all() and (table["view"] == 90).all() and (table["target"] == "").all()
    assert (table["altered"] == table["frame_count"] // 10 + 1).all()
    assert table["positions"].map(list).tolist() == [list(range(k)) for k in table["altered"]]
    assert (table["iterations"] == 3).all()
    stored = pq.read_table(tmp_path / "t.parquet")
    meta = json.loads(stored.schema.metadata[META_KEY])
    assert meta["gallery_views"] == [0, 18, 36, 54, 72, 90, 108, 126, 144, 162, 180]
    assert meta["exclude_identical_view"] is True and meta["peak_rss_mb"] > 0
    pd.testing.assert_frame_equal(stored.to_pandas(), table)

    # The attacked rank-1 columns are those of the stored frames put back into the probes.
    frames, offsets, positions = read_attack_frames(tmp_path / "f.npz")
    assert offsets[-1] == len(frames) == len(positions) == table["altered"].sum()
    store = FrameStore(world / "casia_b")
    gallery = store.index[(store.index["condition"] == "nm") & (store.index["seq"] <= 4)]
    gaitset = torch.load(world / "gaitset.pt", weights_only=True)
    model = build_gaitset(**gaitset["config"])
    model.load_state_dict(gaitset["state_dict"])
    model.eval()
    with torch.no_grad():
        g_feats = torch.stack([model(silhouettes_to_input(store.sequence(r))[None])[0] for r in gallery.index])
        for i, row in table.iterrows():
            probe = store.index[(store.index["subject"] == row["subject"]) & (store.index["condition"] == "nm")
                                & (store.index["seq"] == row["seq"]) & (store.index["view"] == 90)].index[0]
            clean = np.asarray(store.sequence(probe))
            adversarial = clean.copy()
            adversarial[positions[offsets[i] : offsets[i + 1]]] = frames[offsets[i] : offsets[i + 1]]
            feats = model(silhouettes_to_input(adversarial)[None])
            nearest = rank1_identities(feats, g_feats, gallery["subject"].to_numpy(), gallery["view"].to_numpy(), VIEWS)
            assert [row["rank1_000"], row["rank1_090"]] == nearest[0].tolist()
            assert row["rank1_018"] == "None"  # no gallery sequence at that view in this store


def test_targeted_job_draws_another_subject_and_the_same_condition_and_view(world, tmp_path):
    _, table = run(world, tmp_path, mode="insertion_targeted_adversary", condition="bg", views=(0,))
    assert (table["target"] != table["subject"]).all() and table["target"].isin([f"{s:03d}" for s in SUBJECTS]).all()
    assert (table["positions"].map(len) == table["altered"]).all()
    _, again = run(world, tmp_path, mode="insertion_targeted_adversary", condition="bg", views=(0,))
    pd.testing.assert_frame_equal(table, again)  # seeded per probe: the same targets and results


def test_choose_target_prefers_the_same_condition_and_view_outside_the_gallery():
    index = pd.DataFrame({
        "subject": ["001", "001", "002", "002", "002"], "condition": ["nm", "nm", "nm", "nm", "bg"],
        "seq": [1, 5, 1, 5, 1], "view": [0, 0, 0, 0, 0],
    })
    gallery = (index["seq"] == 1).to_numpy() & (index["condition"] == "nm").to_numpy()
    probe = index.loc[1]
    assert {choose_target(index, gallery, probe, np.random.default_rng(s)) for s in range(10)} == {3}


def test_the_nearest_target_is_the_other_subject_nearest_the_clean_probe(world, tmp_path):
    _, table = run(world, tmp_path, mode="alteration_targeted_adversary", target_choice="nearest")
    features, index = np.load(world / "f.npy"), pd.read_parquet(world / "f.parquet")
    gallery = ((index["condition"] == "nm") & (index["seq"] <= 4)).to_numpy()
    for row in table.itertuples():
        probe = index[(index["subject"] == row.subject) & (index["condition"] == "nm") & (index["seq"] == row.seq)
                      & (index["view"] == row.view)].iloc[0]
        others = np.flatnonzero(gallery & (index["subject"] != row.subject).to_numpy())
        gaps = [np.linalg.norm(features[int(index.at[i, "feature_row"])] - features[int(probe["feature_row"])])
                for i in others]
        assert row.target == index.at[others[int(np.argmin(gaps))], "subject"]
    with pytest.raises(ValueError, match="target_choice 'closest'"):
        AttackJob(CASIA_B, "nm", (90,), "1/10", "alteration_targeted_adversary", target_choice="closest")


def test_random_control_is_not_optimised(world, tmp_path):
    _, table = run(world, tmp_path, mode="alteration_nontargeted_random")
    assert (table["iterations"] == 0).all() and (table["setting"] == "random").all()


def test_a_job_without_probes_says_what_to_check(world, tmp_path):
    with pytest.raises(DataError, match=r"f\.parquet: no cl probe at view 90 .*check attack\.conditions/views"):
        run(world, tmp_path, condition="cl")
    # One configured view without probes stops the whole job, naming that view.
    with pytest.raises(DataError, match=r"f\.parquet: no nm probe at view 18 among .*check attack\.conditions/views"):
        run(world, tmp_path, views=(0, 18, 90))
    with pytest.raises(ValueError, match="distinct probe views"):
        AttackJob(CASIA_B, "nm", (90, 90), "1/10", "alteration_nontargeted_adversary")


SETTINGS_OF = {
    "alteration_targeted_adversary": AttackSettings(goal="targeted", iterations=3, chunk_size=3, early_stop=True),
    "alteration_nontargeted_pgd": PerturbationSettings(goal="nontargeted", method="pgd", budget=0.5, step_size=0.1,
                                                       iterations=3, chunk_size=3),
}


@pytest.mark.parametrize("mode", list(SETTINGS_OF))
def test_a_job_over_views_gives_exactly_the_rows_of_single_view_jobs(world, tmp_path, mode):
    """Per-probe seeds and chunk-independent engines: bundling views changes no bit of any probe's row
    (chunks of 3 mix the views' probes here; early stop checks each probe's own counted views)."""
    settings = SETTINGS_OF[mode]
    job, both = run(world, tmp_path / "both", mode=mode, views=(0, 90), settings=settings)
    alone = [run(world, tmp_path / f"{view}", mode=mode, views=(view,), settings=settings)[1] for view in (0, 90)]
    pd.testing.assert_frame_equal(both, pd.concat(alone, ignore_index=True), check_exact=True)
    assert both["view"].tolist() == [0] * 8 + [90] * 8
    frames, offsets, positions = read_attack_frames(tmp_path / "both" / "f.npz")
    single = [read_attack_frames(tmp_path / f"{view}" / "f.npz") for view in (0, 90)]
    assert np.array_equal(frames, np.concatenate([s[0] for s in single]))
    assert np.array_equal(positions, np.concatenate([s[2] for s in single]))
    assert np.array_equal(offsets, np.concatenate([single[0][1], single[0][1][-1] + single[1][1][1:]]))
    meta = json.loads(pq.read_table(tmp_path / "both" / "t.parquet").schema.metadata[META_KEY])
    assert meta["job"]["views"] == [0, 90] and meta["job"] == json.loads(json.dumps(dataclasses.asdict(job)))
    # The seed text of a probe is what the per-view jobs used, so results compare with their runs.
    text = f"casia_b/075/nm/5/90/1/10/{job.seed_mode}"
    assert job.probe_seed("075", 5, 90) == zlib.crc32(text.encode()) & 0x7FFFFFFF


def test_a_budgeted_job_attacks_its_design_one_probe_per_subject_and_view(world, tmp_path):
    # Of the 4 test subjects 075-078: view 0 (1st of CASIA-B's 11) starts at 075, view 90 (6th) at
    # 5 * 4 // 11 = 1, i.e. 076; the k-th subject of a view gets probe sequence nm-05 or nm-06 by k's parity.
    _, table = run(world, tmp_path, subjects_per_view=2, views=(0, 90))
    assert table[["view", "subject", "seq", "slot"]].values.tolist() == [
        [0, "075", 5, 0], [0, "076", 6, 1], [90, "076", 5, 0], [90, "077", 6, 1]]


def test_mode_and_settings_must_agree(world, tmp_path):
    job = AttackJob(CASIA_B, "nm", (90,), "1/10", "alteration_targeted_adversary", subjects=(75, 78))
    with pytest.raises(ValueError, match="does not match"):
        run_attack_job(victim_weights=world / "gaitset.pt", wgan_weights=world / "wgan.pt",
                       store_root=world / "casia_b",
                       features_array=world / "f.npy", features_index=world / "f.parquet", job=job,
                       settings=AttackSettings(), out_table=tmp_path / "t.parquet", out_frames=tmp_path / "f.npz")
    with pytest.raises(ValueError, match="unknown attack mode"):
        Mode.parse("alteration_evasive_adversary")
    # A job's params dict becomes the settings its mode needs.
    assert settings_for("insertion_targeted_mifgsm", {"goal": "targeted", "method": "mifgsm"}) == \
        PerturbationSettings(goal="targeted", method="mifgsm")
    assert settings_for("alteration_nontargeted_random", {"goal": "nontargeted", "setting": "random"}) == \
        AttackSettings(setting="random")



@pytest.mark.parametrize("method", ["fgsm", "pgd", "mifgsm"])
def test_a_baseline_job_attacks_the_adversarys_probes_targets_and_places_without_a_generator(world, tmp_path, method):
    mode = "alteration_targeted_adversary"
    _, ours = run(world, tmp_path / "ours", mode=mode, condition="bg", views=(0,))
    job = AttackJob(CASIA_B, "bg", [0], "1/10", f"alteration_targeted_{method}", subjects=[75, 78])
    assert job.seed_mode == mode
    settings = PerturbationSettings(goal="targeted", method=method, budget=0.5, step_size=0.1, iterations=3)
    table = run_attack_job(
        victim_weights=world / "gaitset.pt", wgan_weights=None, store_root=world / "casia_b",
        features_array=world / "f.npy", features_index=world / "f.parquet", job=job, settings=settings,
        out_table=tmp_path / "b.parquet", out_frames=tmp_path / "b.npz", device="cpu", channels_last=True,
    )
    for column in ("subject", "seq", "target", "altered", "frame_count"):
        assert table[column].tolist() == ours[column].tolist()
    assert table["positions"].map(list).tolist() == ours["positions"].map(list).tolist()
    assert (table["setting"] == method).all() and table["realism"].isna().all()
    assert (table["iterations"] == (1 if method == "fgsm" else 3)).all()
    meta = json.loads(pq.read_table(tmp_path / "b.parquet").schema.metadata[META_KEY])
    assert meta["wgan_weights"] is None and meta["settings"]["method"] == method
    frames, offsets, positions = read_attack_frames(tmp_path / "b.npz")
    store = FrameStore(world / "casia_b")
    for i, row in table.iterrows():
        probe = store.select(subjects=[row["subject"]], conditions=["bg"], seqs=[row["seq"]], views=[0]).index[0]
        natural = np.asarray(store.sequence(probe))[positions[offsets[i] : offsets[i + 1]]]
        change = np.abs(frames[offsets[i] : offsets[i + 1]].astype(int) - natural.astype(int))
        assert change.max() <= round(0.5 * 255)


def test_a_generating_mode_needs_the_wgan(world, tmp_path):
    job = AttackJob(CASIA_B, "nm", (90,), "1/10", "alteration_nontargeted_adversary", subjects=(75, 78))
    with pytest.raises(ValueError, match="needs the WGAN"):
        run_attack_job(victim_weights=world / "gaitset.pt", wgan_weights=None, store_root=world / "casia_b",
                       features_array=world / "f.npy", features_index=world / "f.parquet", job=job,
                       settings=AttackSettings(), out_table=tmp_path / "t.parquet", out_frames=tmp_path / "f.npz")
