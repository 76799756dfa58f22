"""SPADE (He et al. Sec. 3.3; NVlabs/SPADE): the modulation by the silhouette, the networks, losses, files."""

import pytest
import torch
import torch.nn.functional as F

from gaitcore.errors import CheckpointError
from gaitcore.models.spade import (
    SPADE,
    VGG19_LAYERS,
    SpadeArch,
    VGG19Loss,
    build_spade_discriminator,
    build_spade_generator,
    feature_matching_loss,
    hinge_d_loss,
    hinge_g_loss,
    load_spade,
    save_spade,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = SpadeArch(size=32, ngf=2, ndf=4, nhidden=4, num_d=2, n_layers_d=3)


def _spade(seed: int = 0) -> SPADE:
    torch.manual_seed(seed)
    block = SPADE(norm_nc=3, nhidden=5)
    for conv in (block.mlp_gamma, block.mlp_beta):  # non-trivial modulation (xavier init leaves biases at 0)
        torch.nn.init.normal_(conv.bias)
    return block.train()


def test_changing_the_mask_changes_only_the_modulation_of_that_region():
    block = _spade()
    x = torch.randn(2, 3, 16, 16)
    seg = torch.zeros(2, 1, 16, 16)
    changed = seg.clone()
    changed[:, :, 6:10, 5:9] = 1.0
    a, b = block(x, seg), block(x, changed)
    differs = (a != b).any(dim=1)  # [N, H, W]
    # Two 3x3 convolutions: the modulation reaches two pixels beyond the changed square, no further.
    near = torch.zeros(16, 16, dtype=torch.bool)
    near[4:12, 3:11] = True
    assert differs[:, 6:10, 5:9].all()
    assert not differs[:, ~near].any()
    # The normalised activations themselves do not depend on the silhouette; outside the region the
    # output's statistics are unchanged, inside they move.
    outside = ~near
    assert torch.equal(a[:, :, outside], b[:, :, outside])
    assert not torch.allclose(a[:, :, 6:10, 5:9].mean(), b[:, :, 6:10, 5:9].mean())


def test_without_modulation_the_output_is_the_parameter_free_normalisation():
    block = _spade()
    for conv in (block.mlp_gamma, block.mlp_beta):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    x = torch.randn(4, 3, 8, 8) * 3 + 2
    out = block(x, (torch.rand(4, 1, 8, 8) > 0.5).float())
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(out.var(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3)


def test_the_silhouette_is_resized_nearest_to_the_activations():
    block = _spade()
    x = torch.randn(2, 3, 8, 8)
    seg = (torch.rand(2, 1, 16, 16) > 0.5).float()
    assert torch.equal(block(x, seg), block(x, seg[:, :, ::2, ::2]))


def test_generator_maps_silhouettes_to_rgb_frames_each_on_its_own_in_eval_mode():
    torch.manual_seed(0)
    g = build_spade_generator(TINY)
    seg = (torch.rand(3, 1, 32, 32) > 0.5).float()
    with torch.no_grad():
        g(seg)  # running statistics of one training-mode batch
        g.eval()
        out = g(seg)
        alone = g(seg[1:2])
    assert out.shape == (3, 3, 32, 32) and out.abs().max() <= 1 and out.std() > 0
    assert torch.allclose(out[1:2], alone, atol=1e-6)
    torch.manual_seed(0)
    again = build_spade_generator(TINY)
    assert all(torch.equal(p, q) for p, q in zip(again.parameters(), g.parameters()))  # seeded: same weights
    with pytest.raises(ValueError, match=r"\[N, 1, 32, 32\]"):
        g(torch.zeros(1, 1, 64, 64))


def test_multiscale_discriminator_returns_every_layer_at_two_scales():
    d = build_spade_discriminator(TINY)
    out = d(torch.zeros(2, 1, 32, 32), torch.zeros(2, 3, 32, 32))
    assert len(out) == 2 and all(len(scale) == TINY.n_layers_d + 1 for scale in out)
    assert out[0][-1].shape[1] == 1 and out[1][0].shape[-1] < out[0][0].shape[-1]


def test_hinge_and_feature_matching_known_answers():
    real = [[torch.full((1, 2, 2, 2), 1.0), torch.full((1, 1, 3, 3), 2.0)]] * 2
    fake = [[torch.full((1, 2, 2, 2), 0.5), torch.full((1, 1, 3, 3), -0.5)]] * 2
    # D: relu(1 - 2) + relu(1 - 0.5) per scale; G: -(-0.5) per scale; FM: |0.5 - 1| averaged over scales.
    assert hinge_d_loss(real, fake).item() == pytest.approx(2 * (0.0 + 0.5))
    assert hinge_g_loss(fake).item() == pytest.approx(2 * 0.5)
    assert feature_matching_loss(real, fake).item() == pytest.approx(0.5)
    assert F.l1_loss(fake[0][0], real[0][0]).item() == pytest.approx(0.5)


def test_weights_round_trip_and_damaged_files_name_the_fix(tmp_path):
    torch.manual_seed(1)
    g, d = build_spade_generator(TINY), build_spade_discriminator(TINY)
    g(torch.ones(2, 1, 32, 32))  # move the batch-norm running statistics off their initial values
    path = save_spade(g.eval(), d.eval(), TINY, tmp_path / "spade.pt", extra={"iterations": 3})
    loaded = load_spade(path)
    seg = (torch.rand(2, 1, 32, 32) > 0.5).float()
    assert loaded.arch == TINY and loaded.extra["iterations"] == 3 and not loaded.generator.training
    assert torch.equal(loaded.translate(seg), g(seg).detach())
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="rerun the rule `train_spade`"):
        load_spade(path)
    with pytest.raises(CheckpointError, match="spade.train.vgg_weights"):
        VGG19Loss(tmp_path / "missing-vgg19.pth")


def test_a_user_supplied_vgg19_file_gives_the_perceptual_loss(tmp_path):
    torch.manual_seed(0)
    state, channels, index = {"classifier.0.weight": torch.zeros(2, 2)}, 3, 0
    for item in VGG19_LAYERS:  # torchvision's vgg19 layout up to conv5_4; the loss uses up to relu5_1
        if item == "M":
            index += 1
            continue
        state[f"features.{index}.weight"] = torch.randn(item, channels, 3, 3) * 0.05
        state[f"features.{index}.bias"] = torch.zeros(item)
        channels, index = item, index + 2
    torch.save(state, tmp_path / "vgg19.pth")
    loss = VGG19Loss(tmp_path / "vgg19.pth")
    x, y = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1
    assert loss(x, x).item() == 0 and loss(x, y).item() > 0
    assert not any(p.requires_grad for p in loss.parameters())


def test_architecture_is_validated():
    with pytest.raises(ValueError, match="multiple of 32"):
        SpadeArch(size=48)
    with pytest.raises(ValueError, match="ngf"):
        SpadeArch(ngf=0)
