"""GaitGAN, the template-based victim of He et al.'s black-box experiment (Sec. 4.3, Table 3).

GaitGAN (Yu et al., "GaitGAN: Invariant Gait Feature Extraction Using Generative Adversarial
Networks", CVPRW 2017) maps the gait energy image (GEI, :mod:`gaitcore.evaluation.gei`) of a
sequence of any view and walking condition to the GEI of the same subject walking normally at the
side view (90 degrees); recognition compares these generated templates (1-nearest neighbour,
Manhattan distance). He et al. used the PyTorch implementation xuehy/pytorch-GaitGAN; this module
re-implements its three networks for one-channel 64x64 GEIs in ``[-1, 1]`` (``2 * gei - 1``),
``ngf`` = ``ndf`` = 96 in the original:

* **Generator** ``G`` (``NetG``): an encoder of four 4x4 stride-2 convolutions without bias,
  ``1 -> ngf -> 2ngf -> 4ngf -> 8ngf`` (64 -> 32 -> 16 -> 8 -> 4 pixels), each followed by batch
  norm (not the first) and LeakyReLU(0.2); a decoder of four 4x4 stride-2 transposed convolutions
  without bias ``8ngf -> 4ngf -> 2ngf -> ngf -> 1`` (4 -> 64 pixels), the first three followed by
  batch norm and ReLU, the last by tanh. Output ``[N, 1, 64, 64]`` in (-1, 1).
* **Real/fake discriminator** ``D`` (``NetD``): the encoder's four convolutions (``ndf``), then a
  4x4 stride-4 convolution to one value and a sigmoid: the probability that a GEI is a real
  side-view normal-walking GEI, ``[N, 1]``.
* **Identification discriminator** ``A`` (``NetA``): ``D``'s layout on the two-channel pair
  (source GEI, side-view GEI): the probability that both show the same subject, ``[N, 1]``.

Initialisation as the original's: convolution weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02)
and shifts 0.

**Weights file** (:func:`save_gaitgan` / :func:`load_gaitgan`): one ``torch.save`` dict holding the
width, the three state dicts and plain extra values, written atomically and loaded with
``weights_only=True``. :func:`load_gaitgan` returns the networks in eval mode (batch norm with its
running statistics, so each template depends on its own GEI only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gaitcore.errors import CheckpointError
from gaitcore.utils.io import atomic_torch_save, load_torch_file

PAPER_WIDTH = 96  # ngf = ndf in xuehy/pytorch-GaitGAN
TARGET_VIEW = 90  # the generator maps every view to the side view (Yu et al.; He et al. Sec. 4.3)
GEI_SIZE = 64
WEIGHTS_FORMAT = "gaitcore.gaitgan.weights.v1"


def _encoder(in_channels: int, width: int) -> list[nn.Module]:
    """Four 4x4 stride-2 convolutions ``in -> w -> 2w -> 4w -> 8w``, BN (not the first), LeakyReLU(0.2)."""
    layers: list[nn.Module] = []
    channels = [in_channels, width, 2 * width, 4 * width, 8 * width]
    for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:], strict=True)):
        layers.append(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False))
        if i:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


def _init_weights(module: nn.Module) -> None:
    """The original's init: conv weights ~ N(0, 0.02), BN scale ~ N(1, 0.02), BN shift 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class GaitGANGenerator(nn.Module):
    """``NetG``: GEI of any view/condition -> side-view normal-walking GEI (see the module docstring)."""

    def __init__(self, width: int = PAPER_WIDTH) -> None:
        super().__init__()
        self.width = width
        decoder: list[nn.Module] = []
        channels = [8 * width, 4 * width, 2 * width, width]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            decoder += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                        nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        decoder += [nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1, bias=False), nn.Tanh()]
        self.converter = nn.Sequential(*_encoder(1, width), *decoder)
        _init_weights(self)

    def forward(self, gei: Tensor) -> Tensor:
        _check_geis(gei, 1)
        return self.converter(gei)


class GaitGANDiscriminator(nn.Module):
    """``NetD`` (``pair=False``): P(real side-view GEI); ``NetA`` (``pair=True``): P(same subject) of a
    two-channel (source, side view) pair. Output ``[N, 1]``."""

    def __init__(self, width: int = PAPER_WIDTH, pair: bool = False) -> None:
        super().__init__()
        self.width = width
        self.pair = pair
        self.discriminator = nn.Sequential(
            *_encoder(2 if pair else 1, width), nn.Conv2d(8 * width, 1, 4, stride=4, bias=False), nn.Sigmoid()
        )
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        _check_geis(x, 2 if self.pair else 1)
        return self.discriminator(x).view(-1, 1)


def _check_geis(x: Tensor, channels: int) -> None:
    if x.dim() != 4 or tuple(x.shape[1:]) != (channels, GEI_SIZE, GEI_SIZE):
        raise ValueError(f"expected GEIs [N, {channels}, 64, 64], got {tuple(x.shape)}")


@dataclass
class GaitGAN:
    """The three networks: ``generator`` (G), ``discriminator`` (D, real/fake), ``identifier`` (A, same subject)."""

    generator: GaitGANGenerator
    discriminator: GaitGANDiscriminator
    identifier: GaitGANDiscriminator
    extra: dict[str, Any] = field(default_factory=dict)

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator, "identifier": self.identifier}

    def to(self, device: torch.device | str) -> GaitGAN:
        for net in self.networks().values():
            net.to(device)
        return self

    def train(self, mode: bool = True) -> GaitGAN:
        for net in self.networks().values():
            net.train(mode)
        return self

    @property
    def width(self) -> int:
        return self.generator.width


def build_gaitgan(width: int = PAPER_WIDTH) -> GaitGAN:
    """Freshly initialised G, D and A of width ``width`` (draws from torch's global generator)."""
    return GaitGAN(GaitGANGenerator(width), GaitGANDiscriminator(width), GaitGANDiscriminator(width, pair=True))


def geis_to_gan(geis: np.ndarray | Tensor, device: torch.device | str | None = None) -> Tensor:
    """GEIs ``[N, 64, 64]`` in [0, 1] -> network input ``[N, 1, 64, 64]`` in [-1, 1] (``2 * gei - 1``)."""
    if tuple(geis.shape[-2:]) != (GEI_SIZE, GEI_SIZE) or len(geis.shape) != 3:
        raise ValueError(f"expected GEIs [N, 64, 64], got {tuple(geis.shape)}")
    x = torch.as_tensor(np.asarray(geis) if isinstance(geis, np.ndarray) else geis, dtype=torch.float32)
    return (2.0 * x - 1.0).unsqueeze(1).to(device)


def gan_to_template(x: Tensor) -> Tensor:
    """Network output ``[N, 1, 64, 64]`` in [-1, 1] -> grey levels ``[N, 64, 64]`` in [0, 255], as the
    original writes its generated GEIs before matching (``(x + 1) / 2 * 255``)."""
    return ((x + 1.0) / 2.0 * 255.0).squeeze(1)


def save_gaitgan(model: GaitGAN, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write G, D, A and ``extra`` plain values atomically to ``path``."""
    payload: dict[str, Any] = {"format": WEIGHTS_FORMAT, "width": model.width, "extra": dict(extra or {})}
    for name, net in model.networks().items():
        payload[name] = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    return atomic_torch_save(payload, path)


def load_gaitgan(path: str | Path, map_location: str | torch.device = "cpu") -> GaitGAN:
    """The networks saved by :func:`save_gaitgan` (eval mode, on ``map_location``) and their extras."""
    fix = "rerun the rule `train_gaitgan` (delete the file first) or point to weights written by gaitcore"
    payload = load_torch_file(path, "GaitGAN weights file", fix, map_location)
    needed = {"width", "generator", "discriminator", "identifier"}
    if payload.get("format") != WEIGHTS_FORMAT or needed - set(payload):
        raise CheckpointError(path, f"not a gaitcore GaitGAN weights file (format {payload.get('format')!r})", fix)
    model = build_gaitgan(int(payload["width"]))
    try:
        for name, net in model.networks().items():
            net.load_state_dict(payload[name])
    except (RuntimeError, KeyError, TypeError) as err:
        raise CheckpointError(path, f"weights do not fit the stored architecture ({err})", fix) from err
    model.extra = dict(payload.get("extra", {}))
    return model.to(map_location).train(False)


__all__ = [
    "GaitGAN", "GaitGANDiscriminator", "GaitGANGenerator", "build_gaitgan", "gan_to_template", "geis_to_gan",
    "load_gaitgan", "save_gaitgan",
]
