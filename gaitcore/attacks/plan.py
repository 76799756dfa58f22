"""Temporal sparsity: how many frames an attack generates and where they go (He et al. Sec. 3.2).

The paper's mask ``M`` (Sec. 3.2, Eq. 4) marks the altered frames ``Phi``, a subset of ``K`` of
the ``N`` frame indices; the sparsity is ``S = K / N``. Its code computes ``K = floor(N / 40) + 1``
for S = 1/40, so every sequence gets at least one generated frame; that is the default rounding
here (``floor_plus_one``: ``K = floor(N * S) + 1``), and ``ceil`` (``K = max(1, ceil(N * S))``)
is the alternative. Sec. 4.1 alters the first ``K`` frames (``placement: first``); Sec. 3.2
describes a random subset (``placement: random``).

Two attack kinds (Sec. 3.2):

* **frame alteration** (Eq. 4): the adversarial sequence has ``N`` frames; the frames at ``Phi``
  are replaced by generated ones. Eq. 4 as printed (``X* = M G(Z) + (1 - M) X``) would keep the
  generated frames where ``M = 1``, but the text sets ``M_n = 0`` on ``Phi``: the altered frames are
  ``Phi``, whichever way ``M`` is written.
* **frame insertion**: ``K`` generated frames are inserted, giving ``N + K`` frames; ``Phi`` are
  then the generated frames' places among the ``N + K`` (the first ``K`` places by default, as the
  paper's code prepends its generated frames).

Set pooling makes GaitSet's features independent of frame order, but the places still decide which
frame receives the gradient where several frames tie (see :mod:`gaitcore.models.gaitset`), so the
plan records them and every forward uses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from gaitcore.attacks.vocabulary import KINDS

PLACEMENTS = ("first", "random")
K_RULES = ("floor_plus_one", "ceil")


def num_generated(frame_count: int, sparsity: Fraction, rule: str = "floor_plus_one") -> int:
    """``K`` for an ``N``-frame sequence: ``floor(N S) + 1`` (the paper's code) or ``max(1, ceil(N S))``."""
    if frame_count < 1:
        raise ValueError(f"a sequence needs at least one frame, got {frame_count}")
    if rule == "floor_plus_one":
        k = math.floor(frame_count * sparsity) + 1
    elif rule == "ceil":
        k = max(1, math.ceil(frame_count * sparsity))
    else:
        raise ValueError(f"unknown K rounding {rule!r}; use one of {K_RULES}")
    return k


@dataclass(frozen=True)
class FramePlan:
    """Where the ``K`` generated frames of one attacked sequence go.

    ``length`` is the adversarial sequence's frame count (``N`` or ``N + K``); ``generated`` the
    sorted places of the generated frames in it (``Phi``); ``kept`` the sorted places of the
    original frames that remain, and ``kept_source`` which original frame fills each of them.
    """

    kind: str
    frame_count: int
    generated: np.ndarray
    kept: np.ndarray
    kept_source: np.ndarray

    @property
    def k(self) -> int:
        return len(self.generated)

    @property
    def length(self) -> int:
        return len(self.generated) + len(self.kept)

    def assemble(self, original: np.ndarray, generated: np.ndarray) -> np.ndarray:
        """The adversarial sequence: ``generated`` frames at :attr:`generated`, originals elsewhere."""
        if len(original) != self.frame_count or len(generated) != self.k:
            raise ValueError(f"plan for {self.frame_count} + {self.k} frames, got {len(original)} + {len(generated)}")
        out = np.empty((self.length, *original.shape[1:]), dtype=original.dtype)
        out[self.kept] = original[self.kept_source]
        out[self.generated] = generated
        return out

    def neighbours(self) -> np.ndarray:
        """For each generated frame, the original frames just before and after it (``-1``: none).

        ``[K, 2]`` indices into the original sequence: the nearest kept frame before and after each
        generated place in the adversarial sequence (for the temporal-consistency term).
        """
        out = np.full((self.k, 2), -1, dtype=np.int64)
        if not len(self.kept):
            return out
        before = np.searchsorted(self.kept, self.generated) - 1
        after = before + 1
        has_before, has_after = before >= 0, after < len(self.kept)
        out[has_before, 0] = self.kept_source[before[has_before]]
        out[has_after, 1] = self.kept_source[after[has_after]]
        return out

    def start_frames(self, original: np.ndarray) -> np.ndarray:
        """The natural frames at :attr:`generated`: what a pixel-space attack perturbs, ``[K, ...]``.

        Frame alteration: the original frames at ``Phi`` (the frames the attack replaces). Frame
        insertion has no original frame at ``Phi``; each inserted frame starts as a copy of its
        nearest original neighbour, the one after it (the one before where none follows). Also the
        reference of the pixel-change measures (``gaitcore.evaluation.imperceptibility``).
        """
        if len(original) != self.frame_count:
            raise ValueError(f"plan for {self.frame_count} frames, got {len(original)}")
        if self.kind == "alteration":
            return np.asarray(original[self.generated])
        neighbours = self.neighbours()
        return np.asarray(original[np.where(neighbours[:, 1] >= 0, neighbours[:, 1], neighbours[:, 0])])

    @classmethod
    def from_positions(cls, kind: str, frame_count: int, generated: np.ndarray) -> FramePlan:
        """The plan of an attacked sequence as its job table records it (``N`` and the places ``Phi``)."""
        if kind not in KINDS:
            raise ValueError(f"unknown attack kind {kind!r}; use one of {KINDS}")
        generated = np.sort(np.asarray(generated, dtype=np.int64))
        length = frame_count + (len(generated) if kind == "insertion" else 0)
        if len(generated) and (generated[0] < 0 or generated[-1] >= length
                               or len(np.unique(generated)) != len(generated)):
            raise ValueError(f"places {generated.tolist()} do not fit a {kind} of {frame_count} frames")
        kept = np.setdiff1d(np.arange(length), generated).astype(np.int64)
        kept_source = kept if kind == "alteration" else np.arange(frame_count, dtype=np.int64)
        return cls(kind, frame_count, generated, kept, kept_source)


def plan_frames(
    frame_count: int,
    sparsity: Fraction,
    *,
    kind: str = "alteration",
    placement: str = "first",
    rule: str = "floor_plus_one",
    rng: np.random.Generator | None = None,
) -> FramePlan:
    """The :class:`FramePlan` of one sequence (``rng`` draws the random placement)."""
    if kind not in KINDS:
        raise ValueError(f"unknown attack kind {kind!r}; use one of {KINDS}")
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r}; use one of {PLACEMENTS}")
    k = num_generated(frame_count, sparsity, rule)
    length = frame_count if kind == "alteration" else frame_count + k
    if kind == "alteration" and k >= frame_count:
        raise ValueError(f"cannot alter {k} of {frame_count} frames: at least one original frame must remain")
    if placement == "first":
        generated = np.arange(k)
    else:
        if rng is None:
            raise ValueError("placement 'random' needs a random generator")
        generated = np.sort(rng.choice(length, size=k, replace=False))
    kept = np.setdiff1d(np.arange(length), generated)
    kept_source = kept if kind == "alteration" else np.arange(frame_count)
    return FramePlan(kind, frame_count, generated.astype(np.int64), kept.astype(np.int64), kept_source.astype(np.int64))
