"""The attack's vocabulary, owned here once: kinds, goals, settings, modes and sparsities.

He et al. attack a sequence by *frame alteration* or *frame insertion* (Sec. 3.2), with a
*nontargeted* (Eq. 1) or *targeted* (Eq. 3) objective, and compare the optimised *adversary*
(Algorithm 1) with a *random* control (Sec. 4.2) and pixel-space baselines FGSM, PGD and MI-FGSM
(Sec. 4.5). A :class:`Mode` names one such combination, written ``{kind}_{goal}_{setting}`` and,
for a variant of the optimiser settings (``attack.variants`` in the config), ``+{variant}``. A
:class:`Sparsity` is ``S = K / N``, the share of a sequence's frames that are generated, written
``"1/40"`` in config and tables and ``1-40`` in file names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

KINDS = ("alteration", "insertion")  # Sec. 3.2
GOALS = ("nontargeted", "targeted")  # Eq. 1, Eq. 3
SETTINGS = ("random", "adversary")  # Sec. 4.2's random control, Algorithm 1
METHODS = ("fgsm", "pgd", "mifgsm")  # Sec. 4.5's pixel-space baselines

_FRACTION = re.compile(r"(\d+)/(\d+)")
_VARIANT = re.compile(r"[a-z0-9_]+")
_EXAMPLE = "a fraction K/N of whole numbers such as '1/40'"


@dataclass(frozen=True)
class Mode:
    """One attack mode: kind, goal, setting (or baseline method) and an optional settings variant."""

    kind: str
    goal: str
    setting: str
    variant: str = ""

    def __post_init__(self) -> None:
        for part, value, allowed in (("kind", self.kind, KINDS), ("goal", self.goal, GOALS),
                                     ("setting", self.setting, (*SETTINGS, *METHODS))):
            if value not in allowed:
                raise ValueError(f"unknown attack mode {self}: {part} {value!r} is not one of {allowed}; a mode "
                                 f"is kind_goal_setting[+variant] with kind in {KINDS}, goal in {GOALS}, setting "
                                 f"in {(*SETTINGS, *METHODS)}")
        if self.variant and not _VARIANT.fullmatch(self.variant):
            raise ValueError(f"attack mode {self}: variant {self.variant!r} must be lower-case letters, digits, _")

    @classmethod
    def parse(cls, text: str | Mode) -> Mode:
        """``"alteration_nontargeted_adversary+early_stop"`` -> ``Mode("alteration", ..., "early_stop")``."""
        if isinstance(text, Mode):
            return text
        name, _, variant = str(text).partition("+")
        parts = name.split("_")
        if len(parts) != 3:
            raise ValueError(f"unknown attack mode {text!r}; a mode is kind_goal_setting[+variant] with kind in "
                             f"{KINDS}, goal in {GOALS}, setting in {(*SETTINGS, *METHODS)}")
        return cls(*parts, variant=variant)

    @property
    def name(self) -> str:
        """``kind_goal_setting``, without the variant."""
        return f"{self.kind}_{self.goal}_{self.setting}"

    @property
    def is_baseline(self) -> bool:
        """A pixel-space baseline of Sec. 4.5 (no generator)."""
        return self.setting in METHODS

    @property
    def is_headline(self) -> bool:
        """A headline mode: the plain nontargeted adversary or random control (no variant), which gets
        the headline probe budget and the precision table."""
        return self.goal == "nontargeted" and self.setting in ("adversary", "random") and not self.variant

    @property
    def seed_mode(self) -> Mode:
        """The mode whose probes, targets and frame places a job of this mode shares: the adversary's
        for a baseline (Sec. 4.5 compares them on the same frames), the mode itself otherwise."""
        return Mode(self.kind, self.goal, "adversary") if self.is_baseline else Mode(self.kind, self.goal, self.setting)

    def __str__(self) -> str:
        return f"{self.name}+{self.variant}" if self.variant else self.name


@dataclass(frozen=True, order=True)
class Sparsity:
    """``S = K / N`` in (0, 1] (Sec. 3.2): the share of a sequence's frames an attack generates."""

    value: Fraction

    def __post_init__(self) -> None:
        if not 0 < self.value <= 1:
            raise ValueError(f"sparsity {self.value} must lie in (0, 1]")

    @classmethod
    def parse(cls, text: str | float | Fraction | Sparsity) -> Sparsity:
        """``"1/40"`` (config and tables; also a ``Fraction`` or a float such as ``0.025``) -> ``Sparsity``.

        Text must be ``K/N`` of whole numbers with ``N > 0`` and ``0 < K <= N``; the error names the
        value and the fix.
        """
        if isinstance(text, Sparsity):
            return text
        if isinstance(text, float):
            return cls(Fraction(text).limit_denominator(10_000))
        if isinstance(text, Fraction):
            return cls(text)
        match = _FRACTION.fullmatch(str(text))
        if match is None:
            raise ValueError(f"sparsity {text!r} is not {_EXAMPLE}")
        k, n = int(match.group(1)), int(match.group(2))
        if n == 0:
            raise ValueError(f"sparsity {text!r} divides by zero; the denominator N must be at least 1, e.g. '1/40'")
        if k == 0:
            raise ValueError(f"sparsity {text!r} is 0; a sparsity lies in (0, 1]: the numerator K must be at least "
                             "1, e.g. '1/40'")
        if k > n:
            raise ValueError(f"sparsity {text!r} is {k / n:g}, above 1 (more generated frames than the sequence "
                             f"has); a sparsity lies in (0, 1]: use K <= N, e.g. '1/10'")
        return cls(Fraction(k, n))

    @classmethod
    def from_file_name(cls, text: str) -> Sparsity:
        """``"1-40"`` (the form in file names and Snakemake wildcards) -> ``Sparsity``."""
        return cls.parse(text.replace("-", "/"))

    @property
    def label(self) -> str:
        """``"1/40"``, the form of config and tables."""
        return f"{self.value.numerator}/{self.value.denominator}"

    @property
    def file_name(self) -> str:
        """``"1-40"``, the form of file names and Snakemake wildcards."""
        return f"{self.value.numerator}-{self.value.denominator}"

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        return self.label


def sparsity_value(text: str) -> float:
    """``"1/40"`` -> ``0.025`` (sorting key of table rows)."""
    return float(Sparsity.parse(text))
