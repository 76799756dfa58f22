"""The torch device a job runs on, from the config's ``device`` value."""

from __future__ import annotations

import torch


def resolve_device(device: str) -> torch.device:
    """``cpu``, ``cuda`` or ``auto`` (CUDA when available) as a torch device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda is configured but torch sees no CUDA device; set device: cpu or auto")
    return torch.device(device)
