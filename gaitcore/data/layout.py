"""Dataset layouts and protocols of CASIA-B and CASIA-A (paper Sec. 4.1, Table 1, Appendix A).

A sequence is identified by a :class:`SequenceKey`. Both datasets use the same key so that the
store, the samplers and the evaluators treat them alike:

* CASIA-B: subject ``"001"``..``"124"``, condition ``nm``/``bg``/``cl``, sequence number 1..6
  (``nm``) or 1..2 (``bg``, ``cl``), view 0..180 in steps of 18 degrees.
* CASIA-A: subject is the person's folder name (e.g. ``"fyc"``), condition ``nm`` (CASIA-A has
  only normal walking), sequence number 1..4, view 0, 45 or 90 degrees to the image plane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CASIA_B: Final = "casia_b"
CASIA_A: Final = "casia_a"
DATASETS: Final = (CASIA_B, CASIA_A)

CASIA_B_VIEWS: Final[tuple[int, ...]] = tuple(range(0, 181, 18))
CASIA_B_CONDITIONS: Final[dict[str, int]] = {"nm": 6, "bg": 2, "cl": 2}
CONDITIONS: Final[tuple[str, ...]] = tuple(CASIA_B_CONDITIONS)  # nm, bg, cl: the order of every table
CASIA_B_SUBJECTS: Final = 124
CASIA_B_FRAME_SHAPE: Final = (240, 320)  # rows, columns of the released silhouettes

CASIA_A_VIEWS: Final[tuple[int, ...]] = (0, 45, 90)
CASIA_A_RUNS: Final = 4
CASIA_A_SUBJECTS: Final = 20

# The default roles of CASIA-B's subjects (config subjects.casia_b), inclusive number ranges. Table 1
# trains on 001-074 and tests on 075-124; 063-074 are held out of training for validation (every
# calibration and setting choice), so that no fit reads a test subject.
TRAIN_SUBJECTS: Final = (1, 62)
VALIDATION_SUBJECTS: Final = (63, 74)
TEST_SUBJECTS: Final = (75, 124)


@dataclass(frozen=True, order=True)
class SequenceKey:
    """One silhouette sequence: who walks, how, which recording and from which view."""

    dataset: str
    subject: str
    condition: str
    seq: int
    view: int

    @property
    def label(self) -> str:
        """CASIA-B style name, e.g. ``001-nm-01-090``."""
        return f"{self.subject}-{self.condition}-{self.seq:02d}-{self.view:03d}"


def casia_b_keys(subjects: int = CASIA_B_SUBJECTS) -> list[SequenceKey]:
    """All CASIA-B sequence keys for subjects 1..``subjects``, in canonical order."""
    return [
        SequenceKey(CASIA_B, f"{sid:03d}", cond, seq, view)
        for sid in range(1, subjects + 1)
        for cond, runs in CASIA_B_CONDITIONS.items()
        for seq in range(1, runs + 1)
        for view in CASIA_B_VIEWS
    ]
