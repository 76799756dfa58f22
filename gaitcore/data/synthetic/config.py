"""Configuration, sequence keys and seeding of the synthetic gait datasets (issue 2, "Synthetic data").

Every random draw of the generator comes from a stream derived from ``(cfg.seed, cfg.dataset,
labels...)`` through :class:`numpy.random.SeedSequence` and a stable BLAKE2 hash of the labels, so a
sequence depends only on its configuration and key, never on call order or worker count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gaitcore.data.layout import (
    CASIA_A,
    CASIA_A_RUNS,
    CASIA_A_SUBJECTS,
    CASIA_A_VIEWS,
    CASIA_B,
    CASIA_B_FRAME_SHAPE,
    CASIA_B_SUBJECTS,
    DATASETS,
    SequenceKey,
    casia_b_keys,
)

CASIA_A_FRAME_SHAPE = (240, 352)  # rows, columns of the CASIA-A silhouettes we write

# Paper Appendix A: CASIA-A sequences are 37-127 frames long; CASIA-B ones are about 60-90 here.
_DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    CASIA_B: {"subjects": CASIA_B_SUBJECTS, "frames_min": 60, "frames_max": 90,
              "frame_shape": CASIA_B_FRAME_SHAPE},
    CASIA_A: {"subjects": CASIA_A_SUBJECTS, "frames_min": 37, "frames_max": 127,
              "frame_shape": CASIA_A_FRAME_SHAPE},
}


@dataclass(frozen=True)
class SyntheticConfig:
    """Everything that determines a synthetic dataset; frozen, hashable and picklable.

    Use :meth:`for_dataset` to get the right defaults for CASIA-A. The noise knobs imitate the
    segmentation errors of the released silhouettes: set them all to 0 for clean masks.
    """

    dataset: str = CASIA_B
    subjects: int = CASIA_B_SUBJECTS
    seed: int = 0
    frames_min: int = 60
    frames_max: int = 90
    frame_shape: tuple[int, int] = CASIA_B_FRAME_SHAPE
    fps: float = 25.0  # CASIA-B is recorded at 25 frames per second
    tilt_deg: float = 10.0  # camera elevation: views theta and 180-theta are not equivalent
    focal: float = 1.9  # focal length in frame widths (weak perspective around the pelvis)
    span: tuple[float, float] = (0.75, 1.0)  # share of the frame width a 90-degree walk covers
    edge_noise: float = 0.8  # 0..1: how far the ragged boundary strays (up to edge_px pixels)
    edge_px: int = 2  # reach of the ragged boundary in pixels
    hole_rate: float = 0.4  # expected small holes per frame
    shadow_rate: float = 0.25  # chance of a shadow blob at the feet per frame
    empty_rate: float = 0.015  # chance that segmentation failed and a frame is empty

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame_shape", tuple(int(v) for v in self.frame_shape))
        object.__setattr__(self, "span", tuple(float(v) for v in self.span))
        problems = []
        if self.dataset not in DATASETS:
            problems.append(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if not 1 <= self.subjects <= 999:
            problems.append(f"subjects must be in 1..999, got {self.subjects}")
        if self.seed < 0:
            problems.append(f"seed must be >= 0, got {self.seed}")
        if not 1 <= self.frames_min <= self.frames_max <= 999:
            problems.append(
                f"need 1 <= frames_min <= frames_max <= 999, got {self.frames_min}, {self.frames_max}"
            )
        if len(self.frame_shape) != 2 or min(self.frame_shape) < 64:
            problems.append(f"frame_shape must be (rows, cols), both >= 64, got {self.frame_shape}")
        if len(self.span) != 2 or not 0.1 <= self.span[0] <= self.span[1] <= 2.0:
            problems.append(f"span must be (low, high) with 0.1 <= low <= high <= 2, got {self.span}")
        if not 0.0 <= self.tilt_deg <= 45.0 or self.focal <= 0 or self.fps <= 0:
            problems.append("need 0 <= tilt_deg <= 45, focal > 0 and fps > 0")
        for name in ("edge_noise", "shadow_rate", "empty_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.hole_rate < 0 or not 0 <= self.edge_px <= 8:
            problems.append("need hole_rate >= 0 and 0 <= edge_px <= 8")
        if problems:
            raise ValueError("invalid SyntheticConfig: " + "; ".join(problems))

    @classmethod
    def for_dataset(cls, dataset: str, **overrides: Any) -> SyntheticConfig:
        """The default configuration of ``dataset`` ("casia_b" or "casia_a") with ``overrides``."""
        if dataset not in _DATASET_DEFAULTS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
        return cls(dataset=dataset, **{**_DATASET_DEFAULTS[dataset], **overrides})

    @property
    def clean(self) -> SyntheticConfig:
        """The same world without segmentation noise (exact masks, no empty frames)."""
        return replace(self, edge_noise=0.0, hole_rate=0.0, shadow_rate=0.0, empty_rate=0.0)


def casia_a_subject_names(n: int) -> list[str]:
    """Folder names of ``n`` synthetic CASIA-A people: ``p01``, ``p02``, ..."""
    return [f"p{i:02d}" for i in range(1, n + 1)]


def synthetic_keys(cfg: SyntheticConfig) -> list[SequenceKey]:
    """Every sequence of the synthetic dataset in canonical order (subject, condition, run, view)."""
    if cfg.dataset == CASIA_B:
        return casia_b_keys(cfg.subjects)
    return [
        SequenceKey(CASIA_A, name, "nm", run, view)
        for name in casia_a_subject_names(cfg.subjects)
        for run in range(1, CASIA_A_RUNS + 1)
        for view in CASIA_A_VIEWS
    ]


def rng_for(cfg: SyntheticConfig, *labels: object) -> np.random.Generator:
    """An independent random stream for ``(cfg.seed, cfg.dataset, *labels)``.

    The labels are hashed with BLAKE2 (stable across processes, unlike ``hash()``).
    """
    tag = "/".join(str(v) for v in (cfg.dataset, *labels)).encode()
    entropy = int.from_bytes(hashlib.blake2b(tag, digest_size=16).digest(), "little")
    return np.random.default_rng(np.random.SeedSequence([cfg.seed, entropy]))
