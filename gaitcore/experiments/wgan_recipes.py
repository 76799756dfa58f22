"""The generator's training recipe checked on the validation subjects (issue 23 item 3, rule K6 of
docs/knobs.md; beyond the paper, which trains one recipe for 16,000 iterations at width 64).

Candidate recipes (``wgan.recipes``: overrides of ``wgan.train`` and ``wgan.dim``, such as the width,
learning rates, batch size, critic steps, iterations and DiffAugment) are trained like the attack's
generator, each keeping snapshots at shares of its iterations (the checkpoint choice). Every
generator -- the default's final weights, each recipe's snapshots and final weights -- generates
``frames`` frames from the same latent codes, grey-level and thresholded to 0/255 (what the attack
emits with ``attack.binary_frames``), and is scored by its Fréchet distance to real frames of the
**validation** subjects over the floor (two disjoint halves of those frames), in the trained
GaitSet's frame features (:mod:`gaitcore.evaluation.frechet`). Intervals: 95 % percentile bootstrap
over the validation subjects and the generated frames, the same resamples for every generator, so
each difference from the default is paired. No test subject is read.

``compute``: a generator's training work relative to the default's,
``iterations x batch x (3 critic_steps + 2) x dim^2`` (forward and backward passes of frames
through networks whose cost grows with the square of the width), a measure that does not depend on
how busy the machine was; ``seconds``: the wall time its training recorded.

**Verdict (rule K6, stated before the first run):** a candidate (a recipe's snapshot or final
weights) is ``better`` when its binary frames' ratio minus the default's has a paired 95 % interval
entirely below zero and its compute is at most :data:`BUDGET` times the default's (``over budget``
otherwise, whatever its ratio); else ``not better``. The default changes to the ``better``
candidate with the lowest binary ratio, if any. The budget is the default's training time before
the resampling lever plus 10 %: 1.1 x :data:`RESAMPLING_SPEEDUP` times the default's compute
(amended on 2026-12-07, before any reading of the recipes: the lever made an iteration that much
faster, and the run's budget is its wall clock).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gaitcore.data.layout import VALIDATION_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.evaluation.frechet import frechet_ratios, gaitset_frame_features
from gaitcore.evaluation.uncertainty import N_RESAMPLES, SEED
from gaitcore.experiments.generator_quality import generated_frames
from gaitcore.models.gaitset import load_gaitset, silhouettes_to_input
from gaitcore.models.wgan import load_wgan
from gaitcore.training.config import check_trained_with
from gaitcore.training.sampler import subject_range
from gaitcore.training.wgan import FrameSampler, subject_rows
from gaitcore.utils.device import resolve_device
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

REFERENCE = "default"  # the attack's generator (wgan.train, wgan.dim)
# A WGAN-GP training iteration with gaitcore.models._resample against without it (one process, A/B;
# docs/measurements/2026-12-06-resampling.md).
RESAMPLING_SPEEDUP = 1.44
BUDGET = 1.1 * RESAMPLING_SPEEDUP  # most compute a candidate may use, relative to the default's
COLUMNS = ["recipe", "iteration", "final", "overrides", "compute", "seconds", "frames", "subjects",
           "grey_ratio", "grey_ratio_low", "grey_ratio_high", "binary_ratio", "binary_ratio_low", "binary_ratio_high",
           "binary_difference", "binary_difference_low", "binary_difference_high", "verdict"]


def training_compute(train_config: Mapping) -> float:
    """``iterations x batch x (3 critic_steps + 2) x dim^2`` of a recorded WGAN training config."""
    return float(train_config["iterations"] * train_config["batch_size"] * (3 * train_config["critic_steps"] + 2)
                 * train_config["dim"] ** 2)


def verdict(compute: float, difference_high: float, budget: float = BUDGET) -> str:
    """Rule K6 (module docstring) for one candidate: compute relative to the default's and the upper
    end of its paired interval of binary ratio minus the default's."""
    if compute > budget:
        return "over budget"
    return "better" if difference_high < 0 else "not better"


def recipe_generators(reference: str | Path, recipes: Mapping[str, Sequence[str | Path]]) -> list[tuple[str, Path]]:
    """``(recipe, weights)`` of every generator scored: the default's, then each recipe's files (its
    snapshots, then its final weights)."""
    out = [(REFERENCE, Path(reference))]
    for recipe, paths in recipes.items():
        if recipe == REFERENCE:
            raise ValueError(f"{REFERENCE!r} is the default's row; name the recipe otherwise")
        if not paths:
            raise ValueError(f"recipe {recipe!r} has no weights")
        out += [(recipe, Path(p)) for p in paths]
    return out


def recipe_comparison(reference: str | Path, recipes: Mapping[str, Sequence[str | Path]], store_root: str | Path,
                      gaitset_weights: str | Path, *, overrides: Mapping[str, Mapping] | None = None,
                      validation_subjects: tuple[int, int] = VALIDATION_SUBJECTS, frames: int = 2000,
                      seed: int = SEED, n_resamples: int = N_RESAMPLES, device: str = "cpu",
                      batch: int = 256) -> pd.DataFrame:
    """The table of the module docstring, columns :data:`COLUMNS`: ``reference`` is the default's
    weights, ``recipes`` maps each candidate recipe to its weights files (snapshots, then final) and
    ``overrides`` to its settings (checked against each file's recorded training config)."""
    overrides = dict(overrides or {})
    dev = resolve_device(device)
    gaitset, _ = load_gaitset(gaitset_weights, map_location=dev)
    store = FrameStore(store_root)
    rows = subject_rows(store, subject_range(*validation_subjects), "validation", "subjects.casia_b.validation")
    real, positions = FrameSampler(store, rows, seed=seed).draw(2 * frames)
    walkers = rows["subject"].astype(str).to_numpy(dtype=object)[positions]
    real_features = gaitset_frame_features(gaitset, silhouettes_to_input(real, dev), batch)
    generated, meta = {}, []
    for recipe, path in recipe_generators(reference, recipes):
        models = load_wgan(path, map_location=dev)
        trained = models.extra.get("train_config", {})
        if recipe != REFERENCE:
            check_trained_with(path, recipe, overrides.get(recipe, {}), trained)
        grey, binary = generated_frames(models.generator, frames, seed, dev, batch)
        key = f"{recipe}@{models.extra['iterations']}"
        generated[f"{key}/grey"] = gaitset_frame_features(gaitset, grey, batch)
        generated[f"{key}/binary"] = gaitset_frame_features(gaitset, binary, batch)
        trained_to = {**trained, "iterations": models.extra["iterations"]}
        meta.append((recipe, key, int(models.extra["iterations"]), path, trained_to,
                     float(models.extra.get("seconds", float("nan")))))
    ratios = frechet_ratios(real_features, walkers, generated, n_resamples=n_resamples, seed=seed)
    finals = {recipe: key for recipe, key, *_ in meta}  # the last file of each recipe is its final weights
    reference_key, reference_compute = finals[REFERENCE], training_compute(meta[0][4])
    records = []
    for recipe, key, iteration, path, trained, seconds in meta:
        grey, binary = ratios.interval(f"{key}/grey"), ratios.interval(f"{key}/binary")
        compute = training_compute(trained) / reference_compute
        if recipe == REFERENCE:
            difference, verdict_text = (np.nan, np.nan, np.nan), ""
        else:
            paired = ratios.interval(f"{key}/binary", minus=f"{reference_key}/binary")
            difference = (paired.estimate, paired.low, paired.high)
            verdict_text = verdict(compute, paired.high)
        records.append({
            "recipe": recipe, "iteration": iteration, "final": finals[recipe] == key,
            "overrides": json.dumps(dict(overrides.get(recipe, {})), sort_keys=True), "compute": compute,
            "seconds": seconds, "frames": ratios.frames, "subjects": ratios.subjects,
            "grey_ratio": grey.estimate, "grey_ratio_low": grey.low, "grey_ratio_high": grey.high,
            "binary_ratio": binary.estimate, "binary_ratio_low": binary.low, "binary_ratio_high": binary.high,
            "binary_difference": difference[0], "binary_difference_low": difference[1],
            "binary_difference_high": difference[2], "verdict": verdict_text,
        })
        log.info("%s: Frechet ratio grey %.1f, binary %.1f [%.1f, %.1f], compute %.2f %s", key, grey.estimate,
                 binary.estimate, binary.low, binary.high, compute, verdict_text)
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def chosen_recipe(table: pd.DataFrame) -> pd.Series | None:
    """The row rule K6 adopts: the ``better`` candidate with the lowest binary ratio, or None."""
    better = table[table["verdict"] == "better"]
    return None if better.empty else better.loc[better["binary_ratio"].idxmin()]


def recipe_markdown(table: pd.DataFrame) -> str:
    """Every generator's ratios, its paired difference from the default and its verdict, then the
    rule's outcome."""
    first = table.iloc[0]
    lines = ["# The generator's training recipe on the validation subjects (rule K6)", "",
             f"Fréchet distance to {first['frames']} real frames of the {first['subjects']} validation subjects over "
             "the floor (two disjoint halves of those frames), in GaitSet's frame features; generated frames from the "
             "same latent codes for every generator, grey-level and thresholded to 0/255 (what the attack emits). "
             "95 % bootstrap intervals over the validation subjects and generated frames; difference: binary ratio "
             f"minus the default's final one on the same resamples. Compute: training work relative to the default "
             f"(iterations x batch x (3 critic steps + 2) x width^2). Verdict (docs/knobs.md K6): better when the "
             f"difference's interval lies below 0 within {BUDGET:.2f}x the default's compute. Never a test "
             "subject.", "",
             "| recipe | overrides | iteration | compute | seconds | grey ratio [95 % CI] | binary ratio [95 % CI] "
             "| binary minus default [95 % CI] | verdict |",
             "|---|---|---:|---:|---:|---|---|---|---|"]
    for row in table.itertuples(index=False):
        overrides = ", ".join(f"{k} {v}" for k, v in json.loads(row.overrides).items()) or "(wgan.train)"
        difference = ("(reference)" if row.recipe == REFERENCE else
                      f"{row.binary_difference:+.1f} [{row.binary_difference_low:+.1f}, "
                      f"{row.binary_difference_high:+.1f}]")
        lines.append(f"| {row.recipe} | {overrides} | {row.iteration}{'' if row.final else ' (snapshot)'} | "
                     f"{row.compute:.2f} | {row.seconds:.0f} | {row.grey_ratio:.1f} [{row.grey_ratio_low:.1f}, "
                     f"{row.grey_ratio_high:.1f}] | {row.binary_ratio:.1f} [{row.binary_ratio_low:.1f}, "
                     f"{row.binary_ratio_high:.1f}] | {difference} | {row.verdict} |")
    chosen = chosen_recipe(table)
    lines += ["", "Rule K6: " + ("no candidate is better within the budget; the default stays." if chosen is None else
                                 f"adopt {chosen['recipe']} at iteration {chosen['iteration']} (binary ratio "
                                 f"{chosen['binary_ratio']:.1f} against the default's "
                                 f"{table.iloc[0]['binary_ratio']:.1f}).")]
    return "\n".join(lines) + "\n"


def write_recipe_comparison(reference: str | Path, recipes: Mapping[str, Sequence[str | Path]],
                            store_root: str | Path, gaitset_weights: str | Path, csv_path: str | Path,
                            md_path: str | Path, **kwargs) -> pd.DataFrame:
    """Write :func:`recipe_comparison` as CSV and Markdown (atomically); returns it."""
    table = recipe_comparison(reference, recipes, store_root, gaitset_weights, **kwargs)
    write_table(table, csv_path, md_path, markdown=recipe_markdown(table))
    return table


__all__ = ["BUDGET", "COLUMNS", "REFERENCE", "chosen_recipe", "recipe_comparison", "recipe_generators",
           "recipe_markdown", "training_compute", "verdict", "write_recipe_comparison"]
