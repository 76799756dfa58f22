"""The paper's findings, each decided by a rule stated before the run (docs/findings.md).

Every finding is a comparison on the same probes, measured as a paired difference in percentage
points with its 95 % subject-level bootstrap interval (:func:`gaitcore.evaluation.uncertainty.paired_difference`,
the probes' scores from :func:`gaitcore.evaluation.attack_accuracy.probe_scores`: the mean over
probes of each probe's rank-1 accuracy, or targeted success, over the counted gallery views). A
finding's verdict in one cell follows from where the interval lies against the finding's
threshold :data:`RULES`:

* ``holds``: the whole interval lies on the finding's side of the threshold;
* ``fails``: the whole interval lies on the other side;
* ``inconclusive``: the interval straddles the threshold (or there is no interval: fewer than two
  subjects, or a comparison whose inputs the run did not produce).

"Close" findings (the random control is close to natural) have two thresholds: the interval must
lie within +-:data:`CLOSE_POINTS` to hold and entirely outside it to fail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gaitcore.attacks.records import load_attacks
from gaitcore.attacks.vocabulary import KINDS, METHODS, sparsity_value
from gaitcore.data.layout import CASIA_B, CONDITIONS
from gaitcore.evaluation.attack_accuracy import AVERAGE, cell_scores, paired_scores
from gaitcore.evaluation.uncertainty import Interval, paired_difference
from gaitcore.experiments.transfer import TABLE3_MODE, TABLE3_SPARSITY
from gaitcore.experiments.video_attack_table import load_video_attacks, video_path_rows
from gaitcore.reporting.findings_tables import findings_markdown, summary_markdown
from gaitcore.reporting.transfer_tables import DROP
from gaitcore.utils.tables import atomic_write_text, write_table

log = logging.getLogger(__name__)

HOLDS, FAILS, INCONCLUSIVE = "holds", "fails", "inconclusive"
FAR_POINTS = 20.0  # "far below": the adversary at least this many points below the random control
CLOSE_POINTS = 5.0  # "close": within this many points
DETECTOR_POINTS = 10.0  # "passes a detector": its ROC AUC within this many points of chance (50)
EXTREME_VIEWS = (0, 180)  # Sec. 4.2: "the attack is more effective at 0 and 180 degrees"
COLUMNS = ["finding", "paper", "kind", "condition", "sparsity", "comparison", "estimate", "low", "high",
           "probes", "subjects", "rule", "verdict"]


@dataclass(frozen=True)
class Rule:
    """A finding's claim as ``difference > threshold`` (``above``) or ``|difference| <= threshold`` (``within``)."""

    finding: str
    paper: str
    comparison: str
    threshold: float
    within: bool = False

    def text(self) -> str:
        return (f"|{self.comparison}| <= {self.threshold:g}" if self.within
                else f"{self.comparison} > {self.threshold:g}")

    def verdict(self, interval: Interval) -> str:
        low, high = interval.low, interval.high
        if not (np.isfinite(low) and np.isfinite(high)):
            return INCONCLUSIVE
        if self.within:
            if -self.threshold <= low and high <= self.threshold:
                return HOLDS
            return FAILS if low > self.threshold or high < -self.threshold else INCONCLUSIVE
        if low > self.threshold:
            return HOLDS
        return FAILS if high <= self.threshold else INCONCLUSIVE


RULES = {
    "far_below_random": Rule("adversary far below the random control", "Fig. 5, Fig. 10 (Sec. 4.2)",
                             "random - adversary", FAR_POINTS),
    "random_close_to_natural": Rule("random control close to natural accuracy", "Fig. 5, Fig. 10 (Sec. 4.2)",
                                    "natural - random", CLOSE_POINTS, within=True),
    "rises_with_sparsity": Rule("the attack grows stronger with sparsity", "Fig. 5, Fig. 10, Table 4",
                                "adversary at the smallest S - at the largest S", 0.0),
    "targeted_below_drop": Rule("targeted success below the nontargeted drop", "Table 2 vs Fig. 5",
                                "(natural - nontargeted adversary) - targeted success", 0.0),
    "extreme_views": Rule("0 and 180 degrees suffer most", "Fig. 5 (Sec. 4.2)",
                          "adversary at the other views - at 0 and 180 degrees", 0.0),
    "beats_baselines": Rule("the attack beats FGSM / PGD / MI-FGSM at equal sparsity", "Fig. 6 (Sec. 4.5)",
                            "baseline - adversary", 0.0),
    "transfer_gaitgan": Rule("GaitGAN barely moves under transfer", "Table 3 (Sec. 4.3)",
                             "GaitGAN natural - after attack", CLOSE_POINTS, within=True),
    "more_realistic": Rule("the attack's frames look more real than FGSM / PGD / MI-FGSM's", "Fig. 7 (Sec. 4.5)",
                           "adversary - baseline judge realism", 0.0),
    "transfer_gaitset_collapses": Rule("GaitSet collapses on the transferred probes", "Table 3 (Sec. 4.3)",
                                       "GaitSet natural - after attack", FAR_POINTS),
    "passes_detector": Rule("the attack's frames pass a frame detector", "Sec. 1, Sec. 4.5, Fig. 7",
                            "frame detector AUC - 50 (points)", DETECTOR_POINTS, within=True),
    "passes_attack_detector": Rule("the attack's frames pass a detector trained on them", "Sec. 1, Sec. 4.5, Fig. 7",
                                   "attack-trained detector AUC - 50 (points)", DETECTOR_POINTS, within=True),
    "passes_sequence_detector": Rule("the attack's sequences pass a sequence detector", "Sec. 1, Sec. 4.5",
                                     "sequence detector AUC - 50 (points)", DETECTOR_POINTS, within=True),
    "clean_video_reads_as_silhouettes": Rule("the clean video reads as the clean silhouettes",
                                             "beyond the paper (the sensor path, docs/spade.md)",
                                             "clean silhouettes - clean video", CLOSE_POINTS, within=True),
    "survives_sensor_path": Rule("the attack survives the sensor path", "Sec. 3.3, Fig. 4 (scored beyond the paper)",
                                 "clean video - attacked video", FAR_POINTS),
}
# Each detector's AUC column of imperceptibility.csv and the rule that decides it.
DETECTOR_RULES = {"detector_auc": "passes_detector", "attack_detector_auc": "passes_attack_detector",
                  "sequence_auc": "passes_sequence_detector"}
TRANSFER_RULES = {"GaitGAN": "transfer_gaitgan", "GaitSet": "transfer_gaitset_collapses"}  # Table 3's model


def _groups(scores: pd.Series, first: np.ndarray, second: np.ndarray, *, seed: int) -> Interval:
    """``mean(scores[first]) - mean(scores[second])`` for two groups of probes (e.g. of different views),
    resampling subjects jointly (a subject's probes in both groups come along together)."""
    values = scores.to_numpy(dtype=np.float64)
    subjects = scores.index.get_level_values("subject").astype(str).to_numpy(dtype=object)
    return paired_difference(np.where(first, values, np.nan), np.where(second, values, np.nan), subjects,
                             seed=seed)


def _row(key: str, interval: Interval, *, kind: str, condition: str, sparsity: str, comparison: str = "") -> dict:
    rule = RULES[key]
    return {"finding": rule.finding, "paper": rule.paper, "kind": kind, "condition": condition,
            "sparsity": sparsity, "comparison": comparison or rule.comparison, "estimate": interval.estimate,
            "low": interval.low, "high": interval.high, "probes": interval.n_probes, "subjects": interval.n_subjects,
            "rule": rule.text(), "verdict": rule.verdict(interval)}


def _transfer_rows(table3_csv: str | Path) -> list[dict]:
    """Table 3's drops on the transferred probes, GaitGAN's and GaitSet's (their paired intervals come
    with the table), each decided by its rule (:data:`TRANSFER_RULES`)."""
    table = pd.read_csv(table3_csv, dtype={"setting": str})
    out = []
    for model, key in TRANSFER_RULES.items():
        drop = table[(table["model"] == model) & (table["setting"] == DROP)]
        if drop.empty:
            raise ValueError(f"{table3_csv}: no {model} drop row; rerun rule table3_blackbox_gaitgan")
        cell = drop.iloc[0]
        interval = Interval(float(cell[AVERAGE]), float(cell[f"{AVERAGE}_low"]), float(cell[f"{AVERAGE}_high"]),
                            int(cell["probes"]), int(cell["subjects"]) if pd.notna(cell["subjects"]) else 0)
        out.append(_row(key, interval, kind=TABLE3_MODE[0], condition="nm", sparsity=TABLE3_SPARSITY))
    return out


def _realism_rows(imperceptibility_csv: str | Path) -> list[dict]:
    """The imperceptibility table's paired realism gains of the attack over each pixel-space baseline
    (CASIA-B, every kind and goal it compares; conditions pooled), each decided by ``more_realistic``."""
    table = pd.read_csv(imperceptibility_csv)
    out = []
    for row in table[(table["dataset"] == CASIA_B) & table["setting"].isin(METHODS)].itertuples(index=False):
        interval = Interval(row.realism_gain, row.realism_gain_low, row.realism_gain_high,
                            int(row.realism_gain_probes), int(row.realism_gain_subjects))
        out.append(_row("more_realistic", interval, kind=f"{row.kind} {row.goal}", condition="all",
                        sparsity=row.sparsity, comparison=f"adversary - {row.setting} (judge realism, points)"))
    return out


def _detector_rows(imperceptibility_csv: str | Path) -> list[dict]:
    """The detectors' ROC AUCs (:data:`DETECTOR_RULES`) on the attack's frames against the natural
    frames at the same places, and on its sequences against the clean ones (CASIA-B, every kind, goal
    and sparsity of the plain adversary; conditions pooled), as points from chance, each decided by
    its rule."""
    table = pd.read_csv(imperceptibility_csv)
    adversary = table[(table["dataset"] == CASIA_B) & (table["setting"] == "adversary")]
    out = []
    for column, key in DETECTOR_RULES.items():
        for _, row in adversary.iterrows():
            if column not in row or pd.isna(row[column]):
                continue  # a detector that did not run (no validation attacks for the attack-trained one)
            interval = Interval(100.0 * row[column] - 50.0, 100.0 * row[f"{column}_low"] - 50.0,
                                100.0 * row[f"{column}_high"] - 50.0, int(row["probes"]), int(row["subjects"]))
            out.append(_row(key, interval, kind=f"{row['kind']} {row['goal']}", condition="all",
                            sparsity=row["sparsity"]))
    return out


def _video_rows(video_paths: Sequence[str | Path], *, seed: int) -> list[dict]:
    """Per segmenter, the clean video against the clean silhouettes once per (sparsity, condition), on
    every probe of the video attack jobs there (``clean_video_reads_as_silhouettes``: the clean video
    of a probe is the same in every mode's job), then per video attack cell the attacked video against
    the clean video on the same probes (``survives_sensor_path``)."""
    rows, metas = load_video_attacks(list(video_paths))
    out = []
    for segmenter, of_segmenter in rows.groupby("segmenter", sort=False):
        of_segmenter = of_segmenter.reset_index(drop=True)
        video = video_path_rows(of_segmenter, metas)
        cells = of_segmenter[["kind", "goal", "setting", "sparsity", "condition"]].drop_duplicates()
        clean_by_cell: dict[tuple[str, str], list[tuple[str, pd.Series, pd.Series]]] = {}
        survives = []
        for cell in cells.itertuples(index=False):
            where = {"kind": cell.kind, "goal": cell.goal, "setting": cell.setting, "sparsity": cell.sparsity,
                     "condition": cell.condition}
            kind = f"{cell.kind} {cell.goal}"
            clean = cell_scores(video, metas, clean=True, **where)["score"]
            clean_by_cell.setdefault((cell.sparsity, cell.condition), []).append(
                (kind, cell_scores(of_segmenter, metas, clean=True, **where)["score"], clean))
            survives.append(_row("survives_sensor_path",
                                 paired_scores(clean, cell_scores(video, metas, **where)["score"], seed=seed),
                                 kind=kind, condition=cell.condition, sparsity=cell.sparsity,
                                 comparison=f"{RULES['survives_sensor_path'].comparison} ({segmenter} segmenter)"))
        reads_as = "clean_video_reads_as_silhouettes"
        for (sparsity, condition), parts in clean_by_cell.items():
            kinds, silhouettes, clean = zip(*parts)
            label = f"{segmenter} segmenter, {condition}, S = {sparsity}"
            out.append(_row(reads_as, paired_scores(_once_per_probe(silhouettes, f"clean silhouettes ({label})"),
                                                    _once_per_probe(clean, f"clean video ({label})"), seed=seed),
                            kind=" + ".join(kinds), condition=condition, sparsity=sparsity,
                            comparison=f"{RULES[reads_as].comparison} ({segmenter} segmenter)"))
        out.extend(survives)
    return out


def _once_per_probe(scores: Sequence[pd.Series], what: str) -> pd.Series:
    """One score per probe key from several jobs' scores of the same probes, which must agree (a
    ValueError naming ``what`` and a probe where they do not: jobs of different runs)."""
    stacked = pd.concat(scores)
    differing = stacked.groupby(level=list(range(stacked.index.nlevels))).nunique(dropna=False) > 1
    if differing.any():
        raise ValueError(f"the video attack jobs score {what} of probe {differing[differing].index[0]} differently; "
                         "they come from different runs: rerun the rule video_attack for every job")
    return stacked[~stacked.index.duplicated()]


def findings_table(attack_paths: Sequence[str | Path], *, table3_csv: str | Path | None = None,
                   imperceptibility_csv: str | Path | None = None, video_paths: Sequence[str | Path] = (),
                   seed: int = 0) -> pd.DataFrame:
    """One row per (finding, cell) of CASIA-B's attack results (and, with ``table3_csv``, Table 3's
    transfer; with ``imperceptibility_csv``, the judge's realism against the baselines and the frame
    detector's AUC; with ``video_paths``, the video attack jobs' tables, the sensor path's findings):
    the paired difference, its interval and the verdict of :data:`RULES` (see the module docstring
    and docs/findings.md)."""
    rows, metas = load_attacks(list(attack_paths))
    if CASIA_B not in metas:
        raise ValueError("the findings need CASIA-B attack tables (attack.datasets must include casia_b)")
    rows = rows[rows["dataset"] == CASIA_B]
    sparsities = sorted(dict.fromkeys(rows["sparsity"]), key=sparsity_value)
    conditions = [c for c in CONDITIONS if c in set(rows["condition"])]
    out: list[dict] = []

    def scores(**cell) -> pd.Series:
        return cell_scores(rows, metas, **cell)["score"]

    for kind in KINDS:
        for condition in conditions:
            for sparsity in sparsities:
                cell = {"kind": kind, "sparsity": sparsity, "condition": condition}
                adversary = scores(goal="nontargeted", setting="adversary", **cell)
                random = scores(goal="nontargeted", setting="random", **cell)
                natural = scores(goal="nontargeted", setting="adversary", clean=True, **cell)
                if adversary.empty:
                    continue
                if not random.empty:
                    out.append(_row("far_below_random", paired_scores(random, adversary, seed=seed), **cell))
                    out.append(_row("random_close_to_natural", paired_scores(natural, random, seed=seed), **cell))
                targeted = scores(goal="targeted", setting="adversary", **cell)
                if not targeted.empty:
                    drop = (natural - adversary).dropna()
                    out.append(_row("targeted_below_drop", paired_scores(drop, targeted, seed=seed), **cell))
                extreme = np.isin(adversary.index.get_level_values("view").astype(int), EXTREME_VIEWS)
                if extreme.any() and (~extreme).any():
                    out.append(_row("extreme_views", _groups(adversary, ~extreme, extreme, seed=seed), **cell))
                for method in METHODS:
                    baseline = scores(goal="nontargeted", setting=method, **cell)
                    if not baseline.empty:
                        out.append(_row("beats_baselines", paired_scores(baseline, adversary, seed=seed), **cell,
                                        comparison=f"{method} - adversary"))
            if len(sparsities) > 1:
                first, last = sparsities[0], sparsities[-1]
                smallest = scores(kind=kind, goal="nontargeted", setting="adversary", sparsity=first,
                                  condition=condition)
                largest = scores(kind=kind, goal="nontargeted", setting="adversary", sparsity=last,
                                 condition=condition)
                if not smallest.empty and not largest.empty:
                    out.append(_row("rises_with_sparsity", paired_scores(smallest, largest, seed=seed), kind=kind,
                                    condition=condition, sparsity=f"{first} vs {last}"))
    if table3_csv is not None:
        out.extend(_transfer_rows(table3_csv))
    if imperceptibility_csv is not None:
        out.extend(_realism_rows(imperceptibility_csv))
        out.extend(_detector_rows(imperceptibility_csv))
    if video_paths:
        out.extend(_video_rows(video_paths, seed=seed))
    table = pd.DataFrame.from_records(out, columns=COLUMNS)
    log.info("%d finding cells: %s", len(table), table["verdict"].value_counts().to_dict())
    return table


def write_findings(attack_paths: Sequence[str | Path], natural_csv: str | Path, csv_path: str | Path,
                   md_path: str | Path, summary_path: str | Path, *, table3_csv: str | Path | None = None,
                   imperceptibility_csv: str | Path | None = None, precision_csv: str | Path | None = None,
                   video_paths: Sequence[str | Path] = (), seed: int = 0) -> pd.DataFrame:
    """Write ``findings.{csv,md}`` and ``summary.md`` (natural accuracy, the headline cells with their
    intervals and precision from ``precision_csv``, every finding's verdicts), atomically."""
    table = findings_table(attack_paths, table3_csv=table3_csv, imperceptibility_csv=imperceptibility_csv,
                           video_paths=video_paths, seed=seed)
    write_table(table, csv_path, md_path, markdown=findings_markdown(table, RULES.values()))
    natural = pd.read_csv(natural_csv, dtype={"probe_view": str})
    precision = None if precision_csv is None else pd.read_csv(precision_csv)
    atomic_write_text(Path(summary_path), summary_markdown(table, natural, precision))
    return table


__all__ = ["CLOSE_POINTS", "DETECTOR_POINTS", "DETECTOR_RULES", "FAR_POINTS", "RULES", "Rule", "findings_table",
           "write_findings"]
