"""The recognition models an attack can target, behind one interface (beyond He et al., who attack
GaitSet only; issue 22): GaitSet (the paper's victim, Sec. 4.1), GaitPart and GaitGL.

Every victim maps silhouette sets (``[n, T, 64, 44]``, or flat frames plus per-set lengths) in
[0, 1] to features ``[n, parts, hidden]``, compared by the Euclidean distance of the flattened
features, and offers the incremental pair the attacks use (``pooled_cache`` over a sequence's
unchanged frames, ``forward_with_cache`` for the sequence completed by new frames): GaitSet's exact
set-pooling fast path, the full forward for GaitPart and GaitGL
(:class:`gaitcore.models._blocks.FullForwardIncremental`).

A victim's weights are either gaitcore's own file (``save_*``, read back by :func:`load_victim`,
which recognises the architecture from the file) or an OpenGait checkpoint
(:func:`gaitcore.models.opengait.load_opengait`, ``architecture`` named).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gaitcore.errors import CheckpointError
from gaitcore.models import gaitgl, gaitpart, gaitset
from gaitcore.models._api import model_from_weights
from gaitcore.models.opengait import load_opengait
from gaitcore.utils.io import load_torch_file

VictimModel = gaitset.GaitSet | gaitpart.GaitPart | gaitgl.GaitGL


@dataclass(frozen=True)
class Architecture:
    """How to build and save one victim architecture (:func:`load_victim` reads any of them)."""

    name: str
    model_class: type[nn.Module]
    build: Callable[..., nn.Module]
    save: Callable[..., Path]
    weights_format: str


ARCHITECTURES: dict[str, Architecture] = {
    "GaitSet": Architecture("GaitSet", gaitset.GaitSet, gaitset.build_gaitset, gaitset.save_gaitset,
                            gaitset.WEIGHTS_FORMAT),
    "GaitPart": Architecture("GaitPart", gaitpart.GaitPart, gaitpart.build_gaitpart, gaitpart.save_gaitpart,
                             gaitpart.WEIGHTS_FORMAT),
    "GaitGL": Architecture("GaitGL", gaitgl.GaitGL, gaitgl.build_gaitgl, gaitgl.save_gaitgl, gaitgl.WEIGHTS_FORMAT),
}


def architecture(name: str) -> Architecture:
    """The architecture called ``name`` (any case)."""
    names = {key.lower(): spec for key, spec in ARCHITECTURES.items()}
    try:
        return names[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown victim architecture {name!r}; expected one of {', '.join(ARCHITECTURES)}") from None


def architecture_of(model: nn.Module) -> Architecture:
    """The architecture of a victim model."""
    for spec in ARCHITECTURES.values():
        if isinstance(model, spec.model_class):
            return spec
    raise TypeError(f"{type(model).__name__} is not a victim ({', '.join(ARCHITECTURES)})")


def load_victim(path: str | Path, map_location: str | torch.device = "cpu",
                opengait: str | None = None) -> tuple[VictimModel, dict[str, Any]]:
    """The victim in ``path`` (eval mode, on ``map_location``) and the extras saved with it.

    gaitcore weights files name their architecture; with ``opengait`` (an architecture name) ``path``
    is an OpenGait checkpoint of it instead (extras: ``{"opengait": path}``).
    """
    if opengait is not None:
        return load_opengait(path, opengait, map_location=map_location), {"opengait": str(path)}
    formats = {spec.weights_format: spec for spec in ARCHITECTURES.values()}
    fix = (f"point to weights written by gaitcore ({', '.join(ARCHITECTURES)}), or name the architecture of an "
           f"OpenGait checkpoint")
    payload = load_torch_file(path, "victim weights file", fix, map_location)
    spec = formats.get(payload.get("format"))
    if spec is None:
        raise CheckpointError(path, f"not the weights of a victim (format {payload.get('format')!r})", fix)
    model, extra = model_from_weights(payload, path, spec.weights_format, spec.name, spec.build, fix, map_location)
    return model, extra  # type: ignore[return-value]


def import_opengait(checkpoint: str | Path, architecture_name: str, out: str | Path) -> Path:
    """Convert an OpenGait checkpoint of ``architecture_name`` into gaitcore's weights file ``out``
    (written atomically; its extras name the checkpoint), so that every stage reads it with
    :func:`load_victim`. A mismatched or hostile file is refused by
    :func:`gaitcore.models.opengait.load_opengait`."""
    spec = architecture(architecture_name)
    model = load_opengait(checkpoint, spec.name)
    return spec.save(model, out, extra={"opengait": str(checkpoint)})


def sequence_features(model: nn.Module, frames: torch.Tensor, lengths: list[int],
                      frame_chunk: int | None = None) -> torch.Tensor:
    """Features ``[n, parts, hidden]`` of sets given as flat frames + lengths; ``frame_chunk`` runs
    GaitSet's frame CNN that many frames at a time (the others take the sets whole)."""
    if isinstance(model, gaitset.GaitSet):
        return model(frames, lengths, frame_chunk=frame_chunk)
    return model(frames, lengths)


def uses_channels_last(model: nn.Module) -> bool:
    """Whether the model can run NHWC convolutions (2-D ones only; GaitGL's 3-D convolutions cannot)."""
    return not any(p.dim() == 5 for p in model.parameters())


def in_channels_last(model: nn.Module, channels_last: bool = True) -> nn.Module:
    """``model`` with NHWC weights when ``channels_last`` is asked and the model supports it (faster
    convolutions on CPU); otherwise ``model`` as it is."""
    if channels_last and uses_channels_last(model):
        return model.to(memory_format=torch.channels_last)
    return model


__all__ = ["ARCHITECTURES", "Architecture", "VictimModel", "architecture", "architecture_of", "import_opengait",
           "in_channels_last", "load_victim", "uses_channels_last"]
