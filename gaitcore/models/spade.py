"""SPADE, the silhouette-to-frame generator G_p of He et al. (Sec. 3.3, Fig. 3, Appendix A "SPADE").

The paper translates silhouettes into video frames with SPADE (Park et al., "Semantic Image
Synthesis with Spatially-Adaptive Normalization", CVPR 2019), trained with NVlabs/SPADE's code on
paired data ``(I_s x L_s, L_s)`` (Sec. 3.3): the person cut out of a video frame by its own
silhouette, and the silhouette. This module re-implements NVlabs/SPADE's pix2pix model for one
label channel (the binary silhouette) and RGB output:

* **SPADE normalisation** (:class:`SPADE`): a parameter-free batch norm of the activations, then a
  per-pixel scale and bias convolved from the silhouette resized (nearest) to the activations' size:
  ``out = norm(x) * (1 + gamma(L)) + beta(L)`` with ``gamma, beta = conv3x3(relu(conv3x3(L)))``
  (a shared hidden layer of ``nhidden`` channels, 128 in NVlabs/SPADE). The normalised activations
  do not depend on the silhouette; the modulation at a pixel depends only on the silhouette within
  two pixels of it (two 3x3 convolutions), so changing the mask changes only the modulation there.
* **Residual block** (:class:`SPADEResBlock`): ``SPADE -> leaky ReLU(0.2) -> conv3x3`` twice
  (``fin -> min(fin, fout) -> fout``), plus a learned shortcut ``SPADE -> conv1x1`` (no bias) when
  ``fin != fout``; every convolution of the block is spectrally normalised ("spectralspadesyncbatch3x3").
* **Generator** (:class:`SPADEGenerator`, ``num_upsampling_layers: normal``): the silhouette
  downsampled (nearest) to ``size / 32`` and a ``conv3x3 (1 -> 16 ngf)``; blocks ``head_0``
  (16 ngf), nearest upsampling, ``G_middle_0``, ``G_middle_1`` (16 ngf), then ``up_0 .. up_3``
  (``16 -> 8 -> 4 -> 2 -> 1`` ngf), each after a nearest 2x upsampling; ``leaky ReLU -> conv3x3
  (ngf -> 3) -> tanh``. Output ``[N, 3, size, size]`` in (-1, 1): the person on black.
* **Discriminator** (:class:`MultiscaleDiscriminator`): ``num_d`` (2) PatchGAN discriminators on the
  concatenated ``(silhouette, image)``, the second on a 2x average-pooled copy (3x3 window, stride 2,
  padding 1, padding not counted); each is ``n_layers`` (4) 4x4 convolutions (stride 2 but the last,
  widths ``ndf .. 8 ndf`` capped at 512) with leaky ReLU(0.2), spectral and instance norm after the
  first, and a 4x4 convolution to one channel. Each returns its intermediate features too, for
  feature matching.

**Losses** (NVlabs/SPADE ``gan_mode: hinge``): D minimises ``mean relu(1 - D(real)) + mean relu(1 +
D(fake))`` summed over the scales; G minimises ``-mean D(fake)`` plus ``lambda_feat`` (10) times the
L1 feature matching loss (every intermediate feature of every scale, averaged over the scales). The
VGG perceptual loss (lambda 10 in NVlabs/SPADE) needs ImageNet weights that cannot be downloaded
here: it is off by default, and :class:`VGG19Loss` accepts a user-supplied VGG19 weight file
(torchvision's ``vgg19`` state dict, ``features.*`` keys).

Widths: ``ngf = ndf = 64`` and ``size = 256`` in the paper (NVlabs/SPADE defaults); the CPU
configs use ``size`` 64 and narrow widths. ``size`` must be a multiple of 32.

**Weights file** (:func:`save_spade` / :func:`load_spade`): one ``torch.save`` dict with the
architecture and both state dicts, loaded with ``weights_only=True``. :func:`load_spade` returns the
networks in eval mode: the generator's batch norm then uses its running statistics, so each frame's
output depends on its own silhouette only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from gaitcore.errors import CheckpointError
from gaitcore.utils.io import atomic_torch_save, load_torch_file

WEIGHTS_FORMAT = "gaitcore.spade.weights.v1"
PAPER_SIZE = 256
PAPER_NGF = 64
PAPER_NDF = 64
PAPER_NHIDDEN = 128
UPSAMPLINGS = 5  # NVlabs/SPADE num_upsampling_layers "normal"
LEAKY = 0.2


@dataclass(frozen=True)
class SpadeArch:
    """The architecture of a SPADE generator and its discriminator (defaults: the paper's)."""

    size: int = PAPER_SIZE
    ngf: int = PAPER_NGF
    ndf: int = PAPER_NDF
    nhidden: int = PAPER_NHIDDEN
    num_d: int = 2
    n_layers_d: int = 4

    def __post_init__(self) -> None:
        if self.size < 32 or self.size % 2**UPSAMPLINGS:
            raise ValueError(f"spade: size must be a positive multiple of {2**UPSAMPLINGS}, got {self.size}")
        for name in ("ngf", "ndf", "nhidden", "num_d", "n_layers_d"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"spade: {name} must be at least 1, got {getattr(self, name)}")


class SPADE(nn.Module):
    """Spatially-adaptive normalisation of ``norm_nc`` channels by a one-channel silhouette."""

    def __init__(self, norm_nc: int, nhidden: int = PAPER_NHIDDEN, label_nc: int = 1) -> None:
        super().__init__()
        self.param_free_norm = nn.BatchNorm2d(norm_nc, affine=False)
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, nhidden, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(nhidden, norm_nc, 3, padding=1)
        self.mlp_beta = nn.Conv2d(nhidden, norm_nc, 3, padding=1)

    def modulation(self, x_shape: torch.Size, segmap: Tensor) -> tuple[Tensor, Tensor]:
        """``(gamma, beta)`` at the activations' size, from the silhouette resized (nearest)."""
        seg = F.interpolate(segmap, size=tuple(x_shape[2:]), mode="nearest")
        hidden = self.mlp_shared(seg)
        return self.mlp_gamma(hidden), self.mlp_beta(hidden)

    def forward(self, x: Tensor, segmap: Tensor) -> Tensor:
        gamma, beta = self.modulation(x.shape, segmap)
        return self.param_free_norm(x) * (1 + gamma) + beta


class SPADEResBlock(nn.Module):
    """NVlabs/SPADE's ``SPADEResnetBlock`` with spectral norm (``fin -> fout`` channels)."""

    def __init__(self, fin: int, fout: int, nhidden: int = PAPER_NHIDDEN) -> None:
        super().__init__()
        fmiddle = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.conv_0 = spectral_norm(nn.Conv2d(fin, fmiddle, 3, padding=1))
        self.conv_1 = spectral_norm(nn.Conv2d(fmiddle, fout, 3, padding=1))
        self.norm_0 = SPADE(fin, nhidden)
        self.norm_1 = SPADE(fmiddle, nhidden)
        if self.learned_shortcut:
            self.conv_s = spectral_norm(nn.Conv2d(fin, fout, 1, bias=False))
            self.norm_s = SPADE(fin, nhidden)

    def forward(self, x: Tensor, seg: Tensor) -> Tensor:
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), LEAKY))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), LEAKY))
        return x_s + dx


class SPADEGenerator(nn.Module):
    """``G_p``: silhouette ``[N, 1, size, size]`` in {0, 1} -> frame ``[N, 3, size, size]`` in (-1, 1)."""

    def __init__(self, size: int = PAPER_SIZE, ngf: int = PAPER_NGF, nhidden: int = PAPER_NHIDDEN) -> None:
        super().__init__()
        self.size = size
        self.start = size // 2**UPSAMPLINGS
        nf = ngf
        self.fc = nn.Conv2d(1, 16 * nf, 3, padding=1)
        self.head_0 = SPADEResBlock(16 * nf, 16 * nf, nhidden)
        self.G_middle_0 = SPADEResBlock(16 * nf, 16 * nf, nhidden)
        self.G_middle_1 = SPADEResBlock(16 * nf, 16 * nf, nhidden)
        self.up_0 = SPADEResBlock(16 * nf, 8 * nf, nhidden)
        self.up_1 = SPADEResBlock(8 * nf, 4 * nf, nhidden)
        self.up_2 = SPADEResBlock(4 * nf, 2 * nf, nhidden)
        self.up_3 = SPADEResBlock(2 * nf, nf, nhidden)
        self.conv_img = nn.Conv2d(nf, 3, 3, padding=1)

    def forward(self, seg: Tensor) -> Tensor:
        if tuple(seg.shape[1:]) != (1, self.size, self.size):
            raise ValueError(f"expected silhouettes [N, 1, {self.size}, {self.size}], got {tuple(seg.shape)}")
        x = self.fc(F.interpolate(seg, size=(self.start, self.start), mode="nearest"))
        x = self.head_0(x, seg)
        x = _up(x)
        x = self.G_middle_0(x, seg)
        x = self.G_middle_1(x, seg)
        for block in (self.up_0, self.up_1, self.up_2, self.up_3):
            x = block(_up(x), seg)
        return torch.tanh(self.conv_img(F.leaky_relu(x, LEAKY)))


def _up(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


class PatchDiscriminator(nn.Module):
    """NVlabs/SPADE's ``NLayerDiscriminator``: returns every layer's output (the last: patch scores)."""

    def __init__(self, in_channels: int = 4, ndf: int = PAPER_NDF, n_layers: int = 4) -> None:
        super().__init__()
        kw, pad = 4, 2
        layers: list[nn.Module] = [nn.Sequential(nn.Conv2d(in_channels, ndf, kw, 2, pad), nn.LeakyReLU(LEAKY))]
        nf = ndf
        for n in range(1, n_layers):
            prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            layers.append(nn.Sequential(spectral_norm(nn.Conv2d(prev, nf, kw, stride, pad, bias=False)),
                                        nn.InstanceNorm2d(nf, affine=False), nn.LeakyReLU(LEAKY)))
        layers.append(nn.Sequential(nn.Conv2d(nf, 1, kw, 1, pad)))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> list[Tensor]:
        out = []
        for layer in self.layers:
            x = layer(x)
            out.append(x)
        return out


class MultiscaleDiscriminator(nn.Module):
    """``num_d`` PatchGAN discriminators on ``cat(silhouette, image)`` at successively halved scales."""

    def __init__(self, ndf: int = PAPER_NDF, num_d: int = 2, n_layers: int = 4) -> None:
        super().__init__()
        self.discriminators = nn.ModuleList(PatchDiscriminator(4, ndf, n_layers) for _ in range(num_d))

    def forward(self, seg: Tensor, image: Tensor) -> list[list[Tensor]]:
        x = torch.cat([seg, image], dim=1)
        out = []
        for i, d in enumerate(self.discriminators):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            out.append(d(x))
        return out


# ---------------------------------------------------------------------------------------- losses
def hinge_d_loss(real: list[list[Tensor]], fake: list[list[Tensor]]) -> Tensor:
    """D's hinge loss summed over the scales: ``mean relu(1 - D(real)) + mean relu(1 + D(fake))``."""
    return sum(F.relu(1 - r[-1]).mean() + F.relu(1 + f[-1]).mean() for r, f in zip(real, fake, strict=True))


def hinge_g_loss(fake: list[list[Tensor]]) -> Tensor:
    """G's hinge (adversarial) loss summed over the scales: ``-mean D(fake)``."""
    return sum(-f[-1].mean() for f in fake)


def feature_matching_loss(real: list[list[Tensor]], fake: list[list[Tensor]]) -> Tensor:
    """L1 between D's intermediate features of fake and (detached) real pairs, averaged over scales."""
    total = sum(F.l1_loss(fl, rl.detach())
                for r, f in zip(real, fake, strict=True) for rl, fl in zip(r[:-1], f[:-1], strict=True))
    return total / len(real)


VGG19_LAYERS = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512)
VGG_SLICES = (2, 7, 12, 21, 30)  # ends of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 in ``features``
VGG_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


class VGG19Loss(nn.Module):
    """NVlabs/SPADE's VGG perceptual loss: weighted L1 of VGG19 relu1_1..relu5_1 features.

    Needs a user-supplied VGG19 weight file (torchvision's ``vgg19`` state dict; only the
    ``features.*`` keys are used); images in (-1, 1) are mapped to ImageNet normalisation.
    """

    def __init__(self, weights_path: str | Path) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in VGG19_LAYERS:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU()]
                channels = int(item)
        self.features = nn.Sequential(*layers[: VGG_SLICES[-1]])
        fix = "point spade.train.vgg_weights to torchvision's vgg19 state dict (or set it to null)"
        state = load_torch_file(weights_path, "VGG19 weight file", fix)
        state = state.get("state_dict", state)
        wanted = {k: v for k, v in state.items()  # the layers up to relu5_1
                  if k.startswith("features.") and int(k.split(".")[1]) < VGG_SLICES[-1]}
        try:
            self.load_state_dict(wanted)
        except RuntimeError as err:
            raise CheckpointError(weights_path, f"does not hold VGG19 features ({err})", fix) from err
        for p in self.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.eval()

    def _features(self, x: Tensor) -> list[Tensor]:
        x = ((x + 1) / 2 - self.mean) / self.std
        out, start = [], 0
        for end in VGG_SLICES:
            x = self.features[start:end](x)
            out.append(x)
            start = end
        return out

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        pairs = zip(self._features(fake), self._features(real), strict=True)
        return sum(w * F.l1_loss(f, r.detach()) for w, (f, r) in zip(VGG_WEIGHTS, pairs, strict=True))


# ---------------------------------------------------------------------------------------- building and files
def _init_weights(module: nn.Module) -> None:
    """NVlabs/SPADE's ``init_type: xavier`` (gain 0.02) on convolutions, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.xavier_normal_(weight, gain=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def build_spade_generator(arch: SpadeArch) -> SPADEGenerator:
    """A freshly initialised generator (seed torch first for reproducible weights)."""
    g = SPADEGenerator(arch.size, arch.ngf, arch.nhidden)
    _init_weights(g)
    return g


def build_spade_discriminator(arch: SpadeArch) -> MultiscaleDiscriminator:
    """A freshly initialised multiscale discriminator."""
    d = MultiscaleDiscriminator(arch.ndf, arch.num_d, arch.n_layers_d)
    _init_weights(d)
    return d


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@dataclass
class SpadeModel:
    """A loaded SPADE: the architecture, both networks (eval mode) and the extra values saved."""

    arch: SpadeArch
    generator: SPADEGenerator
    discriminator: MultiscaleDiscriminator
    extra: dict[str, Any]

    @torch.no_grad()
    def translate(self, silhouettes: Tensor, batch: int = 16) -> Tensor:
        """``G_p`` on silhouettes ``[N, 1, size, size]`` in {0, 1}: frames ``[N, 3, size, size]`` in (-1, 1)."""
        device = next(self.generator.parameters()).device
        out = [self.generator(chunk.to(device)).cpu() for chunk in silhouettes.split(batch)]
        return torch.cat(out) if out else torch.zeros(0, 3, self.arch.size, self.arch.size)


def save_spade(generator: SPADEGenerator, discriminator: MultiscaleDiscriminator, arch: SpadeArch,
               path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the final weights atomically (architecture, both state dicts, plain ``extra`` values)."""
    payload = {
        "format": WEIGHTS_FORMAT,
        "arch": asdict(arch),
        "generator": {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()},
        "discriminator": {k: v.detach().cpu().contiguous() for k, v in discriminator.state_dict().items()},
        "extra": dict(extra or {}),
    }
    return atomic_torch_save(payload, path)


def load_spade(path: str | Path, map_location: str | torch.device = "cpu") -> SpadeModel:
    """The model written by :func:`save_spade`, both networks in eval mode."""
    fix = "rerun the rule `train_spade` (delete the file first) or point to weights written by gaitcore"
    payload = load_torch_file(path, "SPADE weights file", fix, map_location)
    if payload.get("format") != WEIGHTS_FORMAT or not isinstance(payload.get("arch"), dict):
        raise CheckpointError(path, f"not a gaitcore SPADE weights file (format {payload.get('format')!r})", fix)
    arch = SpadeArch(**payload["arch"])
    g, d = build_spade_generator(arch), build_spade_discriminator(arch)
    try:
        g.load_state_dict(payload["generator"])
        d.load_state_dict(payload["discriminator"])
    except (RuntimeError, KeyError, TypeError) as err:
        raise CheckpointError(path, f"weights do not fit the stored architecture ({err})", fix) from err
    return SpadeModel(arch, g.to(map_location).eval(), d.to(map_location).eval(), dict(payload.get("extra", {})))
