"""Result tables written atomically: CSV with an optional Markdown twin, and Parquet with JSON metadata
(attack and video attack job tables)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gaitcore.errors import DataError


def write_parquet_with_meta(table: pd.DataFrame, path: str | Path, meta_key: bytes, meta: dict[str, Any]) -> None:
    """Write ``table`` to ``path`` with ``meta`` (JSON) under ``meta_key`` in its schema metadata.

    Written to a temporary name and renamed into place, so a reader never sees a partial table.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), meta_key: json.dumps(meta).encode()})
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(arrow, tmp)
    os.replace(tmp, path)


def read_parquet_with_meta(path: str | Path, meta_key: bytes, what: str, fix: str) -> tuple[pd.DataFrame, dict]:
    """The table :func:`write_parquet_with_meta` wrote at ``path`` and its metadata; a DataError naming
    the file and ``fix`` when it is unreadable or has no ``meta_key`` (not ``what``)."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as err:
        raise DataError(path, f"not a readable Parquet table ({err})", fix) from err
    raw = (table.schema.metadata or {}).get(meta_key)
    if raw is None:
        raise DataError(path, f"no {meta_key.decode()} metadata; not {what}", fix)
    return table.to_pandas(), json.loads(raw)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary name and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_table(table: pd.DataFrame, csv_path: str | Path, markdown_path: str | Path | None = None,
                markdown: str | None = None, float_format: str = "%.4f") -> None:
    """Write ``table`` as CSV and, if given, ``markdown`` (default: the table as a pipe table), atomically."""
    atomic_write_text(Path(csv_path), table.to_csv(index=False, float_format=float_format))
    if markdown_path is not None:
        if markdown is None:
            markdown = _pipe_table(table)
        atomic_write_text(Path(markdown_path), markdown)


def _pipe_table(table: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = [
        "| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in table.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body]) + "\n"
