"""GaitSet's rank-1 accuracy on the validation subjects: along its training (the validation curve)
and for candidate training recipes against the victim's (the recipe comparison).

The victim's iteration count is set by the compute budget, not by its accuracy; whether training
had levelled off is read here on the validation subjects (config ``subjects.casia_b.validation``),
never on the test subjects. Rule ``gaitset_validation`` evaluates the weights ``train_gaitset``
kept at ``gaitset.train.snapshots`` and the final weights on the validation subjects' protocol
(gallery nm-01..04, probe sets NM, BG, CL, the identical view left out: He et al. Table 1 on other
subjects) and writes, per iteration and condition, the mean rank-1 over probe views with its 95 %
subject-level bootstrap interval, probes and subjects (``results/tables/gaitset_validation``).
Because the validation gallery holds fewer subjects (12 against 50 by default), the values read
higher than the test set's; the curve's shape is what tells (docs/knobs.md).

Rule ``gaitset_recipes`` scores GaitSets trained with other recipes (``gaitset.recipes``: overrides
of the training settings) on the same validation probes as the victim, and gives per condition each
recipe's mean rank-1 with its interval and its paired difference from the victim's, in points
(``results/tables/gaitset_recipes``): a recipe is judged on validation subjects only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gaitcore.data.layout import CASIA_B, VALIDATION_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import counted_gallery_views
from gaitcore.evaluation.features import extract_features, feature_index, read_features
from gaitcore.evaluation.protocols import protocol_for
from gaitcore.evaluation.rank1 import MEAN_ROW, evaluate_rank1, rank1_hits
from gaitcore.evaluation.uncertainty import Interval, paired_difference, subject_bootstrap, view_columns
from gaitcore.models.gaitset import load_gaitset
from gaitcore.models.victims import in_channels_last
from gaitcore.training.config import check_trained_with
from gaitcore.utils.device import resolve_device
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

COLUMNS = ["iteration", "condition", "rank1", "ci_low", "ci_high", "probes", "subjects"]
RECIPE_COLUMNS = ["recipe", "condition", "rank1", "ci_low", "ci_high", "probes", "subjects", "difference",
                  "difference_low", "difference_high"]
REFERENCE = "default"  # the victim's own recipe (gaitset.train), the one the candidates are compared with


class _ValidationSet:
    """The validation subjects' sequences of a CASIA-B store and their protocol; scores weights on them."""

    def __init__(self, store_root: str | Path, validation_subjects: tuple[int, int], device: str,
                 frame_chunk: int, channels_last: bool = True) -> None:
        self.device, self.frame_chunk, self.channels_last = resolve_device(device), frame_chunk, channels_last
        self.store = FrameStore(store_root)
        if self.store.dataset != CASIA_B:
            raise DataError(self.store.root, f"holds {self.store.dataset}; GaitSet's validation reads CASIA-B",
                            "point the rule at the CASIA-B store")
        self.protocol = protocol_for(CASIA_B, validation_subjects)
        self.rows = self.protocol.sequences(self.store.index)
        if self.rows.empty:
            raise DataError(self.store.root, f"has no sequence of the validation subjects {validation_subjects}",
                            "check subjects.casia_b.validation against the store's subjects")
        self.index = feature_index(self.rows)

    def features(self, weights: str | Path) -> tuple[np.ndarray, dict]:
        """The features of every validation sequence under ``weights``, and the weights' ``extra``."""
        model, extra = load_gaitset(weights, map_location=self.device)
        model = in_channels_last(model, self.channels_last)  # as rule extract_features: 1.8x on CPU
        with torch.no_grad():
            return extract_features(model, self.store, self.rows, device=self.device,
                                    frame_chunk=self.frame_chunk), extra

    def stored_features(self, weights: str | Path, array_path: str | Path,
                        index_path: str | Path) -> tuple[np.ndarray, dict]:
        """As :meth:`features`, read from the features rule ``extract_features`` stored for ``weights``
        (they hold the validation sequences too) instead of extracted again."""
        model, extra = load_gaitset(weights, map_location="cpu")
        features, index, meta = read_features(array_path, index_path)
        fix = "rerun rule extract_features with these weights"
        if (meta.get("iterations"), meta.get("model")) != (extra.get("iterations"), model.config()):
            raise DataError(Path(index_path), f"holds the features of other weights than {weights} (iteration "
                            f"{meta.get('iterations')} against {extra.get('iterations')})", fix)
        feature_rows = index.set_index("store_row")["feature_row"]
        missing = self.rows.index.difference(feature_rows.index)
        if len(missing):
            raise DataError(Path(index_path), f"lacks {len(missing)} validation sequences of the store", fix)
        return np.asarray(features[feature_rows.loc[self.rows.index].to_numpy()]), extra


def validation_curve(weights: Sequence[str | Path], store_root: str | Path, *,
                     validation_subjects: tuple[int, int] = VALIDATION_SUBJECTS, metric: str = "euclidean",
                     device: str = "auto", frame_chunk: int = 64, channels_last: bool = True,
                     final_features: tuple[str | Path, str | Path] | None = None) -> pd.DataFrame:
    """One row per (weights file, condition): the iteration the weights are at (their ``extra``), and
    the validation subjects' mean rank-1 over probe views with its interval; sorted by iteration, then
    in the protocol's order of probe sets. ``final_features``: the stored features (array, index) of
    the last ``weights`` (rule ``extract_features``), read rather than extracted a second time."""
    validation = _ValidationSet(store_root, validation_subjects, device, frame_chunk, channels_last)
    protocol = validation.protocol
    out = []
    for n, path in enumerate(weights):
        if final_features is not None and n == len(weights) - 1:
            features, extra = validation.stored_features(path, *final_features)
        else:
            features, extra = validation.features(path)
        _, summary = evaluate_rank1(features, validation.index, protocol, metric)
        for row in summary[summary["probe_view"].astype(str) == MEAN_ROW].itertuples(index=False):
            out.append({"iteration": int(extra["iterations"]), "condition": row.condition, "rank1": row.rank1,
                        "ci_low": row.ci_low, "ci_high": row.ci_high, "probes": int(row.probes),
                        "subjects": int(row.subjects)})
        log.info("%s (iteration %s): validation rank-1 %s", path, extra.get("iterations"),
                 {r["condition"]: round(r["rank1"], 1) for r in out[-len(protocol.probes):]})
    # sorted by iteration; within one, the protocol's probe-set order (NM, BG, CL)
    return pd.DataFrame.from_records(out, columns=COLUMNS).sort_values("iteration", kind="stable").reset_index(
        drop=True)


def validation_curve_markdown(table: pd.DataFrame) -> str:
    """One row per iteration, a ``rank-1 [low, high]`` cell per condition."""
    conditions = list(dict.fromkeys(table["condition"]))
    lines = ["# GaitSet on the validation subjects along its training", "",
             "Mean rank-1 % over probe views (identical view left out) with its 95 % subject-level bootstrap "
             "interval; validation gallery and probes only (never a test subject).", "",
             "| iteration | " + " | ".join(c.upper() for c in conditions) + " | probes per condition | subjects |",
             "|---:|" + "---|" * len(conditions) + "---:|---:|"]
    for iteration, rows in table.groupby("iteration", sort=True):
        cells = {r.condition: f"{r.rank1:.1f} [{r.ci_low:.1f}, {r.ci_high:.1f}]" for r in rows.itertuples()}
        lines.append(f"| {iteration} | " + " | ".join(cells.get(c, "") for c in conditions)
                     + f" | {int(rows['probes'].iloc[0])} | {int(rows['subjects'].max())} |")
    return "\n".join(lines) + "\n"


def recipe_comparison(weights: Mapping[str, str | Path], store_root: str | Path, *,
                      recipes: Mapping[str, Mapping] | None = None,
                      validation_subjects: tuple[int, int] = VALIDATION_SUBJECTS, metric: str = "euclidean",
                      device: str = "auto", frame_chunk: int = 64, channels_last: bool = True) -> pd.DataFrame:
    """One row per (recipe, condition), columns :data:`RECIPE_COLUMNS`: ``weights`` maps each recipe
    to its weights, :data:`REFERENCE` (the victim's) first; the mean rank-1 over probe views of the
    validation probes with its interval and, for the candidates, the difference from the reference
    on the same probes with its paired subject-level interval. With ``recipes`` (each candidate's
    overrides) every candidate's weights must have been trained with its overrides."""
    if REFERENCE not in weights:
        raise ValueError(f"the recipe comparison needs the victim's weights under {REFERENCE!r}")
    validation = _ValidationSet(store_root, validation_subjects, device, frame_chunk, channels_last)
    protocol, views = validation.protocol, np.asarray(validation.protocol.views)
    hits = {}
    for recipe in [REFERENCE, *(r for r in weights if r != REFERENCE)]:
        features, extra = validation.features(weights[recipe])
        if recipes is not None and recipe != REFERENCE:
            check_trained_with(weights[recipe], recipe, recipes[recipe], extra.get("train_config", {}))
        probes, hits[recipe] = rank1_hits(features, validation.index, protocol, metric)
    out = []
    for condition, _ in protocol.probes:
        of_set = (probes["condition"] == condition).to_numpy()
        if not of_set.any():
            continue
        probe_views = probes["view"].to_numpy()[of_set]
        subjects = probes["subject"].astype(str).to_numpy(dtype=object)[of_set]
        reference = 100.0 * hits[REFERENCE][of_set]
        counted = counted_gallery_views(reference, probe_views, views, protocol.exclude_identical_view)
        keep = np.isin(probe_views, list(counted))
        laid_out = {}
        for recipe, recipe_hits in hits.items():
            laid_out[recipe], column_weights = view_columns(100.0 * recipe_hits[of_set][keep], probe_views[keep],
                                                            counted)
        for recipe, values in laid_out.items():
            value = subject_bootstrap(values, subjects[keep], weights=column_weights)
            change = (Interval(np.nan, np.nan, np.nan, 0, 0) if recipe == REFERENCE else
                      paired_difference(values, laid_out[REFERENCE], subjects[keep], weights=column_weights))
            out.append({"recipe": recipe, "condition": condition, "rank1": value.estimate, "ci_low": value.low,
                        "ci_high": value.high, "probes": value.n_probes, "subjects": value.n_subjects,
                        "difference": change.estimate, "difference_low": change.low, "difference_high": change.high})
    log.info("recipes on %d validation probes: %s", len(probes),
             {(r["recipe"], r["condition"]): round(r["rank1"], 1) for r in out})
    return pd.DataFrame.from_records(out, columns=RECIPE_COLUMNS)


def recipe_markdown(table: pd.DataFrame, recipes: Mapping[str, Mapping]) -> str:
    """Per recipe (its overrides of gaitset.train) and condition: rank-1 and the paired difference."""
    lines = ["# GaitSet's training recipe on the validation subjects", "",
             "Mean rank-1 % over probe views (identical view left out) of the validation probes, with its 95 % "
             f"subject-level bootstrap interval; difference: the recipe minus {REFERENCE!r} (gaitset.train) on the "
             "same probes, in points, with its paired interval. Never a test subject.", "",
             "| recipe | overrides | condition | rank-1 [95 % CI] | difference [95 % CI] | probes | subjects |",
             "|---|---|---|---|---|---:|---:|"]
    for row in table.itertuples(index=False):
        overrides = ", ".join(f"{k} {v}" for k, v in recipes.get(row.recipe, {}).items()) or "(gaitset.train)"
        difference = ("(reference)" if pd.isna(row.difference)
                      else f"{row.difference:+.1f} [{row.difference_low:+.1f}, {row.difference_high:+.1f}]")
        lines.append(f"| {row.recipe} | {overrides} | {str(row.condition).upper()} | {row.rank1:.1f} "
                     f"[{row.ci_low:.1f}, {row.ci_high:.1f}] | {difference} | {row.probes} | {row.subjects} |")
    return "\n".join(lines) + "\n"


def write_recipe_comparison(weights: Mapping[str, str | Path], recipes: Mapping[str, Mapping],
                            store_root: str | Path, csv_path: str | Path, md_path: str | Path,
                            **kwargs) -> pd.DataFrame:
    """Write :func:`recipe_comparison` as CSV and Markdown (atomically); ``recipes`` are the candidates'
    overrides, checked against each weights file and shown beside their rows. Returns the table."""
    table = recipe_comparison(weights, store_root, recipes=recipes, **kwargs)
    write_table(table, csv_path, md_path, markdown=recipe_markdown(table, recipes))
    return table


def write_validation_curve(weights: Sequence[str | Path], store_root: str | Path, csv_path: str | Path,
                           md_path: str | Path, **kwargs) -> pd.DataFrame:
    """Write :func:`validation_curve` as CSV and Markdown (atomically); returns it."""
    table = validation_curve(weights, store_root, **kwargs)
    write_table(table, csv_path, md_path, markdown=validation_curve_markdown(table))
    return table


__all__ = ["REFERENCE", "recipe_comparison", "recipe_markdown", "validation_curve", "validation_curve_markdown",
           "write_recipe_comparison", "write_validation_curve"]
