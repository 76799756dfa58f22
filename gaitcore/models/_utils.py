"""Helpers shared by the model definitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def batch_invariant(fn: Callable[[Any], Any], inputs: Any) -> Any:
    """``fn(inputs)`` with a lone sample computed as a batch of two (its copy's result dropped).

    CPU convolutions give each sample the same bits for every batch size of two or more, but a
    batch of one takes another algorithm (last-bit differences). With this, a sequence's features,
    frames and gradients are bit-identical whether it is attacked alone or in a batch; sign-based
    attack steps would otherwise turn last-bit differences into different results. ``inputs`` is
    a tensor or a tuple of tensors (same batch size); ``fn`` returns a tensor or a tuple of them.
    """
    tensors = inputs if isinstance(inputs, tuple) else (inputs,)
    if tensors[0].shape[0] != 1:
        return fn(inputs)
    doubled = tuple(torch.cat([t, t]) for t in tensors)
    out = fn(doubled if isinstance(inputs, tuple) else doubled[0])
    return tuple(o[:1] for o in out) if isinstance(out, tuple) else out[:1]


def conv_is_channels_last(conv: torch.nn.Conv2d) -> bool:
    """Whether ``.to(memory_format=torch.channels_last)`` was applied (``conv`` needs >= 2 in and out channels)."""
    weight = conv.weight
    return weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
