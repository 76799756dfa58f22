"""Imperceptibility measures (known answers, naive references) and the table of real attack jobs."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.attacks.engine import AttackSettings
from gaitcore.attacks.perturbation import PerturbationSettings
from gaitcore.attacks.records import load_attacks, read_attack_frames
from gaitcore.data.layout import CASIA_B
from gaitcore.data.store import FrameStore
from gaitcore.evaluation.attack_accuracy import attack_accuracy
from gaitcore.evaluation.imperceptibility import (
    consecutive_iou,
    iou,
    neighbour_iou,
    non_binary,
    pixel_change,
    sequence_inconsistency,
    shape_statistics,
    wasserstein_1d,
)
from gaitcore.experiments.attack_job import AttackJob, run_attack_job
from gaitcore.experiments.imperceptibility import (
    COLUMNS,
    GAIN_COLUMNS,
    best_rows,
    collect_frames,
    compare_perturbations,
    condition_mean_interval,
    example_frames,
    imperceptibility_markdown,
    shared_probes,
)
from gaitcore.models.detector import build_detector, detection_auc, load_detector, save_detector
from gaitcore.models.realism import fit_platt
from gaitcore.models.wgan import build_critic, build_generator, save_wgan

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def box(top, left, height, width, size=16):
    frame = np.zeros((size, size), dtype=np.uint8)
    frame[top : top + height, left : left + width] = 255
    return frame


def test_shape_statistics_of_boxes_and_an_empty_frame():
    frames = np.stack([box(2, 3, 5, 4), box(0, 0, 16, 1), np.zeros((16, 16), np.uint8), box(1, 1, 2, 2) // 2])
    stats = shape_statistics(frames)
    assert stats["area"].tolist() == [20, 16, 0, 0]  # 127 is below the foreground threshold
    assert stats["width"].tolist() == [4, 1, 0, 0] and stats["height"].tolist() == [5, 16, 0, 0]


def test_iou_known_answers():
    a = np.stack([box(0, 0, 4, 4), box(0, 0, 4, 4), np.zeros((16, 16), np.uint8)])
    b = np.stack([box(0, 2, 4, 4), box(8, 8, 2, 2), np.zeros((16, 16), np.uint8)])
    np.testing.assert_allclose(iou(a, b), [8 / 24, 0.0, 1.0])
    sequence = np.stack([box(0, 0, 4, 4), box(0, 2, 4, 4), box(0, 4, 4, 4)])
    np.testing.assert_allclose(consecutive_iou(sequence), [1 / 3, 1 / 3])
    np.testing.assert_allclose(neighbour_iou(sequence, np.array([0, 1])), [1 / 3, 1 / 3])
    np.testing.assert_allclose(neighbour_iou(np.stack([box(0, 0, 4, 4), box(0, 0, 4, 4), box(8, 8, 4, 4)]), [1]),
                               [0.5])  # the mean over both neighbours


def test_wasserstein_matches_the_sorted_difference_for_equal_sizes_and_a_naive_cdf_integral():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(1.0, 2.0, size=50)
    assert wasserstein_1d(a, b) == pytest.approx(np.abs(np.sort(a) - np.sort(b)).mean())
    c = rng.normal(size=17)
    grid = np.linspace(-10, 12, 200_001)
    naive = np.abs((a[:, None] <= grid).mean(0) - (c[:, None] <= grid).mean(0)).sum() * (grid[1] - grid[0])
    assert wasserstein_1d(a, c) == pytest.approx(naive, abs=1e-3)
    assert wasserstein_1d(a, a) == 0.0


def test_pixel_change_l0_and_l2():
    natural = np.zeros((2, 4, 4), dtype=np.uint8)
    altered = natural.copy()
    altered[0, 0, :2] = 255
    altered[1, 1, 1] = 51
    l0, l2 = pixel_change(altered, natural)
    np.testing.assert_allclose(l0, [2 / 16, 1 / 16])
    np.testing.assert_allclose(l2, [np.sqrt(2.0), 0.2])


def test_non_binary_is_the_share_of_grey_pixels():
    frames = np.zeros((2, 4, 4), dtype=np.uint8)
    frames[0, 0, :2] = 255
    frames[1, 1, :3] = (1, 128, 254)
    np.testing.assert_allclose(non_binary(frames), [0.0, 3 / 16])
    assert non_binary(np.empty((0, 4, 4), np.uint8)).shape == (0,)


def naive_inconsistency(sequence: np.ndarray) -> float:
    """The sequence detector's score, frame by frame: one minus the mean IoU with the existing neighbours."""
    worst = 0.0
    for t in range(len(sequence)):
        others = [u for u in (t - 1, t + 1) if 0 <= u < len(sequence)]
        if others:
            mean = np.mean([iou(sequence[t][None], sequence[u][None])[0] for u in others])
            worst = max(worst, 1.0 - mean)
    return worst


def test_sequence_inconsistency_known_answers():
    still = np.zeros((4, 8, 8), np.uint8)
    still[:, 2:6, 2:6] = 255
    assert sequence_inconsistency(still) == 0.0  # a silhouette that does not change
    assert sequence_inconsistency(still[:1]) == 0.0  # one frame: no neighbour
    foreign = still.copy()
    foreign[2] = 0
    foreign[2, 0:2, 0:2] = 255  # disjoint from its neighbours: IoU 0 with both
    assert sequence_inconsistency(foreign) == pytest.approx(1.0)
    last = still.copy()
    last[3] = 0
    last[3, 2:6, 2:4] = 255  # half the box, at the end: one neighbour, IoU 1/2
    assert sequence_inconsistency(last) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    walk = (rng.random((9, 8, 8)) > 0.5).astype(np.uint8) * 255
    assert sequence_inconsistency(walk) == pytest.approx(naive_inconsistency(walk))


@pytest.fixture(scope="module")
def jobs(world, tmp_path_factory):
    """Adversary, random and FGSM/PGD jobs on the tiny world, and an independent judge."""
    out = tmp_path_factory.mktemp("jobs")
    torch.manual_seed(5)
    save_wgan(build_generator(2), build_critic(2), out / "judge.pt", fit_platt([1.0, 2.0], [0.0, -1.0]))
    save_detector(build_detector(2), out / "detector.pt")
    save_detector(build_detector(2), out / "attack_detector.pt")  # another initialisation: the second judge
    paths = []
    for mode in ("alteration_nontargeted_adversary", "alteration_nontargeted_random", "alteration_nontargeted_fgsm",
                 "alteration_nontargeted_pgd", "alteration_targeted_adversary", "alteration_targeted_mifgsm"):
        kind, goal, setting = mode.split("_")
        for condition, views in (("nm", (0, 90)), ("bg", (90,))):
            job = AttackJob(CASIA_B, condition, views, "1/10", mode, subjects=(75, 78))
            if setting in ("adversary", "random"):
                settings = AttackSettings(goal=goal, setting=setting, iterations=2)
            else:
                settings = PerturbationSettings(goal=goal, method=setting, iterations=2, step_size=0.5)
            path = out / mode / "1-10" / f"{condition}.parquet"
            run_attack_job(victim_weights=world / "gaitset.pt", wgan_weights=world / "wgan.pt",
                           store_root=world / "casia_b", features_array=world / "f.npy",
                           features_index=world / "f.parquet", job=job, settings=settings, out_table=path,
                           out_frames=path.with_suffix(".npz"), device="cpu", channels_last=False)
            paths.append(path)
    return out, paths


def test_the_table_of_real_jobs(world, jobs, tmp_path):  # noqa: F811
    out, paths = jobs
    written = {"imperceptibility_csv": tmp_path / "i.csv", "imperceptibility_md": tmp_path / "i.md",
               "fig6": tmp_path / "fig6.png", "fig7": tmp_path / "fig7.png"}
    table = compare_perturbations(paths, {CASIA_B: world / "casia_b"}, world / "gaitset.pt", out / "judge.pt",
                                  out / "detector.pt", written, attack_detector_weights=out / "attack_detector.pt",
                                  figure_sparsity="1/10", reference_count=50)
    assert list(table.columns) == [*COLUMNS, *GAIN_COLUMNS]
    nontargeted = table[table["goal"] == "nontargeted"].set_index("setting")
    assert nontargeted.index.tolist() == ["natural", "random", "adversary", "fgsm", "pgd"]
    assert table[table["goal"] == "targeted"]["setting"].tolist() == ["natural", "adversary", "mifgsm"]
    natural = nontargeted.loc["natural"]
    assert natural["l0"] == 0.0 and natural["l2"] == 0.0
    # 24 probes (NM at 0 and 90, BG at 90; 8 each) x K = 2 (N 12-19 frames at S = 1/10), the same places
    # for every setting
    assert (table["frames"] == 48).all()
    # The natural frames' temporal IoU is that of consecutive clean frames at the same places.
    assert 0.0 < natural["neighbour_iou"] <= 1.0 and natural["clean_neighbour_iou"] > 0.0
    # Pixel-space attacks change a share of pixels; the generated frames replace whole frames.
    assert 0.0 < nontargeted.loc["pgd", "l0"] <= 1.0 and nontargeted.loc["adversary", "l0"] > 0.0
    assert table["judge_realism"].between(0.0, 1.0).all() and (table["frechet_distance"] >= 0).all()
    assert nontargeted.loc["natural", "attack_metric"] == "rank1"
    assert table.loc[table["goal"] == "targeted", "attack_metric"].tolist()[1:] == ["success", "success"]
    # Best per column: one of the attack settings, never the natural reference.
    best = best_rows(table)
    assert best["l0"] and not best["l0"] & set(table.index[table["setting"] == "natural"])
    lowest = table[(table["goal"] == "nontargeted") & (table["setting"] != "natural")]["l2"].idxmin()
    assert lowest in best["l2"]
    # Uncertainty: every attack result and the natural accuracy carry the interval of the 24 probes of the 4 test
    # subjects behind them; the targeted natural row has no result and no interval.
    targeted_natural = (table["goal"] == "targeted") & (table["setting"] == "natural")
    scored = table[~targeted_natural]
    assert (scored["probes"] == 24).all() and (scored["subjects"] == 4).all()
    assert ((scored["attack_value_low"] <= scored["attack_value"] + 1e-9)
            & (scored["attack_value"] <= scored["attack_value_high"] + 1e-9)).all()
    assert table.loc[targeted_natural, ["attack_value", "attack_value_low", "attack_value_high"]].isna().all().all()
    assert (table.loc[targeted_natural, ["probes", "subjects"]] == 0).all().all()
    assert ((table["judge_realism_low"] <= table["judge_realism"] + 1e-9)
            & (table["judge_realism"] <= table["judge_realism_high"] + 1e-9)).all()
    assert table[["judge_realism_low", "judge_realism_high"]].stack().between(0.0, 1.0).all()
    # The adversary's realism minus each other setting's, paired on the same probes (points): a known
    # answer from the per-frame realism of the two settings' frames (K = 2 frames per probe here).
    assert nontargeted[["realism_gain"]].isna().loc[["natural", "adversary"]].all().all()
    for setting in ("random", "fgsm", "pgd"):
        gain = nontargeted.loc[setting]
        expected = 100.0 * (nontargeted.loc["adversary", "judge_realism"] - gain["judge_realism"])
        assert gain["realism_gain"] == pytest.approx(expected, abs=1e-6)  # equal frames per probe: means agree
        assert gain["realism_gain_low"] <= gain["realism_gain"] <= gain["realism_gain_high"]
        assert (gain["realism_gain_probes"], gain["realism_gain_subjects"]) == (24, 4)
    # The frame detector: the natural frames against themselves are chance exactly; each setting's AUC is
    # its frames' logits against the natural frames' at the same places (a known answer).
    assert natural[["detector_auc", "detector_auc_low", "detector_auc_high"]].tolist() == [0.5, 0.5, 0.5]
    detector, _ = load_detector(out / "detector.pt")
    sets, _ = collect_frames(shared_probes(load_attacks(paths)[0]), {CASIA_B: FrameStore(world / "casia_b")})
    natural_frames, adversary_frames = (sets[(CASIA_B, "alteration", "nontargeted", setting, "1/10")].stacked()
                                        for setting in ("natural", "adversary"))
    expected = detection_auc(detector.score(natural_frames), detector.score(adversary_frames))
    assert nontargeted.loc["adversary", "detector_auc"] == pytest.approx(expected)
    second, _ = load_detector(out / "attack_detector.pt")
    expected_second = detection_auc(second.score(natural_frames), second.score(adversary_frames))
    assert nontargeted.loc["adversary", "attack_detector_auc"] == pytest.approx(expected_second)
    assert expected_second != pytest.approx(expected)  # the two judges are different detectors
    assert natural["attack_detector_auc"] == 0.5
    assert ((table["detector_auc_low"] <= table["detector_auc"] + 1e-9)
            & (table["detector_auc"] <= table["detector_auc_high"] + 1e-9)).all()
    # The sequence detector: each adversarial sequence's score (its largest temporal inconsistency)
    # against the clean sequences of the same probes, computed naively here from the stored frames.
    assert natural[["sequence_auc", "sequence_auc_low", "sequence_auc_high"]].tolist() == [0.5, 0.5, 0.5]
    store = FrameStore(world / "casia_b")
    rows = shared_probes(load_attacks(paths)[0])
    adversary_rows = rows[(rows["kind"] == "alteration") & (rows["goal"] == "nontargeted")
                          & (rows["setting"] == "adversary")]
    clean_scores, attacked_scores = [], []
    for _, probe in adversary_rows.iterrows():
        clean = np.asarray(store.sequence(int(store.index.index[
            (store.index["subject"] == probe["subject"]) & (store.index["condition"] == probe["condition"])
            & (store.index["seq"] == probe["seq"]) & (store.index["view"] == probe["view"])][0])))
        frames, offsets, _ = read_attack_frames(Path(probe["_file"]).with_suffix(".npz"))
        attacked = clean.copy()
        attacked[np.asarray(probe["positions"])] = frames[offsets[probe["_row"]] : offsets[probe["_row"] + 1]]
        clean_scores.append(naive_inconsistency(clean))
        attacked_scores.append(naive_inconsistency(attacked))
    assert nontargeted.loc["adversary", "sequence_auc"] == pytest.approx(
        detection_auc(np.array(clean_scores), np.array(attacked_scores)))
    assert ((table["sequence_auc_low"] <= table["sequence_auc"] + 1e-9)
            & (table["sequence_auc"] <= table["sequence_auc_high"] + 1e-9)).all()
    # Generated frames are grey-level where the store's are (nearly) binary.
    assert nontargeted.loc["adversary", "non_binary"] > natural["non_binary"]
    markdown = (tmp_path / "i.md").read_text()
    assert markdown == imperceptibility_markdown(table)
    assert "frame-alteration, nontargeted" in markdown and "**" in markdown
    row = nontargeted.loc["adversary"]
    assert (f"| {row['attack_value']:.2f} [{row['attack_value_low']:.2f}, {row['attack_value_high']:.2f}] | 24 | 4 | "
            in markdown.replace("**", ""))
    for figure in ("fig6", "fig7"):
        assert written[figure].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Fig. 7 shows one probe at view 90 of the NM job (which covers views 0 and 90), the same in every method.
    examples = example_frames(paths, FrameStore(world / "casia_b"), sparsity="1/10")
    assert [label for label, _ in examples] == ["Natural (075-nm-05-090)", "FGSM", "PGD", "Ours"]


def test_the_interval_is_of_the_mean_over_conditions_of_attack_accuracys_condition_means(jobs):
    """NM has probe views 0 and 90, BG only 90: the conditions weigh equally, not their probe views."""
    _, paths = jobs
    rows, metas = load_attacks(paths)
    long = attack_accuracy(rows, metas)
    means = long[long["probe_view"] == "mean"]
    for (goal, setting), attacked in rows.groupby(["goal", "setting"]):
        truth = "target" if goal == "targeted" else "subject"
        interval = condition_mean_interval(attacked, metas[CASIA_B], truth_column=truth)
        cells = means[(means["goal"] == goal) & (means["setting"] == setting)]
        assert len(cells) == 2 and interval.estimate == pytest.approx(cells["value"].mean())
        assert interval.low <= interval.estimate <= interval.high
        assert interval.n_probes == len(attacked) == 24 and interval.n_subjects == 4
    natural = condition_mean_interval(rows.drop_duplicates(["subject", "condition", "seq", "view"]), metas[CASIA_B],
                                      clean=True)
    assert natural.estimate == pytest.approx(means.loc[means["setting"] == "natural", "value"].mean())


def test_condition_mean_interval_known_answers():
    meta = {"gallery_views": [0, 90], "exclude_identical_view": True}
    rows = pd.DataFrame({"subject": ["075", "076", "077", "075", "076", "077"], "condition": ["nm"] * 3 + ["bg"] * 3,
                         "seq": 5, "view": 90, "target": "078"})
    rows["rank1_000"] = rows["subject"]  # every probe right at the only counted gallery view (0)
    rows["rank1_090"] = "x"  # the identical view: not counted
    rows["clean_rank1_000"] = ["075", "x", "x", "075", "076", "077"]
    rows["clean_rank1_090"] = rows["subject"]
    everyone = condition_mean_interval(rows, meta)
    assert [everyone.estimate, everyone.low, everyone.high] == pytest.approx([100.0, 100.0, 100.0])
    assert (everyone.n_probes, everyone.n_subjects) == (6, 3)
    clean = condition_mean_interval(rows, meta, clean=True)  # NM 1/3, BG 3/3: mean 2/3
    assert clean.estimate == pytest.approx(200 / 3) and clean.low <= clean.estimate <= clean.high
    assert condition_mean_interval(rows, meta, truth_column="target").estimate == 0.0
    one = condition_mean_interval(rows[rows["subject"] == "075"], meta)  # one subject: no interval
    assert one.estimate == pytest.approx(100.0) and np.isnan(one.low) and one.n_subjects == 1


def test_settings_of_different_budgets_are_compared_on_the_probes_they_share():
    def rows(setting, subjects):
        return pd.DataFrame({"dataset": "casia_b", "kind": "alteration", "goal": "nontargeted", "sparsity": "1/40",
                             "condition": "nm", "setting": setting, "subject": subjects, "seq": 5, "view": 90})
    both = pd.concat([rows("adversary", ["075", "076", "077"]), rows("pgd", ["076", "077"]),
                      rows("adversary", ["075"]).assign(condition="bg")], ignore_index=True)
    kept = shared_probes(both)
    assert kept[kept["condition"] == "nm"].groupby("setting")["subject"].apply(list).to_dict() == {
        "adversary": ["076", "077"], "pgd": ["076", "077"]}
    assert kept[kept["condition"] == "bg"]["subject"].tolist() == ["075"]  # its own group: one setting


def test_the_best_detector_auc_is_the_one_nearest_chance():
    """Below 0.5 the detector is fooled the other way round: 0.55 beats both 0.9 and 0.3."""
    rows = [{"dataset": CASIA_B, "kind": "alteration", "goal": "nontargeted", "sparsity": "1/40", "setting": setting,
             "attack_metric": "rank1", **dict.fromkeys(COLUMNS[COLUMNS.index("attack_value"):], np.nan),
             "attack_value": 50.0, "detector_auc": auc}
            for setting, auc in (("natural", 0.5), ("adversary", 0.9), ("fgsm", 0.3), ("pgd", 0.55))]
    table = pd.DataFrame(rows)
    assert best_rows(table)["detector_auc"] == {3}
    assert "detector_auc →0.5" in imperceptibility_markdown(table.assign(frames=1, probes=1, subjects=1))


def test_the_attack_judges_frames_are_the_adversarys_stored_frames_with_their_probes_subjects(jobs):
    from gaitcore.experiments.attack_detector import attack_frames

    _, paths = jobs
    adversary = [p for p in paths if p.parent.parent.name == "alteration_nontargeted_adversary"]
    frames, subjects = attack_frames(adversary)
    rows, _ = load_attacks(adversary)
    assert frames.shape == (int(rows["altered"].sum()), 64, 64) and frames.dtype == np.uint8
    assert subjects.tolist() == np.repeat(rows["subject"].astype(str).to_numpy(), rows["altered"]).tolist()
    first, offsets, _ = read_attack_frames(adversary[0].with_suffix(".npz"))
    assert np.array_equal(frames[: offsets[-1]], first)
    with pytest.raises(ValueError, match="no attack result tables"):
        attack_frames([])
