"""P x K triplet batches drawn from a frame store, as GaitSet's ``TripletSampler`` and loader do.

GaitSet (Chao et al., AAAI 2019, Sec. 4.1; AbnerHqC/GaitSet ``sampler.py`` and ``model.py``)
trains on batches of P subjects x K sequences: the P subjects are drawn without replacement, the K
sequences of each subject with replacement, and from each sequence a set of S frames is drawn with
replacement ("unordered"). GaitPart and GaitGL, whose temporal modules read frame order, train on
S consecutive frames from a random start instead (OpenGait's ``fixed_ordered`` sampling; a sequence
shorter than S is repeated), with ``ordered``. All draws come from one seeded NumPy generator whose state is part of
the training checkpoint, so a resumed run draws exactly the batches an uninterrupted run draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gaitcore.data.store import FrameStore


class TripletSampler:
    """Draws ``(frames uint8 [P*K, S, 64, 64], labels int64 [P*K])`` batches.

    Args:
        store: the frame store to read from.
        rows: index rows (of ``store.index``) that may be drawn, e.g. the training subjects'.
        subjects_per_batch: P.
        sequences_per_subject: K.
        frames_per_sequence: S.
        seed: seed of the sampler's own generator.
        ordered: S consecutive frames per sequence (from a random start, wrapping around) instead
            of S frames drawn with replacement.

    Labels are positions of the subjects in the sorted list :attr:`subjects`.
    """

    def __init__(
        self,
        store: FrameStore,
        rows: pd.DataFrame,
        subjects_per_batch: int,
        sequences_per_subject: int,
        frames_per_sequence: int,
        seed: int,
        ordered: bool = False,
    ) -> None:
        self.subjects: list[str] = sorted(rows["subject"].unique())
        if len(self.subjects) < subjects_per_batch:
            raise ValueError(
                f"a batch needs {subjects_per_batch} subjects but only {len(self.subjects)} are available "
                f"({', '.join(self.subjects) or 'none'}); lower subjects_per_batch or widen the training subjects"
            )
        self.frames = store.frames
        self.p, self.k, self.s = subjects_per_batch, sequences_per_subject, frames_per_sequence
        self.ordered = bool(ordered)
        starts = rows["frame_start"].to_numpy(np.int64)
        counts = rows["frame_count"].to_numpy(np.int64)
        by_subject = rows["subject"].to_numpy()
        self._sequences: list[tuple[np.ndarray, np.ndarray]] = [
            (starts[by_subject == subject], counts[by_subject == subject]) for subject in self.subjects
        ]
        self.rng = np.random.default_rng(seed)

    @property
    def batch_sequences(self) -> int:
        """Sequences per batch (P x K)."""
        return self.p * self.k

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """The next batch: frames ``[P*K, S, 64, 64]`` (uint8) and subject labels ``[P*K]``."""
        chosen = self.rng.choice(len(self.subjects), size=self.p, replace=False)
        frame_ids = np.empty((self.p * self.k, self.s), dtype=np.int64)
        for i, subject in enumerate(chosen):
            starts, counts = self._sequences[subject]
            seqs = self.rng.integers(0, len(starts), size=self.k)
            if self.ordered:
                first = self.rng.integers(0, counts[seqs])
                offsets = (first[:, None] + np.arange(self.s)[None]) % counts[seqs, None]
            else:
                offsets = self.rng.integers(0, counts[seqs, None], size=(self.k, self.s))
            frame_ids[i * self.k : (i + 1) * self.k] = starts[seqs, None] + offsets
        frames = self.frames[frame_ids.ravel()].reshape(*frame_ids.shape, *self.frames.shape[1:])
        return frames, np.repeat(chosen.astype(np.int64), self.k)

    def state_dict(self) -> dict[str, Any]:
        """The generator's state (plain Python values, loadable with ``weights_only=True``)."""
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


def subject_range(first: int, last: int, exclude: Sequence[str] = ()) -> tuple[str, ...]:
    """CASIA-B subject labels ``first..last`` (inclusive, zero-padded to 3 digits) minus ``exclude``."""
    return tuple(f"{i:03d}" for i in range(first, last + 1) if f"{i:03d}" not in set(exclude))
