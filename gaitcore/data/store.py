"""The preprocessed silhouette store: a Parquet index plus one packed, memory-mappable frame file.

Layout of a store directory (documented for users in ``docs/store.md``)::

    <root>/index.parquet   one row per sequence (see INDEX_SCHEMA)
    <root>/frames.u8       all kept frames, uint8, C order, shape [total_frames, 64, 64]
    <root>/store.json      format version, dataset, frame shape, totals, content hash,
                           preprocessing summary

A sequence's frames are ``frames[frame_start : frame_start + frame_count]``; training and attacks
read them through :class:`FrameStore` without decoding any image. Writing goes to temporary names
that are renamed into place only when the whole store is complete, so a failed run leaves nothing
that looks finished. The content hash (:func:`hash_sequence`) identifies what is stored, whatever
folder the store or its source lie in.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gaitcore.data.layout import SequenceKey
from gaitcore.errors import DataError

STORE_VERSION = 1
FRAME_SIZE = 64
INDEX_FILE = "index.parquet"
FRAMES_FILE = "frames.u8"
META_FILE = "store.json"

INDEX_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),  # casia_b | casia_a
        ("subject", pa.string()),  # "001".."124" (CASIA-B), person folder name (CASIA-A)
        ("condition", pa.string()),  # nm | bg | cl
        ("seq", pa.int16()),  # sequence number within the condition (1-based)
        ("view", pa.int16()),  # degrees
        ("frame_start", pa.int64()),  # first frame of the sequence in frames.u8
        ("frame_count", pa.int32()),  # frames kept
        ("frames_dropped", pa.int32()),  # frames dropped by preprocessing (too few pixels)
        ("files_skipped", pa.int32()),  # stray or unreadable files skipped with a warning
        ("frames_file", pa.string()),  # file holding the frames, relative to the store root
        ("source_path", pa.string()),  # where the sequence came from (folder, pkl, or synthetic)
    ]
)


def content_digest() -> hashlib.blake2b:
    """A new, empty content hash of a store (BLAKE2b, 16 bytes)."""
    return hashlib.blake2b(digest_size=16)


def hash_sequence(digest: hashlib.blake2b, label: str, frames: np.ndarray) -> None:
    """Feed one stored sequence into a content hash: its label, its shape ``[T, 64, 64]`` (the
    frame count first) and its frame bytes. Sequences go in in store order."""
    digest.update(label.encode("utf-8") + b"\0")
    digest.update(np.asarray(frames.shape, dtype="<i8").tobytes())
    digest.update(np.ascontiguousarray(frames))


def store_files(root: str | Path) -> dict[str, Path]:
    """The three files that make up a store at ``root``."""
    root = Path(root)
    return {"index": root / INDEX_FILE, "frames": root / FRAMES_FILE, "meta": root / META_FILE}


class StoreWriter:
    """Appends preprocessed sequences to a new store; :meth:`close` makes it visible atomically.

    Use as a context manager: on an exception every temporary file is removed, and so is every
    folder the writer created.
    """

    def __init__(self, root: str | Path, dataset: str, extra_meta: dict[str, Any] | None = None):
        self.root = Path(root)
        self._created = [path for path in (self.root, *self.root.parents) if not path.exists()]
        self.root.mkdir(parents=True, exist_ok=True)
        self.dataset = dataset
        self.extra_meta = dict(extra_meta or {})
        self._paths = store_files(self.root)
        self._tmp = {name: path.with_name(path.name + ".tmp") for name, path in self._paths.items()}
        self._frames = open(self._tmp["frames"], "wb")
        self._rows: list[dict[str, Any]] = []
        self._total = 0
        self._hash = content_digest()
        self._empty: list[str] = []
        self._empty_dropped = 0
        self._empty_skipped = 0
        self._closed = False

    def add(
        self,
        key: SequenceKey,
        frames: np.ndarray,
        *,
        frames_dropped: int = 0,
        files_skipped: int = 0,
        source_path: str = "",
    ) -> None:
        """Append one sequence of preprocessed frames, uint8 ``[T, 64, 64]`` with ``T >= 1``."""
        if key.dataset != self.dataset:
            raise ValueError(f"sequence {key} does not belong to dataset {self.dataset}")
        if frames.dtype != np.uint8 or frames.ndim != 3 or frames.shape[1:] != (FRAME_SIZE,) * 2:
            raise ValueError(
                f"{key.label}: expected uint8 frames [T, {FRAME_SIZE}, {FRAME_SIZE}], "
                f"got {frames.dtype} {frames.shape}"
            )
        if len(frames) == 0:
            raise ValueError(f"{key.label}: a stored sequence needs at least one frame")
        self._frames.write(np.ascontiguousarray(frames).tobytes())
        hash_sequence(self._hash, key.label, frames)
        self._rows.append(
            {
                "dataset": key.dataset,
                "subject": key.subject,
                "condition": key.condition,
                "seq": key.seq,
                "view": key.view,
                "frame_start": self._total,
                "frame_count": len(frames),
                "frames_dropped": frames_dropped,
                "files_skipped": files_skipped,
                "frames_file": FRAMES_FILE,
                "source_path": source_path,
            }
        )
        self._total += len(frames)

    def add_empty(self, key: SequenceKey, *, frames_dropped: int = 0, files_skipped: int = 0) -> None:
        """Record a sequence left out for want of a usable frame: listed in ``empty_sequences``,
        its dropped frames and skipped files counted in the store's totals."""
        self._empty.append(key.label)
        self._empty_dropped += frames_dropped
        self._empty_skipped += files_skipped

    def close(self) -> Path:
        """Write index and metadata and rename all three files into place."""
        if self._closed:
            return self.root
        self._frames.flush()
        os.fsync(self._frames.fileno())
        self._frames.close()
        if not self._rows:
            self.abort()
            raise DataError(self.root, "no sequence was stored", "check the dataset source")
        table = pa.Table.from_pylist(self._rows, schema=INDEX_SCHEMA)
        pq.write_table(table, self._tmp["index"])
        index = table.to_pandas()
        meta = {
            "version": STORE_VERSION,
            "dataset": self.dataset,
            "frame_shape": [FRAME_SIZE, FRAME_SIZE],
            "dtype": "uint8",
            "total_frames": self._total,
            "sequences": len(index),
            "subjects": int(index["subject"].nunique()),
            "frames_dropped": int(index["frames_dropped"].sum()) + self._empty_dropped,
            "files_skipped": int(index["files_skipped"].sum()) + self._empty_skipped,
            "empty_sequences": self._empty,
            "content_hash": self._hash.hexdigest(),
            **self.extra_meta,
        }
        self._tmp["meta"].write_text(json.dumps(meta, indent=2) + "\n")
        for name in ("frames", "index", "meta"):  # metadata last: it marks the store complete
            os.replace(self._tmp[name], self._paths[name])
        self._closed = True
        return self.root

    def abort(self) -> None:
        """Remove every temporary file and the folders the writer created; nothing is left behind."""
        if not self._frames.closed:
            self._frames.close()
        for path in self._tmp.values():
            path.unlink(missing_ok=True)
        for folder in self._created:  # deepest first
            try:
                folder.rmdir()
            except OSError:  # someone else put something there: leave it
                break
        self._closed = True

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class FrameStore:
    """Read access to a store: the index as a DataFrame and frames as memory-mapped views."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        paths = store_files(self.root)
        for name, path in paths.items():
            if not path.is_file():
                raise DataError(
                    path,
                    f"the store's {name} file is missing",
                    "rebuild the store with `snakemake --cores N preprocess_all` (or the rule "
                    "`preprocess`) instead of copying parts of it",
                )
        try:
            self.meta: dict[str, Any] = json.loads(paths["meta"].read_text())
        except json.JSONDecodeError as err:
            raise DataError(paths["meta"], f"not valid JSON ({err})", "rebuild the store") from err
        if self.meta.get("version") != STORE_VERSION:
            raise DataError(
                paths["meta"],
                f"store format version {self.meta.get('version')}, this gaitcore reads "
                f"{STORE_VERSION}",
                "rebuild the store with this version of gaitcore",
            )
        self.index: pd.DataFrame = pq.read_table(paths["index"]).to_pandas()
        total = int(self.meta["total_frames"])
        expected = total * FRAME_SIZE * FRAME_SIZE
        actual = paths["frames"].stat().st_size
        if actual != expected:
            raise DataError(
                paths["frames"],
                f"holds {actual} bytes but the store's metadata says {total} frames "
                f"({expected} bytes); the file is truncated or from another store",
                "rebuild the store",
            )
        self.frames = np.memmap(paths["frames"], dtype=np.uint8, mode="r", shape=(total, FRAME_SIZE, FRAME_SIZE))

    @property
    def dataset(self) -> str:
        return str(self.meta["dataset"])

    @cached_property
    def content_hash(self) -> str:
        """Hex digest of what is stored (:func:`hash_sequence`), the same wherever the store lies;
        computed from the frames for a store written before ``store.json`` recorded it."""
        if "content_hash" in self.meta:
            return str(self.meta["content_hash"])
        digest = content_digest()
        for row in range(len(self.index)):
            hash_sequence(digest, self.key(row).label, self.sequence(row))
        return digest.hexdigest()

    def __len__(self) -> int:
        return len(self.index)

    def sequence(self, row: int) -> np.ndarray:
        """Frames of the sequence in index row ``row``: a read-only uint8 view ``[T, 64, 64]``."""
        start = int(self.index.at[row, "frame_start"])
        return self.frames[start : start + int(self.index.at[row, "frame_count"])]

    def key(self, row: int) -> SequenceKey:
        r = self.index.loc[row]
        return SequenceKey(r["dataset"], r["subject"], r["condition"], int(r["seq"]), int(r["view"]))

    def select(
        self,
        *,
        subjects: Iterable[str] | None = None,
        conditions: Iterable[str] | None = None,
        seqs: Iterable[int] | None = None,
        views: Iterable[int] | None = None,
    ) -> pd.DataFrame:
        """Index rows matching every given filter (``None`` means any); row labels are kept."""
        mask = np.ones(len(self.index), dtype=bool)
        for column, values in (("subject", subjects), ("condition", conditions), ("seq", seqs), ("view", views)):
            if values is not None:
                mask &= self.index[column].isin(list(values)).to_numpy()
        return self.index[mask]
