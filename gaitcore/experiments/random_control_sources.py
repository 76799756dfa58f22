"""What the random control's frames do to GaitSet, against real silhouettes of other people.

Sec. 4.2's "Random" control (random latents, no optimisation) barely lowers accuracy in the paper,
which reads that as the attack's damage coming from the optimisation. On the synthetic default the
control lowers it far more (docs/attack.md "The random control"). This diagnostic tells the two
possible causes apart: the generator's frames being poor, or GaitSet's max set pooling letting any
foreign frames in. It takes the probes, frame places and generated frames of random-control jobs
and puts into the same places, per probe,

* ``clean``: the probe's own frames (nothing changed; its max share is that of the frames at the
  altered places, or for insertion of the first K frames),
* ``generated``: the job's generated frames (reproduces the job's own result),
* ``training subject``: real silhouettes of a randomly drawn training subject (one outside the
  protocol's test subjects) at the probe's view, K consecutive frames of one normal-walking sequence,
* ``test subject``: the same from a randomly drawn other test subject (an identity of the gallery).

Each job's donors are drawn from ``seed`` and the job's identity (dataset, mode, sparsity, condition),
so a job scored alone (rule ``random_control_sources_job``, one per random-control job) gives the rows
it gives among all of them.

Per probe and source it records the rank-1 accuracy over the counted gallery views (the CASIA-B
protocol, Sec. 4.1 "Metrics"; views without gallery sequences left out) and the **max share**: the
share of the set-pooled last frame-CNN map
(GaitSet's set pooling is an element-wise max over frames) whose maximum comes from the K frames,
divided by K/N, the share an average frame would win. If real silhouettes of other people hurt as
much as the generated ones, the control's damage is GaitSet's, not the generator's.

Uncertainty (:mod:`gaitcore.evaluation.uncertainty`): each summary cell carries its probes, subjects
and the 95 % subject-level bootstrap interval of its mean accuracy (``ci_low``, ``ci_high``; fixed
seed), and each source other than ``clean`` its change from ``clean`` on the same probes with the
paired interval (``change``, ``change_low``, ``change_high``; NaN on the clean rows).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import torch

from gaitcore.attacks.plan import FramePlan
from gaitcore.attacks.records import read_attack_frames
from gaitcore.data.layout import TEST_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import paired_scores
from gaitcore.evaluation.features import read_features
from gaitcore.evaluation.protocols import protocol_for
from gaitcore.evaluation.rank1 import ProtocolGallery
from gaitcore.evaluation.uncertainty import subject_bootstrap
from gaitcore.models.gaitset import GaitSet, load_gaitset, silhouettes_to_input
from gaitcore.reporting.attack_tables import INTERVAL_NOTE, count_cell, with_interval
from gaitcore.utils.device import resolve_device
from gaitcore.utils.tables import write_parquet_with_meta, write_table

log = logging.getLogger(__name__)

META_KEY = b"gaitcore.random_control_sources"
SOURCES = ("clean", "generated", "training subject", "test subject")
LONG_COLUMNS = ["dataset", "kind", "sparsity", "condition", "subject", "seq", "view", "altered", "frame_count",
                "source", "accuracy", "max_share"]
CELL = ["dataset", "kind", "sparsity", "condition"]
SUMMARY_COLUMNS = [*CELL, "source", "accuracy", "ci_low", "ci_high", "max_share", "probes", "subjects", "change",
                   "change_low", "change_high"]


class DonorFrames:
    """Real silhouettes of other subjects to put in a probe's frame places (drawn from ``seed``, an int or
    a sequence of ints as :func:`numpy.random.default_rng` takes)."""

    def __init__(self, store: FrameStore, test_subjects: Sequence[str] | None, seed: int | Sequence[int]) -> None:
        self.store = store
        nm = store.index[store.index["condition"] == "nm"]
        test = set(store.index["subject"] if test_subjects is None else test_subjects)
        self.pools = {"training subject": nm[~nm["subject"].isin(test)], "test subject": nm[nm["subject"].isin(test)]}
        self.rng = np.random.default_rng(seed)

    def available(self, source: str, view: int, subject: str) -> pd.DataFrame:
        pool = self.pools[source]
        return pool[(pool["view"] == view) & (pool["subject"] != subject)]

    def draw(self, source: str, view: int, subject: str, k: int) -> np.ndarray | None:
        """``k`` consecutive frames of one sequence of a random other subject at ``view`` (None: no donor)."""
        pool = self.available(source, view, subject)
        pool = pool[pool["frame_count"] >= k]
        if pool.empty:
            return None
        donor = str(self.rng.choice(sorted(set(pool["subject"]))))
        rows = pool[pool["subject"] == donor]
        frames = self.store.sequence(int(rows.index[int(self.rng.integers(len(rows)))]))
        start = int(self.rng.integers(len(frames) - k + 1))
        return np.asarray(frames[start : start + k])


@torch.no_grad()
def _features_and_max_share(model: GaitSet, maps: tuple[torch.Tensor, ...],
                            places: np.ndarray) -> tuple[torch.Tensor, float]:
    """GaitSet features of one sequence from its frames' maps (:meth:`GaitSet.frame_maps`) and the max
    share of the frames at ``places`` (see module doc)."""
    frames = len(maps[-1])
    won = torch.isin(maps[-1].argmax(0), torch.as_tensor(places, device=maps[-1].device)).float().mean().item()
    return model.head(*model.pool_sets(maps, [frames]))[0].cpu(), won / (len(places) / frames)


@torch.no_grad()
def _assembled_maps(model: GaitSet, original: tuple[torch.Tensor, ...], plan: FramePlan, frames: np.ndarray,
                    device: torch.device) -> tuple[torch.Tensor, ...]:
    """The frame maps of ``plan.assemble(original frames, frames)``: the frame CNN sees each frame alone
    and is batch-invariant, so only the ``K`` put-in frames are computed and the original's maps
    (``original``) are reused, as :meth:`GaitSet.frame_maps` of the assembled sequence would give them."""
    put_in = model.frame_maps(silhouettes_to_input(frames, device))
    order = torch.as_tensor(plan.assemble(np.arange(plan.frame_count), plan.frame_count + np.arange(plan.k)),
                            device=device)
    return tuple(torch.cat([kept, new])[order] for kept, new in zip(original, put_in, strict=True))


@torch.no_grad()
def random_control_sources(
    *,
    gaitset_weights: str | Path,
    store_root: str | Path,
    features_array: str | Path,
    features_index: str | Path,
    attack_tables: Sequence[str | Path],
    attack_frames: Sequence[str | Path] | None = None,
    test_subjects: tuple[int, int] = TEST_SUBJECTS,
    metric: str = "euclidean",
    seed: int = 0,
    device: str = "auto",
) -> pd.DataFrame:
    """One row per (probe, source) of the random-control jobs ``attack_tables`` and their generated
    frames ``attack_frames`` (default: the ``.npz`` beside each table)."""
    dev = resolve_device(device)
    model, _ = load_gaitset(gaitset_weights, map_location=dev)
    model.eval()
    store = FrameStore(store_root)
    features, index, _ = read_features(features_array, features_index)
    protocol = protocol_for(store.dataset, test_subjects)
    gallery = ProtocolGallery.of(features, index, protocol)
    views = list(protocol.views)
    store_rows = index.set_index(["subject", "condition", "seq", "view"])["store_row"]
    rows = []
    frame_paths = attack_frames or [Path(t).with_suffix(".npz") for t in attack_tables]
    for path, frames_path in zip(map(Path, attack_tables), frame_paths, strict=True):
        table = pq.read_table(path).to_pandas()
        if not (table["setting"] == "random").all():
            raise DataError(path, "is not a random-control job", "pass the tables of `..._random` attack modes")
        donors = DonorFrames(store, protocol.subjects, [seed, _job_identity(table)])
        generated, offsets, _ = read_attack_frames(frames_path)
        counted = protocol.counted_views(table["view"].to_numpy())
        scored, features_of, counted_of = [], [], []  # every (probe, source), scored in one query below
        for i, probe in table.iterrows():
            key = (probe["subject"], probe["condition"], int(probe["seq"]), int(probe["view"]))
            if key not in store_rows.index:
                raise DataError(path, f"probe {key} is not among the stored features {features_index}",
                                "rebuild the attack jobs and the features from the same store")
            original = np.asarray(store.sequence(int(store_rows[key])))
            plan = FramePlan.from_positions(str(probe["kind"]), len(original), np.asarray(probe["positions"]))
            inserts = {"clean": None, "generated": generated[offsets[i] : offsets[i + 1]]}
            for source in SOURCES[2:]:
                inserts[source] = donors.draw(source, int(probe["view"]), str(probe["subject"]), plan.k)
            original_maps = model.frame_maps(silhouettes_to_input(original, dev))
            for source, frames in inserts.items():
                if source != "clean" and frames is None:
                    continue  # no donor of that kind in the store
                maps = original_maps if frames is None else _assembled_maps(model, original_maps, plan, frames, dev)
                clean_insertion = frames is None and plan.kind == "insertion"
                places = np.arange(plan.k) if clean_insertion else plan.generated
                feature, share = _features_and_max_share(model, maps, places)
                scored.append({**{c: probe[c] for c in ("dataset", "kind", "sparsity", "condition", "subject", "seq",
                                                       "view", "altered", "frame_count")},
                               "source": source, "max_share": share})
                features_of.append(feature)
                counted_of.append(counted[i])
        # One gallery query for the whole job: the gallery is read once, not once per sequence.
        nearest_of = gallery.nearest(torch.stack(features_of), views, metric) if scored else []
        for row, nearest, used in zip(scored, nearest_of, counted_of, strict=True):
            used = used & (nearest != None)  # noqa: E711 (element-wise: views without gallery)
            rows.append({**row, "accuracy": 100.0 * (nearest[used] == row["subject"]).mean()})
        log.info("%s: %d probes", path, len(table))
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def _job_identity(table: pd.DataFrame) -> int:
    """A stable number for the attack job of ``table`` (its dataset, mode, sparsity and condition)."""
    first = table.iloc[0] if len(table) else {}
    label = "/".join(str(first.get(c, "")) for c in ("dataset", "mode", "sparsity", "condition"))
    return zlib.crc32(label.encode())


def write_random_control_rows(long: pd.DataFrame, path: str | Path) -> None:
    """One job's rows of :func:`random_control_sources` as Parquet (temporary name, then renamed)."""
    write_parquet_with_meta(long, path, META_KEY, {"sources": list(SOURCES)})


def write_random_control_sources(rows_files: Sequence[str | Path], csv_path: str | Path,
                                 markdown_path: str | Path) -> pd.DataFrame:
    """The summary of the jobs' rows ``rows_files`` (:func:`write_random_control_rows`, in the jobs'
    order) as CSV and Markdown."""
    long = pd.concat([pd.read_parquet(p) for p in rows_files], ignore_index=True)
    summary = summarize_random_control_sources(long)
    write_table(summary, csv_path, markdown_path, random_control_sources_markdown(summary))
    return summary


def _probe_accuracy(rows: pd.DataFrame) -> pd.Series:
    """``rows``' accuracy indexed by probe (subject, seq, view and the probe's occurrence among ``rows``,
    so that a probe of two jobs of one cell pairs with itself job by job)."""
    keys = rows[["subject", "seq", "view"]].astype({"subject": str})
    occurrence = keys.groupby(list(keys.columns), sort=False).cumcount().rename("occurrence")
    index = pd.MultiIndex.from_frame(pd.concat([keys, occurrence], axis=1))
    return pd.Series(rows["accuracy"].to_numpy(dtype=float), index=index)


def summarize_random_control_sources(long: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy and max share per (dataset, kind, sparsity, condition, source): the cells in the
    order of ``long`` (the jobs' order), the sources in :data:`SOURCES` order within each.

    Columns :data:`SUMMARY_COLUMNS`: per cell also the 95 % subject-level bootstrap interval of the
    mean accuracy (``ci_low``, ``ci_high``), ``probes`` and ``subjects``, and for every source but
    ``clean`` the paired ``change`` from ``clean`` on the probes both have (``change_low``,
    ``change_high``; NaN on the clean rows).
    """
    records = []
    for key, of_cell in long.groupby(CELL, sort=False):
        clean = _probe_accuracy(of_cell[of_cell["source"] == "clean"])
        for source, rows in of_cell.groupby("source", sort=False):
            subjects = rows["subject"].astype(str).to_numpy(dtype=object)
            interval = subject_bootstrap(rows["accuracy"].to_numpy(dtype=float), subjects)
            change = (None if source == "clean" or clean.empty
                      else paired_scores(_probe_accuracy(rows), clean))
            records.append({**dict(zip(CELL, key, strict=True)), "source": source,
                            "accuracy": float(rows["accuracy"].mean()), "ci_low": interval.low,
                            "ci_high": interval.high, "max_share": float(rows["max_share"].mean()),
                            "probes": len(rows), "subjects": len(set(subjects)),
                            "change": np.nan if change is None else change.estimate,
                            "change_low": np.nan if change is None else change.low,
                            "change_high": np.nan if change is None else change.high})
    out = pd.DataFrame.from_records(records, columns=SUMMARY_COLUMNS)
    order = pd.DataFrame({"cell": out.groupby(CELL, sort=False).ngroup(), "source": out["source"].map(SOURCES.index)})
    return out.loc[order.sort_values(["cell", "source"]).index].reset_index(drop=True)


def random_control_sources_markdown(summary: pd.DataFrame) -> str:
    """Accuracy [interval] (max share) per source and the paired change of each source from clean, a
    row per (kind, sparsity, condition)."""
    changed = SOURCES[1:]
    lines = ["### Random-control frames against real silhouettes of other people, rank-1 accuracy % "
             "(max share: the K frames' share of the set-pooled maxima / K/N)", "",
             f"{INTERVAL_NOTE}; change: the source's accuracy minus clean on the same probes (paired).", "",
             "| dataset | kind | sparsity | condition | " + " | ".join(SOURCES) + " | "
             + " | ".join(f"change {s}" for s in changed) + " | probes | subjects |",
             "|---|---|---|---|" + "---:|" * (len(SOURCES) + len(changed) + 2)]
    for (dataset, kind, sparsity, condition), group in summary.groupby(CELL, sort=False):
        rows = {r.source: r for r in group.itertuples()}
        cells = []
        for source in SOURCES:
            r = rows.get(source)
            cells.append("" if r is None else f"{with_interval(r.accuracy, r.ci_low, r.ci_high, 1)} "
                                               f"({r.max_share:.2f})")
        for source in changed:
            r = rows.get(source)
            cells.append("" if r is None else with_interval(r.change, r.change_low, r.change_high, 1))
        lines.append(f"| {dataset} | {kind} | {sparsity} | {condition.upper()} | " + " | ".join(cells)
                     + f" | {count_cell(group['probes'].max())} | {count_cell(group['subjects'].max())} |")
    return "\n".join(lines) + "\n"

