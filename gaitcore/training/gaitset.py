"""Training GaitSet on CASIA-B's training subjects, resumable after any interruption.

The paper's victim is GaitSet trained by its authors' recipe (He et al. Sec. 4.1; GaitSet Sec. 4.1):
P x K = 8 x 16 batches of 30-frame sets, the per-part batch-all triplet loss with margin 0.2
(:mod:`gaitcore.training.losses`), Adam with learning rate 1e-4 and 80,000 iterations, subjects
001-074. :class:`GaitSetTrainConfig` holds these values as defaults; CPU configurations trade
width, learning rate, batch and set size for time.

Like the original, an iteration whose loss is below 1e-9 (no active triplet) takes no optimiser
step.

**Checkpoints.** Every ``checkpoint_every`` iterations (and at the end) one file is written
atomically (temporary name, fsync, ``os.replace``) holding the model, the optimiser, the iteration,
the training config, the identity of the store it trained on (its content hash), every random
state (Python, NumPy global, torch, CUDA, the sampler's generator) and the run's log so far.
Rerunning with the same checkpoint path resumes from it; on CPU with the same thread
count the resumed run ends with exactly the weights of an uninterrupted run. On CUDA, cuDNN's
non-deterministic kernels make runs (interrupted or not) differ slightly. The final weights are a
separate file written by :func:`gaitcore.models.gaitset.save_gaitset`.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import torch

from gaitcore.data.layout import TRAIN_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.models.gaitset import build_gaitset, save_gaitset, silhouettes_to_input
from gaitcore.training.checkpoint import (
    global_rng_state,
    restore_global_rng_state,
    resume_from,
    store_identity,
    write_checkpoint,
)
from gaitcore.training.config import Checkpointing, TrainConfigMixin
from gaitcore.training.losses import batch_all_triplet_loss
from gaitcore.training.sampler import TripletSampler
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "gaitcore.gaitset.checkpoint.v1"
CHECKPOINT_KEYS = frozenset({"format", "iteration", "config", "model", "optimizer", "rng", "seconds"})
# Fields that may change between a run and its resumption without changing what is computed.
RESUMABLE_CHANGES = frozenset({"iterations", "checkpoint_every", "log_every", "device", "frame_chunk"})
# Fields that choose where and how fast it runs, not what it trains (no pipeline rerun).
RUNTIME_SETTINGS = frozenset({"checkpoint_every", "log_every", "device", "frame_chunk"})
SKIP_STEP_BELOW = 1e-9  # the original's `if loss > 1e-9: step`


@dataclass(frozen=True)
class GaitSetTrainConfig(TrainConfigMixin):
    """Every value that determines a GaitSet training run; defaults are the paper's recipe."""

    label: ClassVar[str] = "gaitset training"
    model_name: ClassVar[str] = "GaitSet"
    config_block: ClassVar[str] = "gaitset.train"
    checkpointing: ClassVar[Checkpointing] = Checkpointing(CHECKPOINT_FORMAT, CHECKPOINT_KEYS, RESUMABLE_CHANGES,
                                                         RUNTIME_SETTINGS)

    channels: tuple[int, int, int] = (32, 64, 128)
    hidden_dim: int = 256
    subjects_per_batch: int = 8  # P
    sequences_per_subject: int = 16  # K
    frames_per_sequence: int = 30  # frames drawn with replacement per sequence
    margin: float = 0.2
    learning_rate: float = 1e-4
    iterations: int = 80_000
    checkpoint_every: int = 1_000
    log_every: int = 100
    seed: int = 0
    device: str = "auto"  # cpu | cuda | auto
    channels_last: bool = False
    frame_chunk: int | None = None  # run the frame CNN on this many frames at a time (CPU speed)
    train_subjects: tuple[int, int] = TRAIN_SUBJECTS  # inclusive CASIA-B subject number range
    exclude_subjects: tuple[str, ...] = ()  # the original drops "005" (incomplete in the release)
    snapshots: tuple[int, ...] = ()  # iterations whose weights are kept too (the validation curve)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "snapshots", tuple(sorted({int(i) for i in self.snapshots})))
        if any(not 0 < i < self.iterations for i in self.snapshots):
            raise ValueError(f"gaitset training: snapshots {list(self.snapshots)} must lie between 1 and "
                             f"iterations - 1 = {self.iterations - 1} (the last iteration's weights are the model)")
        object.__setattr__(self, "train_subjects", tuple(int(s) for s in self.train_subjects))
        object.__setattr__(self, "exclude_subjects", tuple(str(s) for s in self.exclude_subjects))
        positive = ("hidden_dim", "subjects_per_batch", "frames_per_sequence", "iterations",
                    "checkpoint_every", "log_every")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"gaitset training: {name} must be at least 1, got {getattr(self, name)}")
        if self.sequences_per_subject < 2:
            raise ValueError("gaitset training: sequences_per_subject must be at least 2 (triplets need positives)")
        if len(self.channels) != 3 or len(self.train_subjects) != 2:
            raise ValueError("gaitset training: channels needs 3 widths and train_subjects [first, last]")
        if self.frame_chunk is not None and self.frame_chunk < 1:
            raise ValueError(f"gaitset training: frame_chunk must be at least 1 or null, got {self.frame_chunk}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"gaitset training: device must be cpu, cuda or auto, got {self.device!r}")
        if not (self.learning_rate > 0 and self.margin >= 0):
            raise ValueError("gaitset training: learning_rate must be positive and margin non-negative")



@dataclass(frozen=True)
class TrainResult:
    """What a call of :func:`train_gaitset` did."""

    iterations: int  # the iteration the model is at
    resumed_from: int  # the checkpoint's iteration (0: started from scratch)
    seconds: float  # wall time of the iterations run by this call
    sequences_per_second: float
    frames_per_second: float
    seconds_per_iteration: float
    last_loss: float


def training_rows(store: FrameStore, config: GaitSetTrainConfig) -> pd.DataFrame:
    """The store's index rows of the training subjects (all conditions, sequences and views)."""
    subjects = config.subjects()
    rows = store.select(subjects=subjects)
    if rows.empty:
        raise ValueError(
            f"{store.root}: none of the training subjects {subjects[0]}..{subjects[-1]} is in the store "
            f"(it has {len(store.index['subject'].unique())} others); check subjects.casia_b.train"
        )
    return rows


def train_gaitset(store_root: str | Path, weights_path: str | Path, checkpoint_path: str | Path,
                  config: GaitSetTrainConfig, *, set_aside_stale: bool = False,
                  snapshot_dir: str | Path | None = None) -> TrainResult:
    """Train GaitSet on ``store_root`` up to ``config.iterations``, resuming from ``checkpoint_path``
    (:func:`~gaitcore.training.checkpoint.resume_from`: a checkpoint of other data or
    settings raises, or with ``set_aside_stale`` is set aside).

    Writes the resume checkpoint every ``config.checkpoint_every`` iterations and at the end, then
    the final weights to ``weights_path`` and, with ``snapshot_dir``, the weights at each of
    ``config.snapshots`` as ``iteration_NNNNN.pt`` there (kept in the resume checkpoint meanwhile, so
    an interrupted run still writes them all). Logs loss and throughput every ``config.log_every``
    iterations through :mod:`logging`.
    """
    device = resolve_device(config.device)
    store = FrameStore(store_root)
    data = store_identity(store)
    rows = training_rows(store, config)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    model = build_gaitset(channels=config.channels, hidden_dim=config.hidden_dim).to(device)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    sampler = TripletSampler(
        store,
        rows,
        config.subjects_per_batch,
        config.sequences_per_subject,
        config.frames_per_sequence,
        seed=config.seed,
    )
    start, seconds_before = 0, 0.0
    snapshots: dict[int, dict[str, torch.Tensor]] = {}
    payload = resume_from(config, checkpoint_path, data, set_aside_stale=set_aside_stale)
    if payload is not None:
        model.load_state_dict(payload["model"])  # copies into the parameters, keeping their layout
        optimizer.load_state_dict(payload["optimizer"])
        restore_global_rng_state(payload["rng"])
        sampler.load_state_dict(payload["rng"]["sampler"])
        start, seconds_before = int(payload["iteration"]), float(payload["seconds"])
        snapshots = dict(payload.get("snapshots", {}))
    log.info(
        "training GaitSet %s hidden %d on %d sequences of %d subjects, device %s, %d parameters; "
        "batches %dx%dx%d, lr %g, iterations %d..%d",
        config.channels, config.hidden_dim, len(rows), len(sampler.subjects), device,
        sum(p.numel() for p in model.parameters()), config.subjects_per_batch, config.sequences_per_subject,
        config.frames_per_sequence, config.learning_rate, start, config.iterations,
    )
    model.train()
    seqs_per_iter = sampler.batch_sequences
    frames_per_iter = seqs_per_iter * config.frames_per_sequence
    run_start = window_start = time.perf_counter()
    window_loss: list[float] = []
    window_active: list[float] = []
    last_loss = float("nan")
    iteration = start
    for iteration in range(start + 1, config.iterations + 1):
        frames, labels = sampler.sample()
        batch = silhouettes_to_input(frames, device)
        features = model(batch, frame_chunk=config.frame_chunk)
        stats = batch_all_triplet_loss(features, torch.from_numpy(labels).to(device), config.margin)
        optimizer.zero_grad(set_to_none=True)
        last_loss = float(stats.loss.detach())
        if last_loss > SKIP_STEP_BELOW:
            stats.loss.backward()
            optimizer.step()
        window_loss.append(last_loss)
        window_active.append(stats.active_triplets)
        if iteration % config.log_every == 0 or iteration == config.iterations:
            elapsed = time.perf_counter() - window_start
            done = len(window_loss)
            log.info(
                "iteration %d/%d loss %.4f active triplets/part %.0f mean distance %.3f | "
                "%.2f s/it %.1f sequences/s %.0f frames/s",
                iteration, config.iterations, float(np.mean(window_loss)), float(np.mean(window_active)),
                stats.mean_distance, elapsed / done, seqs_per_iter * done / elapsed,
                frames_per_iter * done / elapsed,
            )
            window_loss, window_active = [], []
            window_start = time.perf_counter()
        if iteration in config.snapshots:
            snapshots[iteration] = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if iteration % config.checkpoint_every == 0 or iteration == config.iterations:
            spent = seconds_before + time.perf_counter() - run_start
            write_checkpoint(config, checkpoint_path, iteration, spent, data, model=model.state_dict(),
                             optimizer=optimizer.state_dict(),
                             rng={**global_rng_state(), "sampler": sampler.state_dict()}, snapshots=snapshots)
    seconds = time.perf_counter() - run_start
    ran = iteration - start
    result = TrainResult(
        iterations=iteration,
        resumed_from=start,
        seconds=seconds,
        sequences_per_second=seqs_per_iter * ran / seconds if ran else 0.0,
        frames_per_second=frames_per_iter * ran / seconds if ran else 0.0,
        seconds_per_iteration=seconds / ran if ran else 0.0,
        last_loss=last_loss,
    )
    log.info(
        "trained %d iterations in %.1f s (%.3f s/it, %.1f sequences/s, %.0f frames/s; %.0f s in all runs); "
        "final loss %.4f",
        ran, seconds, result.seconds_per_iteration, result.sequences_per_second, result.frames_per_second,
        seconds_before + seconds, last_loss,
    )
    if snapshot_dir is not None:
        Path(snapshot_dir).mkdir(parents=True, exist_ok=True)
        for at, state in sorted(snapshots.items()):
            snapshot = build_gaitset(channels=config.channels, hidden_dim=config.hidden_dim)
            snapshot.load_state_dict(state)
            save_gaitset(snapshot, snapshot_path(snapshot_dir, at), extra={"iterations": at,
                                                                           "train_config": config.as_dict()})
        log.info("wrote %d snapshots (iterations %s) to %s", len(snapshots), sorted(snapshots), snapshot_dir)
    save_gaitset(model, weights_path, extra={"iterations": result.iterations, "train_config": config.as_dict()})
    log.info("wrote weights %s", weights_path)
    return result


def snapshot_path(snapshot_dir: str | Path, iteration: int) -> Path:
    """Where :func:`train_gaitset` keeps the weights of ``iteration`` in ``snapshot_dir``."""
    return Path(snapshot_dir) / f"iteration_{iteration:05d}.pt"


def snapshot_paths(snapshot_dir: str | Path) -> list[Path]:
    """The snapshots :func:`train_gaitset` wrote to ``snapshot_dir``, in iteration order."""
    return sorted(Path(snapshot_dir).glob("iteration_*.pt"))
