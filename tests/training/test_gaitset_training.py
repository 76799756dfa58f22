"""GaitSet training: P x K sampler, triplet loss, checkpoints, and resuming after SIGKILL."""

import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.errors import CheckpointError
from gaitcore.models import load_gaitset
from gaitcore.training import GaitSetTrainConfig, TripletSampler, batch_all_triplet_loss, train_gaitset
from gaitcore.training.checkpoint import resume_from, store_identity
from gaitcore.training.gaitset import training_rows
from tests.training.sigkill import kill_after_first_checkpoint

TINY = GaitSetTrainConfig(
    channels=(4, 8, 8),
    hidden_dim=8,
    subjects_per_batch=3,
    sequences_per_subject=2,
    frames_per_sequence=4,
    learning_rate=1e-3,
    iterations=12,
    checkpoint_every=4,
    log_every=4,
    seed=7,
    device="cpu",
    train_subjects=(1, 4),
)


def build_store(root: Path, seed: int = 0) -> Path:
    """Subjects 001-005 (005 is a test subject here), 2 conditions x 2 sequences x 2 views, 5-9 frames."""
    rng = np.random.default_rng(seed)
    with StoreWriter(root, CASIA_B) as writer:
        for subject in range(1, 6):
            for condition in ("nm", "cl"):
                for seq in (1, 2):
                    for view in (0, 90):
                        frames = np.zeros((int(rng.integers(5, 10)), 64, 64), dtype=np.uint8)
                        for t, frame in enumerate(frames):
                            top, left = 6 + subject, 20 + int(rng.integers(0, 4)) + view // 30
                            frame[top : top + 30 + 3 * subject, left : left + 6 + subject] = 255
                            frame[top + 40 :, left + t % 3 : left + t % 3 + 3] = 255
                            frame[rng.random((64, 64)) < 0.02] = 255
                        writer.add(SequenceKey(CASIA_B, f"{subject:03d}", condition, seq, view), frames)
    return root


@pytest.fixture(scope="module")
def store_root(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("store") / "casia_b")


def test_sampler_draws_p_subjects_k_sequences_s_frames_and_replays_from_its_state(store_root):
    store = FrameStore(store_root)
    rows = training_rows(store, TINY)
    assert sorted(rows["subject"].unique()) == ["001", "002", "003", "004"]
    sampler = TripletSampler(store, rows, 3, 2, 4, seed=1)
    frames, labels = sampler.sample()
    assert frames.shape == (6, 4, 64, 64) and frames.dtype == np.uint8
    assert len(set(labels.tolist())) == 3 and (labels[::2] == labels[1::2]).all()
    for sample, label in zip(frames, labels, strict=True):
        subject = sampler.subjects[label]
        own = np.concatenate([store.sequence(r) for r in rows.index[rows["subject"] == subject]])
        for frame in sample:
            assert (own == frame).all(axis=(1, 2)).any()
    state = sampler.state_dict()
    after = sampler.sample()
    sampler.load_state_dict(state)
    again = sampler.sample()
    assert all(np.array_equal(a, b) for a, b in zip(after, again, strict=True))
    with pytest.raises(ValueError, match="needs 5 subjects but only 4"):
        TripletSampler(store, rows, 5, 2, 4, seed=1)


def test_ordered_sampling_draws_consecutive_frames_of_one_sequence(store_root):
    """GaitPart / GaitGL batches: each set is S consecutive frames of one of its subject's sequences
    (wrapping around a sequence shorter than S)."""
    store = FrameStore(store_root)
    rows = training_rows(store, TINY)
    longest = int(rows["frame_count"].max())
    sampler = TripletSampler(store, rows, 3, 2, longest + 3, seed=2, ordered=True)
    frames, labels = sampler.sample()
    for sample, label in zip(frames, labels, strict=True):
        runs = []
        for r in rows.index[rows["subject"] == sampler.subjects[label]]:
            sequence = np.asarray(store.sequence(r))
            n = len(sequence)
            runs += [sequence[(start + np.arange(len(sample))) % n] for start in range(n)]
        assert any(np.array_equal(sample, run) for run in runs)


def test_triplet_loss_is_the_mean_over_active_triplets_per_part():
    # One part, 1-D features; subjects A = {0, 1}, B = {2, 3}.
    features = torch.tensor([[[0.0]], [[1.0]], [[1.5]], [[5.0]]])
    labels = torch.tensor([0, 0, 1, 1])
    stats = batch_all_triplet_loss(features, labels, margin=0.2)
    # anchor 0: pos 1 (d=1), negs 1.5, 5 -> relu(0.2+1-1.5)=0, 0
    # anchor 1: pos 0 (d=1), negs 0.5, 4 -> 0.7, 0
    # anchor 2: pos 3 (d=3.5), negs 1.5, 0.5 -> 2.2, 3.2
    # anchor 3: pos 2 (d=3.5), negs 5, 4 -> 0, 0
    assert stats.active_triplets == 3
    assert float(stats.loss) == pytest.approx((0.7 + 2.2 + 3.2) / 3, rel=1e-6)
    far = torch.tensor([[[0.0]], [[0.1]], [[9.0]], [[9.1]]])
    assert float(batch_all_triplet_loss(far, labels, 0.2).loss) == 0.0
    with pytest.raises(ValueError, match="P x K"):
        batch_all_triplet_loss(features[:3], labels[:3], 0.2)


def test_config_rejects_unknown_and_bad_values():
    with pytest.raises(ValueError, match="unknown setting.*'lr'"):
        GaitSetTrainConfig.from_mapping({"lr": 0.1})
    with pytest.raises(ValueError, match="sequences_per_subject"):
        GaitSetTrainConfig(sequences_per_subject=1)
    assert GaitSetTrainConfig.from_mapping({"channels": [16, 32, 64]}).channels == (16, 32, 64)
    assert "005" not in replace(TINY, train_subjects=(1, 74), exclude_subjects=("005",)).subjects()
    with pytest.raises(ValueError, match="dtype must be one of float32, bfloat16, got 'float16'"):
        GaitSetTrainConfig(dtype="float16")


def test_bfloat16_training_computes_the_forward_pass_in_bfloat16_and_is_its_own_run(store_root, tmp_path,
                                                                                  one_torch_thread):
    """``dtype: bfloat16`` (rule K7): the forward pass runs under autocast (its features are bfloat16),
    the weights stay float32, the run is deterministic, differs from float32's, and a float32 checkpoint
    is not resumed as a bfloat16 run (the dtype is part of what was trained)."""
    from gaitcore.models.gaitset import build_gaitset, silhouettes_to_input
    from gaitcore.utils.autocast import precision

    model = build_gaitset(TINY.channels, TINY.hidden_dim)
    with precision(torch.device("cpu"), "bfloat16"):
        assert model(silhouettes_to_input(np.zeros((2, 3, 64, 64), dtype=np.uint8))).dtype == torch.bfloat16
    bf16 = replace(TINY, dtype="bfloat16", iterations=6)
    runs = [train_gaitset(store_root, tmp_path / f"{i}" / "w.pt", tmp_path / f"{i}" / "c.pt", bf16) for i in (1, 2)]
    fp32 = train_gaitset(store_root, tmp_path / "fp32" / "w.pt", tmp_path / "fp32" / "c.pt",
                         replace(bf16, dtype="float32"))
    assert all(run.iterations == 6 for run in (*runs, fp32))
    (a, extra), (b, _), (c, _) = (load_gaitset(tmp_path / name / "w.pt") for name in ("1", "2", "fp32"))
    assert extra["train_config"]["dtype"] == "bfloat16"
    assert all(p.dtype == torch.float32 for p in a.parameters())
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert any(not torch.equal(x, y) for x, y in zip(a.state_dict().values(), c.state_dict().values(), strict=True))
    with pytest.raises(CheckpointError, match=r"other settings \(dtype: 'float32' -> 'bfloat16'\)"):
        train_gaitset(store_root, tmp_path / "fp32" / "w.pt", tmp_path / "fp32" / "c.pt", replace(bf16, iterations=8))


TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from dataclasses import replace
    from gaitcore.training import train_gaitset
    from tests.training.test_gaitset_training import TINY
    torch.set_num_threads(1)
    train_gaitset(sys.argv[1], sys.argv[2], sys.argv[3], replace(TINY, iterations=int(sys.argv[4]), checkpoint_every=5))
    """
)


def test_training_killed_with_sigkill_resumes_and_ends_like_an_uninterrupted_run(store_root, tmp_path,
                                                                                  one_torch_thread):
    iterations = 60
    killed = tmp_path / "killed"
    weights, checkpoint = killed / "weights.pt", killed / "resume.pt"
    kill_after_first_checkpoint(TRAIN_SCRIPT, str(store_root), str(weights), str(checkpoint), str(iterations),
                                checkpoint=checkpoint, weights=weights)

    config = replace(TINY, iterations=iterations, checkpoint_every=5)
    resumed = train_gaitset(store_root, weights, checkpoint, config)
    assert 0 < resumed.resumed_from < iterations and resumed.iterations == iterations

    straight = train_gaitset(store_root, tmp_path / "straight" / "weights.pt", tmp_path / "straight" / "resume.pt",
                             config)
    assert straight.resumed_from == 0
    a, _ = load_gaitset(weights)
    b, _ = load_gaitset(tmp_path / "straight" / "weights.pt")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


def test_finished_run_rerun_only_rewrites_weights_and_logs_progress(store_root, tmp_path, caplog, one_torch_thread):
    caplog.set_level("INFO", logger="gaitcore.training.gaitset")
    first = train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "c.pt", TINY)
    assert first.iterations == 12 and first.sequences_per_second > 0 and first.frames_per_second > 0
    text = caplog.text
    assert "iteration 4/12 loss" in text and "sequences/s" in text and "frames/s" in text
    (tmp_path / "w.pt").unlink()
    again = train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "c.pt", TINY)
    assert again.resumed_from == 12 and (tmp_path / "w.pt").exists()
    more = train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "c.pt", replace(TINY, iterations=16))
    assert more.resumed_from == 12 and more.iterations == 16


def test_damaged_or_foreign_checkpoint_is_a_checkpoint_error_naming_the_file(store_root, tmp_path, one_torch_thread):
    checkpoint = tmp_path / "resume.pt"
    train_gaitset(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, iterations=4))
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError,
                       match=r"resume\.pt: cannot read the GaitSet training checkpoint.*Fix: delete it"):
        train_gaitset(store_root, tmp_path / "w.pt", checkpoint, TINY)

    checkpoint.write_bytes(data)
    with pytest.raises(CheckpointError, match=r"resume\.pt: was written by a training run with other settings "
                                              r"\(learning_rate: 0.001 -> 0.01\)"):
        train_gaitset(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, learning_rate=0.01))

    torch.save({"model": {}}, checkpoint)
    with pytest.raises(CheckpointError, match="not a gaitcore GaitSet checkpoint"):
        train_gaitset(store_root, tmp_path / "w.pt", checkpoint, TINY)


def test_stale_checkpoint_is_set_aside_but_a_resumable_or_damaged_one_is_not(store_root, tmp_path, caplog,
                                                                             one_torch_thread):
    checkpoint = tmp_path / "resume.pt"
    stale = tmp_path / "resume.pt.stale"
    data = store_identity(FrameStore(store_root))
    assert resume_from(TINY, checkpoint, data, set_aside_stale=True) is None  # nothing there yet
    train_gaitset(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, iterations=8))
    content = checkpoint.read_bytes()

    # More iterations, or a change of a resumable setting: the run resumes, the file stays.
    resumed = resume_from(replace(TINY, iterations=16, log_every=2), checkpoint, data, set_aside_stale=True)
    assert resumed["iteration"] == 8 and resumed["data"] == data
    assert checkpoint.read_bytes() == content and not stale.exists()

    # Fewer iterations than the checkpoint holds, another learning rate, or other data: set aside,
    # then a fresh run.
    other_data = {**data, "store_content": "0" * 32}
    for changed, on in ((replace(TINY, iterations=4), data), (replace(TINY, learning_rate=0.01), data),
                        (TINY, other_data)):
        checkpoint.write_bytes(content)
        with caplog.at_level("WARNING", logger="gaitcore.training.checkpoint"):
            assert resume_from(changed, checkpoint, on, set_aside_stale=True) is None
        assert not checkpoint.exists() and stale.read_bytes() == content
        assert "training from scratch" in caplog.text and "resume.pt" in caplog.text
    assert "other data" in caplog.text
    run = train_gaitset(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, learning_rate=0.01),
                        set_aside_stale=True)
    assert run.resumed_from == 0

    # A damaged checkpoint is an error, never silently replaced.
    checkpoint.write_bytes(content[: len(content) // 2])
    with pytest.raises(CheckpointError, match=r"resume\.pt: cannot read"):
        resume_from(TINY, checkpoint, data, set_aside_stale=True)
    assert checkpoint.exists()


def test_a_finished_checkpoint_of_other_data_is_never_resumed(store_root, tmp_path, one_torch_thread):
    """The store changed (e.g. another synthetic seed) but the settings did not: the old checkpoint
    is refused, or set aside with ``set_aside_stale``, and the model is trained on the new data."""
    checkpoint, weights = tmp_path / "resume.pt", tmp_path / "w.pt"
    train_gaitset(store_root, weights, checkpoint, TINY)
    old_weights, _ = load_gaitset(weights)

    other = build_store(tmp_path / "other" / "casia_b", seed=1)
    assert FrameStore(other).content_hash != FrameStore(store_root).content_hash
    with pytest.raises(CheckpointError, match=r"resume\.pt: was written by a training run on other data"):
        train_gaitset(other, weights, checkpoint, TINY)
    run = train_gaitset(other, weights, checkpoint, TINY, set_aside_stale=True)
    assert run.resumed_from == 0 and run.iterations == TINY.iterations
    assert (tmp_path / "resume.pt.stale").exists()
    new_weights, _ = load_gaitset(weights)
    assert any(not torch.equal(x, y) for x, y in zip(old_weights.state_dict().values(),
                                                    new_weights.state_dict().values(), strict=True))

    # A checkpoint written before checkpoints carried their data (no "data" key) is stale too.
    payload = torch.load(checkpoint, weights_only=True)
    del payload["data"]
    torch.save(payload, checkpoint)
    assert resume_from(TINY, checkpoint, store_identity(FrameStore(other)), set_aside_stale=True) is None
