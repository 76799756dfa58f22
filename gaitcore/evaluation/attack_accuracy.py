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

Uncertainty (:mod:`gaitcore.evaluation.uncertainty`): every cell carries its numbers of probes and
subjects and a 95 % confidence interval (``ci_low``, ``ci_high``) from a subject-level bootstrap of
that cell's own estimator (fixed seed). Attack rows also carry ``change``: the value minus the value
of the same probes before the attack (their clean rank-1 columns, same metric: the own subject for
nontargeted, the target for targeted rows), with a paired subject-level interval (``change_low``,
``change_high``); NaN on the natural rows.
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
from gaitcore.evaluation.uncertainty import Interval, paired_difference, subject_bootstrap, view_columns

NATURAL = "natural"
ROW_SETTINGS = (NATURAL, *SETTINGS)  # the rows of a table: the clean probes (clean_rank1_* columns), then attacks
NATURAL_GOAL = "none"  # goal of the natural rows: the clean probes belong to no attack goal
LONG_COLUMNS = ["dataset", "kind", "goal", "setting", "sparsity", "condition", "probe_view", "value", "ci_low",
                "ci_high", "metric", "probes", "subjects", "iterations", "change", "change_low", "change_high"]
AVERAGE = "average"


def gallery_hits(rows: pd.DataFrame, views: Sequence[int], prefix: str, truth: np.ndarray) -> np.ndarray:
    """``[len(rows), len(views)]`` from the ``{prefix}rank1_{view}`` columns (``"clean_"``: before the
    attack): 1.0 where the nearest subject equals ``truth``, 0.0 where not, NaN where it is null."""
    out = np.full((len(rows), len(views)), np.nan)
    for j, view in enumerate(views):
        nearest = rows[f"{prefix}rank1_{view:03d}"].to_numpy(dtype=object)
        known = ~pd.isna(nearest)
        out[known, j] = (nearest[known].astype(str) == truth[known]).astype(float)
    return out


def counted_gallery_views(hits: np.ndarray, probe_views: Sequence[int], gallery_views: Sequence[int],
                          exclude_identical_view: bool) -> dict[int, np.ndarray]:
    """``{probe view: mask of the gallery views counted}`` for probes with these ``hits`` (rows) and
    ``probe_views``: gallery views with a nearest subject for some probe of the view (a view with no
    gallery sequence is left out), the identical view left out where the protocol says so (CASIA-B);
    probe views with no counted gallery view are left out. Sorted by probe view."""
    gallery_views = np.asarray(gallery_views)
    probe_views = np.asarray(probe_views).astype(int)
    out = {}
    for view in sorted(set(probe_views.tolist())):
        used = ~np.isnan(hits[probe_views == view]).all(axis=0)
        if exclude_identical_view:
            used &= gallery_views != view
        if used.any():
            out[view] = used
    return out


def probe_scores(rows: pd.DataFrame, meta: Mapping, *, clean: bool = False, truth_column: str = "subject"
                 ) -> pd.DataFrame:
    """One score per probe of ``rows`` (one dataset): the percentage of the counted gallery views whose
    nearest subject is ``truth_column`` (``"subject"``: rank-1; ``"target"``: targeted success), after
    the attack or, with ``clean``, before it. Gallery views are counted as in the tables (a view with
    no gallery sequence left out; the identical view left out where the metadata says so). Returns
    the probes' key columns and ``score`` (NaN for a probe with no counted view)."""
    views = np.asarray(meta["gallery_views"])
    truth = rows[truth_column].astype(str).to_numpy(dtype=object)
    hits = gallery_hits(rows, views, "clean_" if clean else "", truth)
    probe_views = rows["view"].to_numpy().astype(int)
    scores = np.full(len(rows), np.nan)
    for view, used in counted_gallery_views(hits, probe_views, views, meta["exclude_identical_view"]).items():
        index = np.flatnonzero(probe_views == view)
        counted = hits[index][:, used]
        has = (~np.isnan(counted)).any(axis=1)
        scores[index[has]] = 100.0 * np.nanmean(counted[has], axis=1)
    return rows[PROBE_KEY].reset_index(drop=True).assign(score=scores)


def cell_scores(rows: pd.DataFrame, metas: Mapping[str, Mapping], *, kind: str, goal: str, setting: str,
                sparsity: str, condition: str, clean: bool = False, dataset: str = CASIA_B) -> pd.DataFrame:
    """Per-probe scores (:func:`probe_scores`) of one cell of ``dataset``'s attack rows, indexed by the
    probe key; targeted cells score the target (their clean scores the own subject). Empty if the
    rows have no such cell."""
    cell = rows[(rows["dataset"] == dataset) & (rows["kind"] == kind) & (rows["goal"] == goal)
                & (rows["setting"] == setting) & (rows["sparsity"] == sparsity) & (rows["condition"] == condition)]
    if cell.empty:
        return pd.DataFrame(columns=[*PROBE_KEY, "score"]).set_index(PROBE_KEY)
    truth = "target" if goal == "targeted" and not clean else "subject"
    return probe_scores(cell.reset_index(drop=True), metas[dataset], clean=clean, truth_column=truth).set_index(
        PROBE_KEY)


def paired_scores(a: pd.Series, b: pd.Series, *, seed: int = 0) -> Interval:
    """``mean(a) - mean(b)`` over the probes (index: the probe key) both have a score for, with the
    paired subject-level bootstrap interval."""
    both = pd.concat({"a": a, "b": b}, axis=1, join="inner").dropna()
    if both.empty:
        return Interval(np.nan, np.nan, np.nan, 0, 0)
    subjects = both.index.get_level_values("subject").astype(str).to_numpy(dtype=object)
    return paired_difference(both["a"].to_numpy(), both["b"].to_numpy(), subjects, seed=seed)


def _summarize(rows: pd.DataFrame, hits: np.ndarray, meta: Mapping, labels: dict, metric: str,
               before: np.ndarray | None = None) -> list[dict]:
    """Per-probe-view values (mean over gallery views) and the mean over probe views, per condition.

    A gallery view whose nearest subjects are all null (no gallery sequence there) is left out;
    probes with a null entry are left out of that gallery view's percentage only. Each cell gets its
    subject-level bootstrap interval; with ``before`` (the same probes' hits before the attack, shaped
    like ``hits``) also the change from ``before`` and its paired interval.
    """
    views = np.asarray(meta["gallery_views"])
    subjects = rows["subject"].astype(str).to_numpy(dtype=object)
    records = []
    for condition, of_condition in rows.groupby("condition", sort=False):
        per_view: list[tuple[int, float, int, float, dict]] = []
        used_by_view = counted_gallery_views(hits[of_condition.index.to_numpy()], of_condition["view"].to_numpy(),
                                             views, meta["exclude_identical_view"])
        for probe_view, of_view in of_condition.groupby("view", sort=True):
            if int(probe_view) not in used_by_view:
                continue
            index, used = of_view.index.to_numpy(), used_by_view[int(probe_view)]
            sub = hits[index]
            value = float(np.mean(100.0 * np.nanmean(sub[:, used], axis=0)))
            cell = _cell(100.0 * sub[:, used], None if before is None else 100.0 * before[index][:, used],
                         subjects[index])
            per_view.append((int(probe_view), value, len(of_view), _mean_iterations(of_view), cell))
        if not per_view:
            continue
        for probe_view, value, probes, iterations, cell in per_view:
            records.append({**labels, "condition": condition, "probe_view": probe_view, "value": value,
                            "metric": metric, "probes": probes, "iterations": iterations, **cell})
        counted = of_condition[of_condition["view"].astype(int).isin(list(used_by_view))].index.to_numpy()
        probe_views = rows["view"].astype(int).to_numpy()[counted]
        spread, weights = view_columns(100.0 * hits[counted], probe_views, used_by_view)
        spread_before = None if before is None else view_columns(100.0 * before[counted], probe_views,
                                                                 used_by_view)[0]
        records.append({**labels, "condition": condition, "probe_view": MEAN_ROW,
                        "value": float(np.mean([v for _, v, *_ in per_view])), "metric": metric,
                        "probes": sum(p for _, _, p, *_ in per_view), "iterations": _mean_iterations(of_condition),
                        **_cell(spread, spread_before, subjects[counted], weights)})
    return records


def _cell(values: np.ndarray, before: np.ndarray | None, subjects: np.ndarray,
          weights: np.ndarray | None = None) -> dict:
    """The uncertainty columns of one cell: subjects, interval and, with ``before``, the paired change."""
    interval = subject_bootstrap(values, subjects, weights=weights)
    out = {"subjects": len(set(subjects)), "ci_low": interval.low, "ci_high": interval.high}
    change = (Interval(np.nan, np.nan, np.nan, 0, 0) if before is None
              else paired_difference(values, before, subjects, weights=weights))
    return {**out, "change": change.estimate, "change_low": change.low, "change_high": change.high}


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

    Per cell also ``ci_low``/``ci_high`` (95 % subject-level bootstrap interval of ``value``),
    ``subjects`` (distinct subjects among the ``probes``) and, on attack rows, ``change`` (``value``
    minus the same probes' clean value) with its paired interval ``change_low``/``change_high``
    (:mod:`gaitcore.evaluation.uncertainty`).
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
            records += _summarize(attacked, gallery_hits(attacked, views, "", truth), meta, labels,
                                  "success" if goal == "targeted" else "rank1",
                                  before=gallery_hits(attacked, views, "clean_", truth))
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
            records += _summarize(probes, gallery_hits(probes, views, "clean_", truth), meta, labels, "rank1")
    long = pd.DataFrame.from_records(records, columns=LONG_COLUMNS)
    long["probe_view"] = long["probe_view"].astype(object)
    long["probes"] = long["probes"].astype(int)
    long["subjects"] = long["subjects"].astype(int)
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
    view (as strings) and ``"average"`` (the mean over probe views); then ``probes`` and ``subjects``
    (those of the average) and each value column's 95 % interval, ``"<column>_low"`` and
    ``"<column>_high"`` (per-view probe counts are in :func:`attack_accuracy`'s table). Only what
    exists is listed.
    """
    rows = _targeted(long, kind, dataset)
    views = sorted({int(v) for v in rows["probe_view"] if v != MEAN_ROW})
    cells = [*map(str, views), AVERAGE]
    columns = ["sparsity", "condition", *cells, "probes", "subjects",
               *(f"{c}_{end}" for c in cells for end in ("low", "high"))]
    records = []
    for sparsity in _sparsities(rows):
        for condition in conditions_of(rows[rows["sparsity"] == sparsity]):
            sub = rows[(rows["sparsity"] == sparsity) & (rows["condition"] == condition)]
            by_view = {(AVERAGE if v == MEAN_ROW else str(v)): row
                       for v, (_, row) in zip(sub["probe_view"], sub.iterrows(), strict=True)}
            average = by_view.get(AVERAGE)
            records.append({"sparsity": sparsity, "condition": condition.upper(),
                             **{c: _get(by_view, c, "value") for c in cells},
                             "probes": average["probes"] if average is not None else np.nan,
                             "subjects": average["subjects"] if average is not None else np.nan,
                             **{f"{c}_{end}": _get(by_view, c, f"ci_{end}") for c in cells for end in ("low", "high")}})
    return pd.DataFrame.from_records(records, columns=columns)


def _get(cells: Mapping[str, pd.Series], cell: str, column: str) -> float:
    return cells[cell][column] if cell in cells else np.nan


def table2_targeted_success(long: pd.DataFrame, dataset: str | None = CASIA_B) -> pd.DataFrame:
    """Table 2: frame-alteration targeted adversary success rate (%), averaged over probe views.

    Rows sparsity (ascending, 1/40, 1/20, 1/10), columns ``sparsity`` and NM, BG, CL (those present),
    then per condition its 95 % interval and counts: ``"NM_low"``, ``"NM_high"``, ``"NM_probes"``,
    ``"NM_subjects"``, ...
    """
    rows = _targeted(long, "alteration", dataset)
    rows = rows[rows["probe_view"] == MEAN_ROW]
    conditions = [c.upper() for c in conditions_of(rows)]
    extra = [f"{c}_{what}" for c in conditions for what in ("low", "high", "probes", "subjects")]
    records = []
    for sparsity in _sparsities(rows):
        sub = rows[rows["sparsity"] == sparsity]
        by_condition = {c.upper(): row for c, (_, row) in zip(sub["condition"], sub.iterrows(), strict=True)}
        records.append({"sparsity": sparsity, **{c: _get(by_condition, c, "value") for c in conditions},
                        **{f"{c}_{what}": _get(by_condition, c, column) for c in conditions
                           for what, column in (("low", "ci_low"), ("high", "ci_high"), ("probes", "probes"),
                                                ("subjects", "subjects"))}})
    return pd.DataFrame.from_records(records, columns=["sparsity", *conditions, *extra])
