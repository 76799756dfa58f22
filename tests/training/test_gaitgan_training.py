"""GaitGAN training: the GEI triples, one step of each network, checkpoints, resuming after SIGKILL."""

import logging
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.errors import CheckpointError
from gaitcore.models.gaitgan import build_gaitgan, geis_to_gan, load_gaitgan
from gaitcore.training.gaitgan import (
    GaitGANTrainConfig,
    GEIPairSampler,
    discriminator_loss,
    generator_loss,
    identifier_loss,
    make_optimizers,
    train_gaitgan,
    train_step,
)
from tests.training.sigkill import kill_after_first_checkpoint

TINY = GaitGANTrainConfig(width=2, batch_size=4, iterations=6, checkpoint_every=3, log_every=3, seed=3, device="cpu",
                          train_subjects=(1, 3))


def build_store(root: Path) -> Path:
    """Subjects 001-004: nm-01/02 and bg-01 at 0, 90 and 180 degrees, a bar whose place is the subject."""
    rng = np.random.default_rng(0)
    with StoreWriter(root, CASIA_B) as writer:
        for subject in range(1, 5):
            for condition, seq in (("nm", 1), ("nm", 2), ("bg", 1)):
                for view in (0, 90, 180):
                    frames = np.zeros((int(rng.integers(3, 6)), 64, 64), dtype=np.uint8)
                    for t, frame in enumerate(frames):
                        left = 8 * subject + t
                        frame[8:56, left : left + 6 + view // 30] = 255
                    writer.add(SequenceKey(CASIA_B, f"{subject:03d}", condition, seq, view), frames)
    return root


@pytest.fixture(scope="module")
def store_root(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("store") / "casia_b")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------------------------- the triples
def toy_rows():
    rows = [(s, c, q, v) for s in ("001", "002", "003") for c, q in (("nm", 2), ("nm", 1), ("bg", 1)) for v in (0, 90)]
    rows.append(("004", "bg", 1, 90))  # no nm GEI at 90: left out
    return pd.DataFrame(rows, columns=["subject", "condition", "seq", "view"])


def test_sampler_pairs_a_non_side_view_source_with_its_subjects_nm_side_view_gei_and_another_subjects():
    rows = toy_rows()
    geis = np.arange(len(rows), dtype=np.float32)[:, None, None] * np.ones((1, 64, 64), np.float32)
    sampler = GEIPairSampler(geis, rows, seed=0)
    assert sampler.subjects == 3 and sampler.skipped == ["004"]
    source, target, irrelevant = (x[:, 0, 0].astype(int) for x in sampler.sample(200))
    assert (rows.loc[source, "view"] != 90).all()
    assert (rows.loc[target, "condition"] == "nm").all() and (rows.loc[target, "view"] == 90).all()
    assert (rows.loc[target, "seq"] == 1).all()  # the lowest nm sequence, as the original's nm-01
    assert (rows.loc[source, "subject"].to_numpy() == rows.loc[target, "subject"].to_numpy()).all()
    assert (rows.loc[irrelevant, "subject"].to_numpy() != rows.loc[target, "subject"].to_numpy()).all()
    assert len(set(source)) == 9 and len(set(irrelevant)) == 3  # every source and subject gets drawn

    state = sampler.state_dict()
    first = sampler.sample(5)
    sampler.load_state_dict(state)
    for x, y in zip(first, sampler.sample(5), strict=True):
        np.testing.assert_array_equal(x, y)


def test_sampler_needs_two_usable_subjects():
    rows = toy_rows()
    rows = rows[rows["subject"].isin(["001", "004"])]
    with pytest.raises(ValueError, match="at least two subjects"):
        GEIPairSampler(np.zeros((len(rows), 64, 64), np.float32), rows, seed=0)


# ------------------------------------------------------------------------------------- one step
def toy_batch(seed=0, n=6):
    rng = np.random.default_rng(seed)
    return [geis_to_gan(rng.random((n, 64, 64), dtype=np.float32)) for _ in range(3)]


def test_each_networks_step_lowers_its_own_loss_on_the_batch():
    torch.manual_seed(0)
    model = build_gaitgan(4)
    model.train()
    optimizers = make_optimizers(model, replace(TINY, generator_lr=1e-3, discriminator_lr=1e-3))
    source, target, irrelevant = toy_batch()
    with torch.no_grad():
        fake = model.generator(source)
    losses = {
        "discriminator": lambda: discriminator_loss(model, target, irrelevant, fake),
        "identifier": lambda: identifier_loss(model, source, target, irrelevant, fake),
        "generator": lambda: generator_loss(model, source, model.generator(source)),
    }
    for name, loss in losses.items():
        before = loss()
        optimizers[name].zero_grad()
        before.backward()
        optimizers[name].step()
        with torch.no_grad():
            after = loss()
        assert float(after) < float(before.detach()), name


def test_train_step_updates_each_network_and_only_g_in_the_generator_step():
    torch.manual_seed(0)
    model = build_gaitgan(2)
    model.train()
    optimizers = make_optimizers(model, TINY)
    before = {name: [p.detach().clone() for p in net.parameters()] for name, net in model.networks().items()}
    losses = train_step(model, optimizers, *toy_batch())
    assert set(losses) == {"discriminator", "identifier", "generator"} and all(np.isfinite(list(losses.values())))
    for name, net in model.networks().items():
        assert any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters())), name
        assert all(p.requires_grad for p in net.parameters())


def test_training_lowers_the_discriminators_losses_on_a_toy_set(store_root, tmp_path):
    """On four bar-shaped subjects D and A learn fast: their logged losses fall from the first window."""
    config = replace(TINY, width=4, batch_size=8, iterations=30, log_every=5, checkpoint_every=30,
                     discriminator_lr=1e-3, train_subjects=(1, 4))
    train_gaitgan(store_root, tmp_path / "w.pt", tmp_path / "r.pt", config)
    history = load_gaitgan(tmp_path / "w.pt").extra["history"]
    assert history[-1]["discriminator"] < history[0]["discriminator"]
    assert history[-1]["identifier"] < history[0]["identifier"]


# ------------------------------------------------------------------------------------- config
def test_config_rejects_unknown_and_bad_values():
    with pytest.raises(ValueError, match="unknown setting.*bogus"):
        GaitGANTrainConfig.from_mapping({"bogus": 1})
    with pytest.raises(ValueError, match="batch_size"):
        GaitGANTrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="betas"):
        GaitGANTrainConfig(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="device"):
        GaitGANTrainConfig(device="tpu")
    assert GaitGANTrainConfig.from_mapping({"betas": [0.5, 0.9], "train_subjects": [1, 2]}).betas == (0.5, 0.9)


# ------------------------------------------------------------------------------------- checkpoints
TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from dataclasses import replace
    torch.set_num_threads(1)
    from gaitcore.training.gaitgan import GaitGANTrainConfig, train_gaitgan
    from tests.training.test_gaitgan_training import TINY
    store, weights, checkpoint, iterations = sys.argv[1:5]
    train_gaitgan(store, weights, checkpoint, replace(TINY, iterations=int(iterations), checkpoint_every=2))
    """
)


def test_training_killed_with_sigkill_resumes_and_ends_like_an_uninterrupted_run(store_root, tmp_path):
    iterations = 40
    killed = tmp_path / "killed"
    weights, checkpoint = killed / "weights.pt", killed / "resume.pt"
    kill_after_first_checkpoint(TRAIN_SCRIPT, str(store_root), str(weights), str(checkpoint), str(iterations),
                                checkpoint=checkpoint, weights=weights)

    config = replace(TINY, iterations=iterations, checkpoint_every=2)
    resumed = train_gaitgan(store_root, weights, checkpoint, config)
    assert 0 < resumed.resumed_from < iterations and resumed.iterations == iterations

    straight = train_gaitgan(store_root, tmp_path / "s" / "weights.pt", tmp_path / "s" / "resume.pt", config)
    assert straight.resumed_from == 0
    a, b = load_gaitgan(weights), load_gaitgan(tmp_path / "s" / "weights.pt")
    for name, net in a.networks().items():
        other = b.networks()[name].state_dict()
        for key, value in net.state_dict().items():
            assert torch.equal(value, other[key]), f"{name}.{key}"


def test_finished_run_logs_progress_writes_weights_and_extends(store_root, tmp_path, caplog):
    weights, checkpoint = tmp_path / "w.pt", tmp_path / "r.pt"
    with caplog.at_level(logging.INFO, logger="gaitcore.training.gaitgan"):
        result = train_gaitgan(store_root, weights, checkpoint, TINY)
    assert result.iterations == 6 and result.resumed_from == 0 and set(result.losses) == {
        "discriminator", "identifier", "generator"}
    assert "iteration 3/6 loss D" in caplog.text and "iteration 6/6" in caplog.text
    model = load_gaitgan(weights)
    assert model.extra["iterations"] == 6 and [h["iteration"] for h in model.extra["history"]] == [3, 6]
    extended = train_gaitgan(store_root, weights, checkpoint, replace(TINY, iterations=9))
    assert extended.resumed_from == 6 and extended.iterations == 9


def test_damaged_foreign_or_changed_checkpoints_are_checkpoint_errors_naming_the_file(store_root, tmp_path):
    checkpoint = tmp_path / "r.pt"
    train_gaitgan(store_root, tmp_path / "w.pt", checkpoint, TINY)
    with pytest.raises(CheckpointError, match=r"r\.pt.*other settings.*width"):
        train_gaitgan(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, width=3, iterations=9))
    with pytest.raises(CheckpointError, match=r"beyond the 4 iterations.*gaitgan\.train\.iterations"):
        train_gaitgan(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, iterations=4))
    checkpoint.write_bytes(checkpoint.read_bytes()[:200])
    with pytest.raises(CheckpointError, match=r"r\.pt.*cannot read"):
        train_gaitgan(store_root, tmp_path / "w.pt", checkpoint, TINY)
    torch.save({"format": "gaitcore.wgan.checkpoint.v1"}, checkpoint)
    with pytest.raises(CheckpointError, match="not a gaitcore GaitGAN checkpoint"):
        train_gaitgan(store_root, tmp_path / "w.pt", checkpoint, TINY)


def test_missing_training_subjects_name_the_config_key(store_root, tmp_path):
    with pytest.raises(ValueError, match="subjects.casia_b.train"):
        train_gaitgan(store_root, tmp_path / "w.pt", tmp_path / "r.pt", replace(TINY, train_subjects=(50, 60)))
    assert FrameStore(store_root).index["subject"].nunique() == 4
