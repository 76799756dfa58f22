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
