"""OpenGait checkpoints: names and shapes as OpenGait defines them, mapped onto gaitcore's GaitSet, GaitPart
and GaitGL, features equal to a naive forward written on the OpenGait-named tensors, and refusals.

The tables below are written from OpenGait's definitions (opengait/modeling/models/{gaitset,gaitpart,
gaitgl}.py, modeling/modules.py, modeling/backbones/plain.py and the CASIA-B configs), not from gaitcore.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from gaitcore.errors import CheckpointError
from gaitcore.models import GaitGL, GaitPart, GaitSet, load_opengait, map_opengait_state_dict
from gaitcore.models.opengait import gaitset_part_order, model_from_opengait_state_dict
from tests.models.walkers import silhouettes as walker_silhouettes

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SLOPE = 0.01  # nn.LeakyReLU() / F.leaky_relu default


# ----------------------------------------------------------------------------- OpenGait's names and shapes
def opengait_gaitset_shapes(c1, c2, c3, hidden):
    """GaitSet: set_blockK = SetBlockWrapper(Sequential(BasicConv2d, LeakyReLU, BasicConv2d, LeakyReLU[, MaxPool]))
    (.forward_block.0/.2.conv), gl_block2/3 = deepcopies of the unwrapped Sequentials, Head = SeparateFCs(62, c3,
    hidden); HorizontalPoolingPyramid and PackSequenceWrapper(torch.max) hold no tensors."""
    return {
        "set_block1.forward_block.0.conv.weight": (c1, 1, 5, 5),
        "set_block1.forward_block.2.conv.weight": (c1, c1, 3, 3),
        "set_block2.forward_block.0.conv.weight": (c2, c1, 3, 3),
        "set_block2.forward_block.2.conv.weight": (c2, c2, 3, 3),
        "set_block3.forward_block.0.conv.weight": (c3, c2, 3, 3),
        "set_block3.forward_block.2.conv.weight": (c3, c3, 3, 3),
        "gl_block2.0.conv.weight": (c2, c1, 3, 3),
        "gl_block2.2.conv.weight": (c2, c2, 3, 3),
        "gl_block3.0.conv.weight": (c3, c2, 3, 3),
        "gl_block3.2.conv.weight": (c3, c3, 3, 3),
        "Head.fc_bin": (62, c3, hidden),
    }


def opengait_gaitpart_shapes(c1, c2, c3, hidden, parts=16):
    """GaitPart: Backbone = SetBlockWrapper(Plain) whose `feature` Sequential is [BC, LReLU, BC, LReLU, M, FC, LReLU,
    FC, LReLU, M, FC, LReLU, FC, LReLU] (convs at 0, 2, 5, 7, 10, 12); TFA = PackSequenceWrapper(TemporalFeature-
    Aggregator) with clones(Sequential(BasicConv1d, LeakyReLU, BasicConv1d), 16) per MTB; Head = SeparateFCs."""
    shapes = {
        "Backbone.forward_block.feature.0.conv.weight": (c1, 1, 5, 5),
        "Backbone.forward_block.feature.2.conv.weight": (c1, c1, 3, 3),
        "Backbone.forward_block.feature.5.conv.weight": (c2, c1, 3, 3),
        "Backbone.forward_block.feature.7.conv.weight": (c2, c2, 3, 3),
        "Backbone.forward_block.feature.10.conv.weight": (c3, c2, 3, 3),
        "Backbone.forward_block.feature.12.conv.weight": (c3, c3, 3, 3),
    }
    for part in range(parts):
        shapes[f"TFA.pooling_func.conv1d3x1.{part}.0.conv.weight"] = (c3 // 4, c3, 3)
        shapes[f"TFA.pooling_func.conv1d3x1.{part}.2.conv.weight"] = (c3, c3 // 4, 1)
        shapes[f"TFA.pooling_func.conv1d3x3.{part}.0.conv.weight"] = (c3 // 4, c3, 3)
        shapes[f"TFA.pooling_func.conv1d3x3.{part}.2.conv.weight"] = (c3, c3 // 4, 3)
    shapes["Head.fc_bin"] = (parts, c3, hidden)
    return shapes


def opengait_gaitgl_shapes(c1, c2, c3, classes):
    """GaitGL (CASIA-B branch): conv3d/LTA = Sequential(BasicConv3d, LeakyReLU) (.0.conv3d), GLConvA0/A1/B2 with
    global_conv3d/local_conv3d BasicConv3d, HPP = GeMHPP (p), Head0 = SeparateFCs(64, c3, c3), Bn = BatchNorm1d(c3),
    Head1 = SeparateFCs(64, c3, class_num); TP and MaxPool0 hold no tensors."""
    return {
        "conv3d.0.conv3d.weight": (c1, 1, 3, 3, 3),
        "LTA.0.conv3d.weight": (c1, c1, 3, 1, 1),
        "GLConvA0.global_conv3d.conv3d.weight": (c2, c1, 3, 3, 3),
        "GLConvA0.local_conv3d.conv3d.weight": (c2, c1, 3, 3, 3),
        "GLConvA1.global_conv3d.conv3d.weight": (c3, c2, 3, 3, 3),
        "GLConvA1.local_conv3d.conv3d.weight": (c3, c2, 3, 3, 3),
        "GLConvB2.global_conv3d.conv3d.weight": (c3, c3, 3, 3, 3),
        "GLConvB2.local_conv3d.conv3d.weight": (c3, c3, 3, 3, 3),
        "HPP.p": (1,),
        "Head0.fc_bin": (64, c3, c3),
        "Bn.weight": (c3,),
        "Bn.bias": (c3,),
        "Bn.running_mean": (c3,),
        "Bn.running_var": (c3,),
        "Bn.num_batches_tracked": (),
        "Head1.fc_bin": (64, c3, classes),
    }


TABLES = {
    "GaitSet": (opengait_gaitset_shapes, {"paper": (32, 64, 128, 256), "narrow": (8, 16, 16, 12)}),
    "GaitPart": (opengait_gaitpart_shapes, {"paper": (32, 64, 128, 128), "narrow": (8, 16, 16, 12)}),
    "GaitGL": (opengait_gaitgl_shapes, {"paper": (32, 64, 128, 74), "narrow": (4, 8, 8, 5)}),
}
CLASSES = {"GaitSet": GaitSet, "GaitPart": GaitPart, "GaitGL": GaitGL}


def random_state(shapes, seed):
    """Random tensors under OpenGait's names: weights ~ N(0, 1 / fan_in), batch-norm statistics plausible."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in shapes.items():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(1234, dtype=torch.long)
        elif name == "HPP.p":
            state[name] = 6.5 + 0.1 * torch.rand(shape, generator=gen)
        elif name.endswith("running_var"):
            state[name] = 0.5 + torch.rand(shape, generator=gen)
        elif name.endswith("Bn.weight"):
            state[name] = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif len(shape) == 1:
            state[name] = 0.1 * torch.randn(shape, generator=gen)
        else:
            state[name] = torch.randn(shape, generator=gen) / math.sqrt(math.prod(shape[1:]))
    return state


def opengait_state(arch, width="narrow", seed=0):
    table, widths = TABLES[arch]
    return random_state(table(*widths[width]), seed)


def silhouettes(frames, seed):
    return walker_silhouettes(frames, seed, noise=0.05)


def lrelu(x):
    return F.leaky_relu(x, SLOPE)


# ----------------------------------------------------------------------------- naive references (OpenGait forward)
def reference_gaitset(sd, frames):
    """OpenGait GaitSet on one set ``[T, 64, 44]`` -> ``[1, hidden, 62]`` (its [n, c, p] layout)."""
    def block(x, prefix, pool):
        x = lrelu(F.conv2d(x, sd[f"{prefix}.0.conv.weight"], padding=sd[f"{prefix}.0.conv.weight"].shape[-1] // 2))
        x = lrelu(F.conv2d(x, sd[f"{prefix}.2.conv.weight"], padding=1))
        return F.max_pool2d(x, 2, 2) if pool else x

    def hpp(z):
        n, c = z.shape[:2]
        return torch.cat([(v.mean(-1) + v.max(-1)[0]) for v in (z.view(n, c, b, -1) for b in (16, 8, 4, 2, 1))], -1)

    outs = block(frames.unsqueeze(1), "set_block1.forward_block", True)
    gl = block(outs.max(0, keepdim=True)[0], "gl_block2", True)
    outs = block(outs, "set_block2.forward_block", True)
    gl = block(gl + outs.max(0, keepdim=True)[0], "gl_block3", False)
    outs = block(outs, "set_block3.forward_block", False).max(0, keepdim=True)[0]
    gl = gl + outs
    feature = torch.cat([hpp(outs), hpp(gl)], -1)
    return feature.permute(2, 0, 1).matmul(sd["Head.fc_bin"]).permute(1, 2, 0)


def reference_gaitpart(sd, frames):
    """OpenGait GaitPart on one set ``[T, 64, 44]`` -> ``[1, hidden, 16]``."""
    def conv(x, index, halving=0, padding=1):
        weight = sd[f"Backbone.forward_block.feature.{index}.conv.weight"]
        if halving == 0:
            return F.conv2d(x, weight, padding=padding)
        return torch.cat([F.conv2d(z, weight, padding=1) for z in x.split(x.size(2) // 2**halving, 2)], 2)

    x = lrelu(conv(frames.unsqueeze(1), 0, padding=2))
    x = F.max_pool2d(lrelu(conv(x, 2)), 2, 2)
    x = F.max_pool2d(lrelu(conv(lrelu(conv(x, 5, 2)), 7, 2)), 2, 2)
    x = lrelu(conv(lrelu(conv(x, 10, 3)), 12, 3))  # [T, c, 16, 11]
    t, c = x.shape[:2]
    z = x.view(t, c, 16, -1)
    seq = (z.mean(-1) + z.max(-1)[0]).permute(1, 0, 2).unsqueeze(0)  # [1, c, T, p]
    pooled = []
    for part in range(seq.shape[-1]):
        f = seq[..., part]  # [1, c, T]
        tfa = "TFA.pooling_func"
        h = lrelu(F.conv1d(f, sd[f"{tfa}.conv1d3x1.{part}.0.conv.weight"], padding=1))
        mtb1 = (F.avg_pool1d(f, 3, 1, 1) + F.max_pool1d(f, 3, 1, 1)) * torch.sigmoid(
            F.conv1d(h, sd[f"{tfa}.conv1d3x1.{part}.2.conv.weight"]))
        h = lrelu(F.conv1d(f, sd[f"{tfa}.conv1d3x3.{part}.0.conv.weight"], padding=1))
        mtb2 = (F.avg_pool1d(f, 5, 1, 2) + F.max_pool1d(f, 5, 1, 2)) * torch.sigmoid(
            F.conv1d(h, sd[f"{tfa}.conv1d3x3.{part}.2.conv.weight"], padding=1))
        pooled.append((mtb1 + mtb2).max(-1)[0])
    feature = torch.stack(pooled, -1)  # [1, c, p]
    return feature.permute(2, 0, 1).matmul(sd["Head.fc_bin"]).permute(1, 2, 0)


def reference_gaitgl(sd, frames):
    """OpenGait GaitGL (CASIA-B, eval) on one set ``[T, 64, 44]`` -> embeddings ``[1, c3, 64]``, logits."""
    def glconv(x, name, fm_sign):
        gob = F.conv3d(x, sd[f"{name}.global_conv3d.conv3d.weight"], padding=1)
        lcl = torch.cat([F.conv3d(z, sd[f"{name}.local_conv3d.conv3d.weight"], padding=1)
                         for z in x.split(x.size(3) // 2**3, 3)], 3)
        return lrelu(torch.cat([gob, lcl], 3)) if fm_sign else lrelu(gob) + lrelu(lcl)

    x = frames[None, None]
    if x.size(2) < 3:
        x = x.repeat(1, 1, 3 if x.size(2) == 1 else 2, 1, 1)
    x = lrelu(F.conv3d(x, sd["conv3d.0.conv3d.weight"], padding=1))
    x = lrelu(F.conv3d(x, sd["LTA.0.conv3d.weight"], stride=(3, 1, 1)))
    x = F.max_pool3d(glconv(x, "GLConvA0", False), (1, 2, 2), (1, 2, 2))
    x = glconv(glconv(x, "GLConvA1", False), "GLConvB2", True)
    x = x.max(2)[0]
    n, c = x.shape[:2]
    z = x.view(n, c, 64, -1)
    p = sd["HPP.p"]
    z = F.avg_pool2d(z.clamp(min=1e-6).pow(p), (1, z.size(-1))).pow(1.0 / p).squeeze(-1)
    gait = z.permute(2, 0, 1).matmul(sd["Head0.fc_bin"]).permute(1, 2, 0)
    bnft = F.batch_norm(gait, sd["Bn.running_mean"], sd["Bn.running_var"], sd["Bn.weight"], sd["Bn.bias"],
                        False, 0.1, 1e-5)
    logits = bnft.permute(2, 0, 1).matmul(sd["Head1.fc_bin"]).permute(1, 2, 0)
    return bnft, logits


def opengait_order_of_gaitcore_parts():
    """Written independently of gaitcore: label every strip (bins, branch, strip) in both orders."""
    ours = [(b, branch, s) for b in (1, 2, 4, 8, 16) for branch in ("main", "gl") for s in range(b)]
    theirs = [(b, branch, s) for branch in ("main", "gl") for b in (16, 8, 4, 2, 1) for s in range(b)]
    return [theirs.index(label) for label in ours]


# ----------------------------------------------------------------------------- mapping at paper width
@pytest.mark.parametrize("arch", ["GaitSet", "GaitPart", "GaitGL"])
def test_paper_width_state_dict_is_consumed_whole_and_sets_every_tensor(arch):
    sd = opengait_state(arch, "paper", seed=1)
    config, mapped = map_opengait_state_dict(sd, arch)
    model = CLASSES[arch](**config)
    assert config == CLASSES[arch]().config()  # paper widths read back from the shapes
    assert set(mapped) == set(model.state_dict())  # every gaitcore parameter and buffer set
    model.load_state_dict(mapped)
    # Every OpenGait tensor used exactly once: the multisets of values coincide (random values, so a
    # dropped or duplicated tensor would show), and so do the element counts.
    def values(state):
        return torch.sort(torch.cat([t.detach().double().flatten() for t in state.values()])).values

    assert sum(t.numel() for t in sd.values()) == sum(t.numel() for t in model.state_dict().values())
    assert torch.equal(values(sd), values(model.state_dict()))


def test_gaitset_part_order_matches_opengaits_hpp_layout():
    order = gaitset_part_order()
    assert list(order) == opengait_order_of_gaitcore_parts()
    assert sorted(order) == list(range(62)) and order[:4] == (30, 61, 28, 29)  # 1 strip main, global; 2 strips main


# ----------------------------------------------------------------------------- features equal the naive forward
@pytest.fixture(scope="module")
def sets():
    return [silhouettes(n, 10 + n) for n in (5, 1, 3)]


def test_gaitset_features_equal_opengait_up_to_the_part_permutation(sets):
    sd = opengait_state("GaitSet", seed=2)
    model = model_from_opengait_state_dict(sd, "GaitSet")
    with torch.no_grad():
        ours = model(torch.cat(sets), [len(s) for s in sets])  # [n, 62, hidden]
        ref = torch.cat([reference_gaitset(sd, s) for s in sets])  # [n, hidden, 62]
    perm = opengait_order_of_gaitcore_parts()
    torch.testing.assert_close(ours, ref.transpose(1, 2)[:, perm], rtol=1e-5, atol=1e-6)
    # Distances over all parts ignore the part order: rank-1 matching is the same.
    torch.testing.assert_close(torch.cdist(ours.flatten(1), ours.flatten(1)),
                               torch.cdist(ref.flatten(1), ref.flatten(1)), rtol=1e-4, atol=1e-4)


def test_gaitpart_features_equal_opengait(sets):
    sd = opengait_state("GaitPart", seed=3)
    model = model_from_opengait_state_dict(sd, "GaitPart")
    with torch.no_grad():
        ours = model(torch.cat(sets), [len(s) for s in sets])
        ref = torch.cat([reference_gaitpart(sd, s) for s in sets])
    assert ours.shape == (3, 16, 12)
    torch.testing.assert_close(ours, ref.transpose(1, 2), rtol=1e-5, atol=1e-6)


def test_gaitgl_embeddings_and_logits_equal_opengait():
    sd = opengait_state("GaitGL", seed=4)
    model = model_from_opengait_state_dict(sd, "GaitGL")
    clips = [silhouettes(n, 20 + n) for n in (4, 1, 2)]  # 1 and 2 frames: OpenGait tiles them in time
    with torch.no_grad():
        ours = model(torch.cat(clips), [len(c) for c in clips])
        refs = [reference_gaitgl(sd, c) for c in clips]
        logits = model.classify(ours)
    assert ours.shape == (3, 64, 8) and logits.shape == (3, 64, 5)
    torch.testing.assert_close(ours, torch.cat([r[0] for r in refs]).transpose(1, 2), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(logits, torch.cat([r[1] for r in refs]).transpose(1, 2), rtol=1e-5, atol=1e-6)
    assert int(model.bn.num_batches_tracked) == 1234


@pytest.mark.parametrize("arch", ["GaitSet", "GaitPart", "GaitGL"])
def test_checkpoint_file_round_trip(tmp_path, arch, sets):
    sd = opengait_state(arch, seed=5)
    param = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.Adam([param], lr=1e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[10, 20])  # milestones: a Counter
    path = tmp_path / f"{arch}-00001.pt"
    torch.save({"model": sd, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "iteration": 1}, path)
    model = load_opengait(path, arch.lower())
    assert isinstance(model, CLASSES[arch]) and not model.training
    with torch.no_grad():
        frames = sets[0].unsqueeze(0)
        assert torch.equal(model(frames), model_from_opengait_state_dict(sd, arch)(frames))


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("actual, requested", [(a, r) for a in CLASSES for r in CLASSES if a != r])
def test_a_state_dict_of_another_architecture_is_refused_with_the_right_name(tmp_path, actual, requested):
    path = tmp_path / "ckpt.pt"
    torch.save({"model": opengait_state(actual), "iteration": 1}, path)
    with pytest.raises(CheckpointError) as err:
        load_opengait(path, requested)
    message = str(err.value)
    assert str(path) in message and f"OpenGait {actual} state dict, not {requested}" in message
    assert "missing key" in message and "unexpected key" in message
    assert f"Fix: load it with architecture='{actual}'" in message
    first_theirs = next(iter(TABLES[requested][0](*TABLES[requested][1]["narrow"])))
    assert first_theirs in message  # an offending key, named


def edit_and_load(tmp_path, arch, edit):
    sd = opengait_state(arch)
    edit(sd)
    path = tmp_path / "edited.pt"
    torch.save({"model": sd, "iteration": 1}, path)
    with pytest.raises(CheckpointError) as err:
        load_opengait(path, arch)
    message = str(err.value)
    assert str(path) in message and "Fix: pass the 'model' state dict of an OpenGait" in message
    return message


def test_missing_keys_are_named_with_a_count(tmp_path):
    def drop(sd):
        for part in (3, 7, 9, 12):
            del sd[f"TFA.pooling_func.conv1d3x3.{part}.2.conv.weight"]

    message = edit_and_load(tmp_path, "GaitPart", drop)
    assert "4 missing keys: TFA.pooling_func.conv1d3x3.3.2.conv.weight, " in message and "and 1 more" in message
    assert "0 unexpected keys" in message and "configs/gaitpart/gaitpart.yaml" in message


def test_extra_keys_are_named(tmp_path):
    message = edit_and_load(tmp_path, "GaitGL", lambda sd: sd.update({"loss_aggregator.w": torch.zeros(1)}))
    assert "0 missing keys; 1 unexpected key: loss_aggregator.w" in message


@pytest.mark.parametrize("arch, key, shape, expected", [
    ("GaitGL", "GLConvA1.local_conv3d.conv3d.weight", (8, 4, 3, 3, 3), "(8, 8, 3, 3, 3)"),
    ("GaitSet", "Head.fc_bin", (31, 16, 12), "(62, 16, 12)"),
    ("GaitPart", "TFA.pooling_func.conv1d3x1.5.2.conv.weight", (16, 4, 3), "(16, 4, 1)"),
])
def test_wrong_shapes_are_named_with_the_expected_shape(tmp_path, arch, key, shape, expected):
    message = edit_and_load(tmp_path, arch, lambda sd: sd.update({key: torch.zeros(shape)}))
    assert "1 tensor with the wrong shape" in message and f"{key} {shape} (expected {expected})" in message


def test_files_that_are_not_checkpoint_dicts_are_refused(tmp_path):
    bare = tmp_path / "bare.pt"
    torch.save(opengait_state("GaitSet"), bare)
    with pytest.raises(CheckpointError, match=r"bare\.pt: the OpenGait checkpoint has no 'model' state dict "
                                              r"\(11 keys: set_block1.*Fix: point to an OpenGait GaitSet .*"
                                              r"model_from_opengait_state_dict"):
        load_opengait(bare, "GaitSet")
    listed = tmp_path / "list.pt"
    torch.save([1, 2], listed)
    with pytest.raises(CheckpointError, match=r"list\.pt: the OpenGait checkpoint holds a list, not a dict\. Fix"):
        load_opengait(listed, "GaitPart")
    not_tensors = tmp_path / "strings.pt"
    torch.save({"model": {"Head.fc_bin": "weights"}}, not_tensors)
    with pytest.raises(CheckpointError, match=r"strings\.pt: not every entry of the state dict is a named "
                                              r"tensor \(1 entry: Head\.fc_bin\)"):
        load_opengait(not_tensors, "GaitPart")
    with pytest.raises(CheckpointError, match=r"absent\.pt: the OpenGait checkpoint does not exist"):
        load_opengait(tmp_path / "absent.pt", "GaitGL")
    with pytest.raises(ValueError, match="unknown architecture 'GaitNet'"):
        load_opengait(bare, "GaitNet")
