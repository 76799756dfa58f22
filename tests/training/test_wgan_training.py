"""WGAN-GP training: the gradient penalty, checkpoints, resuming after SIGKILL, the calibrated weights."""

import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.errors import CheckpointError
from gaitcore.models.wgan import load_wgan
from gaitcore.training.checkpoint import snapshot_path, snapshot_paths
from gaitcore.training.wgan import FrameSampler, WGANTrainConfig, gradient_penalty, train_wgan
from tests.training.sigkill import kill_after_first_checkpoint

TINY = WGANTrainConfig(
    dim=2,
    latent_dim=8,
    batch_size=4,
    critic_steps=2,
    iterations=6,
    checkpoint_every=3,
    log_every=3,
    seed=3,
    device="cpu",
    train_subjects=(1, 3),
    calibration_subjects=(4, 5),
    calibration_real=16,
    calibration_fake=16,
    bn_refresh_batches=2,
    score_batch=8,
)


def build_store(root: Path, subjects: int = 5, values: dict[int, int] | None = None) -> Path:
    """Subjects 001-``subjects``, one walking-bar sequence of 4-7 frames per (condition, view), the
    bar at 255 (or ``values[subject]``)."""
    rng = np.random.default_rng(0)
    with StoreWriter(root, CASIA_B) as writer:
        for subject in range(1, subjects + 1):
            for condition in ("nm", "bg"):
                for view in (0, 90):
                    frames = np.zeros((int(rng.integers(4, 8)), 64, 64), dtype=np.uint8)
                    for t, frame in enumerate(frames):
                        left = 20 + subject + t
                        frame[8:56, left : left + 8 + view // 45] = (values or {}).get(subject, 255)
                    writer.add(SequenceKey(CASIA_B, f"{subject:03d}", condition, 1, view), frames)
    return root


@pytest.fixture(scope="module")
def store_root(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("store") / "casia_b")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------------------- gradient penalty
def test_gradient_penalty_of_a_linear_critic_is_weight_times_squared_norm_gap():
    """D(x) = <w, x> + c has gradient w everywhere: penalty = weight * (||w|| - 1)^2."""
    torch.manual_seed(0)
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 3 * 3, 1))
    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    penalty = gradient_penalty(linear, real, fake, torch.rand(5), weight=10.0)
    norm = float(linear[1].weight.detach().norm())
    assert float(penalty.detach()) == pytest.approx(10.0 * (norm - 1.0) ** 2, rel=1e-5)
    penalty.backward()  # differentiable in the critic's parameters
    w = linear[1].weight
    torch.testing.assert_close(w.grad, 10.0 * 2 * (norm - 1.0) * w.detach() / norm, rtol=1e-5, atol=1e-6)


def test_gradient_penalty_of_a_quadratic_critic_uses_the_interpolates():
    """D(x) = ||x||^2 / 2 has gradient x: the norms are those of alpha * real + (1 - alpha) * fake."""

    class Quadratic(torch.nn.Module):
        def forward(self, x):
            return 0.5 * (x**2).flatten(1).sum(1)

    real = torch.tensor([[[3.0, 0.0]], [[0.0, 0.0]]])  # [2, 1, 2]
    fake = torch.tensor([[[0.0, 0.0]], [[0.0, 4.0]]])
    alpha = torch.tensor([0.5, 0.25])
    # interpolates (1.5, 0) and (0, 3): norms 1.5 and 3
    expected = 10.0 * ((1.5 - 1.0) ** 2 + (3.0 - 1.0) ** 2) / 2
    assert float(gradient_penalty(Quadratic(), real, fake, alpha, 10.0).detach()) == pytest.approx(expected)


def test_frame_sampler_draws_only_the_given_rows_and_replays(store_root):
    store = FrameStore(store_root)
    rows = store.select(subjects=["002"])
    own = np.concatenate([store.sequence(r) for r in rows.index])
    sampler = FrameSampler(store, rows, seed=1)
    state = sampler.state_dict()
    frames = sampler.sample(50)
    assert frames.shape == (50, 64, 64)
    assert all((own == f).all(axis=(1, 2)).any() for f in frames)
    sampler.load_state_dict(state)
    assert np.array_equal(sampler.sample(50), frames)


def test_config_rejects_unknown_and_bad_values():
    with pytest.raises(ValueError, match=r"unknown setting.*'lr'"):
        WGANTrainConfig.from_mapping({"lr": 1e-4})
    with pytest.raises(ValueError, match="critic_steps"):
        WGANTrainConfig(critic_steps=0)
    with pytest.raises(ValueError, match="betas"):
        WGANTrainConfig(betas=(0.0, 1.0))
    assert WGANTrainConfig.from_mapping({"betas": [0, 0.9]}).betas == (0.0, 0.9)


# ------------------------------------------------------------------------------- training runs
TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from dataclasses import replace
    from gaitcore.training.wgan import train_wgan
    from tests.training.test_wgan_training import TINY
    torch.set_num_threads(1)
    train_wgan(sys.argv[1], sys.argv[2], sys.argv[3], replace(TINY, iterations=int(sys.argv[4]), checkpoint_every=2))
    """
)


def test_training_killed_with_sigkill_resumes_and_ends_like_an_uninterrupted_run(store_root, tmp_path):
    iterations = 8
    killed = tmp_path / "killed"
    weights, checkpoint = killed / "weights.pt", killed / "resume.pt"
    kill_after_first_checkpoint(TRAIN_SCRIPT, str(store_root), str(weights), str(checkpoint), str(iterations),
                                checkpoint=checkpoint, weights=weights)

    config = replace(TINY, iterations=iterations, checkpoint_every=2)
    resumed = train_wgan(store_root, weights, checkpoint, config)
    assert 0 < resumed.resumed_from < iterations and resumed.iterations == iterations

    straight = train_wgan(store_root, tmp_path / "straight" / "weights.pt", tmp_path / "straight" / "resume.pt", config)
    assert straight.resumed_from == 0
    a, b = load_wgan(weights), load_wgan(tmp_path / "straight" / "weights.pt")
    for net in ("generator", "critic"):
        sa, sb = getattr(a, net).state_dict(), getattr(b, net).state_dict()
        for name in sa:
            assert torch.equal(sa[name], sb[name]), f"{net}.{name}"
    assert a.calibration == b.calibration
    assert [h["iteration"] for h in a.extra["history"]] == [h["iteration"] for h in b.extra["history"]]


def test_finished_run_writes_calibrated_weights_logs_progress_and_extends(store_root, tmp_path, caplog):
    caplog.set_level("INFO", logger="gaitcore.training.wgan")
    first = train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", TINY)
    assert first.iterations == 6 and first.resumed_from == 0 and first.seconds_per_iteration > 0
    text = caplog.text
    assert "iteration 3/6 critic cost" in text and "wasserstein" in text and "it/s" in text
    assert "realism calibration on 16 held-out real and 16 generated frames" in text
    models = load_wgan(tmp_path / "w.pt")
    cal = models.calibration
    assert cal is not None and np.isfinite([cal.slope, cal.intercept]).all()
    assert models.extra["iterations"] == 6 and len(models.extra["history"]) == 2
    frames = models.generator(torch.randn(3, 8))
    assert frames.shape == (3, 1, 64, 64)
    p = models.realism(frames)
    assert p.shape == (3,) and bool(((p > 0) & (p < 1)).all())

    more = train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", replace(TINY, iterations=8))
    assert more.resumed_from == 6 and more.iterations == 8
    with pytest.raises(CheckpointError, match="beyond the 4 iterations configured"):
        train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", replace(TINY, iterations=4))


def test_damaged_or_foreign_checkpoint_is_a_checkpoint_error_naming_the_file(store_root, tmp_path):
    checkpoint = tmp_path / "resume.pt"
    train_wgan(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, iterations=1))
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"resume\.pt: cannot read the WGAN training checkpoint.*Fix: delete it"):
        train_wgan(store_root, tmp_path / "w.pt", checkpoint, TINY)

    checkpoint.write_bytes(data)
    with pytest.raises(CheckpointError, match=r"resume\.pt: was written by a training run with other settings "
                                              r"\(gp_weight: 10.0 -> 5.0\)"):
        train_wgan(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, gp_weight=5.0))

    torch.save({"generator": {}}, checkpoint)
    with pytest.raises(CheckpointError, match="not a gaitcore WGAN checkpoint"):
        train_wgan(store_root, tmp_path / "w.pt", checkpoint, TINY)


def test_missing_training_subjects_name_the_config_key(store_root, tmp_path):
    with pytest.raises(ValueError, match="check subjects.casia_b.train"):
        train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", replace(TINY, train_subjects=(50, 60)))


# ------------------------------------------------------------------------------- levers (issue 23)
def _same_weights(a_path: Path, b_path: Path) -> None:
    a, b = load_wgan(a_path), load_wgan(b_path)
    for net in ("generator", "critic"):
        sa, sb = getattr(a, net).state_dict(), getattr(b, net).state_dict()
        assert sa.keys() == sb.keys()
        for name in sa:
            assert torch.equal(sa[name], sb[name]), f"{net}.{name}"
    assert a.calibration == b.calibration


SNAPSHOT_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from dataclasses import replace
    from gaitcore.training.wgan import train_wgan
    from tests.training.test_wgan_training import TINY
    torch.set_num_threads(1)
    config = replace(TINY, iterations=6, checkpoint_every=2, snapshots=(2, 4))
    train_wgan(sys.argv[1], sys.argv[2], sys.argv[3], config, snapshot_dir=sys.argv[4])
    """
)


def test_a_snapshot_is_the_weights_file_of_a_run_that_long_and_survives_a_resume(store_root, tmp_path):
    config = replace(TINY, iterations=6, checkpoint_every=2, snapshots=(2, 4))
    # killed after its first checkpoint (which holds the first snapshot), then resumed
    kill_after_first_checkpoint(SNAPSHOT_SCRIPT, str(store_root), str(tmp_path / "w.pt"), str(tmp_path / "c.pt"),
                                str(tmp_path / "s"), checkpoint=tmp_path / "c.pt", weights=tmp_path / "w.pt")
    assert train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", config,
                      snapshot_dir=tmp_path / "s").resumed_from > 0
    assert snapshot_paths(tmp_path / "s") == [snapshot_path(tmp_path / "s", i) for i in (2, 4)]
    for at in (2, 4):
        short = replace(TINY, iterations=at, checkpoint_every=2)
        train_wgan(store_root, tmp_path / f"w{at}.pt", tmp_path / f"c{at}.pt", short)
        _same_weights(snapshot_path(tmp_path / "s", at), tmp_path / f"w{at}.pt")
        assert load_wgan(snapshot_path(tmp_path / "s", at)).extra["iterations"] == at
    # the snapshots do not change the final weights
    train_wgan(store_root, tmp_path / "plain.pt", tmp_path / "plain_c.pt", replace(config, snapshots=()))
    _same_weights(tmp_path / "w.pt", tmp_path / "plain.pt")


def test_the_paper_recipe_is_unchanged_and_each_lever_changes_the_weights(store_root, tmp_path):
    train_wgan(store_root, tmp_path / "paper.pt", tmp_path / "paper_c.pt", TINY)
    explicit = replace(TINY, augment="none", critic_learning_rate=TINY.learning_rate)
    train_wgan(store_root, tmp_path / "explicit.pt", tmp_path / "explicit_c.pt", explicit)
    _same_weights(tmp_path / "paper.pt", tmp_path / "explicit.pt")
    paper = load_wgan(tmp_path / "paper.pt").critic.state_dict()
    for name, lever in {"translation": {"augment": "translation"},
                        "cutout": {"augment": "translation_cutout"},
                        "ttur": {"critic_learning_rate": 4 * TINY.learning_rate},
                        "bf16": {"dtype": "bfloat16"}}.items():
        train_wgan(store_root, tmp_path / f"{name}.pt", tmp_path / f"{name}_c.pt", replace(TINY, **lever))
        changed = load_wgan(tmp_path / f"{name}.pt").critic.state_dict()
        assert any(not torch.equal(paper[k], changed[k]) for k in paper), name
    # an augmented run is reproducible
    train_wgan(store_root, tmp_path / "again.pt", tmp_path / "again_c.pt", replace(TINY, augment="translation_cutout"))
    _same_weights(tmp_path / "cutout.pt", tmp_path / "again.pt")
    # bfloat16 autocast: reproducible, and the weights stay float32
    train_wgan(store_root, tmp_path / "bf16_again.pt", tmp_path / "bf16_again_c.pt", replace(TINY, dtype="bfloat16"))
    _same_weights(tmp_path / "bf16.pt", tmp_path / "bf16_again.pt")
    assert all(v.dtype == torch.float32 for v in load_wgan(tmp_path / "bf16.pt").generator.state_dict().values()
               if v.is_floating_point())


def test_a_checkpoint_from_before_the_levers_resumes(store_root, tmp_path):
    train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", replace(TINY, iterations=3))
    payload = torch.load(tmp_path / "c.pt", weights_only=True)
    for key in ("critic_learning_rate", "augment", "snapshots", "dtype"):
        del payload["config"][key]
    del payload["snapshots"]
    torch.save(payload, tmp_path / "c.pt")
    assert train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", TINY).resumed_from == 3
    with pytest.raises(CheckpointError, match="augment: 'none' -> 'translation'"):
        train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", replace(TINY, augment="translation",
                                                                           iterations=8))
    with pytest.raises(CheckpointError, match="dtype: 'float32' -> 'bfloat16'"):
        train_wgan(store_root, tmp_path / "w.pt", tmp_path / "c.pt", replace(TINY, dtype="bfloat16", iterations=8))


def test_lever_settings_are_checked():
    with pytest.raises(ValueError, match="augment must be one of none, translation, translation_cutout"):
        replace(TINY, augment="flip")
    with pytest.raises(ValueError, match="wgan training: dtype must be one of float32, bfloat16, got 'float16'"):
        replace(TINY, dtype="float16")
    with pytest.raises(ValueError, match="critic_learning_rate must be positive"):
        replace(TINY, critic_learning_rate=0.0)
    with pytest.raises(ValueError, match=r"snapshots \[6\] must lie between 1 and iterations - 1 = 5"):
        replace(TINY, snapshots=(6,))
