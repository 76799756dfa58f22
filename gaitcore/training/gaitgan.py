"""Training GaitGAN (Yu et al. 2017), the template-based victim of He et al.'s Sec. 4.3 (Table 3).

The recipe of xuehy/pytorch-GaitGAN's ``train.py``, the implementation He et al. used, on the GEIs
(:mod:`gaitcore.evaluation.gei`) of CASIA-B's training subjects (001-074, Table 1):

* **Data** (its ``CASIABDataset.getbatch``): for each of ``batch_size`` draws, a training subject
  ``s`` uniformly; the *source* is a uniformly drawn GEI of ``s`` of any condition and any view
  except the target view (90 degrees); the *target* is ``s``'s normal-walking GEI at the target view
  (the original always takes nm-01; here the lowest-numbered nm sequence there is, so a missing nm-01
  is no hole); the *irrelevant target* is that GEI of another, uniformly drawn training subject.
  Subjects without a target GEI or without a source are left out (logged).
* **Losses** (binary cross-entropy throughout, one step of each network per iteration, in this order):
  the real/fake discriminator ``D`` learns target -> 1, irrelevant target -> 1, ``G(source)`` -> 0;
  the identification discriminator ``A`` learns (source, target) -> 1, (source, irrelevant) -> 0,
  (source, ``G(source)``) -> 0; the generator minimises ``BCE(D(G(source)), 1) + BCE(A(source,
  G(source)), 1)``. The logged losses are the means of each network's terms (the original prints
  ``lossD/3``, ``lossA/3``, ``lossG/2``). D's and A's steps share one detached ``G(source)``
  (the original runs G three times; only G's batch-norm running statistics see the difference).
* **Optimisers**: Adam with PyTorch's default betas (0.9, 0.999); learning rate ``2e-4 / 2`` for G
  and ``2e-4 / 3`` for D and A; batches of 128; the original's recognition used the snapshot of
  iteration 28500, the default of :class:`GaitGANTrainConfig`. CPU configurations narrow the
  networks (``width``) and shorten the run.

**Randomness.** Draws come from a seeded NumPy generator whose state is in the checkpoint; the
initial weights from ``torch.manual_seed(seed)``. **Checkpoints** every ``checkpoint_every``
iterations and at the end, written atomically (:func:`gaitcore.models.gaitset.atomic_torch_save`)
with the three networks, their optimisers, the iteration, the config, the identity of the store
it trained on, the loss history, the random states and the run's log so far; rerunning with the
same checkpoint path resumes from it (checked by
:func:`gaitcore.training.checkpoint.resume_from`); on CPU with the same thread
count a resumed run ends with exactly the weights of an uninterrupted one. The final weights file
is written by :func:`gaitcore.models.gaitgan.save_gaitgan`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

from gaitcore.data.gei import store_geis
from gaitcore.data.layout import TRAIN_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.models.gaitgan import PAPER_WIDTH, TARGET_VIEW, GaitGAN, build_gaitgan, geis_to_gan, save_gaitgan
from gaitcore.training.checkpoint import resume_from, store_identity, write_checkpoint
from gaitcore.training.config import Checkpointing, TrainConfigMixin
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "gaitcore.gaitgan.checkpoint.v1"
NETWORKS = ("generator", "discriminator", "identifier")
CHECKPOINT_KEYS = frozenset(
    {"format", "iteration", "config", *NETWORKS, *(f"opt_{n}" for n in NETWORKS), "rng", "history", "seconds"}
)
RESUMABLE_CHANGES = frozenset({"iterations", "checkpoint_every", "log_every", "device"})
# Fields that choose where and how fast it runs, not what it trains (no pipeline rerun).
RUNTIME_SETTINGS = frozenset({"checkpoint_every", "log_every", "device"})


@dataclass(frozen=True)
class GaitGANTrainConfig(TrainConfigMixin):
    """Every value that determines a GaitGAN training run; defaults are xuehy/pytorch-GaitGAN's."""

    label: ClassVar[str] = "gaitgan training"
    model_name: ClassVar[str] = "GaitGAN"
    config_block: ClassVar[str] = "gaitgan.train"
    checkpointing: ClassVar[Checkpointing] = Checkpointing(CHECKPOINT_FORMAT, CHECKPOINT_KEYS, RESUMABLE_CHANGES,
                                                         RUNTIME_SETTINGS)

    width: int = PAPER_WIDTH
    batch_size: int = 128
    generator_lr: float = 2e-4 / 2
    discriminator_lr: float = 2e-4 / 3  # D and A
    betas: tuple[float, float] = (0.9, 0.999)
    iterations: int = 28_500
    checkpoint_every: int = 500
    log_every: int = 20
    seed: int = 0
    device: str = "auto"  # cpu | cuda | auto
    train_subjects: tuple[int, int] = TRAIN_SUBJECTS  # inclusive CASIA-B subject number range
    exclude_subjects: tuple[str, ...] = ()
    target_view: int = TARGET_VIEW

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        object.__setattr__(self, "train_subjects", tuple(int(s) for s in self.train_subjects))
        object.__setattr__(self, "exclude_subjects", tuple(str(s) for s in self.exclude_subjects))
        for name in ("width", "batch_size", "iterations", "checkpoint_every", "log_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"gaitgan training: {name} must be at least 1, got {getattr(self, name)}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"gaitgan training: betas must be two numbers in [0, 1), got {self.betas}")
        if len(self.train_subjects) != 2:
            raise ValueError("gaitgan training: train_subjects is [first, last]")
        if not (self.generator_lr > 0 and self.discriminator_lr > 0):
            raise ValueError("gaitgan training: generator_lr and discriminator_lr must be positive")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"gaitgan training: device must be cpu, cuda or auto, got {self.device!r}")


@dataclass(frozen=True)
class GaitGANTrainResult:
    """What a call of :func:`train_gaitgan` did."""

    iterations: int  # the iteration the model is at
    resumed_from: int  # the checkpoint's iteration (0: started from scratch)
    seconds: float  # wall time of the iterations run by this call
    seconds_per_iteration: float
    losses: dict[str, float]  # the last logged window's mean losses (discriminator, identifier, generator)


class GEIPairSampler:
    """Draws (source, target, irrelevant target) GEI triples as the module docstring says.

    ``geis[i]`` belongs to ``rows`` row ``i`` (positional; columns subject, condition, seq, view).
    ``sample(n)`` returns three float32 arrays ``[n, 64, 64]``; the generator's state is checkpointed.
    """

    def __init__(self, geis: np.ndarray, rows: pd.DataFrame, seed: int, target_view: int = TARGET_VIEW) -> None:
        rows = rows.reset_index(drop=True)
        self.geis = geis
        self.rng = np.random.default_rng(seed)
        targets, sources, self.skipped = [], [], []
        for subject, of_subject in rows.groupby("subject", sort=True):
            at_target = of_subject[(of_subject["view"] == target_view) & (of_subject["condition"] == "nm")]
            others = of_subject.index[of_subject["view"] != target_view].to_numpy(np.int64)
            if at_target.empty or not len(others):
                self.skipped.append(str(subject))
                continue
            targets.append(int(at_target.sort_values("seq").index[0]))
            sources.append(others)
        if len(targets) < 2:
            raise ValueError(f"GaitGAN needs at least two subjects with a nm GEI at {target_view} degrees and a GEI "
                             f"at another view; {len(targets)} of {rows['subject'].nunique()} have them")
        self.targets = np.asarray(targets, dtype=np.int64)
        self.sources = sources

    @property
    def subjects(self) -> int:
        return len(self.targets)

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        subject = self.rng.integers(0, self.subjects, size=n)
        other = (subject + self.rng.integers(1, self.subjects, size=n)) % self.subjects  # uniform over the others
        source = np.asarray([self.sources[s][self.rng.integers(len(self.sources[s]))] for s in subject])
        return self.geis[source], self.geis[self.targets[subject]], self.geis[self.targets[other]]

    def state_dict(self) -> dict[str, Any]:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


# ---------------------------------------------------------------------------------------- steps
def _bce(p: Tensor, label: float) -> Tensor:
    return F.binary_cross_entropy(p, torch.full_like(p, label))


def discriminator_loss(model: GaitGAN, target: Tensor, irrelevant: Tensor, fake: Tensor) -> Tensor:
    """D's loss, the mean of its three BCE terms: target and irrelevant target real, ``G(source)`` fake."""
    d = model.discriminator
    return (_bce(d(target), 1.0) + _bce(d(irrelevant), 1.0) + _bce(d(fake), 0.0)) / 3


def identifier_loss(model: GaitGAN, source: Tensor, target: Tensor, irrelevant: Tensor, fake: Tensor) -> Tensor:
    """A's loss, the mean of its three BCE terms: (source, target) same subject, (source, irrelevant)
    and (source, ``G(source)``) not."""
    a = model.identifier
    return (_bce(a(torch.cat((source, target), 1)), 1.0) + _bce(a(torch.cat((source, irrelevant), 1)), 0.0)
            + _bce(a(torch.cat((source, fake), 1)), 0.0)) / 3


def generator_loss(model: GaitGAN, source: Tensor, fake: Tensor) -> Tensor:
    """G's loss, the mean of ``BCE(D(fake), 1)`` and ``BCE(A(source, fake), 1)``."""
    return (_bce(model.discriminator(fake), 1.0) + _bce(model.identifier(torch.cat((source, fake), 1)), 1.0)) / 2


def _step(optimizer: torch.optim.Optimizer, loss: Tensor) -> float:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def train_step(
    model: GaitGAN, optimizers: dict[str, torch.optim.Optimizer], source: Tensor, target: Tensor, irrelevant: Tensor
) -> dict[str, float]:
    """One iteration: a D step, an A step, then a G step (the order of the original); their losses."""
    with torch.no_grad():
        fake = model.generator(source)
    losses = {
        "discriminator": _step(optimizers["discriminator"], discriminator_loss(model, target, irrelevant, fake)),
        "identifier": _step(optimizers["identifier"], identifier_loss(model, source, target, irrelevant, fake)),
    }
    others = [p for name in ("discriminator", "identifier") for p in getattr(model, name).parameters()]
    for p in others:  # G's step updates G only; D and A get no gradient
        p.requires_grad_(False)
    try:
        losses["generator"] = _step(optimizers["generator"], generator_loss(model, source, model.generator(source)))
    finally:
        for p in others:
            p.requires_grad_(True)
    return losses


def make_optimizers(model: GaitGAN, config: GaitGANTrainConfig) -> dict[str, torch.optim.Optimizer]:
    """Adam for G (``generator_lr``), D and A (``discriminator_lr``), betas ``config.betas``."""
    rates = {"generator": config.generator_lr, "discriminator": config.discriminator_lr,
             "identifier": config.discriminator_lr}
    return {name: torch.optim.Adam(net.parameters(), lr=rates[name], betas=config.betas)
            for name, net in model.networks().items()}


# ---------------------------------------------------------------------------------------- training
def training_geis(store: FrameStore, config: GaitGANTrainConfig) -> tuple[np.ndarray, pd.DataFrame]:
    """GEIs of every sequence of the training subjects and their index rows; a ValueError naming the
    config key when none of the subjects is in the store."""
    subjects = config.subjects()
    rows = store.select(subjects=subjects)
    if rows.empty:
        raise ValueError(f"{store.root}: none of the training subjects {subjects[0]}..{subjects[-1]} is in the store "
                         f"(it has {store.index['subject'].nunique()} others); check subjects.casia_b.train")
    return store_geis(store, rows), rows


def train_gaitgan(store_root: str | Path, weights_path: str | Path, checkpoint_path: str | Path,
                  config: GaitGANTrainConfig, *, set_aside_stale: bool = False) -> GaitGANTrainResult:
    """Train GaitGAN on ``store_root``'s training subjects up to ``config.iterations``, resuming from
    ``checkpoint_path`` (a checkpoint of other data or settings raises, or with ``set_aside_stale``
    is set aside: :func:`~gaitcore.training.checkpoint.resume_from`); writes the checkpoint
    periodically and ``weights_path`` at the end. Logs the
    three losses and the speed every ``config.log_every`` iterations."""
    device = resolve_device(config.device)
    store = FrameStore(store_root)
    data = store_identity(store)
    began = time.perf_counter()
    geis, rows = training_geis(store, config)
    sampler = GEIPairSampler(geis, rows, seed=config.seed, target_view=config.target_view)
    log.info("GEIs of %d sequences (%d subjects) in %.1f s; %d subjects usable%s", len(rows), rows["subject"].nunique(),
             time.perf_counter() - began, sampler.subjects,
             f", left out (no nm GEI at {config.target_view} or no other view): {sampler.skipped}"
             if sampler.skipped else "")
    torch.manual_seed(config.seed)
    model = build_gaitgan(config.width).to(device)
    optimizers = make_optimizers(model, config)
    start, seconds_before, history = 0, 0.0, []
    payload = resume_from(config, checkpoint_path, data, set_aside_stale=set_aside_stale)
    if payload is not None:
        for name, net in model.networks().items():
            net.load_state_dict(payload[name])
            optimizers[name].load_state_dict(payload[f"opt_{name}"])
        torch.set_rng_state(payload["rng"]["torch"])
        sampler.load_state_dict(payload["rng"]["sampler"])
        start, seconds_before = int(payload["iteration"]), float(payload["seconds"])
        history = list(payload["history"])
    params = {name: sum(p.numel() for p in net.parameters()) for name, net in model.networks().items()}
    log.info("training GaitGAN width %d (G %d, D %d, A %d parameters) on device %s; batch %d, Adam lr G %g, D/A %g, "
             "betas %s, iterations %d..%d", config.width, params["generator"], params["discriminator"],
             params["identifier"], device, config.batch_size, config.generator_lr, config.discriminator_lr,
             config.betas, start, config.iterations)
    model.train()
    run_start = window_start = time.perf_counter()
    window: list[dict[str, float]] = []
    losses: dict[str, float] = {}
    iteration = start
    for iteration in range(start + 1, config.iterations + 1):
        source, target, irrelevant = (geis_to_gan(x, device) for x in sampler.sample(config.batch_size))
        window.append(train_step(model, optimizers, source, target, irrelevant))
        if iteration % config.log_every == 0 or iteration == config.iterations:
            elapsed = time.perf_counter() - window_start
            losses = {name: float(np.mean([w[name] for w in window])) for name in NETWORKS}
            history.append({"iteration": iteration, **losses, "seconds_per_iteration": elapsed / len(window)})
            log.info("iteration %d/%d loss D %.4f A %.4f G %.4f | %.3f s/it %.0f GEIs/s", iteration, config.iterations,
                     losses["discriminator"], losses["identifier"], losses["generator"], elapsed / len(window),
                     len(window) * config.batch_size / elapsed)
            window = []
            window_start = time.perf_counter()
        if iteration % config.checkpoint_every == 0 or iteration == config.iterations:
            spent = seconds_before + time.perf_counter() - run_start
            states = {name: net.state_dict() for name, net in model.networks().items()}
            write_checkpoint(config, checkpoint_path, iteration, spent, data, **states,
                             **{f"opt_{name}": optimizers[name].state_dict() for name in states},
                             rng={"torch": torch.get_rng_state(), "sampler": sampler.state_dict()}, history=history)
    seconds = time.perf_counter() - run_start
    ran = iteration - start
    log.info("trained %d iterations in %.1f s (%.3f s/it; %.0f s in all runs)", ran, seconds,
             seconds / ran if ran else 0.0, seconds_before + seconds)
    save_gaitgan(model, weights_path, extra={"iterations": iteration, "train_config": config.as_dict(),
                                             "history": history, "seconds": seconds_before + seconds})
    log.info("wrote weights %s", weights_path)
    if not losses and history:
        losses = {name: float(history[-1][name]) for name in NETWORKS}
    return GaitGANTrainResult(iterations=iteration, resumed_from=start, seconds=seconds,
                              seconds_per_iteration=seconds / ran if ran else 0.0, losses=losses)


__all__ = [
    "GEIPairSampler", "GaitGANTrainConfig", "GaitGANTrainResult", "discriminator_loss", "generator_loss",
    "identifier_loss", "make_optimizers", "train_gaitgan", "train_step",
]
