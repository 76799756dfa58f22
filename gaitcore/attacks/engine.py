"""The temporal sparse adversarial attack (He et al. Algorithm 1), batched over many sequences.

For each attacked sequence ``X`` (``N`` frames) the attack searches latents ``Z`` (``K x V``) of
the pretrained generator ``G`` so that the sequence with ``G(Z)`` at the planned places
(:mod:`gaitcore.attacks.plan`) fools the victim ``f`` (GaitSet in the paper; GaitPart and GaitGL too,
:mod:`gaitcore.models.victims`):

* **Latents on the sphere** (Sec. 3.2, Algorithm 1 line 1): the optimised variable ``W`` is mapped
  inside the forward pass to ``Z = sqrt(V) W / ||W||`` per frame (the paper's code does the same
  reparametrisation), so ``Z`` stays on ``sqrt(V) S^(V-1)``; ``W_0`` is a normalised Gaussian draw,
  i.e. ``Z_0`` is uniform on that sphere.
* **Objective** (Eq. 5), always *ascended*:
  nontargeted ``J = (1 - cos(f(X*), f(X))) - lambda * BCE(D(G(Z)), 1)`` and targeted
  ``J = -(1 - cos(f(X*), f(X_t))) - lambda * BCE(D(G(Z)), 1)`` (Eq. 3). Eq. 5 as printed maximises
  ``+ lambda * BCE``, which would make the frames *less* realistic; the paper's code rewards realism
  in both goals, as here. ``D`` is the WGAN-GP critic calibrated to a probability
  (:class:`gaitcore.models.realism.RealismScore`), so ``BCE(p, 1) = softplus(-logit)``, averaged
  over the sequence's ``K`` frames. ``cos`` is taken between flattened ``[parts * hidden]``
  features. An optional temporal-consistency term (beyond the paper, its stated future work)
  subtracts ``gamma * (1 - softIoU)`` between each generated frame and its clean neighbours.
* **MI-FGSM** (Eq. 6-7): ``g <- mu g + grad / ||grad||_1`` with the L1 norm taken over each
  sequence's own ``K x V`` gradient, then ``W <- W + eps sign(g)``; ``T`` iterations.
* **Random control** (Sec. 4.2 "Random"): ``Z ~ N(0, I)``, no optimisation.

The engine attacks a chunk of sequences at once: each keeps its own latents, plan, momentum and
gradient normalisation, and their losses are summed (each sequence's loss depends on its own
latents only, as ``G`` is used in eval mode), so the gradients are those of one-by-one attacks.
GaitSet runs on the ``K`` generated frames only: the set-pooled maps of each sequence's clean
frames are computed once (:meth:`GaitSet.pooled_cache`) and merged exactly
(:meth:`GaitSet.forward_with_cache`); GaitPart and GaitGL, whose features depend on frame order,
run the full forward on the assembled sequences through the same two calls
(:class:`gaitcore.models._blocks.FullForwardIncremental`). :func:`reference_attack` is the plain
method (one sequence, full forward every iteration), the oracle of the tests and the benchmark.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gaitcore.attacks.plan import FramePlan
from gaitcore.attacks.vocabulary import GOALS, SETTINGS
from gaitcore.models.gaitset import silhouettes_to_input
from gaitcore.models.realism import RealismScore
from gaitcore.models.victims import VictimModel, uses_channels_last
from gaitcore.models.wgan import Generator, binarize, to_gaitset_frames, to_store_frames
from gaitcore.utils.autocast import DTYPES, precision

log = logging.getLogger(__name__)


# Succeeded check for early stopping: (features [m, parts, hidden], sequence indices [m]) -> bool [m].
SuccessCheck = Callable[[Tensor, Sequence[int]], Tensor]


@dataclass(frozen=True)
class AttackSettings:
    """The knobs of Algorithm 1 (defaults: the paper's Sec. 4.1 values, lambda from its code).

    ``realism_weight`` is lambda of Eq. 5 (the paper's text says 1000, its code 1; with sign steps
    only its size against the cosine gradient matters, and with few iterations a small lambda is
    needed for the cosine term to get its turn: see docs/attack.md "Which lambda").
    ``temporal_weight`` is gamma of the optional
    temporal-consistency term (0: off, the paper's method). ``binary_frames`` (beyond the paper)
    thresholds every generated frame to a binary silhouette, as a sensor's, before D and the victim see
    it and before it is stored, optimising through the threshold with a straight-through gradient
    (:func:`gaitcore.models.wgan.binarize`). ``chunk_size`` sequences are attacked at once;
    ``dtype`` ``bfloat16`` runs G, D and the victim under autocast.
    """

    goal: str = "nontargeted"
    setting: str = "adversary"
    iterations: int = 100
    decay: float = 1.0
    step_size: float = 0.1
    realism_weight: float = 1.0
    temporal_weight: float = 0.0
    early_stop: bool = False
    binary_frames: bool = False
    chunk_size: int = 16
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name, value, allowed in (("goal", self.goal, GOALS), ("setting", self.setting, SETTINGS),
                                     ("dtype", self.dtype, DTYPES)):
            if value not in allowed:
                raise ValueError(f"unknown attack {name} {value!r}; use one of {allowed}")
        if self.iterations < 0 or self.chunk_size < 1:
            raise ValueError("iterations must be >= 0 and chunk_size >= 1")

    @property
    def sign(self) -> float:
        """+1: push away from the reference features (nontargeted); -1: pull toward them (targeted)."""
        return 1.0 if self.goal == "nontargeted" else -1.0


@dataclass(frozen=True)
class Victim:
    """The white-box models: the victim ``f`` (GaitSet, GaitPart or GaitGL), the generator ``G`` and the
    calibrated realism ``D``."""

    model: VictimModel
    generator: Generator
    realism: RealismScore

    @property
    def latent_dim(self) -> int:
        return self.generator.latent_dim

    def to_channels_last(self) -> Victim:
        """The same models with NHWC convolutions (same values; on CPU G and D run ~1.6x faster); a
        victim with 3-D convolutions (GaitGL) keeps its layout."""
        model = self.model.to(memory_format=torch.channels_last) if uses_channels_last(self.model) else self.model
        return Victim(model, *(m.to(memory_format=torch.channels_last) for m in (self.generator, self.realism)))


@dataclass(frozen=True)
class AttackItem:
    """One sequence to attack: its uint8 store frames ``[N, 64, 64]``, plan, reference and seed.

    ``reference`` is ``f(X)`` (nontargeted) or ``f(X_t)`` (targeted), ``[parts, hidden]``; ``seed``
    draws this sequence's initial latents, so a result does not depend on the chunk it ran in.
    """

    frames: np.ndarray
    plan: FramePlan
    reference: Tensor
    seed: int


@dataclass
class AttackOutcome:
    """What the attack made of one sequence.

    ``generated`` are the final frames as stored (uint8 ``[K, 64, 64]``, ``round((x + 1) * 127.5)``)
    and ``features`` the victim's features of the adversarial sequence made with them (what is stored
    is what is scored). ``objective`` is Eq. 5's value at the final latents (float frames),
    ``cosine`` the cosine similarity of ``features`` to the reference, ``realism`` the mean realism
    probability of the generated frames, ``cosine_history`` the cosine at each iteration and
    ``iterations`` how many updates ran (fewer than ``T`` after an early stop); ``latents`` the
    final ``Z`` given to ``G`` (``[K, V]``).
    """

    generated: np.ndarray
    latents: Tensor
    features: Tensor
    objective: float
    cosine: float
    realism: float
    iterations: int
    cosine_history: np.ndarray = field(repr=False)


# ---------------------------------------------------------------------------------------- pieces
def on_sphere(w: Tensor) -> Tensor:
    """``sqrt(V) * w / ||w||`` per row: the reparametrisation onto ``sqrt(V) S^(V-1)``."""
    return F.normalize(w, dim=1) * math.sqrt(w.shape[1])


def initial_latents(k: int, latent_dim: int, seed: int, setting: str = "adversary") -> Tensor:
    """``k`` starting latents: uniform on the sphere (adversary) or ``N(0, I)`` (random control)."""
    draw = torch.randn(k, latent_dim, generator=torch.Generator().manual_seed(int(seed)))
    return on_sphere(draw) if setting == "adversary" else draw


def generated_frames(generator: Generator, latents: Tensor, settings: AttackSettings) -> Tensor:
    """The frames the attack puts into the sequence: ``G(Z)`` (``Z`` on the sphere for the
    adversary, as drawn for the random control), binarised with ``binary_frames``."""
    x = generator(on_sphere(latents) if settings.setting == "adversary" else latents)
    return binarize(x) if settings.binary_frames else x


def soft_iou(a: Tensor, b: Tensor) -> Tensor:
    """Soft intersection over union of frames in [0, 1] (last two dims), ``sum(ab) / sum(a + b - ab)``."""
    inter = (a * b).sum((-2, -1))
    return inter / (a.sum((-2, -1)) + b.sum((-2, -1)) - inter).clamp_min(1e-6)


def segment_sum(values: Tensor, segment_of_row: Tensor, segments: int) -> Tensor:
    """Per-segment sums of rows ``values [R, ...]`` -> ``[segments, ...]``."""
    out = values.new_zeros((segments, *values.shape[1:]))
    return out.index_add(0, segment_of_row, values)


def attack_objective(
    features: Tensor,
    reference: Tensor,
    realism_logits: Tensor,
    segment_of_row: Tensor,
    settings: AttackSettings,
    temporal_gap: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Eq. 5 per sequence (to ascend) and the cosine similarities, ``([n], [n])``.

    ``features``/``reference``: ``[n, parts, hidden]``; ``realism_logits``: ``[R]`` for the ``R``
    generated frames, ``segment_of_row`` their sequence; ``temporal_gap``: ``[R]`` values of
    ``1 - softIoU`` with the clean neighbours (only when ``temporal_weight > 0``).
    """
    n = features.shape[0]
    cosine = F.cosine_similarity(features.flatten(1).float(), reference.flatten(1).float(), dim=1)
    counts = segment_sum(torch.ones_like(realism_logits, dtype=torch.float32), segment_of_row, n)
    bce = segment_sum(F.softplus(-realism_logits.float()), segment_of_row, n) / counts
    objective = settings.sign * (1.0 - cosine) - settings.realism_weight * bce
    if settings.temporal_weight and temporal_gap is not None:
        objective = objective - settings.temporal_weight * segment_sum(temporal_gap.float(), segment_of_row, n) / counts
    return objective, cosine


def momentum_step(w: Tensor, grad: Tensor, momentum: Tensor, segment_of_row: Tensor, n: int,
                  settings: AttackSettings) -> tuple[Tensor, Tensor]:
    """Eq. 6-7 with each sequence's gradient normalised by its own L1 norm: new ``(w, momentum)``."""
    l1 = segment_sum(grad.abs().sum(1), segment_of_row, n).clamp_min(1e-12)
    momentum = settings.decay * momentum + grad / l1[segment_of_row, None]
    return w + settings.step_size * momentum.sign(), momentum


# ---------------------------------------------------------------------------------------- engine
class TemporalSparseAttack:
    """Algorithm 1 on many sequences at once, with the victim's incremental pair (GaitSet: exact set pooling).

    ``attack(items)`` returns one :class:`AttackOutcome` per item, in order, processing
    ``settings.chunk_size`` sequences at a time. ``succeeded`` (with ``settings.early_stop``)
    decides after each forward pass which sequences already fool the model on every gallery view;
    those keep their current latents and leave the chunk.
    """

    def __init__(self, victim: Victim, settings: AttackSettings, device: torch.device | str = "cpu") -> None:
        self.victim = victim
        self.settings = settings
        self.device = torch.device(device)
        for model in (victim.model, victim.generator, victim.realism):
            model.eval().requires_grad_(False)

    def attack(self, items: Sequence[AttackItem], succeeded: SuccessCheck | None = None) -> list[AttackOutcome]:
        outcomes: list[AttackOutcome] = []
        size = self.settings.chunk_size
        began = time.perf_counter()
        for first in range(0, len(items), size):
            chunk = list(items[first : first + size])
            check = None
            if succeeded is not None and self.settings.early_stop:  # chunk-local -> global sequence indices
                check = partial(_offset_check, succeeded, first)
            outcomes += self._attack_chunk(chunk, check)
            log.info("attacked %d/%d sequences (%.1f s)", len(outcomes), len(items), time.perf_counter() - began)
        return outcomes

    # ---------------------------------------------------------------- one chunk
    def _attack_chunk(self, items: list[AttackItem], succeeded: SuccessCheck | None) -> list[AttackOutcome]:
        s, dev = self.settings, self.device
        model, generator, realism = self.victim.model, self.victim.generator, self.victim.realism
        n = len(items)
        ks = [item.plan.k for item in items]
        offsets = np.concatenate([[0], np.cumsum(ks)])
        segment_of_row = torch.repeat_interleave(torch.arange(n), torch.tensor(ks)).to(dev)
        clean = silhouettes_to_input(np.concatenate([it.frames[it.plan.kept_source] for it in items]), dev)
        kept_positions = torch.from_numpy(np.concatenate([it.plan.kept for it in items]))
        new_positions = torch.from_numpy(np.concatenate([it.plan.generated for it in items])).to(dev)
        reference = torch.stack([it.reference for it in items]).to(dev)
        with precision(dev, s.dtype):
            cache = model.pooled_cache(clean, [len(it.plan.kept) for it in items], positions=kept_positions)
        neighbours = self._neighbour_frames(items) if s.temporal_weight else None
        w = torch.cat([initial_latents(k, self.victim.latent_dim, it.seed, s.setting)
                       for k, it in zip(ks, items)]).to(dev)
        momentum = torch.zeros_like(w)
        history = np.full((n, s.iterations), np.nan, dtype=np.float32)
        iterations = np.zeros(n, dtype=np.int64)
        active = list(range(n))

        def evaluate(rows: Tensor, seqs: list[int], latents: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
            """Forward pass of the active sequences: (objective, cosine, features, generated frames)."""
            sub_cache = cache if len(seqs) == n else cache.select(seqs)
            sub_segments = torch.repeat_interleave(torch.arange(len(seqs), device=dev),
                                                   torch.tensor([ks[i] for i in seqs], device=dev))
            with precision(dev, s.dtype):
                x = generated_frames(generator, latents, s)
                logits = realism.logits(x)
                feats = model.forward_with_cache(sub_cache, to_gaitset_frames(x), [ks[i] for i in seqs],
                                                   positions=new_positions[rows])
            gap = None
            if neighbours is not None:
                frames01, weights = neighbours
                iou = soft_iou((x.float()[:, :1] + 1.0) / 2.0, frames01[rows])
                gap = 1.0 - (iou * weights[rows]).sum(1) / weights[rows].sum(1).clamp_min(1.0)
            objective, cosine = attack_objective(feats, reference[seqs], logits, sub_segments, s, gap)
            return objective, cosine, feats, x

        if s.setting == "adversary":
            for t in range(s.iterations):
                rows = torch.cat([torch.arange(offsets[i], offsets[i + 1]) for i in active]).to(dev)
                latents = w[rows].detach().requires_grad_(True)
                objective, cosine, feats, _ = evaluate(rows, active, latents)
                history[active, t] = cosine.detach().float().cpu().numpy()
                remap = torch.full((n,), -1, dtype=torch.long, device=dev)
                remap[torch.tensor(active, device=dev)] = torch.arange(len(active), device=dev)
                local = remap[segment_of_row[rows]]  # each row's sequence among the active ones
                keep = torch.ones(len(active), dtype=torch.bool, device=dev)
                if succeeded is not None:
                    keep = ~succeeded(feats.detach(), active).to(dev)
                    if not keep.any():
                        break
                # Each objective depends on its own sequence's latents only, so the sequences that
                # already succeeded just drop out of the sum and of the update (same forward pass).
                (grad,) = torch.autograd.grad(objective[keep].sum(), latents)
                row_keep = keep[local]
                rows, local = rows[row_keep], (keep.long().cumsum(0) - 1)[local[row_keep]]
                active = [i for i, k in zip(active, keep.tolist()) if k]
                new_w, new_m = momentum_step(latents.detach()[row_keep], grad[row_keep], momentum[rows], local,
                                             len(active), s)
                w[rows], momentum[rows] = new_w, new_m
                iterations[active] += 1

        all_rows = torch.arange(int(offsets[-1]), device=dev)
        with torch.no_grad():
            objective, _, _, x = evaluate(all_rows, list(range(n)), w)
            final_z = (on_sphere(w) if s.setting == "adversary" else w).cpu()
            probability = torch.sigmoid(realism.logits(x.float()))
            generated = to_store_frames(x)
            # The victim scores what is stored at its own precision (float32, as the clean features),
            # whatever precision ran the attack.
            if s.dtype != "float32":
                cache = model.pooled_cache(clean, [len(it.plan.kept) for it in items], positions=kept_positions)
            stored = model.forward_with_cache(cache, silhouettes_to_input(generated, dev), ks,
                                                positions=new_positions)
            cosine = F.cosine_similarity(stored.flatten(1).float(), reference.flatten(1).float(), dim=1)
        return [
            AttackOutcome(
                generated=generated[offsets[i] : offsets[i + 1]],
                latents=final_z[offsets[i] : offsets[i + 1]],
                features=stored[i].float().cpu(),
                objective=float(objective[i]),
                cosine=float(cosine[i]),
                realism=float(probability[offsets[i] : offsets[i + 1]].mean()),
                iterations=int(iterations[i]),
                cosine_history=history[i],
            )
            for i in range(n)
        ]

    def _neighbour_frames(self, items: list[AttackItem]) -> tuple[Tensor, Tensor]:
        """Clean neighbours of every generated frame, ``[R, 2, 64, 64]`` in [0, 1], and which exist ``[R, 2]``."""
        frames, weights = [], []
        for item in items:
            index = item.plan.neighbours()
            exists = index >= 0
            picked = item.frames[np.where(exists, index, 0)]
            frames.append(np.where(exists[..., None, None], picked, 0))
            weights.append(exists)
        frames01 = torch.from_numpy(np.concatenate(frames)).to(self.device, torch.float32) / 255.0
        return frames01, torch.from_numpy(np.concatenate(weights)).to(self.device, torch.float32)


def _offset_check(succeeded: SuccessCheck, offset: int, features: Tensor, sequences: Sequence[int]) -> Tensor:
    return succeeded(features, [offset + i for i in sequences])


# ---------------------------------------------------------------------------------------- oracle
def reference_attack(victim: Victim, item: AttackItem, settings: AttackSettings,
                     device: torch.device | str = "cpu") -> tuple[Tensor, np.ndarray]:
    """The plain attack of one sequence, as the paper's code runs it: full victim forward every iteration.

    Same models, objective, initial latents and update rule as :class:`TemporalSparseAttack`;
    returns the final latents ``Z`` (``[K, V]``) and generated frames (uint8 ``[K, 64, 64]``).
    The oracle of the tests and of ``python -m gaitcore.bench.attack``.
    """
    if settings.temporal_weight:
        raise ValueError("the reference attack implements the paper's objective only (temporal_weight 0)")
    dev = torch.device(device)
    plan = item.plan
    clean = silhouettes_to_input(item.frames, dev)
    reference = item.reference.to(dev)[None]
    kept = torch.from_numpy(plan.kept).to(dev)
    new = torch.from_numpy(plan.generated).to(dev)
    rows = torch.zeros(plan.k, dtype=torch.long, device=dev)
    w = initial_latents(plan.k, victim.latent_dim, item.seed, settings.setting).to(dev)
    momentum = torch.zeros_like(w)
    for _ in range(settings.iterations if settings.setting == "adversary" else 0):
        latents = w.detach().requires_grad_(True)
        with precision(dev, settings.dtype):
            x = generated_frames(victim.generator, latents, settings)
            logits = victim.realism.logits(x)
            sequence = clean.new_zeros((plan.length, *clean.shape[1:]))
            sequence = sequence.index_copy(0, kept, clean[torch.from_numpy(plan.kept_source).to(dev)])
            sequence = sequence.index_copy(0, new, to_gaitset_frames(x).to(sequence.dtype))
            features = victim.model(sequence[None])
        objective, _ = attack_objective(features, reference, logits, rows, settings)
        (grad,) = torch.autograd.grad(objective.sum(), latents)
        w, momentum = momentum_step(w, grad, momentum, rows, 1, settings)
    z = on_sphere(w) if settings.setting == "adversary" else w
    with torch.no_grad():
        return z.cpu(), to_store_frames(generated_frames(victim.generator, w, settings))
