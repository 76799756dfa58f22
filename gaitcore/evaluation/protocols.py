"""Gallery/probe protocols of the paper's Table 1 (He et al. Sec. 4.1 and 4.4).

* CASIA-B: subjects 075-124; gallery nm-01..04; probe sets NM (nm-05/06), BG (bg-01/02) and CL
  (cl-01/02). Accuracy per probe view is averaged over the 10 other gallery views: the identical
  view is excluded (Sec. 4.1, "Metrics").
* CASIA-A: every subject; gallery the 4th sequence of each view, probes the 1st-3rd. Accuracy per
  probe view is averaged over the 3 gallery views, the identical view included (Sec. 4.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gaitcore.data.layout import CASIA_A, CASIA_A_VIEWS, CASIA_B, CASIA_B_VIEWS, TEST_SUBJECTS

Selector = tuple[tuple[str, int], ...]  # (condition, sequence number) pairs


@dataclass(frozen=True)
class Protocol:
    """Which sequences form the gallery and each probe set, and how views are averaged."""

    dataset: str
    subjects: tuple[str, ...] | None  # None: every subject in the store
    gallery: Selector
    probes: tuple[tuple[str, Selector], ...]  # (probe set name, its sequences)
    views: tuple[int, ...]
    exclude_identical_view: bool

    def _mask(self, index: pd.DataFrame, selector: Selector) -> np.ndarray:
        keys = set(selector)
        pairs = zip(index["condition"].to_numpy(), index["seq"].to_numpy().astype(int), strict=True)
        mask = np.fromiter((pair in keys for pair in pairs), dtype=bool, count=len(index))
        mask &= (index["dataset"] == self.dataset).to_numpy()
        if self.subjects is not None:
            mask &= index["subject"].isin(self.subjects).to_numpy()
        return mask

    def gallery_mask(self, index: pd.DataFrame) -> np.ndarray:
        """Rows of ``index`` in the gallery."""
        return self._mask(index, self.gallery)

    def probe_mask(self, index: pd.DataFrame, probe_set: str) -> np.ndarray:
        """Rows of ``index`` in the probe set ``probe_set`` (e.g. ``"nm"``)."""
        return self._mask(index, dict(self.probes)[probe_set])

    def counted_views(self, probe_views: np.ndarray) -> np.ndarray:
        """``[len(probe_views), len(views)]``: the gallery views each probe's accuracy counts (CASIA-B
        leaves out the probe's own view, Sec. 4.1 "Metrics"; CASIA-A keeps it, Sec. 4.4)."""
        same = np.asarray(probe_views)[:, None] == np.asarray(self.views)[None]
        return ~(self.exclude_identical_view & same)

    def sequences(self, index: pd.DataFrame) -> pd.DataFrame:
        """Every row the protocol uses (gallery and all probe sets), in index order."""
        mask = self.gallery_mask(index)
        for name, _ in self.probes:
            mask |= self.probe_mask(index, name)
        return index[mask]


def casia_b_protocol(test_subjects: tuple[int, int] = TEST_SUBJECTS) -> Protocol:
    """CASIA-B's protocol for test subjects ``first..last`` (the paper: 075-124)."""
    first, last = test_subjects
    return Protocol(
        dataset=CASIA_B,
        subjects=tuple(f"{i:03d}" for i in range(first, last + 1)),
        gallery=tuple(("nm", s) for s in (1, 2, 3, 4)),
        probes=(
            ("nm", (("nm", 5), ("nm", 6))),
            ("bg", (("bg", 1), ("bg", 2))),
            ("cl", (("cl", 1), ("cl", 2))),
        ),
        views=CASIA_B_VIEWS,
        exclude_identical_view=True,
    )


def casia_a_protocol() -> Protocol:
    """CASIA-A's cross-dataset protocol (every subject; gallery x_4, probes x_1..3)."""
    return Protocol(
        dataset=CASIA_A,
        subjects=None,
        gallery=(("nm", 4),),
        probes=(("nm", (("nm", 1), ("nm", 2), ("nm", 3))),),
        views=CASIA_A_VIEWS,
        exclude_identical_view=False,
    )


def protocol_for(dataset: str, test_subjects: tuple[int, int] = TEST_SUBJECTS) -> Protocol:
    """The protocol of ``dataset`` (``casia_b`` or ``casia_a``)."""
    if dataset == CASIA_B:
        return casia_b_protocol(test_subjects)
    if dataset == CASIA_A:
        return casia_a_protocol()
    raise ValueError(f"no evaluation protocol for dataset {dataset!r}; known: {CASIA_B}, {CASIA_A}")
