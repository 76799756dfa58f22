"""The resampling convolutions at the lower resolution against the plain compositions they replace."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gaitcore.models._resample import conv3x3_mean_pool, upsample_conv3x3

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _plain_upsample_conv(x, conv):
    return conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def _plain_conv_mean_pool(x, conv):
    return F.avg_pool2d(conv(x), 2)


CASES = [(upsample_conv3x3, _plain_upsample_conv), (conv3x3_mean_pool, _plain_conv_mean_pool)]


@pytest.mark.parametrize(("fast", "plain"), CASES)
@pytest.mark.parametrize("bias", [False, True])
def test_equals_the_plain_composition_in_float64_values_and_gradients(fast, plain, bias):
    """Exact in exact arithmetic: float64 agrees to 1e-12, for the output and for the gradients
    with respect to the input and to the convolution's own weights (training goes through it)."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=bias).double()
    x = torch.randn(2, 3, 6, 8, dtype=torch.float64, requires_grad=True)  # not square: rows and columns apart
    outputs = []
    for fn in (fast, plain):
        y = fn(x, conv)
        weights = list(conv.parameters())
        grads = torch.autograd.grad((y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)).sum(),
                                    [x, *weights])
        outputs.append((y, *grads))
    assert outputs[0][0].shape == outputs[1][0].shape
    for a, b in zip(*outputs, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize(("fast", "plain"), CASES)
def test_float32_and_channels_last_agree_to_rounding(fast, plain):
    torch.manual_seed(1)
    conv = nn.Conv2d(4, 6, 3, padding=1)
    x = torch.randn(3, 4, 16, 16)
    expected = plain(x, conv)
    torch.testing.assert_close(fast(x, conv), expected, atol=1e-5, rtol=1e-5)
    conv_cl, x_cl = conv.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast(x_cl, conv_cl), expected, atol=1e-5, rtol=1e-5)


def test_a_sample_gets_the_same_bits_in_any_batch_of_two_or_more():
    """The attack engine relies on it (a batched attack reproduces one-by-one attacks exactly)."""
    torch.manual_seed(2)
    conv = nn.Conv2d(8, 8, 3, padding=1)
    x = torch.randn(7, 8, 16, 16)
    for fn in (upsample_conv3x3, conv3x3_mean_pool):
        assert torch.equal(fn(x[:2], conv), fn(x, conv)[:2])


def test_other_convolutions_and_odd_sizes_are_refused():
    with pytest.raises(ValueError, match="3x3 convolution with padding 1"):
        upsample_conv3x3(torch.zeros(1, 2, 4, 4), nn.Conv2d(2, 2, 5, padding=2))
    with pytest.raises(ValueError, match="3x3 convolution with padding 1"):
        conv3x3_mean_pool(torch.zeros(1, 2, 4, 4), nn.Conv2d(2, 2, 3, padding=1, stride=2))
    with pytest.raises(ValueError, match="even height and width"):
        conv3x3_mean_pool(torch.zeros(1, 2, 5, 4), nn.Conv2d(2, 2, 3, padding=1))
