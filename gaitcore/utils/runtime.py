"""Settings that choose where and how fast a job computes, not what it computes.

The device, logging and checkpoint periods, chunk and batch sizes, memory layout: changing one of
them must not rerun a training of many minutes. A rule passes them as one param of type
:class:`RuntimeKnobs`. Snakemake's params trigger compares only params of built-in types (its
persistence skips the others as unrepresentable), so a change of these values reruns nothing,
while every value that can change results stays a plain param and does trigger a rerun.

On CPU these knobs leave results bit-identical where tests say so (attack chunk size, resuming
with another checkpoint period); a different device or memory layout can change floating-point
rounding, not the computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuntimeKnobs:
    """A mapping of runtime-only settings; deliberately not a ``dict`` (see the module docstring)."""

    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)
