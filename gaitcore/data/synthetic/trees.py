"""Write synthetic silhouettes as the real datasets' PNG trees (issue 2; the readers' tests use them).

* CASIA-B: ``<root>/<sid>/<cond>-<nn>/<view>/<sid>-<cond>-<nn>-<view>-<fff>.png``,
  e.g. ``001/nm-01/090/001-nm-01-090-001.png``.
* CASIA-A: ``<root>/<name>/<vv>_<n>/<name>-<vv>_<n>-<fff>.png``, e.g. ``p01/45_2/p01-45_2-001.png``.

Frames are numbered from 001 and written as 8-bit grey-level 0/255 PNGs of ``cfg.frame_shape``. A
tree is written into ``<root>.tmp-<pid>`` and renamed into place only when complete, so a failure
leaves nothing behind. Worker processes are spawned (safe with threads and on every platform); each
renders and writes whole sequences, which depend only on ``(cfg, key)``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from gaitcore.data.layout import CASIA_A, CASIA_B, SequenceKey
from gaitcore.data.synthetic.config import SyntheticConfig, synthetic_keys
from gaitcore.data.synthetic.render import render_sequence
from gaitcore.utils.workers import single_threaded

PathsFn = Callable[[SequenceKey, int], list[str]]


def casia_b_paths(key: SequenceKey, frames: int) -> list[str]:
    """Relative PNG paths of a CASIA-B sequence's frames."""
    name = f"{key.subject}-{key.condition}-{key.seq:02d}-{key.view:03d}"
    folder = f"{key.subject}/{key.condition}-{key.seq:02d}/{key.view:03d}"
    return [f"{folder}/{name}-{i:03d}.png" for i in range(1, frames + 1)]


def casia_a_paths(key: SequenceKey, frames: int) -> list[str]:
    """Relative PNG paths of a CASIA-A sequence's frames."""
    run = f"{key.view:02d}_{key.seq}"
    return [f"{key.subject}/{run}/{key.subject}-{run}-{i:03d}.png" for i in range(1, frames + 1)]


def write_casia_b_tree(cfg: SyntheticConfig, root: str | os.PathLike[str], workers: int = 1) -> None:
    """Write every sequence of a synthetic CASIA-B as the released silhouette tree under ``root``."""
    _write_tree(cfg, Path(root), workers, CASIA_B, casia_b_paths)


def write_casia_a_tree(cfg: SyntheticConfig, root: str | os.PathLike[str], workers: int = 1) -> None:
    """Write every sequence of a synthetic CASIA-A as a silhouette tree under ``root``."""
    _write_tree(cfg, Path(root), workers, CASIA_A, casia_a_paths)


def _write_tree(cfg: SyntheticConfig, root: Path, workers: int, dataset: str, paths: PathsFn) -> None:
    if cfg.dataset != dataset:
        raise ValueError(f"this writes {dataset} trees, but the config is for {cfg.dataset}; "
                         f"use SyntheticConfig.for_dataset({dataset!r}, ...)")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ValueError(f"{root} already exists and is not empty; remove it or choose another root")
    tmp = root.with_name(f"{root.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)  # a leftover of an earlier process with our pid
    tmp.mkdir(parents=True)
    tasks = [(cfg, key, str(tmp), paths) for key in synthetic_keys(cfg)]
    try:
        if workers == 1:
            for task in tasks:
                _write_sequence(task)
        else:
            with mp.get_context("spawn").Pool(workers, initializer=single_threaded) as pool:
                for _ in pool.imap_unordered(_write_sequence, tasks, chunksize=4):
                    pass
        if root.exists():
            root.rmdir()
        tmp.rename(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_sequence(task: tuple[SyntheticConfig, SequenceKey, str, PathsFn]) -> int:
    """Render one sequence and write its PNGs; returns the number of frames."""
    cfg, key, root, paths = task
    frames = render_sequence(cfg, key)
    names = paths(key, len(frames))
    Path(root, names[0]).parent.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(names, frames):
        write_png(Path(root, name), frame)
    return len(frames)


def write_png(path: Path, frame: np.ndarray) -> None:
    """Write one grey-level frame as PNG, raising when OpenCV cannot."""
    if not cv2.imwrite(str(path), frame):
        raise OSError(f"{path}: OpenCV could not write the PNG; check the path and free space")
