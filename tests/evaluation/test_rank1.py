"""Rank-1 evaluation on hand-made features with known answers, and stored features."""

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.data.layout import CASIA_A, CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.evaluation import (
    casia_a_protocol,
    casia_b_protocol,
    distances,
    evaluate_rank1,
    extract_features,
    feature_index,
    prepare_gallery,
    rank1_identities,
    read_features,
    summarize_rank1,
    summary_markdown,
    write_features,
)
from gaitcore.evaluation.features import extract_store_features
from gaitcore.evaluation.rank1 import ProtocolGallery, rank1_hits
from gaitcore.models import GaitSet, save_gaitset, silhouettes_to_input
from gaitcore.utils.tables import write_table


def hand_made(dataset, entries):
    """Index rows and 1-part, 1-dimensional features from (subject, condition, seq, view, value)."""
    index = pd.DataFrame(
        [{"dataset": dataset, "subject": s, "condition": c, "seq": q, "view": v} for s, c, q, v, _ in entries]
    )
    features = np.array([[[value]] for *_, value in entries], dtype=np.float32)
    return features, index


CASIA_B_ENTRIES = [
    # gallery (nm-01..04): view 0 at 0 / 10, view 18 at 100 / 110
    ("001", "nm", 1, 0, 0.0), ("002", "nm", 4, 0, 10.0),
    ("001", "nm", 2, 18, 100.0), ("002", "nm", 3, 18, 110.0),
    # not a test subject: would be every view-0 probe's nearest neighbour if it were used
    ("003", "nm", 1, 0, 9.0),
    # probes NM (nm-05/06)
    ("001", "nm", 5, 0, 9.0),     # gallery 0 -> 002 (wrong); gallery 18 -> 001 (right)
    ("002", "nm", 6, 0, 1.0),     # gallery 0 -> 001 (wrong); gallery 18 -> 001 (wrong)
    ("001", "nm", 5, 18, 101.0),  # gallery 18 -> 001 (right); gallery 0 -> 002 (wrong)
    ("002", "nm", 5, 18, 109.0),  # gallery 18 -> 002 (right); gallery 0 -> 002 (right)
    # probe BG (bg-01)
    ("001", "bg", 1, 0, 50.0),    # gallery 0 -> 002 (wrong); gallery 18 -> 001 (right)
]


def test_casia_b_rank1_per_view_pair_and_identical_view_exclusion():
    features, index = hand_made(CASIA_B, CASIA_B_ENTRIES)
    long, summary = evaluate_rank1(features, index, casia_b_protocol(test_subjects=(1, 2)))
    pairs = {(r.condition, r.probe_view, r.gallery_view): r.rank1 for r in long.itertuples()}
    assert pairs == {
        ("nm", 0, 0): 0.0, ("nm", 0, 18): 50.0,
        ("nm", 18, 0): 50.0, ("nm", 18, 18): 100.0,
        ("bg", 0, 0): 0.0, ("bg", 0, 18): 100.0,
    }
    assert list(long.columns) == ["dataset", "condition", "probe_view", "gallery_view", "rank1"]
    # Identical views excluded: probe 0 averages gallery 18 only, probe 18 gallery 0 only.
    rows = {(r.condition, r.probe_view): r.rank1 for r in summary.itertuples()}
    assert rows == {("nm", 0): 50.0, ("nm", 18): 50.0, ("nm", "mean"): 50.0, ("bg", 0): 100.0, ("bg", "mean"): 100.0}
    assert list(summary.columns) == ["dataset", "condition", "probe_view", "rank1", "ci_low", "ci_high", "probes",
                                     "subjects"]
    # Each cell's subject-level interval, probes and subjects. NM probe view 0: subject 001 right, 002 wrong.
    cells = {(r.condition, r.probe_view): (r.ci_low, r.ci_high, r.probes, r.subjects) for r in summary.itertuples()}
    assert cells[("nm", 0)] == (0.0, 100.0, 2, 2) and cells[("nm", 18)] == (0.0, 100.0, 2, 2)
    # The mean: 001 is right at view 0 and wrong at 18, 002 the other way round, so every resample of
    # subjects averages to 50 over the probe views: the mean is the mean over views of per-view accuracies.
    assert cells[("nm", "mean")] == (50.0, 50.0, 4, 2)
    assert cells[("bg", 0)][2:] == (1, 1) and np.isnan(cells[("bg", 0)][0])  # one subject: no interval


def test_the_summary_without_per_probe_hits_keeps_its_columns():
    features, index = hand_made(CASIA_B, CASIA_B_ENTRIES)
    protocol = casia_b_protocol(test_subjects=(1, 2))
    long, summary = evaluate_rank1(features, index, protocol)
    plain = summarize_rank1(long, protocol)
    assert list(plain.columns) == ["dataset", "condition", "probe_view", "rank1"]
    pd.testing.assert_frame_equal(plain, summary[plain.columns])
    probes, hits = rank1_hits(features, index, protocol)
    assert probes[["subject", "view"]].values.tolist() == [["001", 0], ["002", 0], ["001", 18], ["002", 18],
                                                           ["001", 0]]
    assert np.array_equal(hits[:, :2], [[0, 1], [0, 0], [0, 1], [1, 1], [0, 1]])  # gallery views 0 and 18
    assert hits.shape == (5, 11) and np.isnan(hits[:, 2:]).all()  # no gallery sequence at the other views


def test_casia_a_includes_identical_views():
    entries = [
        (s, "nm", 4, v, v + offset) for s, offset in (("aa", 0.0), ("bb", 20.0)) for v in (0, 45, 90)
    ] + [
        ("aa", "nm", 1, 0, 1.0),   # gallery 0 -> aa, 45 -> aa, 90 -> aa
        ("bb", "nm", 3, 0, 18.0),  # gallery 0 -> bb, 45 -> aa, 90 -> aa
        ("bb", "nm", 2, 90, 109.0),  # gallery 90 -> bb, 45 -> bb (65), 0 -> bb (20)
    ]
    features, index = hand_made(CASIA_A, entries)
    long, summary = evaluate_rank1(features, index, casia_a_protocol())
    assert long.set_index(["probe_view", "gallery_view"])["rank1"].to_dict() == {
        (0, 0): 100.0, (0, 45): 50.0, (0, 90): 50.0, (90, 0): 100.0, (90, 45): 100.0, (90, 90): 100.0,
    }
    rows = {r.probe_view: r.rank1 for r in summary.itertuples()}
    assert rows[0] == pytest.approx(200 / 3) and rows[90] == 100.0
    assert rows["mean"] == pytest.approx((200 / 3 + 100) / 2)


def test_flattened_euclidean_and_opengait_part_mean_can_disagree():
    probe = np.zeros((1, 2, 1))
    gallery = np.array([[[3.0], [0.0]], [[2.0], [2.0]]])  # flattened: 3 vs 2.83; part mean: 1.5 vs 2
    assert rank1_identities(probe, gallery, ["A", "B"], [0, 0], [0, 18])[0].tolist() == ["B", None]
    assert rank1_identities(probe, gallery, ["A", "B"], [0, 0], [0], metric="part_mean")[0].tolist() == ["A"]
    with pytest.raises(ValueError, match="unknown distance metric"):
        rank1_identities(probe, gallery, ["A", "B"], [0, 0], [0], metric="cosine")


def test_tables_are_written_as_csv_and_markdown(tmp_path):
    features, index = hand_made(CASIA_B, CASIA_B_ENTRIES)
    long, summary = evaluate_rank1(features, index, casia_b_protocol(test_subjects=(1, 2)))
    write_table(summary, tmp_path / "t.csv", tmp_path / "t.md", markdown=summary_markdown(summary))
    write_table(long, tmp_path / "long.csv", tmp_path / "long.md")
    assert pd.read_csv(tmp_path / "t.csv")["probe_view"].tolist() == ["0", "18", "mean", "0", "mean"]
    md = (tmp_path / "t.md").read_text()
    assert "| condition | 0 | 18 | mean | probes | subjects |" in md and "95 % confidence interval" in md
    assert "| NM | 50.0 [0.0, 100.0] | 50.0 [0.0, 100.0] | 50.0 [50.0, 50.0] | 4 | 2 |" in md
    assert "| BG | 100.0 |  | 100.0 | 1 | 1 |" in md
    plain = summarize_rank1(long, casia_b_protocol(test_subjects=(1, 2)))  # without intervals: as before
    assert "| condition | 0 | 18 | mean |\n" in summary_markdown(plain)
    assert "| NM | 50.0 | 50.0 | 50.0 |" in summary_markdown(plain)
    assert (tmp_path / "long.md").read_text().startswith("| dataset | condition | probe_view |")
    assert not list(tmp_path.glob("*.tmp"))


def tiny_store(root):
    rng = np.random.default_rng(0)
    with StoreWriter(root, CASIA_B) as writer:
        for subject in ("074", "075", "076"):
            for condition, seq in (("nm", 1), ("nm", 5), ("cl", 2)):
                frames = (rng.random((int(rng.integers(2, 12)), 64, 64)) < 0.3).astype(np.uint8) * 255
                writer.add(SequenceKey(CASIA_B, subject, condition, seq, 90), frames)
    return FrameStore(root)


def test_batched_extraction_equals_per_sequence_forward_and_round_trips(tmp_path):
    store = tiny_store(tmp_path / "store")
    torch.manual_seed(0)
    model = GaitSet(channels=(4, 8, 8), hidden_dim=6).eval()
    rows = casia_b_protocol().sequences(store.index)
    assert sorted(rows["subject"].unique()) == ["075", "076"]
    features = extract_features(model, store, rows, batch_frames=16, frame_chunk=5)
    with torch.no_grad():
        expected = np.concatenate(
            [model(silhouettes_to_input(store.sequence(r)).unsqueeze(0)).numpy() for r in rows.index]
        )
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
    threads = torch.get_num_threads()
    in_threads = extract_features(model, store, rows, batch_frames=16, frame_chunk=5, workers=2)
    assert np.array_equal(in_threads, features) and torch.get_num_threads() == threads

    weights = save_gaitset(model, tmp_path / "w.pt", extra={"iterations": 5})
    index = extract_store_features(weights, store.root, tmp_path / "f.npy", tmp_path / "f.parquet", device="cpu")
    stored, stored_index, meta = read_features(tmp_path / "f.npy", tmp_path / "f.parquet")
    assert isinstance(stored, np.memmap) and stored.shape == (6, 62, 6)
    np.testing.assert_allclose(stored, expected, rtol=1e-5, atol=1e-6)
    pd.testing.assert_frame_equal(stored_index, index)
    assert stored_index["store_row"].tolist() == rows.index.tolist()
    assert meta["iterations"] == 5 and meta["model"]["channels"] == [4, 8, 8]
    assert feature_index(rows)["feature_row"].tolist() == list(range(6))
    with pytest.raises(ValueError, match="feature rows"):
        write_features(stored[:2], index, tmp_path / "g.npy", tmp_path / "g.parquet", {})


@pytest.mark.parametrize("metric", ["euclidean", "part_mean"])
def test_prepared_gallery_gives_the_same_distances_bit_for_bit(metric):
    rng = np.random.default_rng(0)
    probe, gallery = rng.normal(size=(3, 4, 5)), rng.normal(size=(6, 4, 5)).astype(np.float32)
    prepared = prepare_gallery(gallery)
    assert prepare_gallery(prepared) is prepared
    assert torch.equal(distances(probe, prepared, metric), distances(probe, gallery, metric))
    naive = np.array([[np.linalg.norm(p.astype(np.float64) - g, axis=-1).mean() if metric == "part_mean"
                       else np.linalg.norm((p.astype(np.float64) - g).ravel()) for g in gallery] for p in probe])
    np.testing.assert_allclose(distances(probe, prepared, metric).numpy(), naive, rtol=1e-9)
    subjects, views = ["A", "B", "C", "D", "E", "F"], [0, 0, 18, 18, 36, 36]
    assert (rank1_identities(probe, prepared, subjects, views, [0, 18, 36], metric)
            == rank1_identities(probe, gallery, subjects, views, [0, 18, 36], metric)).all()


@pytest.mark.parametrize("metric", ["euclidean", "part_mean"])
def test_float32_gallery_finds_the_float64_nearest_away_from_ties(metric):
    """An attack's early-stop test asks a float32 copy of the gallery: its distances are the float64
    ones up to float32 rounding, and its nearest subject per view is the same when no two gallery
    sequences are near-tied (features as stored: float32, GaitSet's [parts, hidden])."""
    rng = np.random.default_rng(1)
    gallery = rng.normal(size=(40, 62, 32)).astype(np.float32)
    probe = (gallery[rng.integers(40, size=16)] + rng.normal(scale=0.8, size=(16, 62, 32))).astype(np.float32)
    subjects = np.array([f"{i // 4:03d}" for i in range(40)], dtype=object)
    views = np.tile([0, 18, 36, 54], 10)
    full = ProtocolGallery(prepare_gallery(gallery), subjects, views)
    fast = full.in_dtype(torch.float32)
    assert fast.features.features.dtype == torch.float32 and full.features.features.dtype == torch.float64
    d64, d32 = distances(probe, full.features, metric), distances(probe, fast.features, metric)
    assert d32.dtype == torch.float32
    np.testing.assert_allclose(d32.double().numpy(), d64.numpy(), rtol=1e-5)
    margin = np.sort(d64.numpy(), axis=1)[:, 1] - np.sort(d64.numpy(), axis=1)[:, 0]
    assert margin.min() > 1e-3 * d64.numpy().min()  # no near-tie in this draw
    assert (fast.nearest(probe, [0, 18, 36, 54], metric) == full.nearest(probe, [0, 18, 36, 54], metric)).all()
