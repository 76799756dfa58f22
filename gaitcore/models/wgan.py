"""The silhouette generator G and critic D of He et al. (Sec. 3.2, Appendix A "WGAN-GP").

The paper trains WGAN-GP (Gulrajani et al., "Improved Training of Wasserstein GANs", 2017) on
CASIA-B silhouettes with the PyTorch implementation jalola/improved-wgan-pytorch, whose networks are
igul222's 64x64 ResNet "Good" generator and discriminator. This module re-implements that
architecture for one channel (silhouettes), 64x64 frames and a latent size V (128 in the paper):

* **Generator** ``G``: ``Linear(V -> 4*4*8*dim)`` reshaped to ``[8*dim, 4, 4]``; four upsampling
  residual blocks ``8dim -> 8dim -> 4dim -> 2dim -> dim`` (4 -> 8 -> 16 -> 32 -> 64 pixels), each
  ``BN -> ReLU -> upsample -> conv3x3 (no bias) -> BN -> ReLU -> conv3x3`` plus a shortcut
  ``upsample -> conv1x1``; then ``BN -> ReLU -> conv3x3 (dim -> 1) -> tanh``. Output
  ``[N, 1, 64, 64]`` in (-1, 1).
* **Critic** ``D``: ``conv3x3 (1 -> dim)``; four downsampling residual blocks
  ``dim -> 2dim -> 4dim -> 8dim -> 8dim`` (64 -> 32 -> 16 -> 8 -> 4 pixels), each
  ``LN -> ReLU -> conv3x3 (no bias) -> LN -> ReLU -> conv3x3 -> 2x2 mean pool`` plus a shortcut
  ``2x2 mean pool -> conv1x1``; then ``Linear(4*4*8*dim -> 1)``: an unbounded score per frame
  (higher = more real). Layer norm (not batch norm) so that the gradient penalty of each sample
  depends on that sample only; it normalises each sample over (C, H, W) with a per-channel scale
  and shift, i.e. ``GroupNorm(1, C)``.

Upsampling is nearest-neighbour (the original's "depth to space" of four copies of the input is
exactly that) and mean pooling averages 2x2 blocks; each block's 3x3 convolution after an upsampling
(G) or before a pooling (D) is computed as one stride-2 convolution at the lower resolution, the
same function with fewer operations (:mod:`gaitcore.models._resample`). Initialisation follows the original's
``weights_init``: Kaiming-uniform for the main convolutions, Xavier-uniform for the 1x1 shortcuts,
the critic's first convolution and both linear layers, zero biases.

``dim`` is 64 in the paper (G 8,539,329 and D 7,490,689 parameters; both grow with dim^2); the
CPU configs use 16 (733,233 and 471,073).

**Frame conventions.** G works on ``[-1, 1]`` frames (store frames ``u8 / 127.5 - 1``, see
:func:`store_to_gan`). GaitSet reads 64x44 frames in ``[0, 1]`` (store frames with 10 columns cut
from each side, divided by 255). A generated frame ``x`` maps to GaitSet's input by
:func:`to_gaitset_frames`: ``(x[..., 10:54] + 1) / 2``. For a real store frame both routes give
the same values (up to float rounding): ``to_gaitset_frames(store_to_gan(u8)) == u8[..., 10:54] / 255``.

**Weights file** (:func:`save_wgan` / :func:`load_wgan`): one ``torch.save`` dict holding the
architecture, G's and D's state dicts, the realism calibration of :mod:`gaitcore.models.realism`
and plain extra values, loaded with ``weights_only=True``.

**Evaluation mode.** G has batch norm: use it in ``eval()`` mode (running statistics, refreshed
over many batches at the end of training) so that each generated frame depends on its own latent
only, e.g. for batched attacks. In eval mode both networks' linear layers run row by row, so each
frame's output is bit-identical whatever else is in the batch. :func:`load_wgan` returns both networks in eval mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gaitcore.errors import CheckpointError
from gaitcore.models._resample import conv3x3_mean_pool, upsample_conv3x3
from gaitcore.models._utils import batch_invariant, conv_is_channels_last
from gaitcore.models.gaitset import CROP, INPUT_WIDTH
from gaitcore.models.realism import PlattCalibration, RealismScore
from gaitcore.utils.io import atomic_torch_save, load_torch_file

PAPER_DIM = 64
LATENT_DIM = 128  # V in the paper
FRAME_SIZE = 64
WEIGHTS_FORMAT = "gaitcore.wgan.weights.v1"


# ---------------------------------------------------------------------------------------- blocks
def _upsample(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


class LayerNorm2d(nn.GroupNorm):
    """Layer norm of a ``[N, C, H, W]`` map over (C, H, W) per sample, per-channel affine."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__(1, channels, eps=eps)


class UpBlock(nn.Module):
    """Generator residual block: doubles the resolution, ``in_ch -> out_ch`` channels."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x: Tensor) -> Tensor:
        skip = _upsample(self.shortcut(x))  # a 1x1 convolution commutes with the upsampling
        h = upsample_conv3x3(F.relu(self.norm1(x)), self.conv1)
        h = self.conv2(F.relu(self.norm2(h)))
        return skip + h


class DownBlock(nn.Module):
    """Critic residual block: halves the resolution, ``in_ch -> out_ch`` channels."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.norm1 = LayerNorm2d(in_ch)
        self.conv1 = nn.Conv2d(in_ch, in_ch, 3, padding=1, bias=False)
        self.norm2 = LayerNorm2d(in_ch)
        self.conv2 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x: Tensor) -> Tensor:
        skip = self.shortcut(F.avg_pool2d(x, 2))
        h = self.conv1(F.relu(self.norm1(x)))
        return skip + conv3x3_mean_pool(F.relu(self.norm2(h)), self.conv2)


def _init_weights(module: nn.Module, xavier: set[nn.Module]) -> None:
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            if isinstance(m, nn.Linear) or m in xavier:
                nn.init.xavier_uniform_(m.weight)
            else:
                nn.init.kaiming_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _linear(layer: nn.Linear, x: Tensor, batched: bool) -> Tensor:
    """``layer(x)``; unless ``batched``, computed one row at a time so each row's result is the same
    bit for bit whatever else is in the batch (a batched matrix product picks its blocking by batch
    size; the convolutions here already give batch-independent results). Used in eval mode, so a
    batched attack reproduces one-by-one attacks exactly.
    """
    if batched:
        return layer(x)
    return torch.bmm(x.unsqueeze(1), layer.weight.T.expand(x.shape[0], -1, -1)).squeeze(1) + layer.bias


# ---------------------------------------------------------------------------------------- networks
class Generator(nn.Module):
    """igul222's 64x64 ResNet generator for one-channel silhouettes (see the module docstring).

    Args:
        dim: base width (the paper's 64; the CPU configs use 16).
        latent_dim: V, the size of each latent vector (the paper's 128).
        channels: output channels (1 for silhouettes).

    ``forward(z)``: ``z`` float ``[N, latent_dim]`` -> frames ``[N, channels, 64, 64]`` in (-1, 1).
    """

    def __init__(self, dim: int = PAPER_DIM, latent_dim: int = LATENT_DIM, channels: int = 1) -> None:
        super().__init__()
        if min(dim, latent_dim, channels) < 1:
            raise ValueError(f"dim, latent_dim and channels must be positive, got {dim}, {latent_dim}, {channels}")
        self.dim, self.latent_dim, self.channels = int(dim), int(latent_dim), int(channels)
        d = self.dim
        self.linear = nn.Linear(self.latent_dim, 4 * 4 * 8 * d)
        widths = (8 * d, 8 * d, 4 * d, 2 * d, d)  # 4 -> 8 -> 16 -> 32 -> 64 pixels
        self.blocks = nn.Sequential(*(UpBlock(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)))
        self.norm = nn.BatchNorm2d(d)
        self.out = nn.Conv2d(d, self.channels, 3, padding=1)
        _init_weights(self, {b.shortcut for b in self.blocks})

    def config(self) -> dict[str, int]:
        """The constructor arguments (stored with the weights)."""
        return {"dim": self.dim, "latent_dim": self.latent_dim, "channels": self.channels}

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents [N, {self.latent_dim}], got {tuple(z.shape)}")
        return batch_invariant(self._generate, z)

    def _generate(self, z: Tensor) -> Tensor:
        x = _linear(self.linear, z, self.training).view(-1, 8 * self.dim, 4, 4)
        if conv_is_channels_last(self.blocks[0].conv1):
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.blocks(x)
        return torch.tanh(self.out(F.relu(self.norm(x))))


class Critic(nn.Module):
    """igul222's 64x64 ResNet discriminator (WGAN critic) for one-channel silhouettes.

    Args:
        dim: base width (the paper's 64).
        channels: input channels (1 for silhouettes).

    ``forward(x)``: frames ``[N, channels, 64, 64]`` in [-1, 1] -> unbounded scores ``[N]`` (higher
    means more like the training frames; the scale and offset are arbitrary, see
    :class:`gaitcore.models.realism.RealismScore` for a calibrated probability).
    """

    def __init__(self, dim: int = PAPER_DIM, channels: int = 1) -> None:
        super().__init__()
        if min(dim, channels) < 1:
            raise ValueError(f"dim and channels must be positive, got {dim}, {channels}")
        self.dim, self.channels = int(dim), int(channels)
        d = self.dim
        self.inp = nn.Conv2d(self.channels, d, 3, padding=1)
        widths = (d, 2 * d, 4 * d, 8 * d, 8 * d)  # 64 -> 32 -> 16 -> 8 -> 4 pixels
        self.blocks = nn.Sequential(*(DownBlock(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)))
        self.linear = nn.Linear(4 * 4 * 8 * d, 1)
        _init_weights(self, {self.inp, *(b.shortcut for b in self.blocks)})

    def config(self) -> dict[str, int]:
        """The constructor arguments (stored with the weights)."""
        return {"dim": self.dim, "channels": self.channels}

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.channels, FRAME_SIZE, FRAME_SIZE):
            raise ValueError(f"expected frames [N, {self.channels}, 64, 64], got {tuple(x.shape)}")
        return batch_invariant(self._score, x)

    def _score(self, x: Tensor) -> Tensor:
        if conv_is_channels_last(self.blocks[-1].conv1):
            x = x.contiguous(memory_format=torch.channels_last)
        h = self.blocks(self.inp(x))
        return _linear(self.linear, h.flatten(1), self.training).view(-1)


def build_generator(dim: int = PAPER_DIM, latent_dim: int = LATENT_DIM, channels: int = 1) -> Generator:
    """A freshly initialised :class:`Generator`."""
    return Generator(dim=dim, latent_dim=latent_dim, channels=channels)


def build_critic(dim: int = PAPER_DIM, channels: int = 1) -> Critic:
    """A freshly initialised :class:`Critic`."""
    return Critic(dim=dim, channels=channels)


# ---------------------------------------------------------------------------------------- frames
def store_to_gan(frames: np.ndarray | Tensor, device: torch.device | str | None = None) -> Tensor:
    """Store frames (uint8 ``[..., 64, 64]``) -> critic/generator space: float32 ``[..., 1, 64, 64]`` in [-1, 1].

    ``u8 / 127.5 - 1``: 0 -> -1 (background), 255 -> +1 (silhouette).
    """
    if frames.dtype not in (np.uint8, torch.uint8) or tuple(frames.shape[-2:]) != (FRAME_SIZE, FRAME_SIZE):
        raise ValueError(f"expected uint8 frames [..., 64, 64], got {frames.dtype} {tuple(frames.shape)}")
    if isinstance(frames, np.ndarray):  # read-only memory maps are copied (torch needs writeable memory)
        frames = torch.from_numpy(np.require(frames, requirements=["C", "W"]))
    x = frames.to(device=device, dtype=torch.float32).div_(127.5).sub_(1.0)
    return x.unsqueeze(-3)


def to_store_frames(x: Tensor) -> np.ndarray:
    """Generated frames ``[K, 1, 64, 64]`` in [-1, 1] -> uint8 ``[K, 64, 64]`` (the store's encoding,
    ``round((x + 1) * 127.5)``: what an attack stores and a judge reads)."""
    return ((x.detach().float()[:, 0] + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()


def binarize(x: Tensor) -> Tensor:
    """Generated frames in [-1, 1] thresholded at 0 to -1 / +1 (stored as 0 / 255, the store's
    foreground threshold 128), with the straight-through gradient of Bengio et al. (2013): the
    forward pass is the binary frame, the backward pass that of the identity."""
    hard = torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))
    return x + (hard - x).detach()


def to_gaitset_frames(x: Tensor) -> Tensor:
    """Generated frames ``[..., 1, 64, 64]`` in [-1, 1] -> GaitSet input ``[..., 64, 44]`` in [0, 1].

    The mapping of a 64x64 generated frame to GaitSet's 64x44 input: drop the channel axis, cut
    10 columns from each side (GaitSet's loader crop ``seq[:, :, 10:-10]``, as
    :func:`gaitcore.models.gaitset.silhouettes_to_input` does for store frames), then
    ``(x + 1) / 2``. Differentiable; the cut columns receive no gradient.
    """
    if x.dim() < 3 or tuple(x.shape[-3:]) != (1, FRAME_SIZE, FRAME_SIZE):
        raise ValueError(f"expected generated frames [..., 1, 64, 64], got {tuple(x.shape)}")
    return (x[..., 0, :, CROP : CROP + INPUT_WIDTH] + 1.0) * 0.5


def gaussian_latents(n: int, latent_dim: int = LATENT_DIM, *, generator: torch.Generator | None = None,
                     device: torch.device | str = "cpu") -> Tensor:
    """``n`` latents drawn from N(0, I), G's training prior (drawn on the CPU, then moved)."""
    return torch.randn(n, latent_dim, generator=generator).to(device)


# ---------------------------------------------------------------------------------------- weights file
@dataclass
class WGANModels:
    """What :func:`load_wgan` returns: both networks (eval mode), the realism score and extras."""

    generator: Generator
    critic: Critic
    calibration: PlattCalibration | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def realism(self) -> RealismScore:
        """``p = sigmoid(a * D(x) + b)`` with the stored calibration (differentiable w.r.t. x)."""
        if self.calibration is None:
            raise ValueError("these WGAN weights hold no realism calibration; train them with gaitcore")
        return RealismScore(self.critic, self.calibration.slope, self.calibration.intercept)


def save_wgan(
    generator: Generator,
    critic: Critic,
    path: str | Path,
    calibration: PlattCalibration | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write G, D, the realism calibration and ``extra`` plain values atomically to ``path``."""

    def plain(model: nn.Module) -> dict[str, Tensor]:
        return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}

    payload = {
        "format": WEIGHTS_FORMAT,
        "generator_config": generator.config(),
        "critic_config": critic.config(),
        "generator": plain(generator),
        "critic": plain(critic),
        "calibration": calibration.as_dict() if calibration is not None else None,
        "extra": dict(extra or {}),
    }
    return atomic_torch_save(payload, path)


def load_wgan(path: str | Path, map_location: str | torch.device = "cpu") -> WGANModels:
    """The networks saved by :func:`save_wgan` (eval mode, on ``map_location``) and their calibration."""
    fix = "rerun the rule `train_wgan` (delete the file first) or point to weights written by gaitcore"
    payload = load_torch_file(path, "WGAN weights file", fix, map_location)
    needed = {"generator_config", "critic_config", "generator", "critic"}
    if payload.get("format") != WEIGHTS_FORMAT or needed - set(payload):
        raise CheckpointError(path, f"not a gaitcore WGAN weights file (format {payload.get('format')!r})", fix)
    generator = build_generator(**payload["generator_config"])
    critic = build_critic(**payload["critic_config"])
    try:
        generator.load_state_dict(payload["generator"])
        critic.load_state_dict(payload["critic"])
    except (RuntimeError, KeyError, TypeError) as err:
        raise CheckpointError(path, f"weights do not fit the stored architecture ({err})", fix) from err
    calibration = payload.get("calibration")
    return WGANModels(
        generator=generator.to(map_location).eval(),
        critic=critic.to(map_location).eval(),
        calibration=PlattCalibration.from_dict(calibration) if calibration is not None else None,
        extra=dict(payload.get("extra", {})),
    )


def parameter_count(model: nn.Module) -> int:
    """Number of parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())


__all__ = [
    "LATENT_DIM",
    "PAPER_DIM",
    "Critic",
    "Generator",
    "WGANModels",
    "build_critic",
    "build_generator",
    "gaussian_latents",
    "load_wgan",
    "parameter_count",
    "save_wgan",
    "store_to_gan",
    "to_gaitset_frames",
]
