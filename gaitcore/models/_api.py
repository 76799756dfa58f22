"""The weights file every gaitcore model is saved in: ``{format, config, state_dict, extra}``,
written atomically and read with ``torch.load(weights_only=True)`` (GaitSet, GaitPart, GaitGL, the
frame detector)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from gaitcore.errors import CheckpointError
from gaitcore.utils.io import atomic_torch_save, load_torch_file

ModelT = TypeVar("ModelT", bound=nn.Module)


def save_model_weights(
    model: nn.Module, config: dict[str, Any], weights_format: str, path: str | Path, extra: dict[str, Any] | None
) -> Path:
    """Write ``{format, config, state_dict, extra}`` atomically (tensors detached, on the CPU)."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    payload = {"format": weights_format, "config": config, "state_dict": state, "extra": dict(extra or {})}
    return atomic_torch_save(payload, path)


def load_model_weights(
    path: str | Path,
    weights_format: str,
    what: str,
    build: Callable[..., ModelT],
    fix: str,
    map_location: str | torch.device = "cpu",
) -> tuple[ModelT, dict[str, Any]]:
    """The model written by :func:`save_model_weights` (eval mode, on ``map_location``) and its extras.

    The stored config must build a model (``build(**config)``) whose state dict the stored weights fit
    exactly; anything else raises :class:`CheckpointError` naming ``path`` and ``fix``.
    """
    payload = load_torch_file(path, f"{what} weights file", fix, map_location)
    return model_from_weights(payload, path, weights_format, what, build, fix, map_location)


def model_from_weights(
    payload: dict[str, Any],
    path: str | Path,
    weights_format: str,
    what: str,
    build: Callable[..., ModelT],
    fix: str,
    map_location: str | torch.device = "cpu",
) -> tuple[ModelT, dict[str, Any]]:
    """:func:`load_model_weights` of the ``payload`` already read from ``path``."""
    if payload.get("format") != weights_format or not isinstance(payload.get("config"), dict):
        raise CheckpointError(path, f"not a gaitcore {what} weights file (format {payload.get('format')!r})", fix)
    try:
        model = build(**payload["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(path, f"the stored {what} config {payload['config']} is invalid ({err})", fix) from err
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError, TypeError) as err:
        raise CheckpointError(path, f"weights do not fit the stored architecture ({err})", fix) from err
    return model.to(map_location).eval(), dict(payload.get("extra", {}))
