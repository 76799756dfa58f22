"""Rank-1 accuracy under attack and targeted success (He et al. Sec. 4.2, Fig. 5, Fig. 10, Tables 2,
5, 6), from the attack jobs' tables (:mod:`gaitcore.attacks.records`).

Each table has one row per attacked probe sequence, with for every gallery view ``v`` of the dataset
the subject of the nearest gallery sequence for the clean probe (``clean_rank1_{v:03d}``) and for
the attacked probe (``rank1_{v:03d}``).

Metrics (Sec. 4.1, "Metrics"): for a probe view and a gallery view, the percentage of probes whose
nearest gallery sequence is of the probe's own subject (rank-1 accuracy; nontargeted attacks and the
clean "natural" probes) or of the attack's target subject (success rate; targeted attacks). Per probe
view it is averaged over the gallery views, the identical view excluded where the metadata says so
(CASIA-B, not CASIA-A); a ``"mean"`` row per condition averages over the probe views.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gaitcore.attacks.records import PROBE_KEY
from gaitcore.attacks.vocabulary import GOALS, KINDS, METHODS, SETTINGS, sparsity_value
from gaitcore.data.layout import CASIA_B, CONDITIONS
from gaitcore.evaluation.rank1 import MEAN_ROW

NATURAL = "natural"
ROW_SETTINGS = (NATURAL, *SETTINGS)  # the rows of a table: the clean probes (clean_rank1_* columns), then attacks
NATURAL_GOAL = "none"  # goal of the natural rows: the clean probes belong to no attack goal
LONG_COLUMNS = ["dataset", "kind", "goal", "setting", "sparsity", "condition", "probe_view", "value", "metric",
                "probes", "iterations"]
AVERAGE = "average"


def _hits(rows: pd.DataFrame, views: Sequence[int], prefix: str, truth: np.ndarray) -> np.ndarray:
    """``[len(rows), len(views)]``: 1.0 where the nearest subject equals ``truth``, NaN where it is null."""
    out = np.full((len(rows), len(views)), np.nan)
    for j, view in enumerate(views):
        nearest = rows[f"{prefix}rank1_{view:03d}"].to_numpy(dtype=object)
        known = ~pd.isna(nearest)
        out[known, j] = (nearest[known].astype(str) == truth[known]).astype(float)
    return out


def _summarize(rows: pd.DataFrame, hits: np.ndarray, meta: Mapping, labels: dict, metric: str) -> list[dict]:
    """Per-probe-view values (mean over gallery views) and the mean over probe views, per condition.

    A gallery view whose nearest subjects are all null (no gallery sequence there) is left out;
    probes with a null entry are left out of that gallery view's percentage only.
    """
    views = np.asarray(meta["gallery_views"])
    records = []
    for condition, of_condition in rows.groupby("condition", sort=False):
        per_view: list[tuple[int, float, int]] = []
        for probe_view, of_view in of_condition.groupby("view", sort=True):
            sub = hits[of_view.index.to_numpy()]
            used = ~np.isnan(sub).all(axis=0)
            if meta["exclude_identical_view"]:
                used &= views != int(probe_view)
            if not used.any():
                continue
            value = float(np.mean(100.0 * np.nanmean(sub[:, used], axis=0)))
            per_view.append((int(probe_view), value, len(of_view), _mean_iterations(of_view)))
        if not per_view:
            continue
        for probe_view, value, probes, iterations in per_view:
            records.append({**labels, "condition": condition, "probe_view": probe_view, "value": value,
                            "metric": metric, "probes": probes, "iterations": iterations})
        records.append({**labels, "condition": condition, "probe_view": MEAN_ROW,
                        "value": float(np.mean([v for _, v, *_ in per_view])), "metric": metric,
                        "probes": sum(p for _, _, p, _ in per_view), "iterations": _mean_iterations(of_condition)})
    return records


def _mean_iterations(rows: pd.DataFrame) -> float:
    """Mean optimiser updates per probe (NaN without the column): early stop shows as fewer than T."""
    return float(rows["iterations"].mean()) if "iterations" in rows else float("nan")


def _order(long: pd.DataFrame) -> pd.DataFrame:
    """Sort like the paper: kind, goal, setting (natural, random, adversary, baselines), sparsity, condition, view."""
    def rank(values: pd.Series, order: Sequence[str]) -> pd.Series:
        return values.map(lambda v: order.index(v) if v in order else len(order))

    keys = pd.DataFrame({
        "dataset": long["dataset"],
        "kind": rank(long["kind"], KINDS),
        "goal": rank(long["goal"], (NATURAL_GOAL, *GOALS)),
        "setting": rank(long["setting"], (*ROW_SETTINGS, *METHODS)),
        "sparsity": long["sparsity"].map(sparsity_value),
        "condition": rank(long["condition"], CONDITIONS),
        "condition_name": long["condition"],
        "view": long["probe_view"].map(lambda v: float("inf") if v == MEAN_ROW else float(v)),
    })
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return long.loc[order].reset_index(drop=True)


def attack_accuracy(rows: pd.DataFrame, metas: Mapping[str, Mapping]) -> pd.DataFrame:
    """The long table of every attack result (``attack_accuracy.csv``), columns :data:`LONG_COLUMNS`.

    Nontargeted rows hold rank-1 accuracy (metric ``"rank1"``), targeted rows the success rate
    (``"success"``), in %. ``"natural"`` rows (goal ``"none"``) hold the clean probes' rank-1
    accuracy per (dataset, kind, sparsity), each probe counted once however many attack modes
    (goals, settings) it appears in. ``rows``/``metas`` as :func:`load_attacks` returns them.
    """
    records: list[dict] = []
    for dataset, of_dataset in rows.groupby("dataset", sort=False):
        meta = metas[dataset]
        views = meta["gallery_views"]
        for (kind, goal, setting, sparsity), attacked in of_dataset.groupby(
                ["kind", "goal", "setting", "sparsity"], sort=False):
            attacked = attacked.reset_index(drop=True)
            truth_column = "target" if goal == "targeted" else "subject"
            truth = attacked[truth_column].astype(str).to_numpy(dtype=object)
            labels = {"dataset": dataset, "kind": kind, "goal": goal, "setting": setting, "sparsity": sparsity}
            records += _summarize(attacked, _hits(attacked, views, "", truth), meta, labels,
                                  "success" if goal == "targeted" else "rank1")
        clean_columns = [f"clean_rank1_{v:03d}" for v in views]
        for (kind, sparsity), of_kind in of_dataset.groupby(["kind", "sparsity"], sort=False):
            probes = (of_kind.drop_duplicates(PROBE_KEY).drop(columns="iterations", errors="ignore")
                      .reset_index(drop=True))
            distinct = of_kind.drop_duplicates([*PROBE_KEY, *clean_columns])
            if len(distinct) != len(probes):
                warnings.warn(f"{dataset} {kind} {sparsity}: {len(distinct) - len(probes)} clean probes have "
                              "different clean rank-1 subjects in different attack tables; the first is used",
                              stacklevel=2)
            labels = {"dataset": dataset, "kind": kind, "goal": NATURAL_GOAL, "setting": NATURAL, "sparsity": sparsity}
            truth = probes["subject"].astype(str).to_numpy(dtype=object)
            records += _summarize(probes, _hits(probes, views, "clean_", truth), meta, labels, "rank1")
    long = pd.DataFrame.from_records(records, columns=LONG_COLUMNS)
    long["probe_view"] = long["probe_view"].astype(object)
    long["probes"] = long["probes"].astype(int)
    return _order(long)


def of_dataset(long: pd.DataFrame, dataset: str | None) -> pd.DataFrame:
    """Rows of ``dataset`` (None: the only dataset there is); ``ValueError`` if none or several."""
    present = list(dict.fromkeys(long["dataset"]))
    if dataset is None:
        if len(present) != 1:
            raise ValueError(f"results of {len(present)} datasets {present}; name the dataset of this table")
        dataset = present[0]
    if dataset not in present:
        raise ValueError(f"no {dataset} results among the attack tables (datasets present: {present})")
    return long[long["dataset"] == dataset]


def _targeted(long: pd.DataFrame, kind: str, dataset: str | None) -> pd.DataFrame:
    used = of_dataset(long, dataset)
    return used[(used["kind"] == kind) & (used["goal"] == "targeted") & (used["setting"] == "adversary")]


def _sparsities(rows: pd.DataFrame) -> list[str]:
    return sorted(dict.fromkeys(rows["sparsity"]), key=sparsity_value)


def conditions_of(rows: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(rows["condition"]))
    return [c for c in CONDITIONS if c in present] + sorted(c for c in present if c not in CONDITIONS)


def targeted_view_table(long: pd.DataFrame, kind: str, dataset: str | None = CASIA_B) -> pd.DataFrame:
    """Tables 5 (``kind="insertion"``) and 6 (``"alteration"``): targeted adversary success rate (%).

    Rows (sparsity ascending, condition NM/BG/CL), columns ``sparsity``, ``condition``, one per probe
    view (as strings) and ``"average"`` (the mean over probe views). Only what exists is listed.
    """
    rows = _targeted(long, kind, dataset)
    views = sorted({int(v) for v in rows["probe_view"] if v != MEAN_ROW})
    columns = ["sparsity", "condition", *map(str, views), AVERAGE]
    records = []
    for sparsity in _sparsities(rows):
        for condition in conditions_of(rows[rows["sparsity"] == sparsity]):
            sub = rows[(rows["sparsity"] == sparsity) & (rows["condition"] == condition)]
            by_view = {(AVERAGE if v == MEAN_ROW else str(v)): value
                       for v, value in zip(sub["probe_view"], sub["value"])}
            records.append({"sparsity": sparsity, "condition": condition.upper(),
                            **{c: by_view.get(c, np.nan) for c in columns[2:]}})
    return pd.DataFrame.from_records(records, columns=columns)


def table2_targeted_success(long: pd.DataFrame, dataset: str | None = CASIA_B) -> pd.DataFrame:
    """Table 2: frame-alteration targeted adversary success rate (%), averaged over probe views.

    Rows sparsity (ascending, 1/40, 1/20, 1/10), columns ``sparsity`` and NM, BG, CL (those present).
    """
    rows = _targeted(long, "alteration", dataset)
    rows = rows[rows["probe_view"] == MEAN_ROW]
    conditions = conditions_of(rows)
    records = []
    for sparsity in _sparsities(rows):
        sub = rows[rows["sparsity"] == sparsity]
        by_condition = dict(zip(sub["condition"], sub["value"], strict=True))
        records.append({"sparsity": sparsity, **{c.upper(): by_condition.get(c, np.nan) for c in conditions}})
    return pd.DataFrame.from_records(records, columns=["sparsity", *(c.upper() for c in conditions)])
