"""The attack against several victims on the same probes: does a reading belong to the victim?

Two uses, one table (:func:`victim_table`):

* **Further victims on the test subjects** (beyond He et al., who attack GaitSet only; issue 22,
  docs/victims.md): rule ``victims_table`` sets GaitPart and GaitGL (``victims.models``, rule
  ``attack_victim``) beside GaitSet (rule ``attack``), compared on the probes every victim attacked
  (GaitSet's jobs cover more probes than the others'; ``shared_probes``),
  ``results/tables/victims``.
* **Candidate GaitSets on the validation subjects** (rule ``validation_victims``): two of the paper's
  deviations may be the victim's doing rather than the attack's (GaitSet trained too briefly, or on
  shorter frame sets than the probes it scores; docs/deviations.md). Rule ``attack_validation_victim``
  repeats the plain validation attacks against each candidate of ``attack.validation.victims``
  (recipes of ``gaitset.recipes``) on the same validation probes, ``results/tables/validation_victims``.
  Validation subjects only: the gallery holds fewer subjects than the test gallery, so absolute
  values read higher than the test set's; the paired differences are what tell.

Per (kind, goal, sparsity, condition, setting) and victim: the clean rank-1 of the probes, the rank-1
(nontargeted) or targeted success under attack, each with its subject-level 95 % interval; the
attack's effect per probe, ``effect``: its change from the clean rank-1 (nontargeted; what the attack
or the random control costs, negative) or its targeted success, with its interval; each victim's
effect minus the reference victim's (the first) on the same probes, with the paired subject-level
interval (``difference``; percentage points). The random control's frames do not depend on the
victim, so its rows show how each victim takes the same foreign frames.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from gaitcore.attacks.records import PROBE_KEY, load_attacks
from gaitcore.attacks.vocabulary import sparsity_value
from gaitcore.data.layout import CASIA_B, CONDITIONS
from gaitcore.evaluation.attack_accuracy import cell_scores, paired_scores
from gaitcore.evaluation.uncertainty import Interval, subject_bootstrap
from gaitcore.reporting.attack_tables import with_interval
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

REFERENCE = "default"  # the victim itself among the validation candidates; gaitset.recipes may not use the name
CELL_KEYS = ["kind", "goal", "sparsity", "condition", "setting"]
COLUMNS = [*CELL_KEYS, "victim", "metric", "probes", "subjects", "clean", "clean_low", "clean_high", "value", "ci_low",
           "ci_high", "effect", "effect_low", "effect_high", "difference", "difference_low", "difference_high"]


def _interval(scores: pd.Series, seed: int) -> Interval:
    subjects = scores.index.get_level_values("subject").astype(str).to_numpy(dtype=object)
    return subject_bootstrap(scores.to_numpy(), subjects, seed=seed)


def _bounds(prefix: str, interval: Interval | None) -> dict[str, float | None]:
    if interval is None:
        return {prefix: None, f"{prefix}_low": None, f"{prefix}_high": None}
    return {prefix: interval.estimate, f"{prefix}_low": interval.low, f"{prefix}_high": interval.high}


def per_victim(paths: Sequence[str | Path], victims: Sequence[str]) -> dict[str, list[str | Path]]:
    """A rule's flat input split into equal consecutive blocks, one per victim in ``victims``' order
    (the pipeline lists each victim's jobs in turn)."""
    if not victims or len(paths) % len(victims):
        raise ValueError(f"{len(paths)} files do not split into equal blocks for the victims {list(victims)}")
    size = len(paths) // len(victims)
    return {victim: list(paths[i * size : (i + 1) * size]) for i, victim in enumerate(victims)}


def _on_shared_probes(loaded: dict[str, tuple[pd.DataFrame, dict]]) -> dict[str, tuple[pd.DataFrame, dict]]:
    """Every victim's rows restricted, per cell, to the probes every victim attacked."""
    keys = list(dict.fromkeys([*CELL_KEYS, *PROBE_KEY]))
    shared = None
    for rows, _ in loaded.values():
        index = pd.MultiIndex.from_frame(rows[keys].astype(str))
        shared = index if shared is None else shared.intersection(index)
    return {victim: (rows[pd.MultiIndex.from_frame(rows[keys].astype(str)).isin(shared)].reset_index(drop=True),
                     metas) for victim, (rows, metas) in loaded.items()}


def victim_table(paths: Mapping[str, Sequence[str | Path]], *, seed: int = 0,
                 shared_probes: bool = False) -> pd.DataFrame:
    """One row per (cell, victim) of the attack tables ``paths`` (``{victim: tables}``, the reference
    victim first): the cells are the reference's; every victim must have attacked the same probes in
    each (``ValueError`` naming the victim otherwise), or, with ``shared_probes``, each cell keeps the
    probes every victim attacked."""
    if not paths:
        raise ValueError("no victims given")
    loaded = {victim: load_attacks(list(files)) for victim, files in paths.items()}
    if shared_probes:
        loaded = _on_shared_probes(loaded)
    reference = next(iter(loaded))
    rows = loaded[reference][0]
    rows = rows[rows["dataset"] == CASIA_B]
    cells = rows[CELL_KEYS].drop_duplicates()
    cells = cells.assign(_order=cells["sparsity"].map(sparsity_value),
                         _condition=cells["condition"].map(CONDITIONS.index)).sort_values(
        ["kind", "goal", "_order", "_condition", "setting"]).drop(columns=["_order", "_condition"])
    out = []
    for cell in cells.to_dict("records"):
        effects: dict[str, pd.Series] = {}
        for victim, (of_victim, metas) in loaded.items():
            after = cell_scores(of_victim, metas, **cell)["score"].dropna()
            before = cell_scores(of_victim, metas, clean=True, **cell)["score"].dropna()
            if victim != reference and not after.index.sort_values().equals(effects[reference].index.sort_values()):
                raise ValueError(f"victim {victim!r} was attacked on other probes than {reference!r} in "
                                 f"{cell}: rerun its attacks with the same probe settings")
            nontargeted = cell["goal"] == "nontargeted"
            effects[victim] = (after - before.reindex(after.index)).dropna() if nontargeted else after
            difference = None if victim == reference else paired_scores(effects[victim], effects[reference],
                                                                        seed=seed)
            value = _interval(after, seed)
            out.append({**cell, "victim": victim, "metric": "rank1" if nontargeted else "success",
                        "probes": value.n_probes, "subjects": value.n_subjects,
                        **_bounds("clean", _interval(before, seed)),
                        "value": value.estimate, "ci_low": value.low, "ci_high": value.high,
                        **_bounds("effect", _interval(effects[victim], seed)),
                        **_bounds("difference", difference)})
    return pd.DataFrame.from_records(out, columns=COLUMNS)


VALIDATION_TITLE = ("The attack against other victims, on validation subjects",
                    "Each victim is attacked on the same validation probes (never a test subject)")
TEST_TITLE = ("The attack against further victims, on the test subjects",
              "Each victim is attacked on the same test probes (GaitSet's jobs cover more; the table keeps the "
              "probes every victim attacked)")


def victim_markdown(table: pd.DataFrame, title: tuple[str, str] = VALIDATION_TITLE) -> str:
    """The victim table as Markdown, one section per attacked cell; ``title``: its heading and how
    the probes were chosen."""
    reference = table["victim"].iloc[0] if len(table) else REFERENCE
    lines = [f"# {title[0]}", "",
             f"{title[1]}; the random control's frames are the same for every victim. clean and under attack: "
             "rank-1 % (targeted: success % under attack) with 95 % subject-level bootstrap intervals; effect: "
             "under attack minus clean, per probe (targeted: the success); difference: the victim's effect minus "
             f"the reference victim's ({reference}) on the same probes, in points, with its paired interval.", ""]
    for (kind, goal, sparsity, condition, setting), rows in table.groupby(CELL_KEYS, sort=False):
        lines += [f"## {kind} {goal} {setting}, S = {sparsity}, {str(condition).upper()}", "",
                  "| victim | probes | subjects | clean | under attack | effect | difference |",
                  "|---|---|---|---|---|---|---|"]
        for row in rows.itertuples(index=False):
            difference = ("(reference)" if pd.isna(row.difference) else
                          with_interval(row.difference, row.difference_low, row.difference_high, 1))
            lines.append(f"| {row.victim} | {row.probes} | {row.subjects} | "
                         f"{with_interval(row.clean, row.clean_low, row.clean_high, 1)} | "
                         f"{with_interval(row.value, row.ci_low, row.ci_high, 1)} | "
                         f"{with_interval(row.effect, row.effect_low, row.effect_high, 1)} | {difference} |")
        lines.append("")
    return "\n".join(lines)


def write_victim_table(paths: Mapping[str, Sequence[str | Path]], csv_path: str | Path, md_path: str | Path, *,
                       seed: int = 0, test: bool = False) -> pd.DataFrame:
    """Write :func:`victim_table` as CSV and Markdown (atomically); returns it. ``test``: further
    victims on the test subjects (compared on shared probes) rather than validation candidates."""
    table = victim_table(paths, seed=seed, shared_probes=test)
    title = TEST_TITLE if test else VALIDATION_TITLE
    write_table(table, csv_path, md_path, markdown=victim_markdown(table, title) + "\n")
    log.info("%d victim cells of %d victims", len(table), len(paths))
    return table


__all__ = ["REFERENCE", "TEST_TITLE", "VALIDATION_TITLE", "per_victim", "victim_markdown", "victim_table",
           "write_victim_table"]
