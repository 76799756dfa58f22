"""The WGAN-GP generator and critic, the frame mappings, the weights file and the realism calibration."""

import numpy as np
import pytest
import torch

from gaitcore.errors import CheckpointError
from gaitcore.models.gaitset import silhouettes_to_input
from gaitcore.models.realism import PlattCalibration, RealismScore, fit_platt, roc_auc
from gaitcore.models.wgan import (
    Critic,
    Generator,
    build_critic,
    build_generator,
    load_wgan,
    parameter_count,
    save_wgan,
    store_to_gan,
    to_gaitset_frames,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_shapes_ranges_and_paper_parameter_counts():
    torch.manual_seed(0)
    g, d = build_generator(dim=4, latent_dim=16), build_critic(dim=4)
    x = g(torch.randn(3, 16))
    assert x.shape == (3, 1, 64, 64) and x.abs().max() < 1
    assert d(x).shape == (3,)
    # igul222's 64x64 "Good" G and D at the paper's width, one channel, V = 128
    assert parameter_count(Generator(64, 128)) == 8_539_329
    assert parameter_count(Critic(64)) == 7_490_689
    with pytest.raises(ValueError, match=r"latents \[N, 16\]"):
        g(torch.randn(3, 8))
    with pytest.raises(ValueError, match=r"frames \[N, 1, 64, 64\]"):
        d(torch.zeros(3, 64, 64))


def test_channels_last_gives_the_same_frames_and_scores():
    torch.manual_seed(0)
    g, d = build_generator(dim=4, latent_dim=16).eval(), build_critic(dim=4)
    z = torch.randn(5, 16)
    x = g(z)
    s = d(x)
    g_cl, d_cl = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
    torch.testing.assert_close(g_cl(z), x, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(d_cl(x), s, atol=1e-4, rtol=1e-4)


def test_critic_scores_each_frame_on_its_own():
    """Layer norm (not batch norm): a frame's score does not depend on the rest of the batch."""
    torch.manual_seed(0)
    d = build_critic(dim=4)
    x = torch.rand(4, 1, 64, 64) * 2 - 1
    torch.testing.assert_close(d(x)[:1], d(x[:1]), atol=1e-5, rtol=1e-5)


def test_generated_frames_map_to_gaitset_input_like_store_frames():
    rng = np.random.default_rng(0)
    frames = (rng.random((2, 3, 64, 64)) < 0.3).astype(np.uint8) * 255
    frames[0, 0, 5, 7] = 128
    gan = store_to_gan(frames)
    assert gan.shape == (2, 3, 1, 64, 64) and gan.min() == -1 and gan.max() == 1
    torch.testing.assert_close(to_gaitset_frames(gan), silhouettes_to_input(frames), atol=1e-6, rtol=0)
    x = torch.zeros(1, 1, 64, 64, requires_grad=True)
    out = to_gaitset_frames(x)
    assert out.shape == (1, 64, 44) and torch.all(out == 0.5)
    out.sum().backward()
    assert torch.all(x.grad[..., 10:54] == 0.5)
    assert torch.all(x.grad[..., :10] == 0) and torch.all(x.grad[..., 54:] == 0)
    with pytest.raises(ValueError, match=r"\[\.\.\., 1, 64, 64\]"):
        to_gaitset_frames(torch.zeros(2, 64, 64))
    read_only = frames[0].copy()
    read_only.flags.writeable = False  # like a memory-mapped store
    torch.testing.assert_close(store_to_gan(read_only), gan[0])


def test_weights_file_round_trip_and_truncation(tmp_path):
    torch.manual_seed(0)
    g, d = build_generator(dim=4, latent_dim=8), build_critic(dim=4)
    cal = fit_platt(np.array([3.0, 4.0]), np.array([0.0, 1.0]))
    path = save_wgan(g, d, tmp_path / "weights.pt", cal, extra={"iterations": 3})
    models = load_wgan(path)
    assert not models.generator.training and not models.critic.training
    assert models.calibration == cal and models.extra == {"iterations": 3}
    z = torch.randn(2, 8)
    torch.testing.assert_close(models.generator(z), g.eval()(z))
    p = models.realism(g(z))
    torch.testing.assert_close(p, torch.sigmoid(cal.slope * d(g(z)) + cal.intercept))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"weights\.pt: cannot read the WGAN weights file.*Fix: rerun"):
        load_wgan(path)
    torch.save({"format": "other"}, path)
    with pytest.raises(CheckpointError, match="not a gaitcore WGAN weights file"):
        load_wgan(path)


# ------------------------------------------------------------------------------- calibration
def test_roc_auc_counts_ties_as_half():
    assert roc_auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert roc_auc(np.array([0.0]), np.array([1.0])) == 0.0
    assert roc_auc(np.array([1.0, 1.0]), np.array([1.0])) == 0.5
    assert roc_auc(np.array([1.0, 3.0]), np.array([2.0])) == 0.5


def test_calibration_recovers_a_known_logistic_map():
    # Scores N(1, 1) for real and N(0, 1) for generated: the true log-odds are s - 0.5.
    rng = np.random.default_rng(0)
    cal = fit_platt(rng.normal(1.0, 1.0, 20000), rng.normal(0.0, 1.0, 20000))
    assert cal.slope == pytest.approx(1.0, abs=0.05) and cal.intercept == pytest.approx(-0.5, abs=0.05)
    assert 0.7 < cal.auc < 0.8


@pytest.mark.parametrize("gap", [5.0, 1e3])
def test_perfectly_separable_scores_give_a_finite_monotonic_separating_map(gap):
    rng = np.random.default_rng(1)
    real, fake = rng.normal(gap, 1.0, 500) + 5, rng.normal(0.0, 1.0, 500)
    cal = fit_platt(real, fake)
    assert cal.auc == 1.0
    assert np.isfinite([cal.slope, cal.intercept]).all() and cal.slope > 0
    grid = np.linspace(fake.min() - 10, real.max() + 10, 1001)
    p = cal.probability(grid)
    assert np.all(np.diff(p) >= 0)  # monotonic
    assert cal.probability(real).min() > 0.5 > cal.probability(fake).max()  # separates
    assert cal.mean_realism_real > 0.95 and cal.mean_realism_fake < 0.05
    # Platt's targets bound the confidence: never beyond what 500 samples support, by much
    assert cal.probability(real).max() < 1 - 1e-12
    # also without the L2 term (targets alone keep the optimum finite) and with only the L2 term
    assert np.isfinite(fit_platt(real, fake, l2=0.0).slope)


def test_constant_scores_give_slope_zero():
    cal = fit_platt(np.ones(8), np.ones(8))
    assert cal.slope == 0.0 and cal.probability(np.array([5.0]))[0] == pytest.approx(0.5)


def test_realism_score_separates_real_frames_from_noise_and_is_differentiable():
    """A toy critic that scores smooth silhouettes above noise; calibrated on held-out frames."""

    class Toy(torch.nn.Module):  # negative total variation: smooth frames score high
        def forward(self, x):
            return -(x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1) * 100

    rng = np.random.default_rng(0)

    def silhouettes(n):
        frames = np.zeros((n, 64, 64), dtype=np.uint8)
        for f in frames:
            top, left = rng.integers(2, 10), rng.integers(15, 35)
            f[top : top + 50, left : left + 12] = 255
        return store_to_gan(frames)

    noise = lambda n: torch.from_numpy(rng.uniform(-1, 1, (n, 1, 64, 64)).astype(np.float32))  # noqa: E731
    critic = Toy()
    with torch.no_grad():
        cal = fit_platt(critic(silhouettes(64)), critic(noise(64)))
    realism = RealismScore(critic, cal.slope, cal.intercept)
    real, fake = silhouettes(32), noise(32)
    assert realism(real).min() > 0.9 and realism(fake).max() < 0.1
    x = fake.clone().requires_grad_(True)
    realism(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert isinstance(PlattCalibration.from_dict(cal.as_dict()), PlattCalibration)
