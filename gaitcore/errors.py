"""Errors that name the offending file and say how to fix it."""

from __future__ import annotations

from pathlib import Path


class GaitcoreError(Exception):
    """Base class of the errors gaitcore raises on bad input."""


class DataError(GaitcoreError):
    """A dataset file or tree that cannot be used as it is.

    The message always names the path and says what to do about it.
    """

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{path}: {problem}. Fix: {fix}")

    def __reduce__(self):  # keep the three fields across process boundaries (multiprocessing)
        return (type(self), (str(self.path), self.problem, self.fix))


class CheckpointError(DataError):
    """A checkpoint that is missing, truncated or of another model."""
