"""The random control against real silhouettes of other people (gaitcore.experiments.random_control_sources)."""

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.experiments.random_control_sources import (
    SOURCES,
    SUMMARY_COLUMNS,
    DonorFrames,
    _features_and_max_share,
    random_control_sources,
    random_control_sources_markdown,
    summarize_random_control_sources,
    write_random_control_rows,
    write_random_control_sources,
)
from gaitcore.models.gaitset import load_gaitset, silhouettes_to_input
from tests.attacks.world import SUBJECTS, TRAINING_SUBJECTS, run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def control(world, tables, **kwargs):
    return random_control_sources(gaitset_weights=world / "gaitset.pt", store_root=world / "casia_b",
                                 features_array=world / "f.npy", features_index=world / "f.parquet",
                                 attack_tables=tables, test_subjects=(75, 78), device="cpu", **kwargs)


def protocol_accuracy(table: pd.DataFrame, prefix: str) -> list[float]:
    """Per probe, the job's own rank-1 accuracy over its counted gallery views (here 0 and 90 degrees)."""
    out = []
    for _, row in table.iterrows():
        views = [v for v in (0, 90) if v != row["view"]]
        out.append(100.0 * np.mean([row[f"{prefix}{v:03d}"] == row["subject"] for v in views]))
    return out


@pytest.mark.parametrize("mode", ["alteration_nontargeted_random", "insertion_nontargeted_random"])
def test_generated_and_clean_sources_reproduce_the_jobs_own_results(world, tmp_path, mode):
    _, table = run(world, tmp_path, mode=mode, views=(0, 90))
    long = control(world, [tmp_path / "t.parquet"], attack_frames=[tmp_path / "f.npz"])
    assert long["source"].drop_duplicates().tolist() == list(SOURCES)
    assert (long.groupby("source").size() == len(table)).all()
    by_source = {s: g.reset_index(drop=True) for s, g in long.groupby("source")}
    assert by_source["generated"]["accuracy"].tolist() == protocol_accuracy(table, "rank1_")
    assert by_source["clean"]["accuracy"].tolist() == protocol_accuracy(table, "clean_rank1_")
    assert (by_source["generated"]["altered"] == table["altered"]).all()

    summary = summarize_random_control_sources(long.iloc[::-1])  # cells in the input's order, sources in SOURCES order
    assert summary["source"].tolist() == list(SOURCES) and (summary["probes"] == len(table)).all()
    assert (summary["subjects"] == table["subject"].nunique()).all()
    inside = (summary["ci_low"] <= summary["accuracy"] + 1e-9) & (summary["accuracy"] <= summary["ci_high"] + 1e-9)
    assert (inside | summary["ci_low"].isna()).all()
    assert summary["change"].isna().tolist() == [True, False, False, False]
    markdown = random_control_sources_markdown(summary)
    assert "| casia_b | " + mode.split("_")[0] + " | 1/10 | NM |" in markdown


def test_a_job_scored_alone_gives_the_rows_it_gives_among_others_and_the_files_summarise_alike(world, tmp_path):
    # Rule random_control_sources_job scores each random-control job on its own; the donors are drawn
    # from the seed and the job's identity, not from the jobs scored before it.
    jobs = []
    for mode in ("alteration_nontargeted_random", "insertion_nontargeted_random"):
        (tmp_path / mode).mkdir()
        run(world, tmp_path / mode, mode=mode, views=(0, 90))
        jobs.append((tmp_path / mode / "t.parquet", tmp_path / mode / "f.npz"))
    together = control(world, [t for t, _ in jobs], attack_frames=[f for _, f in jobs])
    alone = [control(world, [t], attack_frames=[f]) for t, f in jobs]
    pd.testing.assert_frame_equal(pd.concat(alone, ignore_index=True), together)
    swapped = control(world, [t for t, _ in jobs[::-1]], attack_frames=[f for _, f in jobs[::-1]])
    pd.testing.assert_frame_equal(pd.concat(alone[::-1], ignore_index=True), swapped)
    reseeded = control(world, [jobs[0][0]], attack_frames=[jobs[0][1]], seed=1)
    assert not reseeded[["accuracy", "max_share"]].equals(alone[0][["accuracy", "max_share"]])  # other donors

    rows = [tmp_path / f"rows{i}.parquet" for i in range(2)]
    for long, path in zip(alone, rows, strict=True):
        write_random_control_rows(long, path)
    summary = write_random_control_sources(rows, tmp_path / "s.csv", tmp_path / "s.md")
    pd.testing.assert_frame_equal(summary, summarize_random_control_sources(together))
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "s.csv")[["kind", "source", "probes"]],
                                  summary[["kind", "source", "probes"]])
    assert (tmp_path / "s.md").read_text() == random_control_sources_markdown(summary)
    assert not list(tmp_path.glob("*.tmp"))


def test_donor_frames_are_consecutive_real_frames_of_another_subject_of_the_right_kind_and_view(world):
    store = FrameStore(world / "casia_b")
    donors = DonorFrames(store, [f"{s:03d}" for s in SUBJECTS], seed=0)
    for source, subjects in (("training subject", TRAINING_SUBJECTS), ("test subject", SUBJECTS)):
        for _ in range(5):
            frames = donors.draw(source, 90, "075", 3)
            matches = [
                (row.subject, start)
                for row in store.index[(store.index["view"] == 90) & (store.index["condition"] == "nm")].itertuples()
                for start in range(row.frame_count - 2)
                if np.array_equal(np.asarray(store.sequence(row.Index))[start : start + 3], frames)
            ]
            assert matches and {int(s) for s, _ in matches} <= set(subjects) - {75}
    assert donors.draw("training subject", 45, "075", 3) is None  # no sequence at that view


def test_max_share_counts_where_the_set_maximum_comes_from(world):
    model, _ = load_gaitset(world / "gaitset.pt")
    store = FrameStore(world / "casia_b")
    frames = np.asarray(store.sequence(0))
    places = np.array([1, 4])
    with torch.no_grad():
        x = silhouettes_to_input(frames)
        features, share = _features_and_max_share(model, model.frame_maps(x), places)
        torch.testing.assert_close(features, model(x[None])[0], rtol=0, atol=0)
        last = np.stack([model.frame_maps(x[j : j + 1])[-1][0].numpy() for j in range(len(frames))])
    winner = last.argmax(0)  # naive: frame by frame, first maximum wins
    assert share == pytest.approx(np.isin(winner, places).mean() / (len(places) / len(frames)))


@pytest.mark.parametrize("kind", ["alteration", "insertion"])
def test_the_assembled_sequences_maps_reuse_the_originals_exactly(world, kind):
    """Only the put-in frames go through the frame CNN: the maps equal those of the whole assembled
    sequence bit for bit (the CNN is batch-invariant), so features and max shares are unchanged."""
    from gaitcore.attacks.plan import FramePlan
    from gaitcore.experiments.random_control_sources import _assembled_maps

    model, _ = load_gaitset(world / "gaitset.pt")
    store = FrameStore(world / "casia_b")
    original, donor = np.asarray(store.sequence(0)), np.asarray(store.sequence(5))[:3]
    plan = FramePlan.from_positions(kind, len(original), np.array([0, 2, 5]))
    with torch.no_grad():
        reused = _assembled_maps(model, model.frame_maps(silhouettes_to_input(original)), plan, donor,
                                 torch.device("cpu"))
        whole = model.frame_maps(silhouettes_to_input(plan.assemble(original, donor)))
    for a, b in zip(reused, whole, strict=True):
        assert torch.equal(a, b)


def test_a_table_that_is_not_a_random_control_is_refused_by_name(world, tmp_path):
    run(world, tmp_path, mode="alteration_nontargeted_adversary")
    with pytest.raises(DataError, match=r"t\.parquet.*not a random-control job"):
        control(world, [tmp_path / "t.parquet"], attack_frames=[tmp_path / "f.npz"])


def test_the_summary_averages_each_cell_and_keeps_the_jobs_order():
    def rows(sparsity, source, accuracies):
        return [{"dataset": "casia_b", "kind": "alteration", "sparsity": sparsity, "condition": "nm",
                 "subject": f"{75 + i:03d}", "seq": 5, "view": 90, "source": source, "accuracy": a,
                 "max_share": 2.0 * a / 100} for i, a in enumerate(accuracies)]

    long = pd.DataFrame([*rows("1/40", "generated", [0, 50]), *rows("1/40", "clean", [100, 100]),
                         *rows("1/10", "test subject", [25]), *rows("1/10", "clean", [75])])
    summary = summarize_random_control_sources(long)
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary[["sparsity", "source", "accuracy", "max_share", "probes", "subjects"]].values.tolist() == [
        ["1/40", "clean", 100.0, 2.0, 2, 2], ["1/40", "generated", 25.0, 0.5, 2, 2],
        ["1/10", "clean", 75.0, 1.5, 1, 1], ["1/10", "test subject", 25.0, 0.5, 1, 1]]
    # One subject gives no interval; every probe at 100 % gives [100, 100].
    assert summary.loc[2:, ["ci_low", "ci_high"]].isna().all().all()
    assert summary.loc[0, ["ci_low", "ci_high"]].tolist() == [100.0, 100.0]
    assert summary.loc[[1, 3], "change"].tolist() == pytest.approx([-75.0, -50.0])
    assert summary.loc[[0, 2], ["change", "change_low", "change_high"]].isna().all().all()
    markdown = random_control_sources_markdown(summary)
    assert "| casia_b | alteration | 1/10 | NM | 75.0 (1.50) |  |  | 25.0 (0.50) |  |  | -50.0 | 1 | 1 |" in markdown
    assert "| casia_b | alteration | 1/40 | NM | 100.0 [100.0, 100.0] (2.00) | 25.0 [" in markdown


def test_the_summary_intervals_are_subject_level_and_the_change_is_paired_on_the_same_probes():
    rng = np.random.default_rng(3)
    records = []
    for subject in range(75, 87):
        for seq in (5, 6):
            for view in (0, 90):
                clean = float(rng.choice([50.0, 100.0]))
                for source, accuracy in (("clean", clean), ("generated", float(rng.choice([0.0, 50.0, 100.0]))),
                                         ("test subject", clean - 50.0 * (subject % 2))):
                    records.append({"dataset": "casia_b", "kind": "insertion", "sparsity": "1/20", "condition": "bg",
                                    "subject": f"{subject:03d}", "seq": seq, "view": view, "source": source,
                                    "accuracy": accuracy, "max_share": 1.0})
    long = pd.DataFrame(records)
    # A donor missing for some probes: its change uses only the probes it has.
    long = long.drop(long.index[(long["source"] == "test subject") & (long["view"] == 0)])
    summary = summarize_random_control_sources(long).set_index("source")
    assert (summary["subjects"] == 12).all() and summary["probes"].tolist() == [48, 48, 24]
    assert (summary["ci_low"] <= summary["accuracy"]).all() and (summary["accuracy"] <= summary["ci_high"]).all()
    assert (summary["ci_low"] < summary["ci_high"]).all()
    by_source = {s: g.set_index(["subject", "seq", "view"])["accuracy"] for s, g in long.groupby("source")}
    for source in ("generated", "test subject"):
        shared = by_source[source].index
        expected = by_source[source].mean() - by_source["clean"].loc[shared].mean()
        assert summary.loc[source, "change"] == pytest.approx(expected)
        assert summary.loc[source, "change_low"] <= summary.loc[source, "change"] <= summary.loc[source, "change_high"]
    assert summary.loc["test subject", "change"] == pytest.approx(-25.0)  # half the subjects lose 50 points
    assert np.isnan(summary.loc["clean", "change"])
    # Subject-level and seeded: twice the probes of the same subjects, each probe's copy alike, give the
    # same intervals (a probe-level bootstrap would narrow them); a rerun gives the same table.
    doubled = summarize_random_control_sources(pd.concat([long, long.assign(seq=long["seq"] + 10)])).set_index("source")
    assert (doubled["probes"] == 2 * summary["probes"]).all() and (doubled["subjects"] == 12).all()
    intervals = ["ci_low", "ci_high", "change_low", "change_high"]
    pd.testing.assert_frame_equal(doubled[intervals], summary[intervals])
    pd.testing.assert_frame_equal(summarize_random_control_sources(long).set_index("source"), summary)


def test_a_probe_missing_from_the_stored_features_is_refused_by_name(world, tmp_path):
    _, table = run(world, tmp_path, mode="alteration_nontargeted_random")
    table.assign(subject="099").to_parquet(tmp_path / "stale.parquet")
    with pytest.raises(DataError, match=r"stale\.parquet.*not among the stored features.*rebuild"):
        control(world, [tmp_path / "stale.parquet"], attack_frames=[tmp_path / "f.npz"])
