"""GaitGL (Lin et al., "Gait Recognition via Effective Global-Local Feature Representation and Local
Temporal Aggregation", ICCV 2021), a victim.

Layer for layer OpenGait's GaitGL for CASIA-B (``configs/gaitgl/gaitgl.yaml``: channels (32, 64, 128),
74 training subjects, the original "Bn head"); every 3-D convolution is bias-free, every leaky ReLU
has slope 0.01:

* a 3x3x3 convolution 1 -> c1 on the whole silhouette clip ``[1, T, 64, 44]`` and a leaky ReLU;
* **local temporal aggregation** (LTA, GaitGL Sec. 3): a 3x1x1 convolution c1 -> c1 with temporal
  stride 3 (T -> T // 3 frames) and a leaky ReLU. Clips shorter than 3 frames are tiled in time
  first (1 frame -> 3 copies, ``[a, b]`` -> ``[a, b, a, b]``), as OpenGait does;
* three **GLConv** layers (GaitGL Sec. 3: global and local feature extractor) c1 -> c2 (64 x 44
  maps), then 1x2x2 max pooling, c2 -> c3, c3 -> c3 (32 x 22 maps). A GLConv runs a 3x3x3
  convolution on the whole map (global) and another on each of 8 horizontal strips separately
  (local, zero padding at the strip borders); the first two add ``leaky_relu(global) +
  leaky_relu(local)``, the last stacks the two maps vertically, ``leaky_relu([global; local])``
  (height 64: rows 0-31 global, rows 32-63 local);
* **temporal pooling**: the maximum over time -> ``[c3, 64, 22]``;
* **GeM pooling** (generalized mean, learned exponent, initially 6.5) of the 64 parts: OpenGait's
  ``GeMHPP(bin_num=[64])`` slices the row-major map into 64 equal bins, i.e. one row each here;
* **separate FCs** c3 -> c3 per part, then a BatchNorm1d over the c3 channels (statistics shared by
  all parts): the BN output is the embedding (OpenGait's ``inference_feat``); a second separate FC
  c3 -> class_num per part gives the classification logits of training (:meth:`GaitGL.classify`).

With the paper's widths and 74 classes the model has 3,096,673 parameters (2,490,465 without the
classifier) and maps float silhouettes ``[n, frames, 64, 44]`` in ``[0, 1]`` to ``[n, 64, 128]``
(OpenGait lays them out ``[n, 128, 64]``).

The 3-D convolutions mix neighbouring frames, so sets never share a clip: in eval mode each set
runs alone (OpenGait's evaluation also feeds one set per call), and a set's features are
bit-identical whatever else is in the batch. In training mode sets of one length run as one batch
and the batch norm uses the statistics of the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gaitcore.models._api import load_model_weights, save_model_weights
from gaitcore.models._blocks import (
    LEAKY_SLOPE,
    FullForwardIncremental,
    GeneralizedMeanPooling,
    Lengths,
    SeparateFCs,
    flatten_sets,
    map_sets,
)

PAPER_CHANNELS: tuple[int, int, int] = (32, 64, 128)
CASIA_B_CLASSES = 74  # subjects of CASIA-B's training split
PARTS = 64  # GeM bins (OpenGait hard-codes 64 for GaitGL)
GEM_INITIAL_P = 6.5
GEM_EPS = 1.0e-6
LOCAL_HALVING = 3  # local convolutions work on 2**3 = 8 horizontal strips
TEMPORAL_STRIDE = 3  # LTA aggregates 3 frames into 1
WEIGHTS_FORMAT = "gaitcore.gaitgl.weights.v1"


class GLConv(nn.Module):
    """Global-local 3-D convolution: ``[n, C, T, H, W]`` -> ``[n, out, T, H, W]`` (``2H`` rows if ``stack``).

    ``global_conv`` sees the whole map, ``local_conv`` each of ``2**halving`` horizontal strips on its
    own (strips stacked into the batch, so one kernel call). ``stack`` False: ``leaky_relu(global) +
    leaky_relu(local)``; True: ``leaky_relu`` of the two maps one above the other.
    """

    def __init__(self, in_channels: int, out_channels: int, halving: int, stack: bool) -> None:
        super().__init__()
        self.halving = int(halving)
        self.stack = bool(stack)
        self.global_conv = nn.Conv3d(in_channels, out_channels, 3, padding=1, bias=False)
        self.local_conv = nn.Conv3d(in_channels, out_channels, 3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        n, c, t, h, w = x.shape
        strips = 2**self.halving
        if h % strips:
            raise ValueError(f"a local convolution on {strips} strips needs a map height divisible by it, got {h}")
        rows = h // strips
        stacked = x.reshape(n, c, t, strips, rows, w).permute(0, 3, 1, 2, 4, 5).reshape(n * strips, c, t, rows, w)
        local = self.local_conv(stacked)
        local = local.reshape(n, strips, -1, t, rows, w).permute(0, 2, 3, 1, 4, 5).reshape(n, -1, t, h, w)
        if self.stack:
            return F.leaky_relu(torch.cat([self.global_conv(x), local], 3), LEAKY_SLOPE)
        return F.leaky_relu(self.global_conv(x), LEAKY_SLOPE) + F.leaky_relu(local, LEAKY_SLOPE)


class GaitGL(FullForwardIncremental, nn.Module):
    """GaitGL (Lin et al., ICCV 2021) with configurable widths; see the module docstring.

    Args:
        channels: widths (c1, c2, c3); the paper's CASIA-B model uses (32, 64, 128).
        class_num: classes of the training-time classifier (74 CASIA-B training subjects).
    """

    def __init__(self, channels: Sequence[int] = PAPER_CHANNELS, class_num: int = CASIA_B_CLASSES) -> None:
        super().__init__()
        if len(channels) != 3 or min(channels) < 1 or class_num < 1:
            raise ValueError(f"channels must be three positive widths and class_num positive, "
                             f"got {tuple(channels)} and {class_num}")
        c1, c2, c3 = (int(c) for c in channels)
        self.channels: tuple[int, int, int] = (c1, c2, c3)
        self.class_num = int(class_num)
        self.conv3d = nn.Conv3d(1, c1, 3, padding=1, bias=False)
        self.lta = nn.Conv3d(c1, c1, (TEMPORAL_STRIDE, 1, 1), stride=(TEMPORAL_STRIDE, 1, 1), bias=False)
        self.glconv1 = GLConv(c1, c2, LOCAL_HALVING, stack=False)
        self.glconv2 = GLConv(c2, c3, LOCAL_HALVING, stack=False)
        self.glconv3 = GLConv(c3, c3, LOCAL_HALVING, stack=True)
        self.gem = GeneralizedMeanPooling(PARTS, GEM_INITIAL_P, GEM_EPS)
        self.fc = SeparateFCs(PARTS, c3, c3)
        self.bn = nn.BatchNorm1d(c3)
        self.classifier = SeparateFCs(PARTS, c3, self.class_num)
        for module in self.modules():  # OpenGait's init_parameters
            if isinstance(module, nn.Conv3d):
                nn.init.xavier_uniform_(module.weight)
        nn.init.normal_(self.bn.weight, 1.0, 0.02)
        nn.init.zeros_(self.bn.bias)

    @property
    def num_parts(self) -> int:
        """Number of parts (64)."""
        return PARTS

    @property
    def hidden_dim(self) -> int:
        """Size of each part's embedding (c3)."""
        return self.channels[2]

    def config(self) -> dict[str, Any]:
        """The constructor arguments, as plain values (stored with the weights)."""
        return {"channels": list(self.channels), "class_num": self.class_num}

    def pooled_parts(self, clips: Tensor) -> Tensor:
        """Everything before the separate FCs, on clips of one length ``[m, T, 64, 44]`` -> ``[m, 64, c3]``."""
        x = clips.unsqueeze(1)
        frames = x.shape[2]
        if frames < TEMPORAL_STRIDE:
            x = x.repeat(1, 1, 3 if frames == 1 else 2, 1, 1)
        x = F.leaky_relu(self.conv3d(x), LEAKY_SLOPE, inplace=True)
        x = F.leaky_relu(self.lta(x), LEAKY_SLOPE, inplace=True)
        x = F.max_pool3d(self.glconv1(x), (1, 2, 2))
        x = self.glconv3(self.glconv2(x))
        return self.gem(x.max(2).values)

    def forward(self, frames: Tensor, lengths: Lengths = None) -> Tensor:
        """Embeddings ``[n, 64, c3]`` (after the batch norm) of ``n`` silhouette sets.

        ``frames`` is ``[n, T, 64, 44]`` (``lengths`` None) or flat ``[sum(lengths), 64, 44]`` with the
        number of frames of each set in ``lengths`` (each at least 1), as ``GaitSet.forward``.
        """
        flat, counts = flatten_sets(frames, lengths)
        parts = self.fc(map_sets(self.pooled_parts, flat, counts, batched=self.training))
        return self.bn(parts.transpose(1, 2)).transpose(1, 2)

    def classify(self, embeddings: Tensor) -> Tensor:
        """Training logits ``[n, 64, class_num]`` of embeddings ``[n, 64, c3]`` (OpenGait's ``Head1``)."""
        return self.classifier(embeddings)


def build_gaitgl(channels: Sequence[int] = PAPER_CHANNELS, class_num: int = CASIA_B_CLASSES) -> GaitGL:
    """A freshly initialised GaitGL (OpenGait's initialisation)."""
    return GaitGL(channels=channels, class_num=class_num)


def save_gaitgl(model: GaitGL, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write final weights (architecture, state dict and ``extra`` plain values) atomically."""
    return save_model_weights(model, model.config(), WEIGHTS_FORMAT, path, extra)


def load_gaitgl(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[GaitGL, dict[str, Any]]:
    """The model saved by :func:`save_gaitgl` (in eval mode) and the ``extra`` values saved with it."""
    fix = ("point to weights written by gaitcore's save_gaitgl, or convert an OpenGait checkpoint with "
           "gaitcore.models.opengait.load_opengait(path, 'GaitGL')")
    return load_model_weights(path, WEIGHTS_FORMAT, "GaitGL", build_gaitgl, fix, map_location)


__all__ = ["GLConv", "GaitGL", "build_gaitgl", "load_gaitgl", "save_gaitgl"]
