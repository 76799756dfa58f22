"""Temporal sparse adversarial attacks on GaitSet (He et al. Sec. 3, Algorithm 1)."""

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
from gaitcore.attacks.perturbation import METHODS, PerturbationAttack, PerturbationSettings, perturb
from gaitcore.attacks.plan import FramePlan, num_generated, parse_sparsity, plan_frames, sparsity_label

__all__ = [
    "AttackItem",
    "AttackOutcome",
    "AttackSettings",
    "FramePlan",
    "METHODS",
    "PerturbationAttack",
    "PerturbationSettings",
    "TemporalSparseAttack",
    "Victim",
    "attack_objective",
    "initial_latents",
    "num_generated",
    "on_sphere",
    "parse_sparsity",
    "perturb",
    "plan_frames",
    "reference_attack",
    "sparsity_label",
]
