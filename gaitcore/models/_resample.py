"""Resampling convolutions computed at the lower resolution: the same functions, fewer operations.

The WGAN-GP networks (:mod:`gaitcore.models.wgan`) resample around their 3x3 convolutions: each
generator block convolves a nearest-neighbour upsampled map, each critic block mean-pools a
convolved map. Upsampling copies every pixel into a 2x2 block and mean pooling averages one, so
both compositions are linear maps in which each output pixel reads a 4x4 window of distinct
values, taken with a stride of 2:

* ``conv3x3(upsample2x(x))`` is a transposed convolution of ``x`` with stride 2, padding 1 and a
  4x4 kernel (:func:`upsample_conv3x3`);
* ``mean_pool2x2(conv3x3(x))`` is a convolution of ``x`` with stride 2, padding 1 and a 4x4 kernel
  (:func:`conv3x3_mean_pool`).

Along each axis the 4 taps are sums of neighbouring taps of the 3x3 kernel ``(w0, w1, w2)``:
``(w0, w0 + w1, w1 + w2, w2)`` (halved for the mean, per axis), reversed for the transposed
convolution. Per output pixel and channel pair that is 16 multiply-adds at the low resolution
instead of 36 at the high one (four pixels times nine taps), and the critic's pooling and its
gradient (a zeroed buffer per call on CPU) disappear. In exact arithmetic the results equal the
plain compositions (tested in float64 to 1e-12, in float32 to rounding, with their gradients);
the kernel is formed from the convolution's own weights at every call, so weights files, state
dict names and training are unchanged. Measured speed: ``docs/throughput.md``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gaitcore.models._utils import conv_is_channels_last


def _pair_sums(weight: Tensor, dim: int) -> Tensor:
    """The 3 taps ``(w0, w1, w2)`` of ``weight`` along ``dim`` -> the 4 taps ``(w0, w0+w1, w1+w2, w2)``."""
    w0, w1, w2 = weight.unbind(dim)
    return torch.stack((w0, w0 + w1, w1 + w2, w2), dim)


def _window_kernel(conv: nn.Conv2d) -> Tensor:
    """``conv``'s 3x3 kernel ``[out, in, 3, 3]`` summed into the 4x4 window of a stride-2 resampling."""
    if conv.kernel_size != (3, 3) or conv.padding != (1, 1) or conv.stride != (1, 1) or conv.groups != 1:
        raise ValueError(f"expected a plain 3x3 convolution with padding 1, got {conv}")
    return _pair_sums(_pair_sums(conv.weight, 2), 3)


def _like(kernel: Tensor, conv: nn.Conv2d) -> Tensor:
    """``kernel`` in ``conv``'s weight memory format (channels-last convolutions stay channels-last)."""
    return kernel.contiguous(memory_format=torch.channels_last) if conv_is_channels_last(conv) else kernel


def upsample_conv3x3(x: Tensor, conv: nn.Conv2d) -> Tensor:
    """``conv(F.interpolate(x, scale_factor=2, mode="nearest"))`` for a 3x3, padding-1 ``conv``,
    as one transposed convolution of ``x`` (stride 2): ``[N, in, H, W] -> [N, out, 2H, 2W]``."""
    kernel = _window_kernel(conv).flip(2, 3).transpose(0, 1)  # conv_transpose2d reads [in, out, kH, kW]
    return F.conv_transpose2d(x, _like(kernel, conv), conv.bias, stride=2, padding=1)


def conv3x3_mean_pool(x: Tensor, conv: nn.Conv2d) -> Tensor:
    """``F.avg_pool2d(conv(x), 2)`` for a 3x3, padding-1 ``conv``, as one stride-2 convolution of
    ``x``: ``[N, in, H, W] -> [N, out, H/2, W/2]`` (``H`` and ``W`` even)."""
    if x.shape[-2] % 2 or x.shape[-1] % 2:
        raise ValueError(f"mean pooling needs an even height and width, got {tuple(x.shape[-2:])}")
    return F.conv2d(x, _like(_window_kernel(conv) / 4, conv), conv.bias, stride=2, padding=1)
