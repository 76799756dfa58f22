"""Parquet tables written atomically with JSON metadata (attack and video attack job tables)."""

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
