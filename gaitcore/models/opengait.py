"""OpenGait checkpoints of GaitSet, GaitPart and GaitGL as gaitcore models.

OpenGait (ShiqiYu/OpenGait) releases ``.pt`` files written by ``BaseModel.save_ckpt``: a dict whose
``'model'`` entry is the network's state dict (beside ``'optimizer'``, ``'scheduler'`` and
``'iteration'``, unused here). Its names follow OpenGait's modules, wrappers included
(``SetBlockWrapper.forward_block``, ``PackSequenceWrapper.pooling_func``, ``nn.Sequential`` and
``clones`` indices); the losses hold no tensors, so the state dict is the network's alone. This module
maps such a state dict onto :class:`~gaitcore.models.gaitset.GaitSet`,
:class:`~gaitcore.models.gaitpart.GaitPart` or :class:`~gaitcore.models.gaitgl.GaitGL` exactly (the
CASIA-B definitions: ``configs/gaitset/gaitset.yaml``, ``configs/gaitpart/gaitpart.yaml``,
``configs/gaitgl/gaitgl.yaml``), with the widths read from the tensors' shapes:

* every OpenGait tensor is used once and every gaitcore parameter and buffer is set; missing or
  unexpected keys, wrong shapes, a state dict of another architecture raise
  :class:`~gaitcore.errors.CheckpointError` naming the file, the keys and the fix;
* GaitPart's 16 x 2 x 2 per-part ``Conv1d`` weights are stacked into the four ``[parts, ...]``
  weights of :class:`~gaitcore.models.gaitpart.MicroMotionTemplateBuilder`;
* GaitSet's parts come in another order. gaitcore's GaitSet follows the original code (bins 1, 2, 4,
  8, 16; per bin the main branch, then the global one); OpenGait concatenates the main branch's strips
  for bins 16, 8, 4, 2, 1, then the global branch's. The per-part weights are permuted
  (:func:`gaitset_part_order`), so gaitcore's part ``j`` is OpenGait's part ``gaitset_part_order()[j]``:
  the same features up to that permutation, hence the same distances and rank-1 results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from gaitcore.errors import CheckpointError
from gaitcore.models.gaitgl import GaitGL
from gaitcore.models.gaitpart import GaitPart
from gaitcore.models.gaitset import HPM_BINS, GaitSet
from gaitcore.utils.io import load_torch_file

ARCHITECTURES: tuple[str, ...] = ("GaitSet", "GaitPart", "GaitGL")
OPENGAIT_CONFIGS = {
    "GaitSet": "configs/gaitset/gaitset.yaml",
    "GaitPart": "configs/gaitpart/gaitpart.yaml",
    "GaitGL": "configs/gaitgl/gaitgl.yaml",
}
OpenGaitModel = GaitSet | GaitPart | GaitGL


@dataclass(frozen=True)
class _Rule:
    """How one gaitcore tensor is made of OpenGait tensors.

    ``copy``: one source, same shape; ``stack``: one source per leading index (each of the target's
    shape without its first dimension); ``parts``: one source, same shape, first dimension reordered
    by ``order`` (target ``[j] = source[order[j]]``).
    """

    target: str
    sources: tuple[str, ...]
    kind: Literal["copy", "stack", "parts"] = "copy"
    order: tuple[int, ...] = ()

    def source_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
        return target_shape[1:] if self.kind == "stack" else target_shape

    def combine(self, state: Mapping[str, Tensor]) -> Tensor:
        if self.kind == "stack":
            return torch.stack([state[s] for s in self.sources])
        tensor = state[self.sources[0]]
        if self.kind == "parts":
            return tensor[torch.as_tensor(self.order, device=tensor.device)]
        return tensor


@dataclass(frozen=True)
class _Architecture:
    build: Callable[..., nn.Module]
    default_config: dict[str, Any]
    read_config: Callable[[Mapping[str, Any]], dict[str, Any] | None]  # widths from shapes; None if unreadable
    rules: Callable[[dict[str, Any]], list[_Rule]]


# ------------------------------------------------------------------------------------------- GaitSet
def gaitset_part_order(bins: Sequence[int] = HPM_BINS) -> tuple[int, ...]:
    """For each part of gaitcore's GaitSet, the index of the same strip in OpenGait's GaitSet features.

    gaitcore: for each bin count in ``bins`` (1, 2, 4, 8, 16), the main branch's strips then the global
    branch's; OpenGait: the main branch's strips for bin counts 16, 8, 4, 2, 1, then the global
    branch's. Strips run top to bottom in both.
    """
    opengait_bins = sorted(bins, reverse=True)
    opengait_index, index = {}, 0
    for branch in ("main", "global"):
        for count in opengait_bins:
            for strip in range(count):
                opengait_index[branch, count, strip] = index
                index += 1
    return tuple(opengait_index[branch, count, strip]
                 for count in bins for branch in ("main", "global") for strip in range(count))


_GAITSET_CONVS = {
    "set_layer1": "set_block1.forward_block.0", "set_layer2": "set_block1.forward_block.2",
    "set_layer3": "set_block2.forward_block.0", "set_layer4": "set_block2.forward_block.2",
    "set_layer5": "set_block3.forward_block.0", "set_layer6": "set_block3.forward_block.2",
    "gl_layer1": "gl_block2.0", "gl_layer2": "gl_block2.2", "gl_layer3": "gl_block3.0", "gl_layer4": "gl_block3.2",
}


def _gaitset_config(state: Mapping[str, Any]) -> dict[str, Any] | None:
    widths = [_dim(state, f"set_block{k}.forward_block.0.conv.weight", 0) for k in (1, 2, 3)]
    hidden = _dim(state, "Head.fc_bin", 2)
    if None in widths or hidden is None:
        return None
    return {"channels": widths, "hidden_dim": hidden, "bins": list(HPM_BINS)}


def _gaitset_rules(config: dict[str, Any]) -> list[_Rule]:
    rules = [_Rule(f"{ours}.conv.weight", (f"{theirs}.conv.weight",)) for ours, theirs in _GAITSET_CONVS.items()]
    rules.append(_Rule("fc_bin", ("Head.fc_bin",), "parts", gaitset_part_order(config["bins"])))
    return rules


# ------------------------------------------------------------------------------------------- GaitPart
_GAITPART_BACKBONE = {  # index in OpenGait's Plain backbone (LeakyReLU and MaxPool2d take indices too)
    "conv1.weight": 0, "conv2.weight": 2, "fconv3.conv.weight": 5, "fconv4.conv.weight": 7,
    "fconv5.conv.weight": 10, "fconv6.conv.weight": 12,
}
_GAITPART_MTB = {"mtb1": "conv1d3x1", "mtb2": "conv1d3x3"}  # OpenGait's TemporalFeatureAggregator names


def _gaitpart_config(state: Mapping[str, Any]) -> dict[str, Any] | None:
    widths = [_dim(state, f"Backbone.forward_block.feature.{i}.conv.weight", 0) for i in (0, 5, 10)]
    parts, hidden = _dim(state, "Head.fc_bin", 0), _dim(state, "Head.fc_bin", 2)
    if None in widths or parts is None or hidden is None:
        return None
    return {"channels": widths, "hidden_dim": hidden, "parts": parts}


def _gaitpart_rules(config: dict[str, Any]) -> list[_Rule]:
    backbone = "Backbone.forward_block.feature"
    rules = [_Rule(ours, (f"{backbone}.{i}.conv.weight",)) for ours, i in _GAITPART_BACKBONE.items()]
    for ours, theirs in _GAITPART_MTB.items():
        for layer, index in (("attention_hidden", 0), ("attention_out", 2)):
            sources = tuple(f"TFA.pooling_func.{theirs}.{part}.{index}.conv.weight" for part in range(config["parts"]))
            rules.append(_Rule(f"micro_motion.{ours}.{layer}", sources, "stack"))
    rules.append(_Rule("fc.weight", ("Head.fc_bin",)))
    return rules


# ------------------------------------------------------------------------------------------- GaitGL
_GAITGL_GLCONVS = {"glconv1": "GLConvA0", "glconv2": "GLConvA1", "glconv3": "GLConvB2"}
_BATCH_NORM_ENTRIES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _gaitgl_config(state: Mapping[str, Any]) -> dict[str, Any] | None:
    widths = [_dim(state, "conv3d.0.conv3d.weight", 0), _dim(state, "GLConvA0.global_conv3d.conv3d.weight", 0),
              _dim(state, "GLConvA1.global_conv3d.conv3d.weight", 0)]
    classes = _dim(state, "Head1.fc_bin", 2)
    if None in widths or classes is None:
        return None
    return {"channels": widths, "class_num": classes}


def _gaitgl_rules(config: dict[str, Any]) -> list[_Rule]:
    rules = [_Rule("conv3d.weight", ("conv3d.0.conv3d.weight",)), _Rule("lta.weight", ("LTA.0.conv3d.weight",))]
    for ours, theirs in _GAITGL_GLCONVS.items():
        rules += [_Rule(f"{ours}.global_conv.weight", (f"{theirs}.global_conv3d.conv3d.weight",)),
                  _Rule(f"{ours}.local_conv.weight", (f"{theirs}.local_conv3d.conv3d.weight",))]
    rules += [_Rule("gem.exponent", ("HPP.p",)), _Rule("fc.weight", ("Head0.fc_bin",))]
    rules += [_Rule(f"bn.{entry}", (f"Bn.{entry}",)) for entry in _BATCH_NORM_ENTRIES]
    rules.append(_Rule("classifier.weight", ("Head1.fc_bin",)))
    return rules


_ARCHITECTURES: dict[str, _Architecture] = {
    "GaitSet": _Architecture(GaitSet, {"channels": [32, 64, 128], "hidden_dim": 256, "bins": list(HPM_BINS)},
                             _gaitset_config, _gaitset_rules),
    "GaitPart": _Architecture(GaitPart, {"channels": [32, 64, 128], "hidden_dim": 128, "parts": 16},
                              _gaitpart_config, _gaitpart_rules),
    "GaitGL": _Architecture(GaitGL, {"channels": [32, 64, 128], "class_num": 74}, _gaitgl_config, _gaitgl_rules),
}


# ------------------------------------------------------------------------------------------- mapping
def map_opengait_state_dict(
    state: Mapping[str, Any], architecture: str, source: str | Path = "<OpenGait state dict>"
) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """An OpenGait state dict of ``architecture`` -> (gaitcore config, gaitcore state dict).

    The widths come from the tensors' shapes; every key and shape is checked against OpenGait's
    definition. ``source`` names the state dict in errors (the checkpoint file). Pure: tensors are
    shared with ``state`` where no reordering is needed.
    """
    config, mapped, _ = _map_state_dict(state, _canonical(architecture), source)
    return config, mapped


def model_from_opengait_state_dict(
    state: Mapping[str, Any], architecture: str, source: str | Path = "<OpenGait state dict>"
) -> OpenGaitModel:
    """The gaitcore model (eval mode) holding an OpenGait state dict; see :func:`map_opengait_state_dict`."""
    _, mapped, model = _map_state_dict(state, _canonical(architecture), source)
    model.load_state_dict(mapped)  # strict; the mapping covers every parameter and buffer
    return model.eval()  # type: ignore[return-value]


def _map_state_dict(
    state: Mapping[str, Any], arch: str, source: str | Path
) -> tuple[dict[str, Any], dict[str, Tensor], nn.Module]:
    """Checks and maps (see :func:`map_opengait_state_dict`); also returns the freshly built model."""
    fix_use = (f"pass the 'model' state dict of an OpenGait {arch} checkpoint as {OPENGAIT_CONFIGS[arch]} "
               f"defines it (CASIA-B), complete and unmodified")
    if not isinstance(state, Mapping) or not state:
        raise CheckpointError(source, f"expected a non-empty state dict, got {type(state).__name__}", fix_use)
    not_tensors = [str(k) for k, v in state.items() if not isinstance(k, str) or not isinstance(v, Tensor)]
    if not_tensors:
        raise CheckpointError(source, f"not every entry of the state dict is a named tensor "
                                      f"({_count(not_tensors, 'entry', 'entries')}: {_few(not_tensors)})", fix_use)
    spec = _ARCHITECTURES[arch]
    config = spec.read_config(state)
    rules = spec.rules(config or spec.default_config)
    expected = [s for rule in rules for s in rule.sources]
    missing = [k for k in expected if k not in state]
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        mismatch = (f"{_count(missing, 'missing key')}{': ' + _few(missing) if missing else ''}; "
                    f"{_count(unexpected, 'unexpected key')}{': ' + _few(unexpected) if unexpected else ''}")
        other = _matching_architecture(state, exclude=arch)
        if other is not None:
            raise CheckpointError(source, f"this is an OpenGait {other} state dict, not {arch} ({mismatch})",
                                  f"load it with architecture={other!r}")
        raise CheckpointError(source, f"the keys do not match OpenGait's {arch} ({mismatch})", fix_use)
    config = config or dict(spec.default_config)
    try:
        model = spec.build(**config)
    except ValueError as err:
        raise CheckpointError(source, f"the shapes give an impossible {arch} ({err})", fix_use) from err
    targets = model.state_dict()
    wrong = []
    for rule in rules:
        want = rule.source_shape(tuple(targets[rule.target].shape))
        wrong += [f"{s} {tuple(state[s].shape)} (expected {want})"
                  for s in rule.sources if tuple(state[s].shape) != want]
    if wrong:
        raise CheckpointError(source, f"{_count(wrong, 'tensor')} with the wrong shape for OpenGait's {arch} with "
                                      f"config {config}: {_few(wrong)}", fix_use)
    return config, {rule.target: rule.combine(state) for rule in rules}, model


def load_opengait(path: str | Path, architecture: str, map_location: str | torch.device = "cpu") -> OpenGaitModel:
    """The gaitcore model (eval mode, on ``map_location``) of an OpenGait checkpoint file.

    ``architecture`` is ``"GaitSet"``, ``"GaitPart"`` or ``"GaitGL"`` (any case). The file is read with
    ``torch.load(weights_only=True)``; it must be a dict holding the state dict under ``'model'``.
    """
    arch = _canonical(architecture)
    fix = (f"point to an OpenGait {arch} checkpoint (the .pt file of BaseModel.save_ckpt, a dict with the "
           f"network's state dict under 'model', for {OPENGAIT_CONFIGS[arch]})")
    payload = load_torch_file(path, "OpenGait checkpoint", fix, map_location)
    state = payload.get("model")
    if not isinstance(state, Mapping):
        bare = bool(payload) and all(isinstance(v, Tensor) for v in payload.values())
        hint = "; for a bare state dict use model_from_opengait_state_dict(torch.load(...), ...)" if bare else ""
        raise CheckpointError(path, f"the OpenGait checkpoint has no 'model' state dict "
                                    f"({_count(list(payload), 'key')}: {_few([str(k) for k in payload])})", fix + hint)
    return model_from_opengait_state_dict(state, arch, source=path).to(map_location)


# ------------------------------------------------------------------------------------------- helpers
def _canonical(architecture: str) -> str:
    names = {name.lower(): name for name in ARCHITECTURES}
    try:
        return names[str(architecture).lower()]
    except KeyError:
        raise ValueError(f"unknown architecture {architecture!r}; expected one of {', '.join(ARCHITECTURES)}") from None


def _dim(state: Mapping[str, Any], key: str, axis: int) -> int | None:
    """Size of ``state[key]`` along ``axis``, or None if there is no such tensor or axis."""
    tensor = state.get(key)
    return int(tensor.shape[axis]) if isinstance(tensor, Tensor) and tensor.dim() > axis else None


def _matching_architecture(state: Mapping[str, Any], exclude: str) -> str | None:
    """The other architecture whose OpenGait keys ``state`` has exactly, if any."""
    for name, spec in _ARCHITECTURES.items():
        if name != exclude:
            rules = spec.rules(spec.read_config(state) or spec.default_config)
            if set(state) == {s for rule in rules for s in rule.sources}:
                return name
    return None


def _few(items: Iterable[str], limit: int = 3) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _count(items: Sequence[Any], singular: str, plural: str | None = None) -> str:
    return f"{len(items)} {singular if len(items) == 1 else plural or singular + 's'}"


__all__ = [
    "ARCHITECTURES", "OPENGAIT_CONFIGS", "OpenGaitModel", "gaitset_part_order", "load_opengait",
    "map_opengait_state_dict", "model_from_opengait_state_dict",
]
