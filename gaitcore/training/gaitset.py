"""Training a victim on CASIA-B's training subjects (GaitSet, GaitPart or GaitGL, one loop),
resumable after any interruption.

The paper's victim is GaitSet trained by its authors' recipe (He et al. Sec. 4.1; GaitSet Sec. 4.1):
P x K = 8 x 16 batches of 30-frame sets, the per-part batch-all triplet loss with margin 0.2
(:mod:`gaitcore.training.losses`), Adam with learning rate 1e-4 and 80,000 iterations, subjects
001-074. :class:`GaitSetTrainConfig` holds these values as defaults; CPU configurations trade
width, learning rate, batch and set size for time.

``architecture`` picks the victim from :mod:`gaitcore.models.victims`; sampler, optimiser, loop and
checkpoints are shared, the loss is each model's own recipe:

* **GaitSet** (Chao et al., AAAI 2019) and **GaitPart** (Fan et al., CVPR 2020; 16 parts): the
  batch-all triplet loss above on every part.
* **GaitGL** (Lin et al., ICCV 2021): that triplet loss plus the softmax cross-entropy of
  :meth:`~gaitcore.models.gaitgl.GaitGL.classify` on every part, both with weight 1.0 (OpenGait's
  ``configs/gaitgl/gaitgl.yaml``: cross-entropy scale 1, no label smoothing). Its classes are the
  run's training subjects in sorted order (the sampler's labels), ``class_num`` their number.

GaitSet draws each set's frames unordered, as its loader does; with ``ordered_frames`` a set is
consecutive frames from a random start (OpenGait's ``fixed_ordered`` for GaitPart and GaitGL). All
three use plain Adam at a constant rate (OpenGait trains GaitGL with weight decay 5e-4 and a tenfold
rate drop at 70,000 iterations).

Like the original, an iteration whose loss is below 1e-9 (no active triplet) takes no optimiser
step.

**Checkpoints.** Every ``checkpoint_every`` iterations (and at the end) one file is written
atomically (temporary name, fsync, ``os.replace``) holding the model, the optimiser, the iteration,
the training config (the architecture included), the identity of the store it trained on (its
content hash), every random state (Python, NumPy global, torch, CUDA, the sampler's generator) and
the run's log so far. Rerunning with the same checkpoint path resumes from it; on CPU with the same
thread count the resumed run ends with exactly the weights of an uninterrupted run. On CUDA, cuDNN's
non-deterministic kernels make runs (interrupted or not) differ slightly. The final weights are a
separate file written by the architecture's ``save`` (:func:`gaitcore.models.victims.load_victim`
reads it back).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gaitcore.data.layout import TRAIN_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.models.gaitgl import GaitGL
from gaitcore.models.gaitset import GaitSet, silhouettes_to_input
from gaitcore.models.victims import ARCHITECTURES, uses_channels_last
from gaitcore.models.victims import architecture as victim_architecture
from gaitcore.training.checkpoint import (
    global_rng_state,
    restore_global_rng_state,
    resume_from,
    snapshot_path,
    store_identity,
    write_checkpoint,
)
from gaitcore.training.config import Checkpointing, TrainConfigMixin
from gaitcore.training.losses import TripletStats, batch_all_triplet_loss
from gaitcore.training.sampler import TripletSampler
from gaitcore.utils.autocast import DTYPES, precision
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "gaitcore.gaitset.checkpoint.v1"
CHECKPOINT_KEYS = frozenset({"format", "iteration", "config", "model", "optimizer", "rng", "seconds"})
# Fields that may change between a run and its resumption without changing what is computed.
RESUMABLE_CHANGES = frozenset({"iterations", "checkpoint_every", "log_every", "device", "frame_chunk"})
# Fields that choose where and how fast it runs, not what it trains (no pipeline rerun).
RUNTIME_SETTINGS = frozenset({"checkpoint_every", "log_every", "device", "frame_chunk"})
# Checkpoints written before ``architecture``, ``ordered_frames`` and ``dtype`` existed trained GaitSet on
# unordered sets in float32.
IMPLIED_SETTINGS = {"architecture": "GaitSet", "ordered_frames": False, "dtype": "float32"}
SKIP_STEP_BELOW = 1e-9  # the original's `if loss > 1e-9: step`
# GaitGL's cross-entropy term (OpenGait configs/gaitgl/gaitgl.yaml, loss_cfg CrossEntropyLoss: scale 1,
# label_smooth false, loss_term_weight 1.0; its TripletLoss: margin 0.2, loss_term_weight 1.0).
CROSS_ENTROPY_SCALE = 1.0
CROSS_ENTROPY_WEIGHT = 1.0


@dataclass(frozen=True)
class GaitSetTrainConfig(TrainConfigMixin):
    """Every value that determines a victim's training run; defaults are the paper's GaitSet recipe.

    ``architecture`` is GaitSet, GaitPart or GaitGL; ``hidden_dim`` is the feature width of GaitSet
    and GaitPart (GaitGL's is ``channels[2]``); ``frame_chunk`` applies to GaitSet only.
    """

    label: ClassVar[str] = "gaitset training"
    model_name: ClassVar[str] = "GaitSet"
    config_block: ClassVar[str] = "gaitset.train"
    checkpointing: ClassVar[Checkpointing] = Checkpointing(CHECKPOINT_FORMAT, CHECKPOINT_KEYS, RESUMABLE_CHANGES,
                                                         RUNTIME_SETTINGS, IMPLIED_SETTINGS)

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
    architecture: str = "GaitSet"  # the victim trained: GaitSet | GaitPart | GaitGL
    ordered_frames: bool = False  # consecutive frames per set (GaitPart, GaitGL) instead of unordered draws
    dtype: str = "float32"  # float32 | bfloat16: the forward pass under bfloat16 autocast (a compute lever, rule K7)

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
        if self.dtype not in DTYPES:
            raise ValueError(f"gaitset training: dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if not (self.learning_rate > 0 and self.margin >= 0):
            raise ValueError("gaitset training: learning_rate must be positive and margin non-negative")
        self._check_architecture()

    def _check_architecture(self) -> None:
        """Name the architecture as the registry does; refuse an unknown one and GaitSet-only settings."""
        try:
            name = victim_architecture(self.architecture).name
        except ValueError:
            raise ValueError(f"gaitset training: architecture must be one of {', '.join(ARCHITECTURES)}, "
                             f"got {self.architecture!r}") from None
        object.__setattr__(self, "architecture", name)
        if self.frame_chunk is not None and name != "GaitSet":
            raise ValueError(f"gaitset training: frame_chunk chunks GaitSet's frame CNN; leave it null for {name}")


@dataclass(frozen=True)
class TrainResult:
    """What a call of :func:`train_gaitset` did."""

    iterations: int  # the iteration the model is at
    resumed_from: int  # the checkpoint's iteration (0: started from scratch)
    seconds: float  # wall time of the iterations run by this call
    sequences_per_second: float
    frames_per_second: float
    seconds_per_iteration: float
    last_loss: float  # the total loss (GaitGL: triplet + cross-entropy)


@dataclass(frozen=True)
class LossTerms:
    """The training loss of one batch and its terms."""

    total: Tensor  # scalar, differentiable
    triplet: TripletStats
    cross_entropy: float | None  # GaitGL's classification term; None for GaitSet and GaitPart


@dataclass
class _Run:
    """One training run's state: the model, its optimiser and sampler, and where it stands."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    sampler: TripletSampler
    build_arguments: dict[str, Any]
    start: int = 0
    seconds_before: float = 0.0
    snapshots: dict[int, dict[str, Tensor]] = field(default_factory=dict)


@dataclass
class _Window:
    """Loss terms and wall time since the last progress line."""

    started: float = field(default_factory=time.perf_counter)
    losses: list[float] = field(default_factory=list)
    active: list[float] = field(default_factory=list)
    cross_entropy: list[float] = field(default_factory=list)


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


def build_arguments(config: GaitSetTrainConfig, class_num: int) -> dict[str, Any]:
    """The arguments of the registry's ``build`` for ``config``'s victim; ``class_num`` (the run's
    training subjects) sizes GaitGL's classifier, GaitPart keeps the paper's 16 parts."""
    if config.architecture == "GaitGL":
        return {"channels": config.channels, "class_num": class_num}
    return {"channels": config.channels, "hidden_dim": config.hidden_dim}


def victim_loss(model: nn.Module, features: Tensor, labels: Tensor, margin: float) -> LossTerms:
    """The batch-all triplet loss of ``features [m, parts, d]``, plus for GaitGL the softmax
    cross-entropy of its per-part logits (``labels``: class indices 0..class_num-1), averaged over
    samples and parts as OpenGait's ``CrossEntropyLoss``."""
    triplet = batch_all_triplet_loss(features, labels, margin)
    if not isinstance(model, GaitGL):
        return LossTerms(triplet.loss, triplet, None)
    logits = model.classify(features) * CROSS_ENTROPY_SCALE  # [m, parts, classes]
    cross_entropy = F.cross_entropy(logits.flatten(0, 1), labels.repeat_interleave(logits.shape[1]))
    return LossTerms(triplet.loss + CROSS_ENTROPY_WEIGHT * cross_entropy, triplet, float(cross_entropy.detach()))


def train_gaitset(store_root: str | Path, weights_path: str | Path, checkpoint_path: str | Path,
                  config: GaitSetTrainConfig, *, set_aside_stale: bool = False,
                  snapshot_dir: str | Path | None = None) -> TrainResult:
    """Train ``config.architecture`` on ``store_root`` up to ``config.iterations``, resuming from
    ``checkpoint_path`` (:func:`~gaitcore.training.checkpoint.resume_from`: a checkpoint of other data or
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
    run = _start_run(store, rows, config, device)
    payload = resume_from(config, checkpoint_path, data, set_aside_stale=set_aside_stale)
    if payload is not None:
        _restore(run, payload)
    log.info(
        "training %s %s on %d sequences of %d subjects, device %s, %d parameters; "
        "batches %dx%dx%d, lr %g, iterations %d..%d",
        config.architecture, run.build_arguments, len(rows), len(run.sampler.subjects), device,
        sum(p.numel() for p in run.model.parameters()), config.subjects_per_batch, config.sequences_per_subject,
        config.frames_per_sequence, config.learning_rate, run.start, config.iterations,
    )
    run.model.train()
    run_start = time.perf_counter()
    window = _Window()
    last_loss = float("nan")
    iteration = run.start
    for iteration in range(run.start + 1, config.iterations + 1):
        terms = _train_step(run, config, device)
        last_loss = float(terms.total.detach())
        window.losses.append(last_loss)
        window.active.append(terms.triplet.active_triplets)
        if terms.cross_entropy is not None:
            window.cross_entropy.append(terms.cross_entropy)
        if iteration % config.log_every == 0 or iteration == config.iterations:
            _log_progress(window, iteration, config, run.sampler.batch_sequences, terms.triplet.mean_distance)
            window = _Window()
        if iteration in config.snapshots:
            run.snapshots[iteration] = {k: v.detach().to("cpu", copy=True) for k, v in run.model.state_dict().items()}
        if iteration % config.checkpoint_every == 0 or iteration == config.iterations:
            spent = run.seconds_before + time.perf_counter() - run_start
            write_checkpoint(config, checkpoint_path, iteration, spent, data, model=run.model.state_dict(),
                             optimizer=run.optimizer.state_dict(),
                             rng={**global_rng_state(), "sampler": run.sampler.state_dict()}, snapshots=run.snapshots)
    result = _result(run, config, iteration, time.perf_counter() - run_start, last_loss)
    _save_weights(run, config, weights_path, snapshot_dir, result.iterations)
    return result


def _start_run(store: FrameStore, rows: pd.DataFrame, config: GaitSetTrainConfig, device: torch.device) -> _Run:
    """Seed every generator, then build the victim, its Adam optimiser and the P x K sampler."""
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    arguments = build_arguments(config, class_num=int(rows["subject"].nunique()))
    model = victim_architecture(config.architecture).build(**arguments).to(device)
    if config.channels_last and not uses_channels_last(model):
        raise ValueError(f"gaitset training: {config.architecture} has 3-D convolutions; set channels_last false")
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    sampler = TripletSampler(store, rows, config.subjects_per_batch, config.sequences_per_subject,
                             config.frames_per_sequence, seed=config.seed, ordered=config.ordered_frames)
    return _Run(model, optimizer, sampler, arguments)


def _restore(run: _Run, payload: dict[str, Any]) -> None:
    """Continue ``run`` from a resume checkpoint's states."""
    run.model.load_state_dict(payload["model"])  # copies into the parameters, keeping their layout
    run.optimizer.load_state_dict(payload["optimizer"])
    restore_global_rng_state(payload["rng"])
    run.sampler.load_state_dict(payload["rng"]["sampler"])
    run.start, run.seconds_before = int(payload["iteration"]), float(payload["seconds"])
    run.snapshots = dict(payload.get("snapshots", {}))


def _train_step(run: _Run, config: GaitSetTrainConfig, device: torch.device) -> LossTerms:
    """One P x K batch: forward (in ``config.dtype``), loss in float32, and (unless the loss is below
    ``SKIP_STEP_BELOW``) one Adam step on the float32 weights."""
    frames, labels = run.sampler.sample()
    batch = silhouettes_to_input(frames, device)
    with precision(device, config.dtype):
        if isinstance(run.model, GaitSet):
            features = run.model(batch, frame_chunk=config.frame_chunk)
        else:
            features = run.model(batch)
    terms = victim_loss(run.model, features.float(), torch.from_numpy(labels).to(device), config.margin)
    run.optimizer.zero_grad(set_to_none=True)
    if float(terms.total.detach()) > SKIP_STEP_BELOW:
        terms.total.backward()
        run.optimizer.step()
    return terms


def _log_progress(window: _Window, iteration: int, config: GaitSetTrainConfig, sequences: int,
                  mean_distance: float) -> None:
    """One progress line: mean loss terms and throughput over ``window``."""
    elapsed, done = time.perf_counter() - window.started, len(window.losses)
    per_second = sequences * done / elapsed
    cross_entropy = f" (cross-entropy {np.mean(window.cross_entropy):.4f})" if window.cross_entropy else ""
    log.info(
        "iteration %d/%d loss %.4f%s active triplets/part %.0f mean distance %.3f | "
        "%.2f s/it %.1f sequences/s %.0f frames/s",
        iteration, config.iterations, float(np.mean(window.losses)), cross_entropy, float(np.mean(window.active)),
        mean_distance, elapsed / done, per_second, per_second * config.frames_per_sequence,
    )


def _result(run: _Run, config: GaitSetTrainConfig, iteration: int, seconds: float, last_loss: float) -> TrainResult:
    """What this call did, logged."""
    ran = iteration - run.start
    sequences = run.sampler.batch_sequences * ran
    result = TrainResult(
        iterations=iteration,
        resumed_from=run.start,
        seconds=seconds,
        sequences_per_second=sequences / seconds if ran else 0.0,
        frames_per_second=sequences * config.frames_per_sequence / seconds if ran else 0.0,
        seconds_per_iteration=seconds / ran if ran else 0.0,
        last_loss=last_loss,
    )
    log.info(
        "trained %d iterations in %.1f s (%.3f s/it, %.1f sequences/s, %.0f frames/s; %.0f s in all runs); "
        "final loss %.4f",
        ran, seconds, result.seconds_per_iteration, result.sequences_per_second, result.frames_per_second,
        run.seconds_before + seconds, last_loss,
    )
    return result


def _save_weights(run: _Run, config: GaitSetTrainConfig, weights_path: str | Path,
                  snapshot_dir: str | Path | None, iterations: int) -> None:
    """Write the kept snapshots (with ``snapshot_dir``) and the final weights through the registry's ``save``."""
    spec = victim_architecture(config.architecture)
    if snapshot_dir is not None:
        Path(snapshot_dir).mkdir(parents=True, exist_ok=True)
        for at, state in sorted(run.snapshots.items()):
            snapshot = spec.build(**run.build_arguments)
            snapshot.load_state_dict(state)
            spec.save(snapshot, snapshot_path(snapshot_dir, at), extra={"iterations": at,
                                                                        "train_config": config.as_dict()})
        log.info("wrote %d snapshots (iterations %s) to %s", len(run.snapshots), sorted(run.snapshots), snapshot_dir)
    spec.save(run.model, weights_path, extra={"iterations": iterations, "train_config": config.as_dict()})
    log.info("wrote weights %s", weights_path)
