"""Build a dataset store from a configured source: real PNG trees, OpenGait pickles or synthetic.

Every source goes through the same path: sequences are found (scanned or enumerated), each one is
decoded and aligned with GaitSet's preprocessing in a worker process, and the results are appended
in canonical order to a :class:`~gaitcore.data.store.StoreWriter`, which makes the store visible
only once it is complete. Raw frames (PNG and synthetic) that are not 0/255 silhouettes are counted
(:func:`~gaitcore.data.readers.is_binary_silhouette`); OpenGait's pickles were resized by OpenGait,
which blurs the edges, so they are not checked.
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

from gaitcore.data.fingerprint import tree_fingerprint
from gaitcore.data.layout import CASIA_A, CASIA_B, SequenceKey
from gaitcore.data.preprocess import MIN_PIXEL_SUM, preprocess_sequence
from gaitcore.data.readers import (
    NON_BINARY_SHARE,
    ScanResult,
    SourceSequence,
    is_binary_silhouette,
    load_array_pickle,
    read_silhouette,
    scan_casia_a,
    scan_casia_b,
    scan_opengait,
)
from gaitcore.data.sensor import SensorPath
from gaitcore.data.store import StoreWriter
from gaitcore.data.synthetic import SyntheticConfig, render_sequence, synthetic_keys
from gaitcore.errors import DataError
from gaitcore.utils.workers import single_threaded

log = logging.getLogger(__name__)

SOURCES = ("synthetic", "png", "opengait")
DEFAULT_FRAME_SHAPE = {CASIA_B: (240, 320), CASIA_A: (240, 352)}
NON_BINARY_EXAMPLES = 5  # example files of non-binary frames listed in store.json


@dataclass(frozen=True)
class SourceSpec:
    """Where a dataset's silhouettes come from (the ``datasets.<name>`` block of the config)."""

    dataset: str
    source: str = "synthetic"
    root: str | None = None
    frame_shape: tuple[int, int] | None = None
    strict: bool = False
    synthetic: dict[str, Any] = field(default_factory=dict)
    # The sensor path a synthetic store is rendered through (issue 21; None: exact masks with the
    # recording's errors): {"segmenter", "settings", "min_area", "camera": {"noise_sigma",
    # "jpeg_quality", "footage_frames"}}, the workflow's `datasets.<name>.sensor` filled in from
    # `video_attack`.
    sensor: dict[str, Any] | None = None

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
        if self.sensor is not None and self.source != "synthetic":
            raise DataError(
                f"datasets.{self.dataset}.sensor",
                f"a {self.source!r} dataset's silhouettes come from its own sensor; only a synthetic one is "
                "sensed here",
                f"set `datasets.{self.dataset}.sensor: null`, or `datasets.{self.dataset}.source: synthetic`",
            )
        self.sensor_path()  # a ValueError naming the setting out of range

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.frame_shape or DEFAULT_FRAME_SHAPE[self.dataset])

    def synthetic_config(self) -> SyntheticConfig:
        return SyntheticConfig.for_dataset(self.dataset, **self.synthetic)

    def sensor_path(self) -> SensorPath | None:
        """The :class:`~gaitcore.data.sensor.SensorPath` of ``sensor`` (None without one)."""
        if self.sensor is None:
            return None
        return SensorPath.from_settings(self.sensor)


@dataclass(frozen=True, order=True)
class _Task:
    """One unit of work for a worker process: a found sequence, or a synthetic key to render."""

    key: SequenceKey
    found: SourceSequence | None = field(default=None, compare=False)
    synthetic: SyntheticConfig | None = field(default=None, compare=False)
    sensor: SensorPath | None = field(default=None, compare=False)
    frame_shape: tuple[int, int] = field(default=(0, 0), compare=False)


@dataclass
class _Prepared:
    """One sequence decoded and aligned, with what its source made of it."""

    key: SequenceKey
    frames: np.ndarray
    source: str  # the sequence folder, the .pkl file or synthetic:<label>
    frames_dropped: int
    files_skipped: int = 0
    non_binary: list[str] = field(default_factory=list)  # raw frames that are no silhouette


def _checked(named_frames: Iterator[tuple[str, np.ndarray]], non_binary: list[str]) -> Iterator[np.ndarray]:
    """The frames of ``(name, frame)`` pairs; the names of non-binary frames go to ``non_binary``."""
    for name, frame in named_frames:
        if not is_binary_silhouette(frame):
            non_binary.append(name)
        yield frame


def _prepare(task: _Task) -> _Prepared:
    """Decode and align one sequence."""
    non_binary: list[str] = []
    if task.synthetic is not None:
        source = f"synthetic:{task.key.label}"
        raw = render_sequence(task.synthetic, task.key, task.sensor)
        named = ((f"{source} frame {i}", frame) for i, frame in enumerate(raw))
        frames, dropped = preprocess_sequence(_checked(named, non_binary))
        return _Prepared(task.key, frames, source, dropped, non_binary=non_binary)
    found = task.found
    if found.kind == "pkl":
        array = load_array_pickle(found.files[0])
        keep = array.sum(axis=(1, 2), dtype=np.int64) > MIN_PIXEL_SUM
        return _Prepared(task.key, np.ascontiguousarray(array[keep]), found.files[0], int((~keep).sum()),
                         found.files_skipped)
    raw = ((path, read_silhouette(path, task.frame_shape)) for path in found.files)
    frames, dropped = preprocess_sequence(_checked(raw, non_binary))
    return _Prepared(task.key, frames, found.folder, dropped, found.files_skipped, non_binary)


def _prepared(tasks: list[_Task], workers: int) -> Iterator[_Prepared]:
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
        cfg, sensor = spec.synthetic_config(), spec.sensor_path()
        return sorted(_Task(key, synthetic=cfg, sensor=sensor) for key in synthetic_keys(cfg)), ScanResult()
    if spec.source == "opengait":
        scan = scan_opengait(spec.root, spec.dataset)
    else:
        scan = (scan_casia_b if spec.dataset == CASIA_B else scan_casia_a)(spec.root)
    return sorted(_Task(s.key, found=s, frame_shape=spec.shape) for s in scan.sequences), scan


def build_store(spec: SourceSpec, out_root: str | Path, workers: int = 1) -> dict[str, Any]:
    """Preprocess every sequence of ``spec`` into a store at ``out_root``; return its summary.

    Missing sequences, sequences left with no usable frame and raw frames that are no 0/255
    silhouette are logged and recorded in ``store.json``; with ``spec.strict`` they are errors.
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
    meta = {
        "source": {**asdict(spec), "frame_shape": list(spec.shape)},
        "source_tree_fingerprint": "" if spec.source == "synthetic" else tree_fingerprint(spec.root),
        "missing_sequences": scan.missing,
    }
    empty: list[str] = []  # sources of the sequences without a usable frame
    non_binary, non_binary_examples = 0, []
    started = time.perf_counter()
    report_every = max(1, len(tasks) // 20)
    with StoreWriter(out_root, spec.dataset, extra_meta=meta) as writer:
        for done, seq in enumerate(_prepared(tasks, workers), 1):
            if seq.non_binary:
                _non_binary_found(spec, seq)
                non_binary += len(seq.non_binary)
                non_binary_examples += seq.non_binary[: NON_BINARY_EXAMPLES - len(non_binary_examples)]
            if len(seq.frames) == 0:
                log.warning("%s (%s): no usable frame, sequence left out", seq.key.label, seq.source)
                empty.append(seq.source)
                writer.add_empty(seq.key, frames_dropped=seq.frames_dropped, files_skipped=seq.files_skipped)
            else:
                writer.add(seq.key, seq.frames, frames_dropped=seq.frames_dropped,
                           files_skipped=seq.files_skipped, source_path=seq.source)
            if done % report_every == 0 or done == len(tasks):
                rate = done / (time.perf_counter() - started)
                log.info("%s: %d/%d sequences (%.1f/s)", spec.dataset, done, len(tasks), rate)
        if spec.strict and empty:
            raise DataError(
                empty[0],
                f"{len(empty)} sequences have no usable frame (none, or each with a pixel sum of at "
                f"most {MIN_PIXEL_SUM}), this one first",
                "restore those sequences' frames from the dataset archive (regenerate an OpenGait "
                f".pkl with OpenGait's pretreatment), or set `datasets.{spec.dataset}.strict: false` "
                "to leave them out",
            )
        writer.extra_meta["frames_non_binary"] = None if spec.source == "opengait" else non_binary
        writer.extra_meta["frames_non_binary_examples"] = non_binary_examples
        writer.extra_meta["seconds"] = round(time.perf_counter() - started, 2)
    return writer.extra_meta | {"sequences": len(tasks) - len(empty)}


def _non_binary_found(spec: SourceSpec, seq: _Prepared) -> None:
    """Log raw frames of ``seq`` that are no 0/255 silhouette; with ``spec.strict`` stop instead."""
    if spec.strict:
        raise DataError(
            seq.non_binary[0],
            f"not a 0/255 silhouette: more than {NON_BINARY_SHARE:.0%} of its pixels are neither 0 "
            f"nor 255 (a grey image or a photo?); {len(seq.non_binary)} frames of {seq.key.label} "
            "are like it",
            "use the released silhouettes or binarise the frames (e.g. threshold at 128), or set "
            f"`datasets.{spec.dataset}.strict: false` to store them as they are (counted in "
            "store.json `frames_non_binary`)",
        )
    log.warning(
        "%s (%s): %d raw frames are no 0/255 silhouette (more than %.0f%% of their pixels are "
        "neither 0 nor 255), e.g. %s",
        seq.key.label, seq.source, len(seq.non_binary), NON_BINARY_SHARE * 100, seq.non_binary[0],
    )
