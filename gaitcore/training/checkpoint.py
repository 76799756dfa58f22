"""Resume checkpoints of the four trainers (GaitSet, WGAN-GP, GaitGAN, SPADE): written atomically,
resumed only when they fit.

A checkpoint holds the model and optimiser states, the iteration, every random state the trainer
needs, its settings, the identity of the data it was trained on (a store's content hash, or a
hash of the in-memory training arrays) and the run's log. A rerun resumes from it only when the
data and every setting that decides the model still match and it is not past the configured
iterations, so a rerun after the data changed never continues a model of the old data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gaitcore.data.store import FrameStore
from gaitcore.errors import CheckpointError
from gaitcore.training.config import TrainConfigMixin
from gaitcore.utils.io import atomic_torch_save, load_torch_file
from gaitcore.utils.logs import continue_run_log, run_log_text

log = logging.getLogger(__name__)

CHECKPOINT_FIX = (
    "delete it to start training from scratch (or restore an intact copy); "
    "a checkpoint is rewritten atomically, so a damaged one was changed or copied outside gaitcore"
)


def write_checkpoint(config: TrainConfigMixin, path: str | Path, iteration: int, seconds: float,
                     data: dict[str, Any], **state: Any) -> Path:
    """Write a resume checkpoint of ``config``'s model atomically: its format, the iteration, the
    settings, the ``data`` identity, the run's log so far, the seconds trained and ``state`` (model
    and optimiser state dicts, random states, loss history)."""
    payload = {"format": config.checkpointing.format, "iteration": iteration, "config": config.as_dict(), "data": data,
               "log": run_log_text(), "seconds": seconds, **state}
    return atomic_torch_save(payload, path)


def _load_checkpoint(config: TrainConfigMixin, path: str | Path) -> dict[str, Any]:
    """A resume checkpoint of this model, checked to be readable and of this model's format."""
    payload = load_torch_file(path, f"{config.model_name} training checkpoint", CHECKPOINT_FIX)
    missing = config.checkpointing.keys - set(payload)
    if payload.get("format") != config.checkpointing.format or missing:
        raise CheckpointError(path, f"not a gaitcore {config.model_name} checkpoint (format {payload.get('format')!r}, "
                              f"missing {sorted(missing)})", CHECKPOINT_FIX)
    return payload


def _check_resumable(config: TrainConfigMixin, path: str | Path, payload: dict[str, Any], data: dict[str, Any]) -> None:
    """Refuse a checkpoint of a run on other data or with other settings (beyond the resumable
    ones), or past the configured iterations."""
    stored_data = payload.get("data")
    if stored_data != data:
        raise CheckpointError(
            path,
            f"was written by a training run on other data ({stored_data!r}, now {data!r})",
            "delete it to train from scratch on the current data",
        )
    stored = {**config.checkpointing.implied, **payload["config"]}
    current = config.as_dict()
    changed = sorted(k for k in current if k not in config.checkpointing.resumable and stored.get(k) != current[k])
    if changed:
        detail = ", ".join(f"{k}: {stored.get(k)!r} -> {current[k]!r}" for k in changed)
        raise CheckpointError(
            path,
            f"was written by a training run with other settings ({detail})",
            "delete it to train from scratch with the new settings, or restore the old settings to resume",
        )
    if int(payload["iteration"]) > config.iterations:
        raise CheckpointError(
            path,
            f"is at iteration {payload['iteration']}, beyond the {config.iterations} iterations configured",
            f"raise {config.config_block}.iterations, or delete the checkpoint to train from scratch",
        )


def resume_from(config: TrainConfigMixin, path: str | Path, data: dict[str, Any], *,
                set_aside_stale: bool = False) -> dict[str, Any] | None:
    """The checkpoint at ``path`` that a run of ``config`` on ``data`` resumes from, or ``None`` to
    train from scratch.

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
    payload = _load_checkpoint(config, path)
    try:
        _check_resumable(config, path, payload, data)
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


def global_rng_state() -> dict[str, Any]:
    """Python's, NumPy's global, torch's CPU and every CUDA device's random states (plain values)."""
    numpy_state = np.random.get_state(legacy=False)
    numpy_state["state"]["key"] = numpy_state["state"]["key"].tolist()
    return {
        "python": random.getstate(),
        "numpy": numpy_state,
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_global_rng_state(states: dict[str, Any]) -> None:
    """Restore what :func:`global_rng_state` returned."""
    python_state = states["python"]
    random.setstate((python_state[0], tuple(python_state[1]), python_state[2]))
    numpy_state = dict(states["numpy"])
    numpy_state["state"] = {**numpy_state["state"], "key": np.asarray(numpy_state["state"]["key"], dtype=np.uint32)}
    np.random.set_state(numpy_state)
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


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


def snapshot_path(snapshot_dir: str | Path, iteration: int) -> Path:
    """Where a trainer (GaitSet's, the WGAN-GP's) keeps the weights of ``iteration`` in ``snapshot_dir``."""
    return Path(snapshot_dir) / f"iteration_{iteration:05d}.pt"


def snapshot_paths(snapshot_dir: str | Path) -> list[Path]:
    """The snapshots a trainer wrote to ``snapshot_dir``, in iteration order."""
    return sorted(Path(snapshot_dir).glob("iteration_*.pt"))
