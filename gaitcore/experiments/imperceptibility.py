"""Measured imperceptibility of every attack setting (beyond He et al., whose Sec. 4.5 / Fig. 7 claims are visual).

He et al. argue that their generated frames are less perceptible than the perturbation baselines'
(Sec. 4.5: "it maintains better imperceptibility of the spatial domain", Fig. 1, Fig. 7) but give no
number. This module measures it for every attack setting of the pipeline (the attack, its random
control, its settings variants, FGSM, PGD, MI-FGSM) with judges that are all independent of the
attack:

* **judge realism**: the mean calibrated realism ``sigmoid(a D'(x) + b)`` of the altered frames
  under a *separately trained* WGAN-GP critic ``D'`` (its own seed and width, never queried by any
  attack; rule ``train_judge_critic``). The attack's own critic is no judge: the attack optimises
  against it and fools it within a few iterations while the frames still look wrong (docs/attack.md);
* **Frechet distance** of the altered frames to real frames in GaitSet's frame-feature space (the
  trained victim's frame CNN, last map, mean + max over space:
  :func:`gaitcore.experiments.generator_quality.gaitset_frame_features`);
* **shape statistics** against real frames: the 1-D Wasserstein distance between the altered and the
  real frames' distributions of foreground area, bounding-box width and bounding-box height, in
  pixels (foreground: uint8 value >= 128);
* **temporal consistency**: the IoU of each altered frame's foreground with its neighbours (the
  frames just before and after it in the adversarial sequence), beside the IoU of consecutive clean
  frames of the same probes;
* **frame detector** (the defender's view): the ROC AUC with which a classifier trained to tell real
  silhouettes from the generator's unoptimised frames, on training subjects only (rule
  ``train_frame_detector``, :mod:`gaitcore.training.detector`), ranks each altered frame above the
  natural frames at the same places (0.5: it cannot tell them apart; 1: it always can);
* **attack-trained detector** (the second judge): the same classifier trained against the attack's
  own frames on validation probes (rule ``train_attack_detector``,
  :mod:`gaitcore.experiments.attack_detector`), its AUC read the same way (``attack_detector_auc``);
* **sequence detector** (the defender's second view): the ROC AUC with which a sequence's largest
  temporal inconsistency (:func:`gaitcore.evaluation.imperceptibility.sequence_inconsistency`: one
  minus a frame's mean IoU with its neighbours; nothing fitted) ranks each adversarial sequence above
  the clean sequence of the same probes;
* **non-binary share**: the share of each altered frame's pixels that are neither 0 nor 255 (a
  sensor's silhouette is binary; the natural row shows what preprocessing leaves);
* **pixel change**: L0 (share of the 64x64 pixels whose value changed) and L2 (``||x* - x||_2`` on
  [0, 1] pixels) of each altered frame against the natural frame it stands for
  (:meth:`gaitcore.attacks.plan.FramePlan.start_frames`: the replaced frame for alteration, the
  nearest original neighbour for insertion, which is also where the baselines start).

The real frames are up to ``reference_frames`` frames drawn (seeded) from every frame of the attacked
probes' clean sequences, one set per dataset. Every (dataset, kind, goal, sparsity) also gets a
``natural`` row: the natural frames at the same places, measured the same way; its Frechet distance
is the floor at that number of frames (the distance has a positive bias that shrinks with the number
of frames) and its shape distances the sampling noise. The table also carries each setting's attack
result (nontargeted: rank-1 accuracy under attack, lower is stronger; targeted: success rate) from
:func:`gaitcore.evaluation.attack_accuracy.attack_accuracy`, averaged over conditions.

Uncertainty (:mod:`gaitcore.evaluation.uncertainty`): the attack result carries its 95 %
subject-level bootstrap interval (``attack_value_low``, ``attack_value_high``; fixed seed) of the
same estimator (per condition the mean over probe views of the mean over gallery views, then the
mean over conditions), with the ``probes`` and ``subjects`` behind it; the judge realism, a mean over
the altered frames, its interval with the frames of one subject resampled together
(``judge_realism_low``, ``judge_realism_high``); the detectors' AUCs their intervals with a subject's
altered and natural frames (sequences) resampled together (``detector_auc_low``, ``detector_auc_high``,
``sequence_auc_low``, ``sequence_auc_high``; :func:`gaitcore.evaluation.uncertainty.auc_interval`).
The distribution distances (Fréchet,
Wasserstein) get none.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gaitcore.attacks.plan import FramePlan
from gaitcore.attacks.records import PROBE_KEY, load_attacks, read_attack_frames, read_attack_table
from gaitcore.attacks.vocabulary import KINDS, METHODS, sparsity_value
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import (
    NATURAL,
    ROW_SETTINGS,
    attack_accuracy,
    counted_gallery_views,
    gallery_hits,
    paired_scores,
)
from gaitcore.evaluation.frechet import (
    features_frechet_distance,
    gaitset_frame_features,
)
from gaitcore.evaluation.imperceptibility import (
    consecutive_iou,
    neighbour_iou,
    non_binary,
    pixel_change,
    sequence_inconsistency,
    shape_statistics,
    wasserstein_1d,
)
from gaitcore.evaluation.rank1 import MEAN_ROW
from gaitcore.evaluation.uncertainty import Interval, auc_interval, block_columns, subject_bootstrap, view_columns
from gaitcore.models.detector import load_detector
from gaitcore.models.gaitset import load_gaitset, silhouettes_to_input
from gaitcore.models.wgan import load_wgan, store_to_gan
from gaitcore.reporting.attack_tables import INTERVAL_NOTE, with_interval
from gaitcore.reporting.perturbation_figures import (
    CONTEXT,
    METHOD_LABELS,
    fig6_perturbation_comparison,
    fig7_examples,
)
from gaitcore.utils.device import resolve_device
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

GROUP = ["dataset", "kind", "goal", "setting", "sparsity"]
# The adversary's judge realism minus a setting's, paired on shared probes (points): the imperceptibility finding.
GAIN_COLUMNS = ["realism_gain", "realism_gain_low", "realism_gain_high", "realism_gain_probes",
                "realism_gain_subjects"]
ADVERSARY = "adversary"
COLUMNS = [*GROUP, "frames", "attack_metric", "attack_value", "attack_value_low", "attack_value_high", "probes",
           "subjects", "judge_realism", "judge_realism_low", "judge_realism_high", "detector_auc",
           "detector_auc_low", "detector_auc_high", "attack_detector_auc", "attack_detector_auc_low",
           "attack_detector_auc_high", "sequence_auc", "sequence_auc_low", "sequence_auc_high",
           "frechet_distance", "area_w1", "width_w1", "height_w1",
           "neighbour_iou", "clean_neighbour_iou", "non_binary", "l0", "l2"]
# Which way is better, per measured column (the natural row is the reference, never marked); a
# detector's AUC is best at chance (0.5): below it the detector is fooled the other way round.
HIGHER_BETTER = {"judge_realism": True, "detector_auc": False, "attack_detector_auc": False, "sequence_auc": False,
                 "frechet_distance": False,
                 "area_w1": False, "width_w1": False, "height_w1": False, "neighbour_iou": True, "non_binary": False,
                 "l0": False, "l2": False}
# Columns judged by their distance to this value (smaller is better).
BEST_AT = {"detector_auc": 0.5, "attack_detector_auc": 0.5, "sequence_auc": 0.5}
OUTPUT_NAMES = ("imperceptibility_csv", "imperceptibility_md", "fig6", "fig7")


# ---------------------------------------------------------------------------------------- collection
@dataclass
class FrameSet:
    """The altered (or natural) frames of one setting and their per-frame measures."""

    frames: list[np.ndarray] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)  # the subject of each probe's frames
    keys: list[tuple] = field(default_factory=list)  # the probe key (PROBE_KEY) of each probe's frames
    natural: list[np.ndarray] = field(default_factory=list)
    neighbour_iou: list[np.ndarray] = field(default_factory=list)
    clean_iou: list[np.ndarray] = field(default_factory=list)
    sequence_scores: list[float] = field(default_factory=list)  # the sequence detector's, per probe

    def stacked(self) -> np.ndarray:
        return np.concatenate(self.frames) if self.frames else np.empty((0, 64, 64), np.uint8)

    def frame_subjects(self) -> np.ndarray:
        """The subject of each frame of :meth:`stacked`."""
        return np.repeat(np.asarray(self.subjects, dtype=object), [len(f) for f in self.frames])


def _store_rows(store: FrameStore) -> dict[tuple, int]:
    index = store.index
    keys = zip(index["dataset"], index["subject"], index["condition"], index["seq"].astype(int),
               index["view"].astype(int))
    return {key: int(row) for key, row in zip(keys, index.index)}


def collect_frames(rows: pd.DataFrame,
                   stores: Mapping[str, FrameStore]) -> tuple[dict[tuple, FrameSet], dict[str, list[int]]]:
    """Altered frames per setting and natural frames per (dataset, kind, goal, sparsity).

    ``rows``: :func:`gaitcore.attacks.records.load_attacks`'s rows, all or some (their ``_file``
    column names each job's table, its ``.npz`` beside it, and ``_row`` the row's place there).
    Returns ``{group key: FrameSet}`` (group keys as :data:`GROUP`; natural sets have setting
    ``"natural"``) and the store rows of the attacked probes per dataset.
    """
    sets: dict[tuple, FrameSet] = defaultdict(FrameSet)
    probes: dict[str, dict[int, None]] = defaultdict(dict)
    seen_natural: set[tuple] = set()
    lookups = {name: _store_rows(store) for name, store in stores.items()}
    for path, of_file in rows.groupby("_file", sort=False):
        frames, offsets, _ = read_attack_frames(Path(path).with_suffix(".npz"))
        if int(of_file["_row"].max()) >= len(offsets) - 1:
            raise DataError(Path(path).with_suffix(".npz"), f"holds frames of {len(offsets) - 1} probes, its table "
                            f"more", "rerun the attack job (delete both files first)")
        for _, row in of_file.iterrows():
            i = int(row["_row"])
            dataset = row["dataset"]
            if dataset not in stores:
                raise ValueError(f"{path}: attacks {dataset}, but no store of it was given")
            key = (dataset, row["subject"], row["condition"], int(row["seq"]), int(row["view"]))
            if key not in lookups[dataset]:
                raise DataError(stores[dataset].root, f"has no sequence {key} attacked in {path}",
                                "rerun the attack jobs against this store")
            store_row = lookups[dataset][key]
            probes[dataset][store_row] = None
            clean = np.asarray(stores[dataset].sequence(store_row))
            plan = FramePlan.from_positions(row["kind"], len(clean), np.asarray(row["positions"], dtype=np.int64))
            altered = frames[offsets[i] : offsets[i + 1]]
            adversarial = plan.assemble(clean, altered)
            natural = plan.start_frames(clean)
            group = (dataset, row["kind"], row["goal"], row["setting"], row["sparsity"])
            entry = sets[group]
            entry.frames.append(altered)
            entry.subjects.append(str(row["subject"]))
            entry.keys.append(key)
            entry.natural.append(natural)
            entry.neighbour_iou.append(neighbour_iou(adversarial, plan.generated))
            entry.clean_iou.append(consecutive_iou(clean))
            entry.sequence_scores.append(sequence_inconsistency(adversarial))
            natural_group = (dataset, row["kind"], row["goal"], NATURAL, row["sparsity"])
            if (natural_group, *key) not in seen_natural:  # each probe once, whatever the settings
                seen_natural.add((natural_group, *key))
                reference = sets[natural_group]
                reference.frames.append(natural)
                reference.subjects.append(str(row["subject"]))
                reference.keys.append(key)
                reference.natural.append(natural)
                reference.neighbour_iou.append(neighbour_iou(clean, _natural_places(plan)))
                reference.clean_iou.append(consecutive_iou(clean))
                reference.sequence_scores.append(sequence_inconsistency(clean))
    return dict(sets), {d: list(rows_) for d, rows_ in probes.items()}


def _natural_places(plan: FramePlan) -> np.ndarray:
    """Places in the clean sequence of the natural frames that :meth:`FramePlan.start_frames` returns."""
    if plan.kind == "alteration":
        return plan.generated
    neighbours = plan.neighbours()
    return np.where(neighbours[:, 1] >= 0, neighbours[:, 1], neighbours[:, 0])


def reference_frames(store: FrameStore, store_rows: Sequence[int], count: int, seed: int) -> np.ndarray:
    """Up to ``count`` real frames drawn uniformly without replacement from the given sequences (seeded)."""
    frames = np.concatenate([np.asarray(store.sequence(r)) for r in sorted(store_rows)])
    if len(frames) > count:
        frames = frames[np.sort(np.random.default_rng(seed).choice(len(frames), size=count, replace=False))]
    return frames


# ---------------------------------------------------------------------------------------- table
def shared_probes(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` restricted, per (dataset, kind, goal, sparsity, condition), to the probes every setting
    attacked: settings run at different probe budgets (attack.subjects_per_view) are compared on the
    probes they share (the smaller budget's, which the larger one's contain)."""
    group = ["dataset", "kind", "goal", "sparsity", "condition"]
    settings = rows.groupby(group)["setting"].transform("nunique")
    per_probe = rows.groupby(list(dict.fromkeys([*group, *PROBE_KEY])))["setting"].transform("nunique")
    return rows[per_probe == settings].reset_index(drop=True)


def _attack_values(long: pd.DataFrame) -> dict[tuple, tuple[str, float]]:
    """``{group key: (metric, value)}``: each setting's condition-mean result averaged over conditions."""
    means = long[long["probe_view"] == MEAN_ROW]
    out = {}
    for (dataset, kind, goal, setting, sparsity, metric), rows in means.groupby(
            ["dataset", "kind", "goal", "setting", "sparsity", "metric"], sort=False):
        out[(dataset, kind, goal, setting, sparsity)] = (metric, float(rows["value"].mean()))
    return out


def condition_mean_interval(rows: pd.DataFrame, meta: Mapping, *, truth_column: str = "subject",
                            clean: bool = False) -> Interval:
    """The mean over conditions of ``rows``' condition-mean result (one dataset, one setting) with its
    subject-level bootstrap interval.

    Per condition the estimator is :func:`attack_accuracy`'s ``"mean"`` row (the mean over probe
    views of the mean over the counted gallery views of the share of probes whose nearest subject is
    ``truth_column``; ``clean``: before the attack), laid out by
    :func:`gaitcore.evaluation.uncertainty.view_columns`; the conditions' blocks of columns weigh
    equally, as :func:`_attack_values` averages them. ``rows``: the probes of the cell, each once.
    """
    views = np.asarray(meta["gallery_views"])
    blocks = []
    for _, of_condition in rows.groupby("condition", sort=False):
        of_condition = of_condition.reset_index(drop=True)
        truth = of_condition[truth_column].astype(str).to_numpy(dtype=object)
        hits = gallery_hits(of_condition, views, "clean_" if clean else "", truth)
        probe_views = of_condition["view"].to_numpy().astype(int)
        used = counted_gallery_views(hits, probe_views, views, meta["exclude_identical_view"])
        counted = np.isin(probe_views, list(used))
        if counted.any():
            values, weights = view_columns(100.0 * hits[counted], probe_views[counted], used)
            blocks.append((values, weights, of_condition["subject"].astype(str).to_numpy(dtype=object)[counted]))
    if not blocks:
        return Interval(float("nan"), float("nan"), float("nan"), 0, 0)
    values, weights = block_columns([(values, weights) for values, weights, _ in blocks])
    return subject_bootstrap(values, np.concatenate([s for _, _, s in blocks]), weights=weights)


def _attack_intervals(rows: pd.DataFrame, metas: Mapping[str, Mapping]) -> dict[tuple, Interval]:
    """``{group key: interval}`` of each setting's result (:func:`condition_mean_interval`) and of the
    natural rows (key with goal ``"none"``: the clean probes of every goal and setting of a (dataset,
    kind, sparsity), each once, as :func:`attack_accuracy` counts them)."""
    out = {}
    for (dataset, kind, goal, setting, sparsity), attacked in rows.groupby(GROUP, sort=False):
        out[(dataset, kind, goal, setting, sparsity)] = condition_mean_interval(
            attacked, metas[dataset], truth_column="target" if goal == "targeted" else "subject")
    for (dataset, kind, sparsity), of_kind in rows.groupby(["dataset", "kind", "sparsity"], sort=False):
        out[(dataset, kind, "none", NATURAL, sparsity)] = condition_mean_interval(
            of_kind.drop_duplicates(PROBE_KEY), metas[dataset], clean=True)
    return out


@torch.no_grad()
def _judge_realism(realism: torch.nn.Module, frames: np.ndarray, device: torch.device, batch: int = 256) -> np.ndarray:
    out = [torch.sigmoid(realism.logits(store_to_gan(chunk, device))).float().cpu()
           for chunk in np.array_split(frames, max(1, -(-len(frames) // batch)))]
    return torch.cat(out).numpy().ravel()


def imperceptibility_table(
    paths: Sequence[str | Path],
    store_roots: Mapping[str, str | Path],
    gaitset_weights: str | Path,
    judge_weights: str | Path,
    detector_weights: str | Path,
    *,
    attack_detector_weights: str | Path | None = None,
    reference_count: int = 2000,
    seed: int = 0,
    device: str = "cpu",
) -> pd.DataFrame:
    """The imperceptibility table (columns :data:`COLUMNS`, then :data:`GAIN_COLUMNS`) of the attack jobs'
    tables ``paths``.

    ``store_roots``: the store of each attacked dataset; ``judge_weights``: the independent WGAN-GP
    (``train_judge_critic``), whose calibrated critic is the realism judge; ``detector_weights``: the
    frame detector (``train_frame_detector``); ``attack_detector_weights``: the second judge
    (``train_attack_detector``; None: its columns stay empty). One row per setting and one ``natural`` row per
    (dataset, kind, goal, sparsity); see the module docstring.
    """
    dev = resolve_device(device)
    rows, metas = load_attacks(paths)
    rows = shared_probes(rows)
    long = attack_accuracy(rows, metas)
    results = _attack_values(long)
    intervals = _attack_intervals(rows, metas)
    stores = {name: FrameStore(root) for name, root in store_roots.items()}
    sets, probes = collect_frames(rows, stores)
    gaitset, _ = load_gaitset(gaitset_weights, map_location=dev)
    gaitset.eval()
    judge = load_wgan(judge_weights, map_location=dev).realism.eval()
    detectors = {"detector_auc": detector_weights, "attack_detector_auc": attack_detector_weights}
    logits = {}
    for column, weights in detectors.items():
        if weights is not None:
            detector, _ = load_detector(weights, map_location=dev)
            logits[column] = {group: detector.score(entry.stacked(), dev) for group, entry in sets.items()}

    def features(frames: np.ndarray) -> np.ndarray:
        return gaitset_frame_features(gaitset, silhouettes_to_input(frames, dev))

    real = {d: reference_frames(stores[d], r, reference_count, seed) for d, r in probes.items()}
    real_features = {d: features(f) for d, f in real.items()}
    real_shapes = {d: shape_statistics(f) for d, f in real.items()}
    for dataset, frames in real.items():
        log.info("%s: %d real reference frames; judge realism of them %.3f", dataset, len(frames),
                 float(_judge_realism(judge, frames, dev).mean()))
    records = []
    probe_realism: dict[tuple, pd.Series] = {}
    for group in sorted(sets, key=_group_order):
        entry = sets[group]
        frames = entry.stacked()
        dataset, kind, goal, setting, sparsity = group
        l0, l2 = pixel_change(frames, np.concatenate(entry.natural))
        shapes = shape_statistics(frames)
        metric, value = results.get(group, ("rank1" if goal == "nontargeted" else "success", float("nan")))
        interval = intervals.get(group)
        if setting == NATURAL:
            natural = (dataset, kind, "none", NATURAL, sparsity)
            metric, value = results.get(natural, ("rank1", float("nan")))
            interval = intervals.get(natural)
            if goal == "targeted":
                value, interval = float("nan"), None  # no success rate without an attack
        interval = interval or Interval(float("nan"), float("nan"), float("nan"), 0, 0)
        realism = _judge_realism(judge, frames, dev)
        realism_interval = subject_bootstrap(realism, entry.frame_subjects())
        natural_group = (dataset, kind, goal, NATURAL, sparsity)
        detected = {column: auc_interval(scores[natural_group], sets[natural_group].frame_subjects(), scores[group],
                                         entry.frame_subjects(), seed=seed) for column, scores in logits.items()}
        sequences = auc_interval(sets[natural_group].sequence_scores, sets[natural_group].subjects,
                                 entry.sequence_scores, entry.subjects, seed=seed)
        bounds = np.cumsum([0, *(len(f) for f in entry.frames)])
        probe_realism[group] = pd.Series(
            [100.0 * float(realism[a:b].mean()) for a, b in zip(bounds[:-1], bounds[1:])],
            index=pd.MultiIndex.from_tuples(entry.keys, names=PROBE_KEY))
        records.append({
            "dataset": dataset, "kind": kind, "goal": goal, "setting": setting, "sparsity": sparsity,
            "frames": len(frames), "attack_metric": metric, "attack_value": value,
            "attack_value_low": interval.low, "attack_value_high": interval.high, "probes": interval.n_probes,
            "subjects": interval.n_subjects, "judge_realism": float(realism.mean()),
            "judge_realism_low": realism_interval.low, "judge_realism_high": realism_interval.high,
            **{f"{column}{end}": getattr(interval, field) for column, interval in detected.items()
               for end, field in (("", "estimate"), ("_low", "low"), ("_high", "high"))},
            "sequence_auc": sequences.estimate, "sequence_auc_low": sequences.low,
            "sequence_auc_high": sequences.high,
            "frechet_distance": features_frechet_distance(features(frames), real_features[dataset])
            if len(frames) >= 2 else float("nan"),
            **{f"{name}_w1": wasserstein_1d(shapes[name], real_shapes[dataset][name])
               for name in ("area", "width", "height")},
            "neighbour_iou": float(np.nanmean(np.concatenate(entry.neighbour_iou))),
            "clean_neighbour_iou": float(np.mean(np.concatenate(entry.clean_iou))),
            "non_binary": float(non_binary(frames).mean()),
            "l0": float(l0.mean()), "l2": float(l2.mean()),
        })
        log.info("%s: %d frames, realism %.3f, detector AUC %.3f, FD %.3f, IoU %.3f, L0 %.3f", "/".join(group),
                 len(frames), records[-1]["judge_realism"], records[-1]["detector_auc"],
                 records[-1]["frechet_distance"], records[-1]["neighbour_iou"], records[-1]["l0"])
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    return _add_realism_gain(table, probe_realism)


def _add_realism_gain(table: pd.DataFrame, probe_realism: Mapping[tuple, pd.Series]) -> pd.DataFrame:
    """Per non-adversary setting row: the adversary's judge realism minus this setting's, in points,
    paired on the probes both attacked (each probe's mean over its frames), with its subject-level
    interval and the probes and subjects behind it (the imperceptibility finding, docs/findings.md)."""
    gains = {column: [] for column in GAIN_COLUMNS}
    for row in table.itertuples(index=False):
        adversary = (row.dataset, row.kind, row.goal, ADVERSARY, row.sparsity)
        own = (row.dataset, row.kind, row.goal, row.setting, row.sparsity)
        if row.setting in (ADVERSARY, NATURAL) or adversary not in probe_realism:
            interval = Interval(float("nan"), float("nan"), float("nan"), 0, 0)
        else:
            interval = paired_scores(probe_realism[adversary], probe_realism[own])
        for column, value in zip(GAIN_COLUMNS, (interval.estimate, interval.low, interval.high,
                                                interval.n_probes, interval.n_subjects)):
            gains[column].append(value)
    return table.assign(**gains)


def _group_order(group: tuple) -> tuple:
    dataset, kind, goal, setting, sparsity = group
    order = (*ROW_SETTINGS, *METHODS)
    base = setting.partition("+")[0]
    return (dataset, KINDS.index(kind) if kind in KINDS else 9, goal, sparsity_value(sparsity),
            order.index(base) if base in order else len(order), setting)


def best_rows(table: pd.DataFrame) -> dict[str, set[int]]:
    """Per measured column (and ``attack_value``), the row labels of the best attack setting in each
    (dataset, kind, goal, sparsity); natural rows are references and never best."""
    best: dict[str, set[int]] = defaultdict(set)
    attacks = table[table["setting"] != NATURAL]
    for _, group in attacks.groupby(["dataset", "kind", "goal", "sparsity"], sort=False):
        directions = {**HIGHER_BETTER, "attack_value": (group["attack_metric"] == "success").all()}
        for column, higher in directions.items():
            values = group[column].astype(float)
            if column in BEST_AT:
                values = (values - BEST_AT[column]).abs()
            if values.notna().any():
                target = values.max() if higher else values.min()
                best[column] |= set(values.index[np.isclose(values, target, rtol=1e-9, atol=1e-12)])
    return best


# Shown as ``value [low, high]``.
INTERVAL_COLUMNS = ("attack_value", "judge_realism", "detector_auc", "attack_detector_auc", "sequence_auc")


def _format(column: str, value: object, row: pd.Series | None = None) -> str:
    if not isinstance(value, float):
        return str(value)
    if np.isnan(value):
        return ""
    if column == "frechet_distance":
        return f"{value:.4g}"  # its scale is that of the GaitSet features
    digits = 2 if column == "attack_value" or column.endswith("_w1") else 3
    if row is not None and column in INTERVAL_COLUMNS:
        return with_interval(value, row[f"{column}_low"], row[f"{column}_high"], digits)
    return f"{value:.{digits}f}"


def imperceptibility_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, one section per (dataset, kind, goal); the best attack per column and sparsity in bold."""
    if table.empty:
        return "No attack results.\n"
    best = best_rows(table)
    columns = ["sparsity", "setting", "frames", "attack_value", "probes", "subjects", *HIGHER_BETTER,
               "clean_neighbour_iou"]
    arrows = {c: f" →{BEST_AT[c]:g}" if c in BEST_AT else " ↑" if up else " ↓" for c, up in HIGHER_BETTER.items()}
    parts = []
    for (dataset, kind, goal), block in table.groupby(["dataset", "kind", "goal"], sort=False):
        what = "rank-1 % ↓" if goal == "nontargeted" else "success % ↑"
        head = [("attack " + what) if c == "attack_value" else c + arrows.get(c, "") for c in columns]
        lines = [f"### {dataset}: frame-{kind}, {goal}", "", "| " + " | ".join(head) + " |",
                 "|---|---|" + "---:|" * (len(columns) - 2)]
        counted = block["probes"] > 0
        for label, row in block.iterrows():
            cells = []
            for c in columns:
                value = row[c]
                text = "" if c in ("probes", "subjects") and not counted[label] else _format(c, value, row)
                cells.append(f"**{text}**" if label in best.get(c, ()) else text)
            lines.append("| " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    note = ("natural: the natural frames at the same places (the reference; its frechet_distance is the floor at "
            "that number of frames). ↑/↓: higher/lower is better, →0.5: closest to 0.5 is; bold: the best attack "
            "setting per sparsity. "
            f"{INTERVAL_NOTE}: of the attack result (probes, subjects: those behind it; averaged over conditions), "
            "of the judge realism and of the frame detectors' (trained against G(z), attack_detector against the "
            "attack's own validation frames) and the sequence detector's ROC AUCs against the natural frames and "
            "the clean sequences of the same probes (a subject's frames or sequences resampled together). "
            "sequence_auc: a sequence's largest temporal inconsistency (one minus a frame's mean IoU with its "
            "neighbours) as its score. non_binary: the share of pixels neither 0 nor 255.\n")
    return "\n\n".join(parts) + "\n\n" + note


def compare_perturbations(
    paths: Sequence[str | Path],
    store_roots: Mapping[str, str | Path],
    gaitset_weights: str | Path,
    judge_weights: str | Path,
    detector_weights: str | Path,
    out: Mapping[str, str | Path],
    *,
    attack_detector_weights: str | Path | None = None,
    figure_sparsity: str = "1/40",
    dataset: str = "casia_b",
    reference_count: int = 2000,
    seed: int = 0,
    device: str = "cpu",
) -> pd.DataFrame:
    """Write the imperceptibility table (``imperceptibility_csv``/``_md``) and He et al.'s Fig. 6 and Fig. 7.

    ``out`` names outputs of :data:`OUTPUT_NAMES`. Fig. 6: nontargeted frame-alteration accuracy
    of the baselines and the attack at ``figure_sparsity``; Fig. 7: one probe's natural frames and
    each method's altered frames (:mod:`gaitcore.reporting.perturbation_figures`).
    """
    unknown = sorted(set(out) - set(OUTPUT_NAMES))
    if unknown:
        raise ValueError(f"unknown output names {unknown}; use {OUTPUT_NAMES}")
    table = imperceptibility_table(paths, store_roots, gaitset_weights, judge_weights, detector_weights,
                                   attack_detector_weights=attack_detector_weights, reference_count=reference_count,
                                   seed=seed, device=device)
    if "imperceptibility_csv" in out:
        write_table(table, out["imperceptibility_csv"], out.get("imperceptibility_md"),
                    markdown=imperceptibility_markdown(table))
    if "fig6" in out:
        fig6_perturbation_comparison(attack_accuracy(*load_attacks(paths)), out["fig6"], sparsity=figure_sparsity,
                                     dataset=dataset)
    if "fig7" in out:
        fig7_examples(example_frames(paths, FrameStore(store_roots[dataset]), sparsity=figure_sparsity), out["fig7"],
                      sparsity=figure_sparsity, dataset=dataset)
    return table


__all__ = ["compare_perturbations", "imperceptibility_markdown", "imperceptibility_table"]


def example_frames(paths: Sequence[str | Path], store: FrameStore, *, sparsity: str, kind: str = "alteration",
                   goal: str = "nontargeted", condition: str = "nm", view: int = 90) -> list[tuple[str, np.ndarray]]:
    """``[(label, uint8 frames)]`` of Fig. 7 for one probe: natural, then each method present.

    The probe is the first (sorted by subject and sequence) that every method attacked at probe
    ``view`` of the ``condition`` job at ``sparsity`` (else at its smallest view; else of the first
    job of any condition); the frames are those at the altered places and the next :data:`CONTEXT`
    natural frames.
    """
    label = sparsity.replace("/", "-")
    jobs = {}
    for path in map(Path, paths):
        mode = f"{kind}_{goal}_"
        if (path.parent.name == label and path.parent.parent.name.startswith(mode)
                and "+" not in path.parent.parent.name):
            jobs.setdefault(path.name, {})[path.parent.parent.name[len(mode):]] = path
    wanted = f"{condition}.parquet"
    names = [wanted] if wanted in jobs else sorted(jobs)
    if not names:
        return []
    methods = jobs[names[0]]
    tables = {setting: read_attack_table(path)[0] for setting, path in methods.items()}
    keys = ["subject", "seq", "view"]
    table = next(iter(tables.values()))[keys]
    for other in tables.values():  # a probe every method attacked (budgets differ: docs/attack.md)
        table = table.merge(other[keys], on=keys)
    table = table.assign(condition=next(iter(tables.values()))["condition"].iloc[0])
    at_view = table[table["view"] == view]
    probe = (at_view if len(at_view) else table).sort_values(["view", "subject", "seq"]).iloc[0]
    rows = store.select(subjects=[probe["subject"]], conditions=[probe["condition"]], seqs=[int(probe["seq"])],
                        views=[int(probe["view"])])
    clean = np.asarray(store.sequence(int(rows.index[0])))
    out: list[tuple[str, np.ndarray]] = []
    for setting in METHOD_LABELS:
        if setting == NATURAL:
            continue
        if setting not in methods:
            continue
        rows_ = tables[setting]
        match = rows_.index[(rows_["subject"] == probe["subject"]) & (rows_["seq"] == probe["seq"])
                            & (rows_["view"] == probe["view"])]
        frames, offsets, _ = read_attack_frames(methods[setting].with_suffix(".npz"))
        i = int(match[0])
        plan = FramePlan.from_positions(kind, len(clean), np.asarray(rows_.at[i, "positions"], dtype=np.int64))
        sequence = plan.assemble(clean, frames[offsets[i] : offsets[i + 1]])
        shown = np.concatenate([plan.generated, np.arange(plan.generated[-1] + 1, plan.generated[-1] + 1 + CONTEXT)])
        shown = shown[shown < len(sequence)]
        if not out:
            natural = plan.start_frames(clean)
            tail = sequence[shown[plan.k :]]
            out.append((f"{METHOD_LABELS[NATURAL]} ({probe['subject']}-{probe['condition']}-{int(probe['seq']):02d}-"
                        f"{int(probe['view']):03d})", np.concatenate([natural, tail])))
        out.append((METHOD_LABELS[setting], sequence[shown]))
    return out
