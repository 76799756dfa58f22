"""The arithmetic a model computes in: float32, or bfloat16 under autocast (one owner of the choice
for the attack engine and the victim's training)."""

from __future__ import annotations

import contextlib

import torch

DTYPES = ("float32", "bfloat16")


def precision(device: torch.device, dtype: str) -> contextlib.AbstractContextManager:
    """The context to compute in for ``dtype`` (one of :data:`DTYPES`): nothing for float32, bfloat16
    autocast on ``device``'s type otherwise."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if dtype == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
