"""GaitPart (Fan et al., "GaitPart: Temporal Part-based Model for Gait Recognition", CVPR 2020), a victim.

Layer for layer OpenGait's GaitPart for CASIA-B (``configs/gaitpart/gaitpart.yaml``; backbone ``BC-32,
BC-32, M, FC-64-2, FC-64-2, M, FC-128-3, FC-128-3``, 16 parts):

* **Frame-level part feature extractor** (FPFE, GaitPart Sec. 3): every silhouette on its own through
  conv5x5 1->c1, conv3x3 c1->c1, 2x2 max pooling, two *focal* convolutions (FConv, GaitPart Sec. 3)
  c1->c2, c2->c2 on 4 horizontal strips each, max pooling, two FConvs c2->c3, c3->c3 on 8 strips
  each; all convolutions 3x3 (the first 5x5), bias-free, each followed by a leaky ReLU (slope 0.01).
  A focal convolution convolves each strip on its own (zero padding at the strip borders), so its
  receptive field stays inside the strip.
* **Horizontal pooling** (HP): the ``[c3, 16, 11]`` map cut into 16 rows, each pooled as mean + max:
  16 part vectors per frame.
* **Temporal feature aggregator** (TFA) = the **micro-motion capture module** (MCM, GaitPart Sec. 3)
  per part, on each part's sequence of vectors: two micro-motion template builders (MTB)
  turn each part's sequence into short-range templates (sliding mean + max over 3 frames in MTB1,
  5 frames in MTB2, zero-padded mean) re-weighted by a sigmoid attention from two 1-D convolutions
  over time (c3 -> c3/4, kernel 3, leaky ReLU, c3/4 -> c3, kernel 1 in MTB1 and 3 in MTB2; separate
  weights per part). Temporal pooling is the maximum over frames of MTB1 + MTB2.
* **Separate FCs**: one bias-free linear map c3 -> hidden per part.

With the paper's widths (32, 64, 128), hidden size 128 and 16 parts the model has 1,204,000
parameters and maps float silhouettes ``[n, frames, 64, 44]`` in ``[0, 1]`` to ``[n, 16, 128]``
(OpenGait's ``inference_feat``, there laid out ``[n, 128, 16]``).

Sets of different lengths are batched as flat frames plus per-set lengths (see ``GaitSet.forward``):
the frame CNN runs on all frames at once, the TFA on each set's own frames. In eval mode the TFA and
the FCs run one set at a time, so a set's features do not depend on the rest of the batch.

The per-part 1-D convolutions are held as one weight per MTB layer, ``[parts, out, in, kernel]``,
and run as one grouped convolution; OpenGait's ``TFA.pooling_func.conv1d3x1.{part}.0.conv.weight``
is ``micro_motion.mtb1.attention_hidden[part]`` here (see :mod:`gaitcore.models.opengait`).
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
    INPUT_HEIGHT,
    LEAKY_SLOPE,
    FullForwardIncremental,
    Lengths,
    SeparateFCs,
    flatten_sets,
    horizontal_pooling,
    map_sets,
)
from gaitcore.models._utils import batch_invariant

PAPER_CHANNELS: tuple[int, int, int] = (32, 64, 128)
PAPER_HIDDEN_DIM = 128
PAPER_PARTS = 16
FOCAL_HALVING: tuple[int, int] = (2, 3)  # FConvs of stage 2 / 3 work on 2**2 = 4 / 2**3 = 8 strips
ATTENTION_SQUEEZE = 4  # the MTB attention's hidden width is c3 // 4
TEMPLATE_WINDOWS: tuple[int, int] = (3, 5)  # MTB1 / MTB2 sliding-window sizes
ATTENTION_OUT_KERNELS: tuple[int, int] = (1, 3)  # kernel of the second attention convolution in MTB1 / MTB2
FINAL_MAP_HEIGHT = INPUT_HEIGHT // 4  # two 2x2 max poolings
WEIGHTS_FORMAT = "gaitcore.gaitpart.weights.v1"


class FocalConv2d(nn.Module):
    """Focal convolution (GaitPart Sec. 3): a 3x3 bias-free convolution on each of ``2**halving``
    horizontal strips separately (strips stacked into the batch, so one kernel call)."""

    def __init__(self, in_channels: int, out_channels: int, halving: int) -> None:
        super().__init__()
        self.halving = int(halving)
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        strips = 2**self.halving
        n, c, h, w = x.shape
        if h % strips:
            raise ValueError(f"a focal convolution on {strips} strips needs a map height divisible by it, got {h}")
        stacked = x.reshape(n, c, strips, h // strips, w).transpose(1, 2).reshape(n * strips, c, h // strips, w)
        out = self.conv(stacked)
        return out.reshape(n, strips, -1, h // strips, w).transpose(1, 2).reshape(n, -1, h, w)


class MicroMotionTemplateBuilder(nn.Module):
    """MTB (GaitPart Sec. 3) for all parts at once: ``[n, parts, C, T] -> [n, parts, C, T]``.

    Template: sliding mean + max over ``window`` frames (stride 1, zero padding counted in the mean).
    Attention: ``sigmoid(conv_out(leaky_relu(conv_hidden(x))))``, 1-D convolutions over time with
    separate weights per part (``attention_hidden`` ``[parts, C/4, C, 3]``, ``attention_out``
    ``[parts, C, C/4, out_kernel]``). Output: template * attention.
    """

    def __init__(self, channels: int, parts: int, hidden: int, window: int, out_kernel: int) -> None:
        super().__init__()
        self.window = int(window)
        self.out_kernel = int(out_kernel)
        self.attention_hidden = nn.Parameter(torch.empty(parts, hidden, channels, 3))
        self.attention_out = nn.Parameter(torch.empty(parts, channels, hidden, self.out_kernel))
        for weight in (self.attention_hidden, self.attention_out):
            for part in weight:  # each part's convolution on its own, as OpenGait's xavier init of each Conv1d
                nn.init.xavier_uniform_(part)

    def forward(self, x: Tensor) -> Tensor:
        n, parts, c, t = x.shape
        flat = x.reshape(n, parts * c, t)  # part-major channels: a grouped convolution is one conv per part
        hidden = F.conv1d(flat, self.attention_hidden.flatten(0, 1), padding=1, groups=parts)
        hidden = F.leaky_relu(hidden, LEAKY_SLOPE)
        logits = F.conv1d(hidden, self.attention_out.flatten(0, 1), padding=self.out_kernel // 2, groups=parts)
        pad = self.window // 2
        template = F.avg_pool1d(flat, self.window, 1, pad) + F.max_pool1d(flat, self.window, 1, pad)
        return (template * torch.sigmoid(logits)).reshape(n, parts, c, t)


class MicroMotionCapture(nn.Module):
    """MCM (GaitPart Sec. 3): MTB1 + MTB2, then the maximum over time: ``[n, parts, C, T] -> [n, parts, C]``."""

    def __init__(self, channels: int, parts: int, squeeze: int = ATTENTION_SQUEEZE) -> None:
        super().__init__()
        hidden = channels // squeeze
        self.mtb1 = MicroMotionTemplateBuilder(channels, parts, hidden, TEMPLATE_WINDOWS[0], ATTENTION_OUT_KERNELS[0])
        self.mtb2 = MicroMotionTemplateBuilder(channels, parts, hidden, TEMPLATE_WINDOWS[1], ATTENTION_OUT_KERNELS[1])

    def forward(self, x: Tensor) -> Tensor:
        # torch.max (not amax), as OpenGait: a tie sends the whole gradient to one frame.
        return (self.mtb1(x) + self.mtb2(x)).max(-1).values


class GaitPart(FullForwardIncremental, nn.Module):
    """GaitPart (Fan et al., CVPR 2020) with configurable widths; see the module docstring.

    Args:
        channels: widths (c1, c2, c3) of the three stages; the paper's model uses (32, 64, 128).
        hidden_dim: output size of each part's linear map; OpenGait's CASIA-B model uses 128.
        parts: number of horizontal parts (must divide the final map height 16); the paper uses 16.
    """

    def __init__(
        self, channels: Sequence[int] = PAPER_CHANNELS, hidden_dim: int = PAPER_HIDDEN_DIM, parts: int = PAPER_PARTS
    ) -> None:
        super().__init__()
        if len(channels) != 3 or min(channels) < 1 or channels[2] < ATTENTION_SQUEEZE:
            raise ValueError(f"channels must be three positive widths, the last >= 4, got {tuple(channels)}")
        if parts < 1 or FINAL_MAP_HEIGHT % parts or hidden_dim < 1:
            raise ValueError(f"parts must divide the final map height 16 and hidden_dim be positive, "
                             f"got parts={parts}, hidden_dim={hidden_dim}")
        c1, c2, c3 = (int(c) for c in channels)
        self.channels: tuple[int, int, int] = (c1, c2, c3)
        self.hidden_dim = int(hidden_dim)
        self.parts = int(parts)
        self.conv1 = nn.Conv2d(1, c1, 5, padding=2, bias=False)
        self.conv2 = nn.Conv2d(c1, c1, 3, padding=1, bias=False)
        self.fconv3 = FocalConv2d(c1, c2, FOCAL_HALVING[0])
        self.fconv4 = FocalConv2d(c2, c2, FOCAL_HALVING[0])
        self.fconv5 = FocalConv2d(c2, c3, FOCAL_HALVING[1])
        self.fconv6 = FocalConv2d(c3, c3, FOCAL_HALVING[1])
        self.micro_motion = MicroMotionCapture(c3, self.parts)
        self.fc = SeparateFCs(self.parts, c3, self.hidden_dim)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_uniform_(module.weight)

    @property
    def num_parts(self) -> int:
        """Number of horizontal parts (16 in the paper)."""
        return self.parts

    def config(self) -> dict[str, Any]:
        """The constructor arguments, as plain values (stored with the weights)."""
        return {"channels": list(self.channels), "hidden_dim": self.hidden_dim, "parts": self.parts}

    def frame_parts(self, frames: Tensor) -> Tensor:
        """FPFE + HP on single frames: ``[F, 64, 44]`` -> part vectors ``[F, parts, c3]``."""
        if frames.dim() != 3:
            raise ValueError(f"expected frames [F, H, W], got shape {tuple(frames.shape)}")
        return batch_invariant(self._frame_parts, frames)

    def _frame_parts(self, frames: Tensor) -> Tensor:
        x = F.leaky_relu(self.conv1(frames.unsqueeze(1)), LEAKY_SLOPE, inplace=True)
        x = F.max_pool2d(F.leaky_relu(self.conv2(x), LEAKY_SLOPE, inplace=True), 2)
        x = F.leaky_relu(self.fconv3(x), LEAKY_SLOPE, inplace=True)
        x = F.max_pool2d(F.leaky_relu(self.fconv4(x), LEAKY_SLOPE, inplace=True), 2)
        x = F.leaky_relu(self.fconv5(x), LEAKY_SLOPE, inplace=True)
        x = F.leaky_relu(self.fconv6(x), LEAKY_SLOPE, inplace=True)
        return horizontal_pooling(x, self.parts)

    def temporal(self, part_sequences: Tensor) -> Tensor:
        """TFA on sets of part vectors ``[n, T, parts, c3]`` -> ``[n, parts, c3]``."""
        return self.micro_motion(part_sequences.permute(0, 2, 3, 1))

    def forward(self, frames: Tensor, lengths: Lengths = None) -> Tensor:
        """Features ``[n, parts, hidden]`` of ``n`` silhouette sets.

        ``frames`` is ``[n, T, 64, 44]`` (``lengths`` None) or flat ``[sum(lengths), 64, 44]`` with the
        number of frames of each set in ``lengths`` (each at least 1), as ``GaitSet.forward``.
        """
        flat, counts = flatten_sets(frames, lengths)
        pooled = map_sets(self.temporal, self.frame_parts(flat), counts, batched=self.training)
        return self.fc(pooled)


def build_gaitpart(
    channels: Sequence[int] = PAPER_CHANNELS, hidden_dim: int = PAPER_HIDDEN_DIM, parts: int = PAPER_PARTS
) -> GaitPart:
    """A freshly initialised GaitPart (Xavier-uniform weights, as OpenGait's ``init_parameters``)."""
    return GaitPart(channels=channels, hidden_dim=hidden_dim, parts=parts)


def save_gaitpart(model: GaitPart, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write final weights (architecture, state dict and ``extra`` plain values) atomically."""
    return save_model_weights(model, model.config(), WEIGHTS_FORMAT, path, extra)


def load_gaitpart(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[GaitPart, dict[str, Any]]:
    """The model saved by :func:`save_gaitpart` (in eval mode) and the ``extra`` values saved with it."""
    fix = ("point to weights written by gaitcore's save_gaitpart, or convert an OpenGait checkpoint with "
           "gaitcore.models.opengait.load_opengait(path, 'GaitPart')")
    return load_model_weights(path, WEIGHTS_FORMAT, "GaitPart", build_gaitpart, fix, map_location)


__all__ = [
    "FocalConv2d", "GaitPart", "MicroMotionCapture", "MicroMotionTemplateBuilder", "build_gaitpart",
    "load_gaitpart", "save_gaitpart",
]
