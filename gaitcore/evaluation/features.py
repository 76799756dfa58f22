"""Batched victim features of whole test sequences, computed once per checkpoint and stored.

He et al. (Sec. 4.1) use *all* frames of a sequence as its set. Sequences of different lengths are
batched as one flat frame tensor: consecutive sequences are grouped up to ``batch_frames`` frames,
the frame CNN runs over the group in chunks of ``frame_chunk`` frames (small chunks keep the
activations in cache, which on CPU is faster than one large batch), and each sequence's maps are
max-pooled over its own frames (:meth:`GaitSet.pool_sets`). GaitPart and GaitGL
(:mod:`gaitcore.models.victims`) run their full forward on the same groups.

Storage: ``<name>.npy`` holds float32 features ``[sequences, parts, hidden]`` (memory-mappable, so
attack jobs read only the rows they need) and ``<name>.parquet`` one row per sequence with its key,
frame count, row in the store's index (``store_row``) and row in the array (``feature_row``). Both
are written to temporary names and renamed into place.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from gaitcore.data.layout import CASIA_B, TEST_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.protocols import protocol_for
from gaitcore.models.gaitset import silhouettes_to_input
from gaitcore.models.victims import (
    VictimModel,
    architecture_of,
    in_channels_last,
    load_victim,
    sequence_features,
)
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)

INDEX_COLUMNS = ("dataset", "subject", "condition", "seq", "view", "frame_count", "store_row", "feature_row")
META_KEY = b"gaitcore.features"


def extract_features(
    model: VictimModel,
    store: FrameStore,
    rows: pd.DataFrame,
    *,
    device: torch.device | str = "cpu",
    batch_frames: int = 2048,
    frame_chunk: int = 64,
    workers: int = 1,
) -> np.ndarray:
    """Features ``[len(rows), parts, hidden]`` (float32) of the sequences in ``rows``, all frames each.

    ``rows`` are rows of ``store.index``; the result follows their order. The model is used as it
    is (device, memory format); it should be in eval mode. ``frame_chunk`` applies to GaitSet's
    frame CNN (the others take the group at once).
    With ``workers > 1`` (CPU), that many batches run at once in threads, each with one torch
    thread: on small convolutions this beats one batch on several OpenMP threads, and degrades
    far less when other processes compete for the cores. The result does not depend on ``workers``.
    """
    starts = rows["frame_start"].to_numpy(np.int64)
    counts = rows["frame_count"].to_numpy(np.int64)
    out = np.empty((len(rows), model.num_parts, model.hidden_dim), dtype=np.float32)
    groups, first = [], 0
    while first < len(rows):  # consecutive sequences, up to batch_frames frames (at least one sequence)
        last = first + 1
        while last < len(rows) and counts[first : last + 1].sum() <= batch_frames:
            last += 1
        groups.append((first, last))
        first = last

    def run(group: tuple[int, int]) -> int:
        first, last = group
        frames = np.concatenate([store.frames[s : s + c] for s, c in zip(starts[first:last], counts[first:last])])
        with torch.inference_mode():
            flat = silhouettes_to_input(frames, device)
            features = sequence_features(model, flat, counts[first:last].tolist(), frame_chunk)
        out[first:last] = features.float().cpu().numpy()
        return last

    total_frames, began, next_report = int(counts.sum()), time.perf_counter(), 0.1
    threads_before = torch.get_num_threads()
    if workers > 1:
        torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max(workers, 1)) as pool:
            for last in pool.map(run, groups):
                done = int(counts[:last].sum())
                if done / total_frames >= next_report or last == len(rows):
                    log.info(
                        "features: %d/%d sequences, %d/%d frames, %.0f frames/s",
                        last, len(rows), done, total_frames, done / max(time.perf_counter() - began, 1e-9),
                    )
                    next_report += 0.1
    finally:
        torch.set_num_threads(threads_before)
    return out


def feature_index(rows: pd.DataFrame) -> pd.DataFrame:
    """The Parquet index of stored features for index rows ``rows`` of a store (in their order)."""
    index = rows.loc[:, ["dataset", "subject", "condition", "seq", "view", "frame_count"]].copy()
    index["store_row"] = rows.index.to_numpy(np.int64)
    index["feature_row"] = np.arange(len(rows), dtype=np.int64)
    return index.reset_index(drop=True)


def write_features(
    features: np.ndarray, index: pd.DataFrame, array_path: str | Path, index_path: str | Path, meta: dict[str, Any]
) -> None:
    """Write features and their index atomically; ``meta`` (JSON values) goes into the Parquet metadata."""
    if len(features) != len(index):
        raise ValueError(f"{len(features)} feature rows for {len(index)} index rows")
    array_path, index_path = Path(array_path), Path(index_path)
    array_path.parent.mkdir(parents=True, exist_ok=True)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_array = array_path.with_name(array_path.name + ".tmp")
    with open(tmp_array, "wb") as handle:
        np.save(handle, np.ascontiguousarray(features, dtype=np.float32))
        handle.flush()
        os.fsync(handle.fileno())
    table = pa.Table.from_pandas(index.loc[:, list(INDEX_COLUMNS)], preserve_index=False)
    full_meta = {**meta, "shape": list(features.shape)}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: json.dumps(full_meta).encode()})
    tmp_index = index_path.with_name(index_path.name + ".tmp")
    pq.write_table(table, tmp_index)
    os.replace(tmp_array, array_path)
    os.replace(tmp_index, index_path)  # the index last: it marks the pair complete


def read_features(
    array_path: str | Path, index_path: str | Path, mmap: bool = True
) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
    """Features (memory-mapped by default), their index and the metadata stored with them."""
    array_path, index_path = Path(array_path), Path(index_path)
    fix = "rerun the rule `extract_features` for this dataset (delete the stale files first)"
    for path in (array_path, index_path):
        if not path.is_file():
            raise DataError(path, "the stored features are missing", fix)
    table = pq.read_table(index_path)
    meta = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
    try:
        features = np.load(array_path, mmap_mode="r" if mmap else None)
    except (ValueError, OSError) as err:
        raise DataError(array_path, f"not a readable .npy array ({err})", fix) from err
    index = table.to_pandas()
    if features.shape[0] != len(index) or list(features.shape) != meta.get("shape", list(features.shape)):
        raise DataError(array_path, f"holds {features.shape} but its index {index_path.name} "
                        f"describes {len(index)} sequences of {meta.get('shape')}", fix)
    return features, index, meta


def extract_store_features(
    weights_path: str | Path,
    store_root: str | Path,
    array_path: str | Path,
    index_path: str | Path,
    *,
    test_subjects: tuple[int, int] = TEST_SUBJECTS,
    validation_subjects: tuple[int, int] | None = None,
    device: str = "auto",
    channels_last: bool = True,
    batch_frames: int = 2048,
    frame_chunk: int = 64,
    workers: int = 1,
) -> pd.DataFrame:
    """Extract and store the features of every sequence the store's dataset protocol uses.

    Returns the stored index. ``test_subjects`` applies to CASIA-B (the paper: 75..124), and so do
    ``validation_subjects``: their protocol's sequences too, for the attacks that choose settings
    (None: none); the other arguments are those of :func:`extract_features`.
    """
    torch_device = resolve_device(device)
    model, extra = load_victim(weights_path, map_location=torch_device)
    model = in_channels_last(model, channels_last)
    store = FrameStore(store_root)
    rows = protocol_for(store.dataset, test_subjects).sequences(store.index)
    if rows.empty:
        raise DataError(store.root, f"no sequence of the {store.dataset} evaluation protocol is in the store",
                        "check subjects.casia_b.test against the store's subjects")
    if validation_subjects is not None and store.dataset == CASIA_B:
        validation = protocol_for(store.dataset, validation_subjects).sequences(store.index)
        rows = store.index.loc[sorted(set(rows.index) | set(validation.index))]
    log.info("extracting %d sequences (%d frames) of %s with %s on %s",
             len(rows), int(rows["frame_count"].sum()), store.dataset, weights_path, torch_device)
    began = time.perf_counter()
    features = extract_features(
        model,
        store,
        rows,
        device=torch_device,
        batch_frames=batch_frames,
        frame_chunk=frame_chunk,
        workers=workers if torch_device.type == "cpu" else 1,
    )
    seconds = time.perf_counter() - began
    log.info("extracted in %.1f s (%.0f frames/s)", seconds, rows["frame_count"].sum() / seconds)
    index = feature_index(rows)
    meta = {"weights": str(weights_path), "iterations": extra.get("iterations"), "model": model.config(),
            "architecture": architecture_of(model).name, "dataset": store.dataset, "seconds": round(seconds, 3)}
    write_features(features, index, array_path, index_path, meta)
    return index
