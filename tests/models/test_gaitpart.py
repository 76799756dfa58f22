"""GaitPart: size and shapes at paper width, focal convolutions, the micro-motion capture module, sets of
different lengths, and its weights file. (Equality with OpenGait's forward: tests/models/test_opengait.py.)"""

import pytest
import torch
import torch.nn.functional as F

from gaitcore.errors import CheckpointError
from gaitcore.models import GaitPart, build_gaitpart, load_gaitpart, save_gaitpart
from gaitcore.models.gaitpart import FocalConv2d, MicroMotionCapture
from tests.models.walkers import silhouettes

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NARROW = {"channels": (8, 16, 16), "hidden_dim": 12}


@pytest.fixture(scope="module")
def model() -> GaitPart:
    torch.manual_seed(0)
    return GaitPart(**NARROW).eval()


def test_paper_model_has_1204000_parameters_and_maps_sets_to_16_parts():
    # Frame CNN (bias-free): 1*32*5*5 + 32*32*9 + 32*64*9 + 64*64*9 + 64*128*9 + 128*128*9
    #   = 800 + 9,216 + 18,432 + 36,864 + 73,728 + 147,456 = 286,496.
    # MCM, per part: MTB1 128*32*3 + 32*128*1 = 16,384; MTB2 128*32*3 + 32*128*3 = 24,576; x16 parts = 655,360.
    # Separate FCs: 16 * 128 * 128 = 262,144.  Total 286,496 + 655,360 + 262,144 = 1,204,000.
    model = GaitPart()
    assert sum(p.numel() for p in model.parameters()) == 1_204_000
    assert not list(model.buffers())
    assert model.config() == {"channels": [32, 64, 128], "hidden_dim": 128, "parts": 16}
    with torch.no_grad():
        assert model.eval()(torch.rand(2, 3, 64, 44)).shape == (2, 16, 128)
    assert build_gaitpart(channels=(16, 32, 64), hidden_dim=32, parts=8).eval()(torch.rand(1, 2, 64, 44)).shape == (
        1, 8, 32)


def test_focal_convolution_convolves_each_strip_on_its_own():
    torch.manual_seed(1)
    conv = FocalConv2d(3, 5, halving=2)
    x = torch.randn(2, 3, 16, 7)
    expected = torch.cat([F.conv2d(strip, conv.conv.weight, padding=1) for strip in x.split(4, 2)], 2)
    torch.testing.assert_close(conv(x), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="divisible"):
        conv(torch.randn(1, 3, 10, 7))


def test_micro_motion_capture_is_per_part_templates_times_attention_then_max_over_time():
    torch.manual_seed(2)
    mcm = MicroMotionCapture(channels=8, parts=3)
    x = torch.randn(2, 3, 8, 6)  # [n, parts, C, T]
    expected = []
    for p in range(3):
        f = x[:, p]
        out = 0
        for mtb, window in ((mcm.mtb1, 3), (mcm.mtb2, 5)):
            k = mtb.attention_out.shape[-1]
            hidden = F.leaky_relu(F.conv1d(f, mtb.attention_hidden[p], padding=1), 0.01)
            score = torch.sigmoid(F.conv1d(hidden, mtb.attention_out[p], padding=k // 2))
            out = out + (F.avg_pool1d(f, window, 1, window // 2) + F.max_pool1d(f, window, 1, window // 2)) * score
        expected.append(out.max(-1).values)
    torch.testing.assert_close(mcm(x), torch.stack(expected, 1), rtol=1e-5, atol=1e-6)
    # The template's sliding mean counts the zero padding (AvgPool1d's default), its max does not: with the
    # attention at sigmoid(0) = 1/2, three frames of ones give ((2/3 + 1) / 2, (1 + 1) / 2, (2/3 + 1) / 2).
    with torch.no_grad():
        mcm.mtb1.attention_out.zero_()
        out = mcm.mtb1(torch.ones(1, 3, 8, 3))
    torch.testing.assert_close(out, torch.tensor([5 / 6, 1.0, 5 / 6]).expand(1, 3, 8, 3))


def test_sets_of_different_lengths_equal_one_by_one_and_ignore_the_rest_of_the_batch(model):
    lengths = [7, 1, 12, 3]
    sets = [silhouettes(n, seed) for seed, n in enumerate(lengths)]
    with torch.no_grad():
        batched = model(torch.cat(sets), lengths)
        single = torch.cat([model(s.unsqueeze(0)) for s in sets])
        same_length = model(torch.stack([sets[2], sets[2]]))
    assert batched.shape == (4, 16, 12)
    # The TFA and the FCs run set by set in eval mode; the frame CNN is batch-invariant up to oneDNN's
    # kernel choice (bit-identical on the machines tried).
    torch.testing.assert_close(batched, single, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(same_length[0], batched[2], rtol=1e-6, atol=1e-7)
    assert torch.equal(same_length[0], same_length[1])


def test_training_batches_sets_of_one_length_and_passes_gradients(model):
    frames = torch.stack([silhouettes(4, 20), silhouettes(4, 21)]).requires_grad_(True)
    model.train()
    try:
        out = model(frames)
        (grad,) = torch.autograd.grad(out.square().sum(), frames)
    finally:
        model.eval()
    with torch.no_grad():
        torch.testing.assert_close(out.detach(), model(frames), rtol=1e-5, atol=1e-6)
    assert grad.abs().sum() > 0


def test_bad_arguments_are_refused(model):
    with pytest.raises(ValueError, match="64x44"):
        model(torch.rand(1, 2, 64, 64))
    with pytest.raises(ValueError, match="sum to"):
        model(torch.rand(5, 64, 44), [2, 2])
    with pytest.raises(ValueError, match="parts must divide"):
        GaitPart(parts=5)


def test_weights_round_trip_and_damaged_file(tmp_path, model):
    path = save_gaitpart(model, tmp_path / "gp.pt", extra={"rank1": 0.9})
    loaded, extra = load_gaitpart(path)
    assert extra == {"rank1": 0.9} and loaded.config() == model.config() and not loaded.training
    frames = silhouettes(5, 3).unsqueeze(0)
    with torch.no_grad():
        assert torch.equal(loaded(frames), model(frames))
    payload = torch.load(path, weights_only=True)
    payload["config"]["hidden_dim"] = 13  # the config no longer fits the weights
    torch.save(payload, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"(?s)other\.pt: weights do not fit the stored architecture.*Fix: point"):
        load_gaitpart(tmp_path / "other.pt")
    payload["config"]["parts"] = 5
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match=r"bad\.pt: the stored GaitPart config .* is invalid"):
        load_gaitpart(tmp_path / "bad.pt")
    (tmp_path / "cut.pt").write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"cut\.pt: cannot read the GaitPart weights file"):
        load_gaitpart(tmp_path / "cut.pt")
