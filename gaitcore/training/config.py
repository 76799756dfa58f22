"""Behaviour shared by the typed training configs (GaitSet, WGAN-GP, GaitGAN, SPADE): building them
from config mappings, their subjects, and the facts :mod:`gaitcore.training.checkpoint` needs
(checkpoint format, the settings a resumed run may change, the runtime-only settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Self

from gaitcore.training.sampler import subject_range


@dataclass(frozen=True)
class Checkpointing:
    """What :mod:`gaitcore.training.checkpoint` needs to know of one trainer's checkpoints."""

    format: str
    keys: frozenset[str]  # every key a checkpoint of this format holds
    resumable: frozenset[str]  # settings a resumed run may change
    # Of those, the ones that choose where and how fast training runs, not what it trains: the
    # pipeline passes them as runtime knobs, whose change reruns nothing.
    runtime: frozenset[str]
    # Settings added after checkpoints of this format were first written, with the value such an
    # older checkpoint (which lacks them) was trained with: it resumes as if it held that value.
    implied: dict[str, Any] = field(default_factory=dict, hash=False)


class TrainConfigMixin:
    """``from_mapping``, ``subjects`` and ``as_dict`` for a frozen dataclass of training settings.

    The dataclass has ``train_subjects`` ([first, last] subject numbers) and ``exclude_subjects``.
    """

    label: ClassVar[str]  # names the model in error messages, e.g. "gaitset training"
    model_name: ClassVar[str]  # e.g. "GaitSet"
    config_block: ClassVar[str]  # where the settings live in the pipeline config, e.g. "gaitset.train"
    checkpointing: ClassVar[Checkpointing]
    train_subjects: tuple[int, int]
    exclude_subjects: tuple[str, ...]
    iterations: int

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Self:
        """Build from a config mapping, naming any unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{cls.label}: unknown setting(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def subjects(self) -> tuple[str, ...]:
        """The training subjects' labels."""
        return subject_range(*self.train_subjects, exclude=self.exclude_subjects)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (lists for tuples), as stored in checkpoints and weights files."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def check_trained_with(path: object, recipe: str, overrides: Mapping[str, Any], trained: Mapping[str, Any]) -> None:
    """``ValueError`` unless the weights at ``path`` were trained with ``recipe``'s ``overrides``
    (``trained``: their recorded training config): a table row must not carry another recipe's name."""
    wrong = {key: trained.get(key) for key, value in overrides.items() if trained.get(key) != value}
    if wrong:
        raise ValueError(f"{path}: trained with {wrong}, not recipe {recipe!r}'s {dict(overrides)}; "
                         "pair each recipe with its own weights (its training rule)")
