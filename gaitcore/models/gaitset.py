"""GaitSet, the victim model of He et al. (Sec. 4.1 "Models"), with exact incremental set pooling.

The network is the original GaitSet of Chao et al., "GaitSet: Regarding Gait as a Set for
Cross-View Gait Recognition" (AAAI 2019), as released in AbnerHqC/GaitSet:

* a frame-level CNN applied to every silhouette on its own: conv5x5 1->c1, conv3x3 c1->c1, 2x2 max
  pooling, c1->c2, c2->c2, max pooling, c2->c3, c3->c3; every convolution is bias-free and followed
  by a leaky ReLU (slope 0.01);
* set pooling (GaitSet Sec. 3.2) = element-wise maximum over the frames of a set;
* the multilayer global pipeline (MGP, GaitSet Sec. 3.4): c1->c2, c2->c2, max pooling, c2->c3,
  c3->c3 on the set-pooled main-branch maps, adding the set-pooled main-branch maps of the next
  stage to its input at each stage;
* horizontal pyramid mapping (HPM, GaitSet Sec. 3.3): strips at scales 1, 2, 4, 8, 16, each pooled
  as mean + max, on both branches (2 x 31 = 62 parts), and a separate linear map c3 -> hidden per
  part.

With the paper's widths (32, 64, 128) and hidden size 256 the model has exactly 2,594,592
parameters and maps float silhouettes ``[n, frames, 64, 44]`` in ``[0, 1]`` to ``[n, 62, 256]``.

Sets of different lengths are batched as one flat frame tensor plus per-set lengths: the frame CNN
runs on all frames at once and each set's maximum is taken over its own frames only. In eval mode
the per-part linear maps run one set at a time, so a set's features are bit-identical whatever else
is in the batch (the convolutions already are); a batched attack then reproduces one-by-one attacks.

**Incremental set pooling.** The attack (He et al. Sec. 3.2, Algorithm 1) changes only K frames of
an N-frame sequence per iteration. Set pooling is a maximum, so the pooled maps of the N - K
unchanged frames can be computed once (:meth:`GaitSet.pooled_cache`) and merged with the maps of the
K changed frames (:meth:`GaitSet.forward_with_cache`); only the K frames pass through the frame CNN.

The merge reproduces the full forward exactly, including its gradient. ``torch.max`` over the frame
dimension sends the whole gradient of each output element to the *first* frame holding the maximum.
Silhouettes tie very often (every blank pixel of every frame maps to exactly 0), so which frame wins
a tie decides which frame receives gradient. The cache therefore keeps, for every element, the
maximum of the cached frames and the position (in the full sequence) of the first cached frame
that holds it; the merge takes the new frames' maximum (``torch.max`` picks their first, i.e. earliest,
maximal frame) and keeps the cached maximum where it is larger, or equal and earlier: among tied
candidates the one with the smallest position wins.
That is the same winner as in the full forward, so features and input
gradients are bit-identical (``torch.maximum`` would split tied gradients instead). When the new
frames come after every cached frame (the default positions) this is exactly
``torch.cat([cached_max, new]).max(0)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gaitcore.models._api import load_model_weights, save_model_weights
from gaitcore.models._blocks import (
    INPUT_HEIGHT,
    INPUT_WIDTH,
    LEAKY_SLOPE,
    Lengths,
    flatten_sets,
    sequence_positions,
)
from gaitcore.models._utils import batch_invariant

PAPER_CHANNELS: tuple[int, int, int] = (32, 64, 128)
PAPER_HIDDEN_DIM = 256
HPM_BINS: tuple[int, ...] = (1, 2, 4, 8, 16)
CROP = 10  # columns cut from each side of a 64x64 store frame (GaitSet's 64x44 input)
WEIGHTS_FORMAT = "gaitcore.gaitset.weights.v1"


def silhouettes_to_input(frames: np.ndarray | Tensor, device: torch.device | str | None = None) -> Tensor:
    """Store frames (uint8 ``[..., 64, 64]``) -> GaitSet input (float32 ``[..., 64, 44]`` in [0, 1]).

    Cuts 10 columns from each side, as GaitSet's loader does (``seq[:, :, 10:-10]``), then divides
    by 255. The crop happens before the conversion so only the kept pixels are copied.
    """
    if frames.dtype not in (np.uint8, torch.uint8) or tuple(frames.shape[-2:]) != (INPUT_HEIGHT, INPUT_HEIGHT):
        raise ValueError(f"expected uint8 frames [..., 64, 64], got {frames.dtype} {tuple(frames.shape)}")
    cropped = frames[..., CROP : CROP + INPUT_WIDTH]
    if isinstance(cropped, np.ndarray):  # also read-only memory maps: copy just the kept pixels
        cropped = torch.from_numpy(np.ascontiguousarray(cropped))
    return cropped.to(device=device, dtype=torch.float32).div_(255.0)


class _Conv(nn.Module):
    """GaitSet's ``BasicConv2d``: a bias-free convolution followed by a leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(self.conv(x), LEAKY_SLOPE, inplace=True)


@dataclass(frozen=True)
class SetPoolCache:
    """Set-pooled main-branch maps of the unchanged frames of ``n`` sequences.

    ``maxima[s]`` (``[n, C_s, H_s, W_s]``) is the element-wise maximum over the cached frames of
    the main-branch maps at set-pooling stage ``s`` (after layers 2, 4 and 6), and
    ``positions[s]`` (int64, same shape) the position in the full sequence of the first cached
    frame holding that maximum. ``counts`` holds the number of cached frames per sequence. Built by
    :meth:`GaitSet.pooled_cache`; holds no autograd history.
    """

    maxima: tuple[Tensor, Tensor, Tensor]
    positions: tuple[Tensor, Tensor, Tensor]
    counts: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.counts)

    def select(self, index: Sequence[int]) -> SetPoolCache:
        """The cache of a subset of the sequences, in the given order (e.g. those still attacked)."""
        idx = torch.as_tensor(list(index), dtype=torch.long, device=self.maxima[0].device)
        maxima = tuple(m.index_select(0, idx) for m in self.maxima)
        positions = tuple(p.index_select(0, idx) for p in self.positions)
        return SetPoolCache(maxima, positions, tuple(self.counts[i] for i in idx.tolist()))  # type: ignore[arg-type]


class GaitSet(nn.Module):
    """GaitSet (Chao et al., AAAI 2019) with configurable widths; see the module docstring.

    Args:
        channels: widths (c1, c2, c3) of the three stages; the paper's model uses (32, 64, 128).
        hidden_dim: output size of each part's linear map; the paper's model uses 256.
        bins: HPM strip counts; the paper uses (1, 2, 4, 8, 16), i.e. 31 strips per branch.

    Module names follow the original code (``set_layer1``..``set_layer6``, ``gl_layer1``..
    ``gl_layer4``, ``fc_bin``), so the original's ``set_layerK.forward_block.conv.weight`` is
    ``set_layerK.conv.weight`` here and its ``fc_bin.0`` is ``fc_bin``.
    """

    def __init__(
        self,
        channels: Sequence[int] = PAPER_CHANNELS,
        hidden_dim: int = PAPER_HIDDEN_DIM,
        bins: Sequence[int] = HPM_BINS,
    ) -> None:
        super().__init__()
        if len(channels) != 3 or min(channels) < 1:
            raise ValueError(f"channels must be three positive widths, got {tuple(channels)}")
        if any(INPUT_HEIGHT // 4 % b for b in bins):
            raise ValueError(f"every HPM bin count must divide the final map height 16, got {tuple(bins)}")
        c1, c2, c3 = (int(c) for c in channels)
        self.channels: tuple[int, int, int] = (c1, c2, c3)
        self.hidden_dim = int(hidden_dim)
        self.bins: tuple[int, ...] = tuple(int(b) for b in bins)
        self.set_layer1 = _Conv(1, c1, 5)
        self.set_layer2 = _Conv(c1, c1, 3)
        self.set_layer3 = _Conv(c1, c2, 3)
        self.set_layer4 = _Conv(c2, c2, 3)
        self.set_layer5 = _Conv(c2, c3, 3)
        self.set_layer6 = _Conv(c3, c3, 3)
        self.gl_layer1 = _Conv(c1, c2, 3)
        self.gl_layer2 = _Conv(c2, c2, 3)
        self.gl_layer3 = _Conv(c2, c3, 3)
        self.gl_layer4 = _Conv(c3, c3, 3)
        self.fc_bin = nn.Parameter(torch.empty(2 * sum(self.bins), c3, self.hidden_dim))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_uniform_(module.weight)
        nn.init.xavier_uniform_(self.fc_bin)

    @property
    def num_parts(self) -> int:
        """Number of HPM parts (62 with the paper's bins)."""
        return 2 * sum(self.bins)

    def config(self) -> dict[str, Any]:
        """The constructor arguments, as plain values (stored with the weights)."""
        return {"channels": list(self.channels), "hidden_dim": self.hidden_dim, "bins": list(self.bins)}

    # ------------------------------------------------------------------ frame-level CNN
    def frame_maps(self, frames: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Main-branch maps of single frames at the three set-pooling stages.

        ``frames``: float ``[F, 64, 44]``. Returns ``[F, c1, 32, 22]`` (after layer 2 and pooling),
        ``[F, c2, 16, 11]`` (after layer 4 and pooling) and ``[F, c3, 16, 11]`` (after layer 6).
        Each frame is processed independently (GaitSet's ``SetBlock``).
        """
        if frames.dim() != 3:
            raise ValueError(f"expected frames [F, H, W], got shape {tuple(frames.shape)}")
        return batch_invariant(self._frame_maps, frames)

    def _frame_maps(self, frames: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x = frames.unsqueeze(1)
        if self.set_layer1.conv.weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        x = F.max_pool2d(self.set_layer2(self.set_layer1(x)), 2)
        stage1 = x
        x = F.max_pool2d(self.set_layer4(self.set_layer3(x)), 2)
        stage2 = x
        stage3 = self.set_layer6(self.set_layer5(x))
        return stage1, stage2, stage3

    # ------------------------------------------------------------------ set-level head
    def head(self, pooled1: Tensor, pooled2: Tensor, pooled3: Tensor) -> Tensor:
        """MGP + HPM + per-part linear maps on set-pooled maps ``[n, C, H, W]`` -> ``[n, parts, hidden]``."""
        return batch_invariant(lambda maps: self._head(*maps), (pooled1, pooled2, pooled3))

    def _head(self, pooled1: Tensor, pooled2: Tensor, pooled3: Tensor) -> Tensor:
        gl = F.max_pool2d(self.gl_layer2(self.gl_layer1(pooled1)), 2)
        gl = self.gl_layer4(self.gl_layer3(gl + pooled2))
        gl = gl + pooled3
        n, c = pooled3.shape[:2]
        strips = []
        for num_bin in self.bins:
            for maps in (pooled3, gl):
                z = maps.reshape(n, c, num_bin, -1)
                strips.append(z.mean(3) + z.max(3).values)
        parts = torch.cat(strips, 2).permute(2, 0, 1)  # [parts, n, c]
        if self.training:
            return parts.matmul(self.fc_bin).permute(1, 0, 2).contiguous()
        # One set at a time: a batched product's blocking (and so its last bits) depends on n.
        return torch.stack([parts[:, i : i + 1].matmul(self.fc_bin)[:, 0] for i in range(n)])

    # ------------------------------------------------------------------ full forward
    def forward(self, frames: Tensor, lengths: Lengths = None, frame_chunk: int | None = None) -> Tensor:
        """Features ``[n, parts, hidden]`` of ``n`` silhouette sets.

        ``frames`` is either ``[n, T, 64, 44]`` (``n`` sets of ``T`` frames; ``lengths`` must be
        None) or the frames of all sets one after the other, ``[sum(lengths), 64, 44]``, with
        ``lengths`` the number of frames of each set (each at least 1). With ``frame_chunk`` the
        frame CNN runs on that many frames at a time (the same values; on CPU, chunks whose
        activations fit in cache run faster than one large batch, forward and backward).
        """
        flat, counts = flatten_sets(frames, lengths)
        if frame_chunk is None or frame_chunk >= len(flat):
            maps = self.frame_maps(flat)
        else:
            chunks = [self.frame_maps(flat[i : i + frame_chunk]) for i in range(0, len(flat), frame_chunk)]
            maps = tuple(torch.cat(stage) for stage in zip(*chunks, strict=True))
        return self.head(*self.pool_sets(maps, counts))

    @staticmethod
    def pool_sets(maps: Sequence[Tensor], lengths: Sequence[int]) -> tuple[Tensor, ...]:
        """Set pooling (GaitSet Sec. 3.2): per-set element-wise max of flat per-frame maps.

        ``maps`` are per-frame tensors ``[sum(lengths), C, H, W]`` of consecutive sets; returns
        ``[len(lengths), C, H, W]`` each. Ties send the gradient to the set's first frame.
        """
        counts = tuple(int(c) for c in lengths)
        if torch.is_grad_enabled() and any(m.requires_grad for m in maps):
            return tuple(_segment_max(m, counts)[0] for m in maps)
        return tuple(_segment_amax(m, counts) for m in maps)

    # ------------------------------------------------------------------ incremental path
    @torch.no_grad()
    def pooled_cache(self, frames: Tensor, lengths: Lengths = None, positions: Tensor | None = None) -> SetPoolCache:
        """Pool the unchanged frames of ``n`` sequences once, for :meth:`forward_with_cache`.

        ``frames``/``lengths`` as in :meth:`forward`. ``positions`` (int, one per frame, increasing
        within each sequence) are the frames' places in the full sequences that
        :meth:`forward_with_cache` stands for; by default ``0, 1, ...`` in each sequence. For an
        alteration of the first K frames pass the unchanged frames with positions ``K..N-1``.
        """
        flat, counts = flatten_sets(frames, lengths)
        pos = sequence_positions(positions, counts, flat.device, start=0)
        pos_padded = _pad_sets(pos, counts, torch.iinfo(torch.int64).max)
        maxima, firsts = [], []
        for maps in self.frame_maps(flat):
            values, index = _segment_max(maps, counts)
            maxima.append(values)
            firsts.append(pos_padded.gather(1, index.flatten(1)).view_as(index))
        return SetPoolCache(tuple(maxima), tuple(firsts), counts)  # type: ignore[arg-type]

    def forward_with_cache(
        self, cache: SetPoolCache, new_frames: Tensor, lengths: Lengths = None, positions: Tensor | None = None
    ) -> Tensor:
        """Features of the sequences made of the cached frames plus ``new_frames``.

        Equal (bit for bit on one device and thread count) to :meth:`forward` on the full
        sequences, in the features and in the gradient with respect to ``new_frames``; only
        ``new_frames`` pass through the frame CNN. ``new_frames``/``lengths`` as in
        :meth:`forward` (one entry per cached sequence, each at least 1). ``positions`` are the new
        frames' places in the full sequences (increasing within a sequence; none equal to a cached
        frame's); by default they follow the cached frames.
        """
        flat, counts = flatten_sets(new_frames, lengths)
        if len(counts) != len(cache):
            raise ValueError(f"{len(counts)} sets of new frames for a cache of {len(cache)} sequences")
        pos = sequence_positions(positions, counts, flat.device, start=cache.counts)
        pos_padded = _pad_sets(pos, counts, torch.iinfo(torch.int64).max)
        pooled = []
        for maps, cached_max, cached_pos in zip(self.frame_maps(flat), cache.maxima, cache.positions, strict=True):
            # The new frames' maximum goes to their first maximal frame, which (positions increase
            # within a sequence) is also the one with the smallest position; the cached maximum
            # wins where it is larger, or equal and earlier.
            new_max, new_index = _pad_sets(maps, counts, -math.inf).max(1)
            new_pos = pos_padded.gather(1, new_index.flatten(1)).view_as(new_index)
            plain = new_max.detach()
            cached_wins = (cached_max > plain) | ((cached_max == plain) & (cached_pos < new_pos))
            pooled.append(torch.where(cached_wins, cached_max, new_max))
        return self.head(*pooled)


def _segment_max(flat: Tensor, counts: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Per-set maximum of flat per-frame maps ``[sum(counts), ...]`` -> ``[n, ...]``, and its index.

    The index is that of the set's first frame holding the maximum (``torch.max`` returns the
    first maximal index), which is also where the gradient goes. Sets are views of ``flat``: no copy.
    """
    n, longest = len(counts), max(counts)
    if all(c == longest for c in counts):
        return flat.view(n, longest, *flat.shape[1:]).max(1)
    per_set = [segment.max(0) for segment in flat.split(list(counts))]
    return torch.stack([p.values for p in per_set]), torch.stack([p.indices for p in per_set])


def _segment_amax(flat: Tensor, counts: tuple[int, ...]) -> Tensor:
    """The values of :func:`_segment_max` without indices or gradient routing (inference).

    ``amax`` over the outermost dimension of a contiguous layout is several times faster than
    ``max`` with indices; channels-last maps are reduced as their contiguous ``[F, H, W, C]`` view.
    """
    channels_last = (flat.dim() == 4 and not flat.is_contiguous()
                     and flat.is_contiguous(memory_format=torch.channels_last))
    work = flat.permute(0, 2, 3, 1) if channels_last else flat
    n, longest = len(counts), max(counts)
    if all(c == longest for c in counts):
        pooled = work.reshape(n, longest, *work.shape[1:]).amax(1)
    else:
        pooled = torch.stack([segment.amax(0) for segment in work.split(list(counts))])
    return pooled.permute(0, 3, 1, 2) if channels_last else pooled


def _pad_sets(flat: Tensor, counts: tuple[int, ...], fill: float | int) -> Tensor:
    """Flat per-frame values ``[F, ...]`` -> ``[n, max(counts), ...]``, short sets padded with ``fill``.

    Differentiable with respect to ``flat``; a view when every set has the same length.
    """
    n, longest = len(counts), max(counts)
    if all(c == longest for c in counts):
        return flat.view(n, longest, *flat.shape[1:])
    slots = torch.cat([torch.arange(c) + i * longest for i, c in enumerate(counts)]).to(flat.device)
    padded = flat.new_full((n * longest, *flat.shape[1:]), fill).index_copy(0, slots, flat)
    return padded.view(n, longest, *flat.shape[1:])


def build_gaitset(
    channels: Sequence[int] = PAPER_CHANNELS, hidden_dim: int = PAPER_HIDDEN_DIM, bins: Sequence[int] = HPM_BINS
) -> GaitSet:
    """A freshly initialised GaitSet (Xavier-uniform weights, as the original)."""
    return GaitSet(channels=channels, hidden_dim=hidden_dim, bins=bins)


def save_gaitset(model: GaitSet, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write final weights (architecture, state dict and ``extra`` plain values) atomically."""
    return save_model_weights(model, model.config(), WEIGHTS_FORMAT, path, extra)


def load_gaitset(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[GaitSet, dict[str, Any]]:
    """The model saved by :func:`save_gaitset` (in eval mode) and the ``extra`` values saved with it."""
    fix = "rerun the rule `train_gaitset` (delete the file first) or point to weights written by gaitcore"
    return load_model_weights(path, WEIGHTS_FORMAT, "GaitSet", build_gaitset, fix, map_location)
