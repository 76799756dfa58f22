"""GaitGAN's three networks: shapes, the original's layout and parameter counts, weights files."""

import pytest
import torch
from torch import nn

from gaitcore.errors import CheckpointError
from gaitcore.models.gaitgan import (
    GaitGANDiscriminator,
    GaitGANGenerator,
    build_gaitgan,
    gan_to_template,
    geis_to_gan,
    load_gaitgan,
    save_gaitgan,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_shapes_and_ranges_of_generator_and_both_discriminators():
    torch.manual_seed(0)
    model = build_gaitgan(4)
    x = torch.rand(3, 1, 64, 64) * 2 - 1
    fake = model.generator(x)
    assert fake.shape == (3, 1, 64, 64) and fake.abs().max() < 1
    real = model.discriminator(x)
    same = model.identifier(torch.cat((x, fake), 1))
    assert real.shape == (3, 1) and same.shape == (3, 1)
    assert ((real > 0) & (real < 1)).all() and ((same > 0) & (same < 1)).all()


@pytest.mark.parametrize("net, shape", [(GaitGANGenerator(2), (2, 1, 64, 44)),
                                        (GaitGANDiscriminator(2), (2, 2, 64, 64)),
                                        (GaitGANDiscriminator(2, pair=True), (2, 1, 64, 64))])
def test_wrong_input_shapes_are_refused(net, shape):
    with pytest.raises(ValueError, match="expected GEIs"):
        net(torch.zeros(shape))


def test_layout_and_parameter_count_are_those_of_xuehy_pytorch_gaitgan():
    """NetG/NetD/NetA of the original: 4x4 stride-2 bias-free convolutions, BN after all but the first
    encoder layer, LeakyReLU(0.2); at ngf = 96 the counts follow from the layer sizes."""
    w = 96
    model = build_gaitgan(w)
    enc = 16 * (1 * w + w * 2 * w + 2 * w * 4 * w + 4 * w * 8 * w) + 2 * (2 * w + 4 * w + 8 * w)
    dec = 16 * (8 * w * 4 * w + 4 * w * 2 * w + 2 * w * w + w * 1) + 2 * (4 * w + 2 * w + w)
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(model.generator) == enc + dec
    assert count(model.discriminator) == enc + 8 * w * 16
    assert count(model.identifier) == enc + 16 * w + 8 * w * 16  # two input channels
    convs = [m for m in model.generator.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert [(m.kernel_size, m.stride, m.bias) for m in convs] == [((4, 4), (2, 2), None)] * 8
    slopes = {m.negative_slope for m in model.generator.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.generator.modules()) == 6
    assert isinstance(list(model.generator.modules())[-1], nn.Tanh)


def test_gei_and_template_scaling():
    geis = torch.tensor([[[0.0, 0.25], [0.5, 1.0]]]).expand(2, 2, 2).repeat(1, 32, 32)
    x = geis_to_gan(geis)
    assert x.shape == (2, 1, 64, 64) and x.min() == -1 and x.max() == 1
    torch.testing.assert_close(gan_to_template(x), 255 * geis)
    with pytest.raises(ValueError, match="GEIs"):
        geis_to_gan(torch.zeros(2, 64, 44))


def test_weights_round_trip_in_eval_mode_and_foreign_files_are_checkpoint_errors(tmp_path):
    torch.manual_seed(1)
    model = build_gaitgan(4)
    model.train()
    x = torch.rand(4, 1, 64, 64) * 2 - 1
    for _ in range(2):  # move the batch-norm running statistics off their initial values
        model.generator(x)
    model.train(False)
    path = save_gaitgan(model, tmp_path / "w.pt", extra={"iterations": 7})
    loaded = load_gaitgan(path)
    assert not loaded.generator.training and loaded.extra == {"iterations": 7} and loaded.width == 4
    with torch.no_grad():
        torch.testing.assert_close(loaded.generator(x), model.generator(x), rtol=0, atol=0)
        torch.testing.assert_close(loaded.identifier(torch.cat((x, x), 1)), model.identifier(torch.cat((x, x), 1)))
    torch.save({"format": "something else"}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="foreign.pt.*not a gaitcore GaitGAN weights file.*train_gaitgan"):
        load_gaitgan(tmp_path / "foreign.pt")
    (tmp_path / "broken.pt").write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="broken.pt"):
        load_gaitgan(tmp_path / "broken.pt")
