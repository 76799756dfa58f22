"""GaitGL: size and shapes at paper width, GLConv, short clips, sets of different lengths, training mode and
its weights file. (Equality with OpenGait's forward: tests/models/test_opengait.py.)"""

import pytest
import torch
import torch.nn.functional as F

from gaitcore.errors import CheckpointError
from gaitcore.models import GaitGL, build_gaitgl, load_gaitgl, save_gaitgl
from gaitcore.models.gaitgl import GLConv
from tests.models.walkers import silhouettes

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NARROW = {"channels": (4, 8, 8), "class_num": 5}


@pytest.fixture(scope="module")
def model() -> GaitGL:
    torch.manual_seed(0)
    return GaitGL(**NARROW).eval()


def test_paper_model_has_3096673_parameters_and_maps_sets_to_64_parts():
    # 3-D convolutions (bias-free, 3x3x3 = 27 taps): 1*32*27 = 864; LTA 32*32*3 = 3,072;
    # GLConvA0 2 * 32*64*27 = 110,592; GLConvA1 2 * 64*128*27 = 442,368; GLConvB2 2 * 128*128*27 = 884,736.
    # GeM exponent 1; Head0 64*128*128 = 1,048,576; BatchNorm1d 2*128 = 256; Head1 64*128*74 = 606,208.
    # Total 864 + 3,072 + 110,592 + 442,368 + 884,736 + 1 + 1,048,576 + 256 + 606,208 = 3,096,673.
    model = GaitGL().eval()
    assert sum(p.numel() for p in model.parameters()) == 3_096_673
    assert sum(p.numel() for p in model.parameters()) - model.classifier.weight.numel() == 2_490_465
    assert {k: tuple(b.shape) for k, b in model.named_buffers()} == {
        "bn.running_mean": (128,), "bn.running_var": (128,), "bn.num_batches_tracked": ()}
    assert model.config() == {"channels": [32, 64, 128], "class_num": 74}
    with torch.no_grad():
        embeddings = model(torch.rand(1, 3, 64, 44))
        assert embeddings.shape == (1, 64, 128) and model.classify(embeddings).shape == (1, 64, 74)
    assert build_gaitgl(channels=(8, 16, 16), class_num=3).eval()(torch.rand(2, 4, 64, 44)).shape == (2, 64, 16)


def test_glconv_adds_or_stacks_global_and_per_strip_local_maps():
    torch.manual_seed(1)
    x = torch.randn(1, 2, 3, 16, 5)
    for stack in (False, True):
        layer = GLConv(2, 3, halving=2, stack=stack)
        global_map = F.conv3d(x, layer.global_conv.weight, padding=1)
        local_map = torch.cat([F.conv3d(z, layer.local_conv.weight, padding=1) for z in x.split(4, 3)], 3)
        if stack:
            expected = F.leaky_relu(torch.cat([global_map, local_map], 3), 0.01)
            assert expected.shape == (1, 3, 3, 32, 5)
        else:
            expected = F.leaky_relu(global_map, 0.01) + F.leaky_relu(local_map, 0.01)
        torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-6)


def test_clips_shorter_than_three_frames_are_tiled_in_time(model):
    a, b = silhouettes(2, 5)
    with torch.no_grad():
        assert torch.equal(model(a[None, None]), model(torch.stack([a, a, a])[None]))
        assert torch.equal(model(torch.stack([a, b])[None]), model(torch.stack([a, b, a, b])[None]))


def test_sets_of_different_lengths_equal_one_by_one_bit_for_bit(model):
    lengths = [7, 1, 12, 3]
    sets = [silhouettes(n, seed) for seed, n in enumerate(lengths)]
    with torch.no_grad():
        batched = model(torch.cat(sets), lengths)
        single = torch.cat([model(s.unsqueeze(0)) for s in sets])
        same_length = model(torch.stack([sets[3], sets[3]]))
    assert batched.shape == (4, 64, 8)
    # In eval mode every set runs alone (as in OpenGait's evaluation): the rest of the batch cannot matter.
    assert torch.equal(batched, single) and torch.equal(same_length[0], batched[3])


def test_training_uses_batch_statistics_and_passes_gradients():
    torch.manual_seed(2)
    model = GaitGL(**NARROW).train()
    frames = torch.stack([silhouettes(6, 7), silhouettes(6, 8), silhouettes(6, 9)]).requires_grad_(True)
    out = model(frames)
    (grad,) = torch.autograd.grad(model.classify(out).logsumexp(-1).sum(), frames)
    assert grad.abs().sum() > 0 and int(model.bn.num_batches_tracked) == 1
    # BatchNorm1d over [n, c3, parts]: per channel, zero mean over sets and parts before the affine map.
    normalised = (out.detach() - model.bn.bias) / model.bn.weight.detach()
    torch.testing.assert_close(normalised.mean((0, 1)), torch.zeros(8), rtol=0, atol=1e-5)


def test_bad_arguments_are_refused(model):
    with pytest.raises(ValueError, match="64x44"):
        model(torch.rand(1, 3, 32, 44))
    with pytest.raises(ValueError, match="must be positive"):
        model(torch.rand(3, 64, 44), [3, 0])
    with pytest.raises(ValueError, match="class_num"):
        GaitGL(class_num=0)


def test_weights_round_trip_and_damaged_file(tmp_path, model):
    path = save_gaitgl(model, tmp_path / "gl.pt", extra={"iteration": 80000})
    loaded, extra = load_gaitgl(path)
    assert extra == {"iteration": 80000} and loaded.config() == model.config() and not loaded.training
    frames = silhouettes(4, 3).unsqueeze(0)
    with torch.no_grad():
        assert torch.equal(loaded(frames), model(frames))
    payload = torch.load(path, weights_only=True)
    payload["config"]["class_num"] = 6  # the config no longer fits the weights
    torch.save(payload, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"(?s)other\.pt: weights do not fit the stored architecture.*Fix: "):
        load_gaitgl(tmp_path / "other.pt")
    payload["format"] = "gaitcore.gaitset.weights.v1"
    torch.save(payload, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match=r"foreign\.pt: not a gaitcore GaitGL weights file"):
        load_gaitgl(tmp_path / "foreign.pt")
