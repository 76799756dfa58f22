"""Training the silhouette WGAN-GP (He et al. Sec. 3.2, Appendix A) and calibrating its critic.

The recipe of Gulrajani et al. (2017) as used by the paper (jalola/improved-wgan-pytorch):
gradient penalty weight 10 on random interpolates of real and generated frames, 5 critic steps per
generator step, Adam with learning rate 1e-4 and betas (0, 0.9) for both networks, batches of 64,
z ~ N(0, I) of size V = 128, 16000 generator iterations on CASIA-B. :class:`WGANTrainConfig` holds
these values as defaults; CPU configurations narrow the networks (``dim``) and the batch.

One *iteration* is one generator step preceded by ``critic_steps`` critic steps, each on a fresh
batch of real frames and a fresh batch of generated frames. The critic minimises
``mean D(fake) - mean D(real) + gp_weight * mean (||grad_x D(x_hat)|| - 1)^2`` with
``x_hat = alpha * real + (1 - alpha) * fake``, ``alpha ~ U(0, 1)`` per sample; the generator
minimises ``-mean D(G(z))``. The logged Wasserstein estimate is ``mean D(real) - mean D(fake)`` of
the last critic step.

**Data.** Real frames are drawn uniformly (with replacement) from every frame of the training
subjects' sequences in the store (all conditions and views), uint8 64x64 scaled to [-1, 1]
(:func:`gaitcore.models.wgan.store_to_gan`).

**Randomness.** Real-frame draws come from a seeded NumPy generator, latents and interpolation
weights from a seeded torch CPU generator (moved to the device afterwards), so the stream of
random numbers does not depend on the device. Both states are in the checkpoint.

**Checkpoints.** Every ``checkpoint_every`` iterations (and at the end) one file is written
atomically (temporary name, fsync, ``os.replace``) holding G, D, both optimisers, the iteration,
the training config, the identity of the store it trained on (its content hash), the loss
history, every random state and the run's log so far. Rerunning with the same checkpoint
path resumes from it; on CPU with the same thread count the resumed run ends with exactly the
weights of an uninterrupted run. On CUDA, non-deterministic kernels make runs differ slightly.
Files are read only with ``torch.load(weights_only=True)``; a damaged one raises
:class:`gaitcore.errors.CheckpointError` naming it and the fix.

**After training** (not part of the checkpointed state, recomputed on every finishing run):

1. G's batch-norm running statistics are recomputed as exact averages over ``bn_refresh_batches``
   batches of generated frames (the exponential averages of training lag behind the last steps),
   so that G in eval mode, as the attack uses it, matches G in training mode.
2. The critic's score is calibrated to a realism probability (:mod:`gaitcore.models.realism`) on
   ``calibration_real`` held-out real frames (from ``calibration_subjects``, whose frames the critic
   never saw) and ``calibration_fake`` generated frames.
3. G, D and the calibration are written to the final weights file (:func:`gaitcore.models.wgan.save_wgan`).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from gaitcore.data.layout import TRAIN_SUBJECTS, VALIDATION_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.models.realism import DEFAULT_L2, PlattCalibration, fit_platt
from gaitcore.models.wgan import (
    LATENT_DIM,
    PAPER_DIM,
    Critic,
    Generator,
    build_critic,
    build_generator,
    parameter_count,
    save_wgan,
    store_to_gan,
)
from gaitcore.training.augment import POLICIES, diff_augment
from gaitcore.training.checkpoint import resume_from, snapshot_path, store_identity, write_checkpoint
from gaitcore.training.config import Checkpointing, TrainConfigMixin
from gaitcore.training.sampler import subject_range
from gaitcore.utils.autocast import DTYPES, precision
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "gaitcore.wgan.checkpoint.v1"
CHECKPOINT_KEYS = frozenset(
    {"format", "iteration", "config", "generator", "critic", "opt_generator", "opt_critic", "rng", "history", "seconds"}
)
# Fields that may change between a run and its resumption without changing the trained weights.
RESUMABLE_CHANGES = frozenset(
    {
        "iterations",
        "checkpoint_every",
        "log_every",
        "device",
        "channels_last",
        "calibration_subjects",
        "calibration_real",
        "calibration_fake",
        "calibration_l2",
        "bn_refresh_batches",
        "score_batch",
    }
)
# Fields that choose where and how fast it runs, not what it trains (no pipeline rerun).
RUNTIME_SETTINGS = frozenset({"checkpoint_every", "log_every", "device", "channels_last", "score_batch"})
# Settings added after the first checkpoints of this format, as those were trained.
IMPLIED_SETTINGS = {"critic_learning_rate": None, "augment": "none", "snapshots": [], "dtype": "float32"}


@dataclass(frozen=True)
class WGANTrainConfig(TrainConfigMixin):
    """Every value that determines a WGAN-GP training run; defaults are the paper's recipe."""

    label: ClassVar[str] = "wgan training"
    model_name: ClassVar[str] = "WGAN"
    config_block: ClassVar[str] = "wgan.train"
    checkpointing: ClassVar[Checkpointing] = Checkpointing(CHECKPOINT_FORMAT, CHECKPOINT_KEYS, RESUMABLE_CHANGES,
                                                         RUNTIME_SETTINGS, IMPLIED_SETTINGS)

    dim: int = PAPER_DIM
    latent_dim: int = LATENT_DIM
    batch_size: int = 64
    critic_steps: int = 5
    gp_weight: float = 10.0
    learning_rate: float = 1e-4
    critic_learning_rate: float | None = None  # the critic's Adam rate (None: learning_rate; two time-scales if set)
    betas: tuple[float, float] = (0.0, 0.9)
    augment: str = "none"  # DiffAugment policy of the critic's inputs (gaitcore.training.augment); paper: none
    snapshots: tuple[int, ...] = ()  # generator iterations whose G and D are kept too (checkpoint choice)
    dtype: str = "float32"  # float32 | bfloat16: G and D's training steps under bfloat16 autocast (a compute lever)
    iterations: int = 16_000  # generator iterations
    checkpoint_every: int = 500
    log_every: int = 50
    seed: int = 0
    device: str = "auto"  # cpu | cuda | auto
    channels_last: bool = False
    train_subjects: tuple[int, int] = TRAIN_SUBJECTS  # inclusive CASIA-B subject number range
    exclude_subjects: tuple[str, ...] = ()
    calibration_subjects: tuple[int, int] = VALIDATION_SUBJECTS  # held-out real frames for the realism fit
    calibration_real: int = 2000
    calibration_fake: int = 2000
    calibration_l2: float = DEFAULT_L2
    bn_refresh_batches: int = 50
    score_batch: int = 256  # frames per forward when scoring / refreshing (no effect on results)

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        object.__setattr__(self, "snapshots", tuple(sorted({int(i) for i in self.snapshots})))
        if any(not 0 < i < self.iterations for i in self.snapshots):
            raise ValueError(f"wgan training: snapshots {list(self.snapshots)} must lie between 1 and "
                             f"iterations - 1 = {self.iterations - 1} (the last iteration's weights are the model)")
        if self.dtype not in DTYPES:
            raise ValueError(f"wgan training: dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.augment not in POLICIES:
            raise ValueError(f"wgan training: augment must be one of {', '.join(POLICIES)}, got {self.augment!r}")
        if self.critic_learning_rate is not None and not self.critic_learning_rate > 0:
            raise ValueError(f"wgan training: critic_learning_rate must be positive (or null), got "
                             f"{self.critic_learning_rate}")
        object.__setattr__(self, "train_subjects", tuple(int(s) for s in self.train_subjects))
        object.__setattr__(self, "calibration_subjects", tuple(int(s) for s in self.calibration_subjects))
        object.__setattr__(self, "exclude_subjects", tuple(str(s) for s in self.exclude_subjects))
        positive = ("dim", "latent_dim", "batch_size", "critic_steps", "iterations", "checkpoint_every",
                    "log_every", "calibration_real", "calibration_fake", "score_batch")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"wgan training: {name} must be at least 1, got {getattr(self, name)}")
        if self.bn_refresh_batches < 0:
            raise ValueError(f"wgan training: bn_refresh_batches must be >= 0, got {self.bn_refresh_batches}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"wgan training: betas must be two numbers in [0, 1), got {self.betas}")
        if len(self.train_subjects) != 2 or len(self.calibration_subjects) != 2:
            raise ValueError("wgan training: train_subjects and calibration_subjects are [first, last]")
        if not (self.learning_rate > 0 and self.gp_weight >= 0 and self.calibration_l2 >= 0):
            raise ValueError("wgan training: learning_rate must be positive, gp_weight and calibration_l2 >= 0")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"wgan training: device must be cpu, cuda or auto, got {self.device!r}")



@dataclass(frozen=True)
class WGANTrainResult:
    """What a call of :func:`train_wgan` did."""

    iterations: int  # the generator iteration the model is at
    resumed_from: int  # the checkpoint's iteration (0: started from scratch)
    seconds: float  # wall time of the iterations run by this call
    seconds_per_iteration: float
    critic_cost: float  # last critic loss (with penalty)
    wasserstein: float  # last Wasserstein estimate, mean D(real) - mean D(fake)
    generator_cost: float
    calibration: PlattCalibration


class FrameSampler:
    """Uniform draws (with replacement) from every frame of the given store rows.

    ``sample(n)`` returns uint8 ``[n, 64, 64]`` (``draw(n)`` also the row of each); the NumPy
    generator's state is checkpointed.
    """

    def __init__(self, store: FrameStore, rows: pd.DataFrame, seed: int) -> None:
        if rows.empty:
            raise ValueError(f"{store.root}: no sequence to draw frames from")
        self.frames = store.frames
        counts = rows["frame_count"].to_numpy(np.int64)
        self._starts = rows["frame_start"].to_numpy(np.int64)  # in the store's frame file
        self._ends = np.cumsum(counts)  # in the concatenation of the rows' frames
        self._firsts = self._ends - counts
        self.total = int(self._ends[-1])
        self.rng = np.random.default_rng(seed)

    def sample(self, n: int) -> np.ndarray:
        return self.draw(n)[0]

    def draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` frames and the position (in the given rows) of each one's sequence."""
        k = self.rng.integers(0, self.total, size=n)
        seq = np.searchsorted(self._ends, k, side="right")
        return self.frames[self._starts[seq] + (k - self._firsts[seq])], seq

    def state_dict(self) -> dict[str, Any]:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


def subject_rows(store: FrameStore, subjects: tuple[str, ...], what: str, key: str) -> pd.DataFrame:
    """The store's index rows of ``subjects``; a ValueError naming the config key if none is there."""
    rows = store.select(subjects=subjects)
    if rows.empty:
        raise ValueError(
            f"{store.root}: none of the {what} subjects {subjects[0]}..{subjects[-1]} is in the store "
            f"(it has {store.index['subject'].nunique()} others); check {key}"
        )
    return rows


# ---------------------------------------------------------------------------------------- losses
def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor, alpha: Tensor, weight: float = 10.0) -> Tensor:
    """WGAN-GP's penalty ``weight * mean_i (||grad_x D(x_hat_i)||_2 - 1)^2``.

    ``x_hat_i = alpha_i * real_i + (1 - alpha_i) * fake_i`` with one ``alpha_i`` (shape ``[N]``) per
    sample; the norm is over all of a sample's pixels. Differentiable in the critic's parameters
    (``create_graph``), not in ``real`` or ``fake`` (they are detached, as in the original).
    """
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.view(shape) * real.detach() + (1.0 - alpha.view(shape)) * fake.detach()).requires_grad_(True)
    scores = critic(mixed).float()
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return weight * ((norms - 1.0) ** 2).mean()


@dataclass(frozen=True)
class CriticStep:
    cost: float
    wasserstein: float
    penalty: float


def critic_step(
    generator: Generator, critic: Critic, optimizer: torch.optim.Optimizer, real: Tensor, z: Tensor,
    alpha: Tensor, gp_weight: float, augment: Callable[[Tensor], Tensor] | None = None,
) -> CriticStep:
    """One critic update on a batch of real frames and frames generated from ``z`` (both through
    ``augment`` first, when given: the penalty's interpolates are of the augmented frames)."""
    with torch.no_grad():
        fake = generator(z)
    if augment is not None:
        real, fake = augment(real), augment(fake)
    d_real = critic(real).float().mean()  # the costs in float32 under autocast too
    d_fake = critic(fake).float().mean()
    penalty = gradient_penalty(critic, real, fake, alpha, gp_weight)
    cost = d_fake - d_real + penalty
    optimizer.zero_grad(set_to_none=True)
    cost.backward()
    optimizer.step()
    return CriticStep(float(cost.detach()), float((d_real - d_fake).detach()), float(penalty.detach()))


def generator_step(generator: Generator, critic: Critic, optimizer: torch.optim.Optimizer, z: Tensor,
                   augment: Callable[[Tensor], Tensor] | None = None) -> float:
    """One generator update: minimise ``-mean D(G(z))`` (``D(augment(G(z)))`` when given; the critic's
    parameters get no gradient)."""
    for p in critic.parameters():
        p.requires_grad_(False)
    try:
        fake = generator(z)
        cost = -critic(fake if augment is None else augment(fake)).float().mean()
        optimizer.zero_grad(set_to_none=True)
        cost.backward()
        optimizer.step()
    finally:
        for p in critic.parameters():
            p.requires_grad_(True)
    return float(cost.detach())


# ---------------------------------------------------------------------------------------- checkpoints
def _rng_states(noise: torch.Generator, sampler: FrameSampler) -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "noise": noise.get_state(),
        "sampler": sampler.state_dict(),
    }


def _restore_rng_states(states: dict[str, Any], noise: torch.Generator, sampler: FrameSampler) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    noise.set_state(states["noise"])
    sampler.load_state_dict(states["sampler"])


# ---------------------------------------------------------------------------------------- after training
def _batches(total: int, size: int) -> Iterator[int]:
    for start in range(0, total, size):
        yield min(size, total - start)


@torch.no_grad()
def refresh_batchnorm(generator: Generator, batches: int, batch_size: int, noise: torch.Generator,
                      device: torch.device) -> None:
    """Recompute G's batch-norm running statistics as exact averages over ``batches`` generated batches."""
    norms = [m for m in generator.modules() if isinstance(m, nn.BatchNorm2d)]
    if batches < 1 or not norms:
        return
    momenta = [m.momentum for m in norms]
    was_training = generator.training
    generator.train()
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average = exact mean over the batches
        for _ in range(batches):
            generator(torch.randn(batch_size, generator.latent_dim, generator=noise).to(device))
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        generator.train(was_training)


@torch.no_grad()
def critic_scores(critic: nn.Module, frames: Tensor, batch: int = 256) -> Tensor:
    """Scores of frames ``[N, 1, 64, 64]`` (any device), computed ``batch`` at a time, on the CPU."""
    return torch.cat([critic(chunk).float().cpu() for chunk in frames.split(batch)])


@torch.no_grad()
def generate(generator: Generator, n: int, noise: torch.Generator, device: torch.device, batch: int = 256) -> Tensor:
    """``n`` frames ``[n, 1, 64, 64]`` in [-1, 1] from z ~ N(0, I) drawn from ``noise`` (G as it is: train/eval)."""
    out = [generator(torch.randn(b, generator.latent_dim, generator=noise).to(device)) for b in _batches(n, batch)]
    return torch.cat(out)


def calibrate_realism(
    generator: Generator,
    critic: Critic,
    real_frames: np.ndarray,
    n_fake: int,
    noise: torch.Generator,
    device: torch.device,
    l2: float = DEFAULT_L2,
    batch: int = 256,
) -> PlattCalibration:
    """Platt-scale the critic on held-out real frames (uint8 ``[N, 64, 64]``) vs ``n_fake`` generated ones.

    Both networks are used in eval mode (as the attack uses them).
    """
    g_mode, d_mode = generator.training, critic.training
    generator.eval()
    critic.eval()
    try:
        real = torch.cat([critic_scores(critic, store_to_gan(chunk, device), batch)
                          for chunk in np.array_split(real_frames, max(1, -(-len(real_frames) // batch)))])
        fake_scores = []
        for b in _batches(n_fake, batch):
            with torch.no_grad():
                frames = generator(torch.randn(b, generator.latent_dim, generator=noise).to(device))
            fake_scores.append(critic_scores(critic, frames, batch))
        fake = torch.cat(fake_scores)
    finally:
        generator.train(g_mode)
        critic.train(d_mode)
    return fit_platt(real.numpy(), fake.numpy(), l2=l2)


# ---------------------------------------------------------------------------------------- training
def train_wgan(store_root: str | Path, weights_path: str | Path, checkpoint_path: str | Path,
               config: WGANTrainConfig, *, set_aside_stale: bool = False,
               snapshot_dir: str | Path | None = None) -> WGANTrainResult:
    """Train WGAN-GP on ``store_root`` up to ``config.iterations``, resuming from ``checkpoint_path``
    (:func:`~gaitcore.training.checkpoint.resume_from`: a checkpoint of other data or
    settings raises, or with ``set_aside_stale`` is set aside).

    Writes the resume checkpoint every ``config.checkpoint_every`` iterations and at the end, then
    refreshes G's batch-norm statistics, calibrates the critic and writes ``weights_path``. Logs the
    costs, the Wasserstein estimate and the speed every ``config.log_every`` iterations. With
    ``snapshot_dir``, G and D at each of ``config.snapshots`` (kept in the resume checkpoint
    meanwhile) are finished the same way and written there as ``iteration_NNNNN.pt``: each is the
    weights file a run of that many iterations writes.
    """
    device = resolve_device(config.device)
    store = FrameStore(store_root)
    data = store_identity(store)
    rows = subject_rows(store, config.subjects(), "training", "subjects.casia_b.train")
    torch.manual_seed(config.seed)
    generator = build_generator(config.dim, config.latent_dim).to(device)
    critic = build_critic(config.dim).to(device)
    if config.channels_last:
        generator = generator.to(memory_format=torch.channels_last)
        critic = critic.to(memory_format=torch.channels_last)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.learning_rate, betas=config.betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=config.critic_learning_rate or config.learning_rate,
                             betas=config.betas)
    noise = torch.Generator().manual_seed(config.seed)
    augment = None if config.augment == "none" else partial(diff_augment, policy=config.augment, generator=noise)
    sampler = FrameSampler(store, rows, seed=config.seed)
    start, seconds_before, history, snapshots = 0, 0.0, [], {}
    payload = resume_from(config, checkpoint_path, data, set_aside_stale=set_aside_stale)
    if payload is not None:
        generator.load_state_dict(payload["generator"])  # copies into the parameters, keeping their layout
        critic.load_state_dict(payload["critic"])
        opt_g.load_state_dict(payload["opt_generator"])
        opt_d.load_state_dict(payload["opt_critic"])
        _restore_rng_states(payload["rng"], noise, sampler)
        start, seconds_before = int(payload["iteration"]), float(payload["seconds"])
        history = list(payload["history"])
        snapshots = dict(payload.get("snapshots", {}))
    log.info(
        "training WGAN-GP dim %d (G %d, D %d parameters) on %d frames of %d sequences (%d subjects), device %s; "
        "batch %d, %d critic steps per generator step, gp %g, Adam lr %g (critic %g) betas %s, augment %s, %s, "
        "iterations %d..%d",
        config.dim, parameter_count(generator), parameter_count(critic), sampler.total, len(rows),
        rows["subject"].nunique(), device, config.batch_size, config.critic_steps, config.gp_weight,
        config.learning_rate, config.critic_learning_rate or config.learning_rate, config.betas, config.augment,
        config.dtype, start, config.iterations,
    )
    generator.train()
    critic.train()
    b, v = config.batch_size, config.latent_dim
    run_start = window_start = time.perf_counter()
    window: list[tuple[float, float, float, float]] = []
    d_step, g_cost = CriticStep(float("nan"), float("nan"), float("nan")), float("nan")
    iteration = start
    for iteration in range(start + 1, config.iterations + 1):
        with precision(device, config.dtype):
            for _ in range(config.critic_steps):
                real = store_to_gan(sampler.sample(b), device)
                z = torch.randn(b, v, generator=noise).to(device)
                alpha = torch.rand(b, generator=noise).to(device)
                d_step = critic_step(generator, critic, opt_d, real, z, alpha, config.gp_weight, augment)
            g_cost = generator_step(generator, critic, opt_g, torch.randn(b, v, generator=noise).to(device),
                                    augment)
        window.append((d_step.cost, d_step.wasserstein, d_step.penalty, g_cost))
        if iteration % config.log_every == 0 or iteration == config.iterations:
            elapsed = time.perf_counter() - window_start
            d_cost, w_est, gp, g_mean = (float(x) for x in np.mean(window, axis=0))
            history.append({"iteration": iteration, "critic_cost": d_cost, "wasserstein": w_est,
                            "gradient_penalty": gp, "generator_cost": g_mean,
                            "seconds_per_iteration": elapsed / len(window)})
            log.info(
                "iteration %d/%d critic cost %.4f wasserstein %.4f penalty %.4f generator cost %.4f | "
                "%.2f s/it %.3f it/s %.0f critic frames/s",
                iteration, config.iterations, d_cost, w_est, gp, g_mean, elapsed / len(window),
                len(window) / elapsed, len(window) * b * (3 * config.critic_steps + 2) / elapsed,
            )
            window = []
            window_start = time.perf_counter()
        if iteration in config.snapshots:
            snapshots[iteration] = {"generator": _cpu_copy(generator), "critic": _cpu_copy(critic),
                                    "seconds": seconds_before + time.perf_counter() - run_start}
        if iteration % config.checkpoint_every == 0 or iteration == config.iterations:
            spent = seconds_before + time.perf_counter() - run_start
            write_checkpoint(config, checkpoint_path, iteration, spent, data, generator=generator.state_dict(),
                             critic=critic.state_dict(), opt_generator=opt_g.state_dict(),
                             opt_critic=opt_d.state_dict(), rng=_rng_states(noise, sampler), history=history,
                             snapshots=snapshots)
    seconds = time.perf_counter() - run_start
    ran = iteration - start
    log.info("trained %d iterations in %.1f s (%.3f s/it; %.0f s in all runs)", ran, seconds,
             seconds / ran if ran else 0.0, seconds_before + seconds)

    if snapshot_dir is not None:
        Path(snapshot_dir).mkdir(parents=True, exist_ok=True)
        for at, state in sorted(snapshots.items()):
            kept_g, kept_d = _like(generator, state["generator"]), _like(critic, state["critic"])
            _finish(kept_g, kept_d, store, config, device, snapshot_path(snapshot_dir, at),
                    {"iterations": at, "train_config": config.as_dict(), "seconds": state["seconds"],
                     "history": [h for h in history if h["iteration"] <= at]})
        log.info("wrote %d snapshots (iterations %s) to %s", len(snapshots), sorted(snapshots), snapshot_dir)
    calibration = _finish(generator, critic, store, config, device, weights_path,
                          {"iterations": iteration, "train_config": config.as_dict(), "history": history,
                           "seconds": seconds_before + seconds})
    return WGANTrainResult(
        iterations=iteration,
        resumed_from=start,
        seconds=seconds,
        seconds_per_iteration=seconds / ran if ran else 0.0,
        critic_cost=d_step.cost,
        wasserstein=d_step.wasserstein,
        generator_cost=g_cost,
        calibration=calibration,
    )


def _cpu_copy(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _like(model: nn.Module, state: dict[str, Tensor]) -> nn.Module:
    """A copy of ``model`` (same device and memory layout) holding ``state``."""
    kept = copy.deepcopy(model)
    kept.load_state_dict(state)
    return kept


def _finish(generator: Generator, critic: Critic, store: FrameStore, config: WGANTrainConfig, device: torch.device,
            path: str | Path, extra: dict[str, Any]) -> PlattCalibration:
    """After training (all seeded independently of it): G's batch-norm statistics, the realism
    calibration on held-out real frames, then G, D and the calibration written to ``path``."""
    post = torch.Generator().manual_seed(config.seed + 1)
    refresh_batchnorm(generator, config.bn_refresh_batches, config.batch_size, post, device)
    held_out = subject_rows(store, subject_range(*config.calibration_subjects), "calibration",
                            "subjects.casia_b.validation")
    real_frames = FrameSampler(store, held_out, seed=config.seed + 2).sample(config.calibration_real)
    calibration = calibrate_realism(generator, critic, real_frames, config.calibration_fake, post, device,
                                    config.calibration_l2, config.score_batch)
    log.info(
        "realism calibration on %d held-out real and %d generated frames: AUC %.4f, p = sigmoid(%.4g * D + %.4g), "
        "mean realism real %.3f generated %.3f (mean scores %.3f / %.3f)",
        calibration.n_real, calibration.n_fake, calibration.auc, calibration.slope, calibration.intercept,
        calibration.mean_realism_real, calibration.mean_realism_fake, calibration.real_score_mean,
        calibration.fake_score_mean,
    )
    if calibration.slope <= 0:
        log.warning("the critic does not score held-out real frames above generated ones (slope %.4g): "
                    "its realism score is useless; train longer", calibration.slope)
    save_wgan(generator, critic, path, calibration, extra=extra)
    log.info("wrote weights %s", path)
    return calibration
