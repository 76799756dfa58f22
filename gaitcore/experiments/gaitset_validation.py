"""GaitSet's rank-1 accuracy on the validation subjects along its training (the validation curve).

The victim's iteration count is set by the compute budget, not by its accuracy; whether training
had levelled off is read here on the validation subjects (config ``subjects.casia_b.validation``),
never on the test subjects. Rule ``gaitset_validation`` evaluates the weights ``train_gaitset``
kept at ``gaitset.train.snapshots`` and the final weights on the validation subjects' protocol
(gallery nm-01..04, probe sets NM, BG, CL, the identical view left out: He et al. Table 1 on other
subjects) and writes, per iteration and condition, the mean rank-1 over probe views with its 95 %
subject-level bootstrap interval, probes and subjects (``results/tables/gaitset_validation``).
Because the validation gallery holds fewer subjects (12 against 50 by default), the values read
higher than the test set's; the curve's shape is what tells (docs/knobs.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch

from gaitcore.data.layout import CASIA_B, VALIDATION_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.features import extract_features, feature_index
from gaitcore.evaluation.protocols import protocol_for
from gaitcore.evaluation.rank1 import MEAN_ROW, evaluate_rank1
from gaitcore.models.gaitset import load_gaitset
from gaitcore.utils.device import resolve_device
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

COLUMNS = ["iteration", "condition", "rank1", "ci_low", "ci_high", "probes", "subjects"]


def validation_curve(weights: Sequence[str | Path], store_root: str | Path, *,
                     validation_subjects: tuple[int, int] = VALIDATION_SUBJECTS, metric: str = "euclidean",
                     device: str = "auto", frame_chunk: int = 64) -> pd.DataFrame:
    """One row per (weights file, condition): the iteration the weights are at (their ``extra``), and
    the validation subjects' mean rank-1 over probe views with its interval; sorted by iteration."""
    dev = resolve_device(device)
    store = FrameStore(store_root)
    if store.dataset != CASIA_B:
        raise DataError(store.root, f"holds {store.dataset}; the validation curve reads CASIA-B",
                        "point the rule at the CASIA-B store")
    protocol = protocol_for(CASIA_B, validation_subjects)
    rows = protocol.sequences(store.index)
    if rows.empty:
        raise DataError(store.root, f"has no sequence of the validation subjects {validation_subjects}",
                        "check subjects.casia_b.validation against the store's subjects")
    index = feature_index(rows)
    out = []
    for path in weights:
        model, extra = load_gaitset(path, map_location=dev)
        with torch.no_grad():
            features = extract_features(model, store, rows, device=dev, frame_chunk=frame_chunk)
        _, summary = evaluate_rank1(features, index, protocol, metric)
        for row in summary[summary["probe_view"].astype(str) == MEAN_ROW].itertuples(index=False):
            out.append({"iteration": int(extra["iterations"]), "condition": row.condition, "rank1": row.rank1,
                        "ci_low": row.ci_low, "ci_high": row.ci_high, "probes": int(row.probes),
                        "subjects": int(row.subjects)})
        log.info("%s (iteration %s): validation rank-1 %s", path, extra.get("iterations"),
                 {r["condition"]: round(r["rank1"], 1) for r in out[-len(protocol.probes):]})
    return pd.DataFrame.from_records(out, columns=COLUMNS).sort_values(["iteration", "condition"],
                                                                       kind="stable").reset_index(drop=True)


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


def write_validation_curve(weights: Sequence[str | Path], store_root: str | Path, csv_path: str | Path,
                           md_path: str | Path, **kwargs) -> pd.DataFrame:
    """Write :func:`validation_curve` as CSV and Markdown (atomically); returns it."""
    table = validation_curve(weights, store_root, **kwargs)
    write_table(table, csv_path, md_path, markdown=validation_curve_markdown(table))
    return table


__all__ = ["validation_curve", "validation_curve_markdown", "write_validation_curve"]
