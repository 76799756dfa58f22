"""Building blocks shared by the victims GaitSet, GaitPart and GaitGL.

* **Sets of frames.** A batch is either ``[n, T, 64, 44]`` (``n`` sets of ``T`` frames) or the frames
  of all sets one after the other, ``[sum(lengths), 64, 44]``, plus per-set lengths, as
  :meth:`gaitcore.models.gaitset.GaitSet.forward` takes them. :func:`map_sets` runs a set-level
  function set by set (or on all sets at once when they have one length and batching is allowed).
* **Horizontal pooling** (GaitSet Sec. 3.3, GaitPart's "HP"): a map cut into horizontal strips, each
  strip pooled as mean + max.
* **Generalized-mean (GeM) pooling** with a learned exponent (GaitGL's feature mapping).
* **Separate fully connected layers**: one bias-free linear map per part (GaitSet's HPM mapping,
  GaitPart's and GaitGL's heads).
* **The incremental pair every victim offers the attacks** (issue 22): ``pooled_cache`` over a
  sequence's unchanged frames, then ``forward_with_cache`` for the sequence completed by new frames
  at given places. GaitSet's is its exact set-pooling fast path
  (:meth:`gaitcore.models.gaitset.GaitSet.pooled_cache`); GaitPart and GaitGL, whose temporal
  modules depend on frame order, get :class:`FullForwardIncremental`: the cache keeps the frames and
  each call assembles the full sequences and runs the full forward.

Weights files of every model: :mod:`gaitcore.models._api`.

Feature layout throughout: ``[n, parts, channels]`` (OpenGait keeps ``[n, channels, parts]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

INPUT_HEIGHT = 64
INPUT_WIDTH = 44
LEAKY_SLOPE = 0.01  # torch's default, used by every leaky ReLU of GaitSet, GaitPart and GaitGL

Lengths = Sequence[int] | Tensor | None


# ---------------------------------------------------------------------------------------- sets of frames
def flatten_sets(frames: Tensor, lengths: Lengths) -> tuple[Tensor, tuple[int, ...]]:
    """``[n, T, 64, 44]`` (no lengths) or ``[sum(lengths), 64, 44]`` + lengths -> flat frames, per-set counts."""
    if lengths is None:
        if frames.dim() != 4:
            raise ValueError(f"expected sets [n, T, H, W] (or flat frames with lengths), got {tuple(frames.shape)}")
        n, t = frames.shape[:2]
        flat, counts = frames.reshape(n * t, *frames.shape[2:]), (int(t),) * int(n)
    else:
        counts = tuple(int(c) for c in (lengths.tolist() if isinstance(lengths, Tensor) else lengths))
        if frames.dim() != 3:
            raise ValueError(f"with lengths, expected flat frames [F, H, W], got {tuple(frames.shape)}")
        if not counts or min(counts) < 1 or sum(counts) != frames.shape[0]:
            raise ValueError(f"lengths {counts} must be positive and sum to the {frames.shape[0]} frames given")
        flat = frames
    if tuple(flat.shape[-2:]) != (INPUT_HEIGHT, INPUT_WIDTH) or not counts or min(counts) < 1:
        raise ValueError(f"expected non-empty sets of {INPUT_HEIGHT}x{INPUT_WIDTH} frames, got {tuple(frames.shape)}")
    return flat, counts


def map_sets(fn: Callable[[Tensor], Tensor], flat: Tensor, counts: Sequence[int], batched: bool) -> Tensor:
    """``fn`` on each set ``[1, T_i, ...]`` of flat per-frame values ``[sum(counts), ...]``, concatenated.

    ``fn`` maps ``[m, T, ...]`` to ``[m, ...]``. With ``batched`` and sets of one length it runs once on
    ``[n, T, ...]``. Set by set, a set's result is bit-identical whatever else is in the batch (the same
    kernels see the same shapes), which is what eval mode uses: a batched attack then reproduces
    one-by-one attacks, as OpenGait's evaluation (one set per call) does.
    """
    counts = tuple(int(c) for c in counts)
    n, longest = len(counts), max(counts)
    if batched and all(c == longest for c in counts):
        return fn(flat.reshape(n, longest, *flat.shape[1:]))
    return torch.cat([fn(segment.unsqueeze(0)) for segment in flat.split(list(counts))])


def sequence_positions(positions: Tensor | Sequence[int] | None, counts: tuple[int, ...], device: torch.device,
                       start: int | Sequence[int]) -> Tensor:
    """Per-frame places in the full sequences (int64, flat), defaulting to ``start[i], start[i] + 1, ...``
    per set; given ones must increase within each set."""
    starts = [start] * len(counts) if isinstance(start, int) else list(start)
    if positions is None:
        return torch.cat([torch.arange(s, s + c) for s, c in zip(starts, counts, strict=True)]).to(device)
    pos = torch.as_tensor(positions, dtype=torch.int64, device=device).flatten()
    if pos.numel() != sum(counts):
        raise ValueError(f"{pos.numel()} positions for {sum(counts)} frames")
    for chunk in pos.split(list(counts)):
        if chunk.numel() > 1 and not bool((chunk[1:] > chunk[:-1]).all()):
            raise ValueError("positions must increase within each sequence")
    return pos


# ---------------------------------------------------------------------------------------- incremental pair
@dataclass(frozen=True)
class SequenceCache:
    """The unchanged frames of ``n`` sequences (flat ``[F, 64, 44]``, no autograd history), their
    places in the full sequences and how many each sequence has (:class:`FullForwardIncremental`)."""

    frames: Tensor
    positions: Tensor
    counts: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.counts)

    def select(self, index: Sequence[int]) -> SequenceCache:
        """The cache of a subset of the sequences, in the given order (e.g. those still attacked)."""
        starts = [0, *torch.tensor(self.counts).cumsum(0).tolist()]
        rows = torch.cat([torch.arange(starts[i], starts[i + 1]) for i in index]).to(self.frames.device)
        return SequenceCache(self.frames.index_select(0, rows), self.positions.index_select(0, rows),
                             tuple(self.counts[i] for i in index))


def assemble_sequences(cache: SequenceCache, new_frames: Tensor, new_positions: Tensor,
                       new_counts: tuple[int, ...]) -> tuple[Tensor, tuple[int, ...]]:
    """The full sequences, flat, each frame at its place (cached and new frames interleaved), and their
    lengths; differentiable with respect to ``new_frames``. Places must differ within a sequence."""
    n, dev = len(new_counts), new_frames.device
    sequence = torch.cat([torch.repeat_interleave(torch.arange(n, device=dev), torch.tensor(c, device=dev))
                          for c in (cache.counts, new_counts)])
    places = torch.cat([cache.positions.to(dev), new_positions])
    key = sequence * (int(places.max()) + 1) + places
    order = torch.argsort(key)
    if bool((key[order][1:] == key[order][:-1]).any()):
        raise ValueError("a new frame's position equals a cached frame's")
    frames = torch.cat([cache.frames.to(dev, new_frames.dtype), new_frames])
    return frames[order], tuple(a + b for a, b in zip(cache.counts, new_counts, strict=True))


class FullForwardIncremental:
    """``pooled_cache`` / ``forward_with_cache`` for a model whose features depend on frame order
    (GaitPart's micro-motion module, GaitGL's 3-D convolutions): the cache keeps the unchanged frames,
    and each call runs the full forward on the assembled sequences (the same values as the model's
    own forward on them; what it costs per sequence-iteration: ``python -m gaitcore.bench.attack``)."""

    @torch.no_grad()
    def pooled_cache(self, frames: Tensor, lengths: Lengths = None, positions: Tensor | None = None) -> SequenceCache:
        """The unchanged frames of ``n`` sequences at ``positions`` (default ``0, 1, ...`` per sequence)."""
        flat, counts = flatten_sets(frames, lengths)
        return SequenceCache(flat.detach(), sequence_positions(positions, counts, flat.device, start=0), counts)

    def forward_with_cache(self, cache: SequenceCache, new_frames: Tensor, lengths: Lengths = None,
                           positions: Tensor | None = None) -> Tensor:
        """Features of the sequences made of the cached frames plus ``new_frames`` at ``positions``
        (default: after the cached frames), as ``GaitSet.forward_with_cache``."""
        flat, counts = flatten_sets(new_frames, lengths)
        if len(counts) != len(cache):
            raise ValueError(f"{len(counts)} sets of new frames for a cache of {len(cache)} sequences")
        places = sequence_positions(positions, counts, flat.device, start=cache.counts)
        frames, full = assemble_sequences(cache, flat, places, counts)
        return self(frames, full)  # type: ignore[operator]


# ---------------------------------------------------------------------------------------- part pooling
def horizontal_pooling(maps: Tensor, strips: int) -> Tensor:
    """Horizontal pooling: ``[N, C, H, W]`` cut into ``strips`` rows of ``H // strips`` -> ``[N, strips, C]``.

    Each strip is pooled as mean + max over its pixels (GaitSet Sec. 3.3; GaitPart's HP module).
    """
    n, c = maps.shape[:2]
    z = maps.reshape(n, c, strips, -1)
    return (z.mean(-1) + z.max(-1).values).transpose(1, 2)


class GeneralizedMeanPooling(nn.Module):
    """GeM pooling over ``bins`` equal slices of each channel's flattened map, learned exponent ``p``.

    ``[N, C, H, W]`` -> ``[N, bins, C]``: slice ``k`` holds elements ``k * H*W/bins ..`` of the row-major
    map, i.e. whole rows when ``bins`` divides ``H`` (GaitGL: 64 bins on 64-row maps, one row each),
    and is pooled as ``mean(clamp(x, eps) ** p) ** (1 / p)``.
    """

    def __init__(self, bins: int, p: float, eps: float = 1.0e-6) -> None:
        super().__init__()
        self.bins = int(bins)
        self.eps = float(eps)
        self.exponent = nn.Parameter(torch.full((1,), float(p)))

    def forward(self, maps: Tensor) -> Tensor:
        n, c = maps.shape[:2]
        z = maps.reshape(n, c, self.bins, -1).clamp(min=self.eps).pow(self.exponent)
        return z.mean(-1).pow(1.0 / self.exponent).transpose(1, 2)


class SeparateFCs(nn.Module):
    """One bias-free linear map per part: ``[n, parts, in] -> [n, parts, out]``, weight ``[parts, in, out]``.

    In eval mode sets are mapped one at a time: a batched product's blocking (so its last bits) depends
    on ``n``, and a set's features should not depend on the rest of the batch.
    """

    def __init__(self, parts: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(int(parts), int(in_features), int(out_features)))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        by_part = x.transpose(0, 1)  # [parts, n, in]
        if self.training:
            out = by_part.matmul(self.weight)
        else:
            out = torch.cat([by_part[:, i : i + 1].matmul(self.weight) for i in range(by_part.shape[1])], 1)
        return out.transpose(0, 1).contiguous()
