"""Temporal sparse adversarial attacks on GaitSet (He et al. Sec. 3, Algorithm 1), their vocabulary
(:mod:`gaitcore.attacks.vocabulary`) and the pixel-space baselines of Sec. 4.5."""

from gaitcore.attacks.engine import (
    AttackItem,
    AttackOutcome,
    AttackSettings,
    TemporalSparseAttack,
    Victim,
    attack_objective,
    initial_latents,
    on_sphere,
    reference_attack,
)
from gaitcore.attacks.perturbation import PerturbationAttack, PerturbationSettings, perturb
from gaitcore.attacks.plan import FramePlan, num_generated, plan_frames
from gaitcore.attacks.vocabulary import GOALS, KINDS, METHODS, SETTINGS, Mode, Sparsity

__all__ = [
    "AttackItem",
    "AttackOutcome",
    "AttackSettings",
    "GOALS",
    "FramePlan",
    "KINDS",
    "METHODS",
    "Mode",
    "PerturbationAttack",
    "PerturbationSettings",
    "TemporalSparseAttack",
    "Victim",
    "attack_objective",
    "initial_latents",
    "num_generated",
    "on_sphere",
    "perturb",
    "plan_frames",
    "reference_attack",
    "SETTINGS",
    "Sparsity",
]
