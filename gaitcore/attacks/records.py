"""What an attack job writes and how it is read back (the files of :mod:`gaitcore.experiments.attack_job`).

* a Parquet table, one row per probe (its key, the mode and sparsity, ``N``, ``K``, the places of
  the generated frames, the target, the final objective, cosine and realism, and per gallery view
  the rank-1 identity of the clean and of the attacked probe), with the job's metadata as JSON
  under the schema key ``gaitcore.attack``;
* a compressed ``.npz`` with the generated frames (uint8 ``[R, 64, 64]``), their places and
  per-probe ``offsets`` (row ``i``'s frames are ``frames[offsets[i]:offsets[i + 1]]``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from gaitcore.attacks.vocabulary import GOALS, KINDS, METHODS, SETTINGS
from gaitcore.errors import DataError
from gaitcore.utils.tables import write_parquet_with_meta

META_KEY = b"gaitcore.attack"


def write_attack_table(table: pd.DataFrame, path: str | Path, meta: dict[str, Any]) -> None:
    """Write an attack table with its metadata (JSON under ``gaitcore.attack``) atomically."""
    write_parquet_with_meta(table, path, META_KEY, meta)


def write_attack_frames(path: str | Path, generated: list[np.ndarray], plans: list) -> None:
    """Write the generated frames, their places and per-probe offsets as a compressed ``.npz``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    offsets = np.concatenate([[0], np.cumsum([len(g) for g in generated])]).astype(np.int64)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, frames=np.concatenate(generated), offsets=offsets,
                        positions=np.concatenate([p.generated for p in plans]))
    os.replace(tmp, path)


def read_attack_frames(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(frames uint8 [R, 64, 64], offsets [n + 1], positions [R])`` of a job's ``.npz``."""
    try:
        with np.load(path) as data:
            return data["frames"], data["offsets"], data["positions"]
    except (OSError, ValueError, KeyError) as err:
        raise DataError(Path(path), f"not a readable attack frames file ({err})",
                        "rerun the rule `attack` for this job (delete the file first)") from err


PROBE_KEY = ["dataset", "subject", "condition", "seq", "view"]
REQUIRED_COLUMNS = [*PROBE_KEY, "kind", "goal", "setting", "sparsity", "target"]


def read_attack_table(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """One attack job's Parquet table and its ``gaitcore.attack`` metadata (a dict).

    Raises ``ValueError`` when the metadata or a required column is missing, or the rows span
    more than one dataset.
    """
    path = Path(path)
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise ValueError(f"{path}: no {META_KEY.decode()!r} schema metadata; not an attack results table")
    meta = json.loads(raw)
    for key in ("gallery_views", "exclude_identical_view"):
        if key not in meta:
            raise ValueError(f"{path}: attack metadata lacks {key!r}")
    meta["gallery_views"] = [int(v) for v in meta["gallery_views"]]
    meta["exclude_identical_view"] = bool(meta["exclude_identical_view"])
    frame = table.to_pandas()
    expected = REQUIRED_COLUMNS + [f"{prefix}rank1_{v:03d}" for v in meta["gallery_views"] for prefix in ("clean_", "")]
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    datasets = frame["dataset"].unique().tolist()
    if len(datasets) > 1:
        raise ValueError(f"{path}: rows of several datasets {sorted(datasets)}; one attack table holds one dataset")
    if datasets:
        meta.setdefault("dataset", datasets[0])
    return frame, meta


def load_attacks(paths: Sequence[str | Path]) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Rows of all attack tables and each dataset's metadata ``{dataset: meta}``.

    Raises ``ValueError`` on an empty ``paths``, metadata of one dataset that disagrees between
    files, unknown goals or settings, targeted rows without a target, and attacked probes listed twice.
    """
    if not paths:
        raise ValueError("no attack result tables given")
    frames, metas = [], {}
    for path in paths:
        frame, meta = read_attack_table(path)
        if frame.empty:
            continue
        dataset = frame["dataset"].iloc[0]
        views = (meta["gallery_views"], meta["exclude_identical_view"])
        if dataset in metas and (metas[dataset]["gallery_views"], metas[dataset]["exclude_identical_view"]) != views:
            raise ValueError(
                f"{path}: {dataset} metadata (gallery views {views[0]}, exclude identical view {views[1]}) "
                f"disagrees with an earlier file's ({metas[dataset]['gallery_views']}, "
                f"{metas[dataset]['exclude_identical_view']})"
            )
        metas.setdefault(dataset, meta)
        frames.append(frame.assign(_file=str(path), _row=np.arange(len(frame))))
    if not frames:
        return pd.DataFrame(columns=REQUIRED_COLUMNS), metas
    rows = pd.concat(frames, ignore_index=True)
    for column, allowed in (("kind", KINDS), ("goal", GOALS), ("setting", (*SETTINGS, *METHODS))):
        bad = sorted(set(rows[column]) - set(allowed))
        if bad:
            raise ValueError(f"unknown {column} {bad} in attack tables; expected one of {allowed}")
    if "variant" in rows:  # a settings variant (attack.variants) is its own setting: "adversary+<name>"
        variant = rows["variant"].fillna("").astype(str)
        rows["setting"] = rows["setting"].where(variant == "", rows["setting"] + "+" + variant)
    targeted = rows["goal"] == "targeted"
    no_target = targeted & (rows["target"].isna() | (rows["target"].astype(object) == ""))
    if no_target.any():
        raise ValueError(f"{int(no_target.sum())} targeted rows without a target, "
                         f"e.g. in {rows.loc[no_target, '_file'].iloc[0]}")
    key = [*PROBE_KEY, "kind", "goal", "setting", "sparsity", "target"]
    twice = rows.duplicated(key, keep=False)
    if twice.any():
        example = rows.loc[twice, key].iloc[0].to_dict()
        raise ValueError(f"{int(twice.sum())} rows attack the same probe twice in the same mode, e.g. {example} "
                         f"(in {sorted(set(rows.loc[twice, '_file']))})")
    return rows, metas
