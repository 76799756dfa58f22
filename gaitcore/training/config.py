"""Behaviour shared by the typed training configs (GaitSet, WGAN-GP)."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from gaitcore.errors import CheckpointError
from gaitcore.models.gaitset import load_torch_file
from gaitcore.training.sampler import subject_range

log = logging.getLogger(__name__)

CHECKPOINT_FIX = (
    "delete it to start training from scratch (or restore an intact copy); "
    "a checkpoint is rewritten atomically, so a damaged one was changed or copied outside gaitcore"
)


class TrainConfigMixin:
    """``from_mapping``, ``subjects`` and ``as_dict`` for a frozen dataclass of training settings.

    The dataclass has ``train_subjects`` ([first, last] subject numbers) and ``exclude_subjects``.
    """

    label: ClassVar[str]  # names the model in error messages, e.g. "gaitset training"
    model_name: ClassVar[str]  # e.g. "GaitSet"
    config_block: ClassVar[str]  # where the settings live in the pipeline config, e.g. "gaitset.train"
    checkpoint_format: ClassVar[str]
    checkpoint_keys: ClassVar[frozenset[str]]
    resumable_changes: ClassVar[frozenset[str]]  # settings a resumed run may change
    train_subjects: tuple[int, int]
    exclude_subjects: tuple[str, ...]
    iterations: int

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Self:
        """Build from a config mapping, naming any unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{cls.label}: unknown setting(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def subjects(self) -> tuple[str, ...]:
        """The training subjects' labels."""
        return subject_range(*self.train_subjects, exclude=self.exclude_subjects)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (lists for tuples), as stored in checkpoints and weights files."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def _load_checkpoint(self, path: str | Path) -> dict[str, Any]:
        """A resume checkpoint of this model, checked to be readable and of this model's format."""
        payload = load_torch_file(path, f"{self.model_name} training checkpoint", CHECKPOINT_FIX)
        missing = self.checkpoint_keys - set(payload)
        if payload.get("format") != self.checkpoint_format or missing:
            raise CheckpointError(path, f"not a gaitcore {self.model_name} checkpoint (format {payload.get('format')!r}, "
                                  f"missing {sorted(missing)})", CHECKPOINT_FIX)
        return payload

    def _check_resumable(self, path: str | Path, payload: dict[str, Any]) -> None:
        """Refuse a checkpoint of a run with other settings (beyond the resumable ones), or past the
        configured iterations."""
        stored, current = payload["config"], self.as_dict()
        changed = sorted(k for k in current if k not in self.resumable_changes and stored.get(k) != current[k])
        if changed:
            detail = ", ".join(f"{k}: {stored.get(k)!r} -> {current[k]!r}" for k in changed)
            raise CheckpointError(
                path,
                f"was written by a training run with other settings ({detail})",
                "delete it to train from scratch with the new settings, or restore the old settings to resume",
            )
        if int(payload["iteration"]) > self.iterations:
            raise CheckpointError(
                path,
                f"is at iteration {payload['iteration']}, beyond the {self.iterations} iterations configured",
                f"raise {self.config_block}.iterations, or delete the checkpoint to train from scratch",
            )

    def read_checkpoint(self, path: str | Path) -> dict[str, Any]:
        """A resume checkpoint of this training, checked: readable, of this model's format with every
        key, written with resumable settings, and not past the configured iterations.

        Raises :class:`CheckpointError` naming the file and the fix otherwise.
        """
        payload = self._load_checkpoint(path)
        self._check_resumable(path, payload)
        return payload

    def set_aside_stale_checkpoint(self, path: str | Path) -> Path | None:
        """Rename a checkpoint this run cannot resume to ``<name>.stale``; return the new path.

        For the pipeline: Snakemake reruns a training rule when its settings change, and the
        checkpoint of the earlier run (other settings, or more iterations than now configured) is
        then stale; training starts from scratch and the old state stays at ``<name>.stale`` (one
        generation). A damaged or foreign checkpoint still raises :class:`CheckpointError`: only
        a readable checkpoint of this model is ever set aside.
        """
        path = Path(path)
        if not path.exists():
            return None
        payload = self._load_checkpoint(path)
        try:
            self._check_resumable(path, payload)
        except CheckpointError as error:
            stale = path.with_name(path.name + ".stale")
            os.replace(path, stale)
            log.warning("%s: %s; training from scratch, the old checkpoint is now %s", path, error.problem, stale)
            return stale
        return None
