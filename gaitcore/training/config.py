"""Behaviour shared by the typed training configs (GaitSet, WGAN-GP, GaitGAN, SPADE): building them
from config mappings, and deciding whether a resume checkpoint may be resumed.

A checkpoint records the settings and the identity of the data it was trained on (a store's
content hash, or a hash of the in-memory training arrays); it is resumed only when both still
match, so a rerun after the data changed never continues a model of the old data.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from gaitcore.data.store import FrameStore
from gaitcore.errors import CheckpointError
from gaitcore.utils.io import load_torch_file
from gaitcore.training.sampler import subject_range
from gaitcore.utils.logs import continue_run_log

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
    # Settings that choose where and how fast training runs, not what it trains (a subset of the
    # resumable ones): the pipeline passes them as runtime knobs, whose change reruns nothing.
    runtime_settings: ClassVar[frozenset[str]]
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

    def _check_resumable(self, path: str | Path, payload: dict[str, Any], data: dict[str, Any]) -> None:
        """Refuse a checkpoint of a run on other data or with other settings (beyond the resumable
        ones), or past the configured iterations."""
        stored_data = payload.get("data")
        if stored_data != data:
            raise CheckpointError(
                path,
                f"was written by a training run on other data ({stored_data!r}, now {data!r})",
                "delete it to train from scratch on the current data",
            )
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

    def resume_from(self, path: str | Path, data: dict[str, Any], *, set_aside_stale: bool = False) -> dict[str, Any] | None:
        """The checkpoint at ``path`` to resume from, or ``None`` to train from scratch.

        ``None`` when there is no checkpoint. A checkpoint this run cannot resume (other data, other
        settings, more iterations than now configured) raises :class:`CheckpointError`, or, with
        ``set_aside_stale`` (the pipeline: Snakemake reran the rule because its inputs or settings
        changed), is renamed to ``<name>.stale`` (one generation) and training starts from scratch.
        A damaged or foreign checkpoint always raises. The log of the resumed run is written back
        into this run's log (:func:`gaitcore.utils.logs.continue_run_log`).
        """
        path = Path(path)
        if not path.exists():
            return None
        payload = self._load_checkpoint(path)
        try:
            self._check_resumable(path, payload, data)
        except CheckpointError as error:
            if not set_aside_stale:
                raise
            stale = path.with_name(path.name + ".stale")
            os.replace(path, stale)
            log.warning("%s: %s; training from scratch, the old checkpoint is now %s", path, error.problem, stale)
            return None
        continue_run_log(payload.get("log", ""), path)
        log.info("resumed from %s at iteration %d (%.0f s of training so far)", path, payload["iteration"],
                 payload["seconds"])
        return payload


def store_identity(store: FrameStore) -> dict[str, str]:
    """What a training run on ``store`` read: the dataset and the store's content hash. A resume
    checkpoint carries it, so a store rebuilt from other data is never resumed from."""
    return {"dataset": store.dataset, "store_content": store.content_hash}


def arrays_identity(**arrays: np.ndarray) -> dict[str, str]:
    """What a training run on in-memory arrays read: a content hash (shape, dtype, bytes) of each."""
    identity = {}
    for name, array in sorted(arrays.items()):
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).data)
        identity[name] = digest.hexdigest()
    return identity
