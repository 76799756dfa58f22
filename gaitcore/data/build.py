"""Build a dataset store from a configured source: real PNG trees, OpenGait pickles or synthetic.

Every source goes through the same path: sequences are found (scanned or enumerated), each one is
decoded and aligned with GaitSet's preprocessing in a worker process, and the results are appended
in canonical order to a :class:`~gaitcore.data.store.StoreWriter`, which makes the store visible
only once it is complete.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gaitcore.data.layout import CASIA_A, CASIA_B, SequenceKey
from gaitcore.data.preprocess import MIN_PIXEL_SUM, preprocess_sequence
from gaitcore.data.readers import (
    ScanResult,
    SourceSequence,
    load_array_pickle,
    read_silhouette,
    scan_casia_a,
    scan_casia_b,
    scan_opengait,
)
from gaitcore.data.store import StoreWriter
from gaitcore.data.synthetic import SyntheticConfig, render_sequence, synthetic_keys
from gaitcore.errors import DataError
from gaitcore.utils.workers import single_threaded

log = logging.getLogger(__name__)

SOURCES = ("synthetic", "png", "opengait")
DEFAULT_FRAME_SHAPE = {CASIA_B: (240, 320), CASIA_A: (240, 352)}


@dataclass(frozen=True)
class SourceSpec:
    """Where a dataset's silhouettes come from (the ``datasets.<name>`` block of the config)."""

    dataset: str
    source: str = "synthetic"
    root: str | None = None
    frame_shape: tuple[int, int] | None = None
    strict: bool = False
    synthetic: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dataset not in DEFAULT_FRAME_SHAPE:
            raise ValueError(f"unknown dataset {self.dataset!r}; known: {sorted(DEFAULT_FRAME_SHAPE)}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r} for {self.dataset}; use one of {SOURCES}")
        if self.source != "synthetic" and not self.root:
            raise DataError(
                f"datasets.{self.dataset}.root",
                f"source {self.source!r} needs a dataset root and none is configured",
                f"set `datasets.{self.dataset}.root` to the dataset folder, or "
                f"`datasets.{self.dataset}.source: synthetic`",
            )

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.frame_shape or DEFAULT_FRAME_SHAPE[self.dataset])

    def synthetic_config(self) -> SyntheticConfig:
        return SyntheticConfig.for_dataset(self.dataset, **self.synthetic)


@dataclass(frozen=True, order=True)
class _Task:
    """One unit of work for a worker process: a found sequence, or a synthetic key to render."""

    key: SequenceKey
    found: SourceSequence | None = field(default=None, compare=False)
    synthetic: SyntheticConfig | None = field(default=None, compare=False)
    frame_shape: tuple[int, int] = field(default=(0, 0), compare=False)


def _prepare(task: _Task) -> tuple[SequenceKey, np.ndarray, int, int, str]:
    """Decode and align one sequence: (key, frames, frames dropped, files skipped, source)."""
    if task.synthetic is not None:
        frames, dropped = preprocess_sequence(render_sequence(task.synthetic, task.key))
        return task.key, frames, dropped, 0, f"synthetic:{task.key.label}"
    found = task.found
    if found.kind == "pkl":
        array = load_array_pickle(found.files[0])
        keep = array.reshape(len(array), -1).sum(axis=1, dtype=np.int64) > MIN_PIXEL_SUM
        return task.key, np.ascontiguousarray(array[keep]), int((~keep).sum()), found.files_skipped, found.files[0]
    raw = (read_silhouette(path, task.frame_shape) for path in found.files)
    frames, dropped = preprocess_sequence(raw)
    return task.key, frames, dropped, found.files_skipped, found.folder


def _prepared(tasks: list[_Task], workers: int) -> Iterator[tuple[SequenceKey, np.ndarray, int, int, str]]:
    """:func:`_prepare` over ``tasks`` in order, in ``workers`` processes when more than one."""
    if workers <= 1:
        single_threaded()
        yield from map(_prepare, tasks)
        return
    # fork, not spawn: a spawned worker would re-run the calling script (Snakemake's scripts
    # have no main guard). No thread pool has started in the parent yet (Parquet is written
    # at the end).
    with multiprocessing.get_context("fork").Pool(workers, initializer=single_threaded) as pool:
        yield from pool.imap(_prepare, tasks, chunksize=4)


def _plan(spec: SourceSpec) -> tuple[list[_Task], ScanResult]:
    """The sequences to store, sorted by key so that every source gives the same order."""
    if spec.source == "synthetic":
        cfg = spec.synthetic_config()
        return sorted(_Task(key, synthetic=cfg) for key in synthetic_keys(cfg)), ScanResult()
    if spec.source == "opengait":
        scan = scan_opengait(spec.root, spec.dataset)
    else:
        scan = (scan_casia_b if spec.dataset == CASIA_B else scan_casia_a)(spec.root)
    return sorted(_Task(s.key, found=s, frame_shape=spec.shape) for s in scan.sequences), scan


def build_store(spec: SourceSpec, out_root: str | Path, workers: int = 1) -> dict[str, Any]:
    """Preprocess every sequence of ``spec`` into a store at ``out_root``; return its summary.

    Missing sequences and sequences left with no usable frame are logged and recorded in
    ``store.json``; with ``spec.strict`` they are errors instead.
    """
    tasks, scan = _plan(spec)
    if spec.strict and scan.missing:
        raise DataError(
            spec.root,
            f"{len(scan.missing)} sequences are missing, e.g. {', '.join(scan.missing[:5])}",
            "restore them from the dataset archive, or set "
            f"`datasets.{spec.dataset}.strict: false` to build the store from what is there",
        )
    log.info("%s: %d sequences from %s source", spec.dataset, len(tasks), spec.source)
    empty: list[str] = []
    meta = {"source": {**asdict(spec), "frame_shape": list(spec.shape)}, "missing_sequences": scan.missing}
    started = time.perf_counter()
    report_every = max(1, len(tasks) // 20)
    with StoreWriter(out_root, spec.dataset, extra_meta=meta) as writer:
        for done, (key, frames, dropped, skipped, source) in enumerate(_prepared(tasks, workers), 1):
            if len(frames) == 0:
                log.warning("%s (%s): no usable frame, sequence left out", key.label, source)
                empty.append(key.label)
            else:
                writer.add(key, frames, frames_dropped=dropped, files_skipped=skipped, source_path=source)
            if done % report_every == 0 or done == len(tasks):
                rate = done / (time.perf_counter() - started)
                log.info("%s: %d/%d sequences (%.1f/s)", spec.dataset, done, len(tasks), rate)
        if spec.strict and empty:
            raise DataError(
                empty[0],
                f"{len(empty)} sequences have no usable frame",
                f"fix those frames, or set `datasets.{spec.dataset}.strict: false` to leave them out",
            )
        writer.extra_meta["empty_sequences"] = empty
        writer.extra_meta["seconds"] = round(time.perf_counter() - started, 2)
    return writer.extra_meta | {"sequences": len(tasks) - len(empty)}
