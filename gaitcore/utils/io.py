"""Torch files written atomically and read safely: checkpoints, weights and payloads of plain values."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from gaitcore.errors import CheckpointError


def atomic_torch_save(payload: dict[str, Any], path: str | Path) -> Path:
    """``torch.save`` to ``path`` via a temporary file, fsync and ``os.replace``.

    A reader never sees a partly written file, even if the writer is killed mid-write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        torch.save(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def load_torch_file(path: str | Path, what: str, fix: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of a dict, any failure raised as :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, f"the {what} does not exist", fix)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated zip, foreign pickle, disallowed global, ...
        raise CheckpointError(path, f"cannot read the {what} ({type(err).__name__}: {err})", fix) from err
    if not isinstance(payload, dict):
        raise CheckpointError(path, f"the {what} holds a {type(payload).__name__}, not a dict", fix)
    return payload
