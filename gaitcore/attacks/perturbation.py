"""Pixel-space perturbation baselines: FGSM, PGD and MI-FGSM on the same frames as the attack (He et al. Sec. 4.5).

He et al. compare their attack with three perturbation attacks (Sec. 4.1 "Settings for perturbation
methods", Sec. 4.5, Fig. 6, Fig. 7): FGSM (Goodfellow et al.), PGD (Madry et al.) and MI-FGSM
(Dong et al.), run on the silhouettes, with the distortion budget "set to the value 1 ... with the
pixel value within [0, 1]" (i.e. no real bound: every pixel may go anywhere in [0, 1]), 20 iterations
for PGD and MI-FGSM and decay 1.0 for MI-FGSM, at a fixed sparsity, "for a fair comparison".

What gaitcore runs, and the choices where the paper is silent:

* **Same frames, same loss.** Each baseline changes only the ``K`` frames at ``Phi`` of the
  attack's plan (:mod:`gaitcore.attacks.plan`, the same mask, placement and K rounding) and ascends
  the attack's cosine term without the realism term: nontargeted ``1 - cos(f(X*), f(X))``, targeted
  ``-(1 - cos(f(X*), f(X_t)))`` (Eq. 5 with ``lambda = 0``). Probes and targets are those of the
  attack (:class:`gaitcore.experiments.attack_job.AttackJob` seeds them by the adversary's mode).
* **Pixels.** The optimised variable is GaitSet's input, the 64x44 centre crop of each 64x64 store
  frame in [0, 1]; the 10 columns cut on each side never reach GaitSet (no gradient), so they are
  left untouched (a random start there would only add invisible noise to the pixel-change measures).
  The stored frames are ``round(255 x)`` (uint8), and they are what is scored, as for the attack.
* **Frame insertion.** Perturbation attacks need frames to perturb: an inserted frame starts as a
  copy of its nearest original neighbour (:meth:`FramePlan.start_frames`), then is perturbed.
* **Updates** (``x`` the frames, ``x_0`` the clean ones, ``eps`` the budget, ``alpha`` the step,
  ``P(x) = clip(x_0 + clip(x - x_0, -eps, eps), 0, 1)`` the projection):

  - FGSM: ``x = P(x_0 + eps sign(grad))``, one step;
  - PGD: ``x_1 = P(x_0 + U(-eps, eps))`` with ``attack.baselines.random_start`` (else ``x_0``), then
    ``T`` times ``x = P(x + alpha sign(grad))``;
  - MI-FGSM: ``g = mu g + grad / ||grad||_1``, ``x = P(x + alpha sign(g))``, ``T`` times, from
    ``x_0``; the L1 norm is over each sequence's own ``K`` frames, as in the attack's Eq. 6.

  The step ``alpha`` is not given by the paper; the default ``budget / T = 0.05`` lets the 20 steps
  reach the budget. These updates are torchattacks' (``FGSM``, ``PGD``, ``MIFGSM``; its MI-FGSM
  divides by the mean absolute gradient, a per-sample constant multiple of the L1 norm, so the signs
  agree), which the tests check on a small classifier.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gaitcore.attacks.engine import AttackItem, AttackOutcome, segment_sum
from gaitcore.attacks.vocabulary import GOALS, METHODS
from gaitcore.models.gaitset import CROP, INPUT_HEIGHT, INPUT_WIDTH, silhouettes_to_input
from gaitcore.models.victims import VictimModel

log = logging.getLogger(__name__)


# Objective of the frames being perturbed: frames [R, ...] -> one value per sequence [n], ascended.
Objective = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class PerturbationSettings:
    """The knobs of a perturbation baseline (defaults: the paper's Sec. 4.1 values; ``step_size`` ours).

    ``budget`` is the L-infinity bound on pixels in [0, 1] (the paper's 1: unbounded);
    ``step_size`` the per-iteration step of PGD and MI-FGSM; ``iterations`` T (FGSM takes one step
    whatever T); ``decay`` MI-FGSM's mu; ``random_start`` PGD's uniform start in the budget.
    """

    goal: str = "nontargeted"
    method: str = "fgsm"
    budget: float = 1.0
    step_size: float = 0.05
    iterations: int = 20
    decay: float = 1.0
    random_start: bool = True
    chunk_size: int = 16

    def __post_init__(self) -> None:
        if self.goal not in GOALS:
            raise ValueError(f"unknown attack goal {self.goal!r}; use one of {GOALS}")
        if self.method not in METHODS:
            raise ValueError(f"unknown perturbation method {self.method!r}; use one of {METHODS}")
        if not (self.budget > 0 and self.step_size > 0 and self.iterations >= 0 and self.decay >= 0):
            raise ValueError("budget and step_size must be positive, iterations and decay non-negative")
        if self.chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")

    @property
    def setting(self) -> str:
        """The mode's setting part (``alteration_nontargeted_<setting>``): the method's name."""
        return self.method

    @property
    def sign(self) -> float:
        """+1: push away from the reference features (nontargeted); -1: pull toward them (targeted)."""
        return 1.0 if self.goal == "nontargeted" else -1.0

    @property
    def steps(self) -> int:
        """Gradient steps actually taken: 1 for FGSM, T otherwise."""
        return 1 if self.method == "fgsm" else self.iterations


def project(x: Tensor, clean: Tensor, budget: float) -> Tensor:
    """``clip(clean + clip(x - clean, -budget, budget), 0, 1)``: back into the budget and the pixel range."""
    return (clean + (x - clean).clamp(-budget, budget)).clamp(0.0, 1.0)


def _gradient(objective: Objective, x: Tensor) -> Tensor:
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(objective(x).sum(), x)
    return grad


def perturb(
    objective: Objective,
    clean: Tensor,
    settings: PerturbationSettings,
    segment_of_row: Tensor | None = None,
    start_noise: Tensor | None = None,
) -> Tensor:
    """FGSM, PGD or MI-FGSM (``settings.method``) on ``clean`` frames in [0, 1]; returns the perturbed frames.

    ``objective(x)`` gives one value per sequence (``[n]``), to ascend; frames belong to sequences by
    ``segment_of_row`` (``[R]``, default: each frame its own sequence), which sets MI-FGSM's L1
    normalisation. ``start_noise`` (``clean``'s shape, uniform in [-1, 1]) is PGD's random start,
    scaled by the budget; None: no random start. See the module docstring for the updates.
    """
    s = settings
    clean = clean.detach()
    segments = segment_of_row if segment_of_row is not None else torch.arange(len(clean), device=clean.device)
    n = int(segments.max()) + 1 if len(segments) else 0
    if s.method == "fgsm":
        return project(clean + s.budget * _gradient(objective, clean).sign(), clean, s.budget)
    x = clean
    if s.method == "pgd" and s.random_start and start_noise is not None:
        x = project(clean + s.budget * start_noise.to(clean), clean, s.budget)
    momentum = torch.zeros_like(clean)
    shape = (-1,) + (1,) * (clean.dim() - 1)
    for _ in range(s.iterations):
        grad = _gradient(objective, x)
        if s.method == "mifgsm":
            l1 = segment_sum(grad.abs().flatten(1).sum(1), segments, n).clamp_min(1e-12)
            momentum = s.decay * momentum + grad / l1[segments].view(shape)
            grad = momentum
        x = project(x + s.step_size * grad.sign(), clean, s.budget).detach()
    return x


def start_noise(shape: tuple[int, ...], seed: int) -> Tensor:
    """PGD's random start for one sequence: uniform in [-1, 1], drawn on the CPU from ``seed``."""
    return torch.rand(shape, generator=torch.Generator().manual_seed(int(seed))) * 2.0 - 1.0


def to_store(start: np.ndarray, x: Tensor) -> np.ndarray:
    """Perturbed GaitSet inputs ``[K, 64, 44]`` in [0, 1] -> uint8 store frames: ``start`` with the crop replaced."""
    out = np.array(start, dtype=np.uint8, copy=True)
    out[:, :, CROP : CROP + INPUT_WIDTH] = ((x.detach().float() * 255.0).round().clamp(0, 255)
                                            .to(torch.uint8).cpu().numpy())
    return out


class PerturbationAttack:
    """A perturbation baseline on many sequences at once, against any victim (:mod:`gaitcore.models.victims`).

    Like :class:`gaitcore.attacks.engine.TemporalSparseAttack`: the clean kept frames of each
    sequence are cached once (``model.pooled_cache``; GaitSet's exact set pooling, where only the
    ``K`` perturbed frames pass through the frame CNN); each sequence keeps its own normalisation and
    random start, so results do not depend on the chunk a sequence ran in. ``attack(items)`` returns one
    :class:`~gaitcore.attacks.engine.AttackOutcome` per item (``latents`` empty, ``realism`` NaN:
    no generator or critic is involved).
    """

    def __init__(self, model: VictimModel, settings: PerturbationSettings, device: torch.device | str = "cpu") -> None:
        self.model = model.eval().requires_grad_(False)
        self.settings = settings
        self.device = torch.device(device)

    def attack(self, items: Sequence[AttackItem]) -> list[AttackOutcome]:
        outcomes: list[AttackOutcome] = []
        began = time.perf_counter()
        for first in range(0, len(items), self.settings.chunk_size):
            outcomes += self._attack_chunk(list(items[first : first + self.settings.chunk_size]))
            log.info("%s: attacked %d/%d sequences (%.1f s)", self.settings.method, len(outcomes), len(items),
                     time.perf_counter() - began)
        return outcomes

    def _attack_chunk(self, items: list[AttackItem]) -> list[AttackOutcome]:
        s, dev, model = self.settings, self.device, self.model
        ks = [item.plan.k for item in items]
        offsets = np.concatenate([[0], np.cumsum(ks)])
        segments = torch.repeat_interleave(torch.arange(len(items)), torch.tensor(ks)).to(dev)
        clean_kept = silhouettes_to_input(np.concatenate([it.frames[it.plan.kept_source] for it in items]), dev)
        kept_positions = torch.from_numpy(np.concatenate([it.plan.kept for it in items]))
        new_positions = torch.from_numpy(np.concatenate([it.plan.generated for it in items])).to(dev)
        reference = torch.stack([it.reference for it in items]).to(dev)
        cache = model.pooled_cache(clean_kept, [len(it.plan.kept) for it in items], positions=kept_positions)
        starts = [it.plan.start_frames(it.frames) for it in items]
        x0 = silhouettes_to_input(np.concatenate(starts), dev)
        noise = torch.cat([start_noise((k, INPUT_HEIGHT, INPUT_WIDTH), it.seed) for k, it in zip(ks, items)])

        def cosine(x: Tensor) -> Tensor:
            features = model.forward_with_cache(cache, x, ks, positions=new_positions)
            return F.cosine_similarity(features.flatten(1).float(), reference.flatten(1).float(), dim=1)

        def objective(x: Tensor) -> Tensor:
            return s.sign * (1.0 - cosine(x))

        x = perturb(objective, x0, s, segments, noise if s.random_start else None)
        with torch.no_grad():
            final = objective(x)
            stored = [to_store(start, x[offsets[i] : offsets[i + 1]]) for i, start in enumerate(starts)]
            features = model.forward_with_cache(cache, silhouettes_to_input(np.concatenate(stored), dev), ks,
                                                positions=new_positions)
            stored_cosine = F.cosine_similarity(features.flatten(1).float(), reference.flatten(1).float(), dim=1)
        return [
            AttackOutcome(
                generated=stored[i],
                latents=torch.empty(0),
                features=features[i].float().cpu(),
                objective=float(final[i]),
                cosine=float(stored_cosine[i]),
                realism=float("nan"),
                iterations=s.steps,
                cosine_history=np.empty(0, dtype=np.float32),
            )
            for i in range(len(items))
        ]


__all__ = ["PerturbationAttack", "PerturbationSettings", "perturb", "project", "start_noise", "to_store"]
