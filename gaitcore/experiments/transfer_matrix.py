"""The transfer matrix of adversarial sequences across victims (beyond the paper).

He et al. (Sec. 4.3, Table 3) measure black-box transfer one way: the frame-alteration attack crafted
against GaitSet, scored by GaitGAN, which the attack never queried. Here every victim the pipeline
attacks (GaitSet, GaitPart, GaitGL: :mod:`gaitcore.models.victims`) is a *source*, and every victim
and GaitGAN a *target*: the adversarial sequences crafted on a source (its attack jobs' tables and
frames, :mod:`gaitcore.experiments.attack_job`; the sequence is the stored probe with the job's
generated frames at their places, :func:`gaitcore.experiments.transfer.attacked_sequences`) are
scored by each target on exactly the source's attacked probes.

**Estimator** (the project's attack accuracy, :mod:`gaitcore.evaluation.attack_accuracy`): per probe
view, the mean over the counted gallery views (a view without gallery sequence left out, the
identical view left out on CASIA-B) of the share of probes whose nearest gallery subject is the
probe's own; then the mean over the probe views; per condition, and (condition :data:`ALL`) the
mean over the conditions present. ``natural`` is the target's rank-1 on the clean probes, ``after``
on the adversarial sequences, ``drop`` natural minus after.

* A victim target: the features of each adversarial sequence by the target model (all its frames,
  batched as flat frames plus lengths), the natural ones the target's stored features of the probe
  (:mod:`gaitcore.evaluation.features`); nearest gallery subject per gallery view among the
  target's own stored gallery features (:class:`gaitcore.evaluation.rank1.ProtocolGallery`, as
  :func:`~gaitcore.experiments.attack_job.run_attack_job`). Where the target is the source (the
  diagonal, white-box) this reproduces the source's attack tables (their ``clean_rank1_*`` and
  ``rank1_*`` columns); a disagreement is logged as a warning.
* GaitGAN: Table 3's GEI path (:func:`~gaitcore.experiments.transfer.attacked_geis`, templates by the
  generator, 1-NN Manhattan), on every probe set of the protocol.

**Uncertainty** (:mod:`gaitcore.evaluation.uncertainty`): ``natural`` and ``after`` carry their 95 %
subject-level bootstrap intervals, ``drop`` the paired one (natural minus after on the same probes,
each resample drawing the subjects once for both); ``probes`` and ``subjects`` are those counted.

**The random control** (He et al. Sec. 4.2's control, Table 2's "random" rows): a drop off the
diagonal has two parts, the foreign generated frame itself and what the optimisation against the
source adds. With ``control`` (the random control's tables of the same kind and sparsity, whose
frames are the generator's at random latents and so depend on no victim) the matrix gains a last
source row :data:`CONTROL`, the control scored on every target, and every source cell the
control's after-accuracy on the source's probes (``control_after``) and ``beyond_control``: control
after minus source after, with its paired interval on the same probes. ``beyond_control`` above 0
is transfer of the optimisation, not of the frame. The control must cover every source probe.

Only nontargeted attacks are scored (a targeted attack's success would need the target subject,
which a rank-1 drop does not measure), all of one mode and sparsity.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gaitcore.attacks.records import PROBE_KEY, load_attacks
from gaitcore.data.gei import gait_energy_image, store_geis
from gaitcore.data.layout import CASIA_B, TEST_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import AVERAGE, conditions_of, counted_gallery_views, gallery_hits
from gaitcore.evaluation.features import read_features
from gaitcore.evaluation.gei import gaitgan_templates
from gaitcore.evaluation.protocols import Protocol, protocol_for
from gaitcore.evaluation.rank1 import ProtocolGallery
from gaitcore.evaluation.uncertainty import SEED, Interval, block_columns, paired_difference, subject_bootstrap
from gaitcore.experiments.transfer import (
    attacked_sequences,
    cell_columns,
    gaitgan_hits,
    paired_drops,
    with_gallery,
)
from gaitcore.models.gaitgan import GaitGANGenerator, load_gaitgan
from gaitcore.models.gaitset import silhouettes_to_input
from gaitcore.models.victims import VictimModel, load_victim, sequence_features
from gaitcore.reporting.transfer_matrix_figures import ALL, GAITGAN, cell_text, condition_label, transfer_matrix_figure
from gaitcore.utils.device import resolve_device
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

MODE_COLUMNS = ["kind", "goal", "setting", "sparsity"]
VALUES = ["natural", "after", "drop"]
CONTROL_VALUES = ["control_after", "beyond_control"]  # with a random control: its after, control after - after
ENDS = ("", "_low", "_high")
COLUMNS = ["source", "target", "condition", *MODE_COLUMNS, "probes", "subjects",
           *(f"{v}{end}" for v in (*VALUES, *CONTROL_VALUES) for end in ENDS)]
CONTROL = "random control"  # the source row of the random control's frames (crafted against no victim)
CONTROL_SETTING = "random"  # its setting (Sec. 4.2's random control, gaitcore.attacks.vocabulary.SETTINGS)
FRAME_CHUNK = 64  # GaitSet's frame CNN chunk, as the stored features (gaitcore.evaluation.features)

TargetFiles = tuple[str | Path, str | Path, str | Path]  # (weights, features array .npy, features index .parquet)


def _probe_keys(probes: pd.DataFrame) -> pd.MultiIndex:
    """The probes' keys (:data:`~gaitcore.attacks.records.PROBE_KEY`) as an index, integers as stored."""
    return pd.MultiIndex.from_frame(probes[PROBE_KEY].astype({"seq": np.int64, "view": np.int64}))


@dataclass(frozen=True)
class _Victim:
    """A victim target: its model, its stored features and their gallery under the protocol."""

    model: VictimModel
    features: np.ndarray
    rows: pd.Series  # feature row by probe key
    gallery: ProtocolGallery
    index_path: Path

    @classmethod
    def load(cls, files: TargetFiles, protocol: Protocol, device: torch.device) -> _Victim:
        weights, array_path, index_path = files
        model, _ = load_victim(weights, map_location=device)
        features, index, _ = read_features(array_path, index_path)
        if not protocol.gallery_mask(index).any():
            raise DataError(Path(index_path), f"holds no gallery sequence of the {protocol.dataset} protocol",
                            "rerun extract_features for this victim on the attacked store")
        return cls(model, features, index.set_index(PROBE_KEY)["feature_row"], ProtocolGallery.of(features, index,
                   protocol), Path(index_path))

    def clean_features(self, probes: pd.DataFrame) -> np.ndarray:
        """The stored features of ``probes`` (their clean sequences)."""
        rows = self.rows.reindex(_probe_keys(probes))
        if rows.isna().any():
            missing = tuple(probes[PROBE_KEY].iloc[int(np.flatnonzero(rows.isna().to_numpy())[0])].tolist())
            raise DataError(self.index_path, f"has no features of the attacked probe {missing} ("
                            f"{int(rows.isna().sum())} probes missing)", "rerun extract_features on the attacked store")
        return np.asarray(self.features[rows.to_numpy(np.int64)])

    def forward(self, sequences: list[np.ndarray], device: torch.device) -> np.ndarray:
        """Features ``[len(sequences), parts, hidden]`` of uint8 sequences, batched as flat frames + lengths."""
        with torch.inference_mode():
            flat = silhouettes_to_input(np.concatenate(sequences), device)
            lengths = [len(s) for s in sequences]
            out = sequence_features(self.model, flat, lengths, FRAME_CHUNK)
        return out.float().cpu().numpy()


def _source_rows(name: str, paths: Sequence[str | Path], dataset: str, protocol: Protocol,
                 mode: tuple | None) -> tuple[pd.DataFrame, tuple]:
    """The attacked probes of one source (its tables' rows in file order), checked: nontargeted, one
    mode and sparsity (``mode``: the other sources', None for the first), ``dataset``'s protocol."""
    if not paths:
        raise ValueError(f"source {name!r} has no attack tables")
    rows, metas = load_attacks(list(paths))
    if rows.empty:
        raise ValueError(f"source {name!r}: its attack tables {[str(p) for p in paths]} hold no probe")
    for path, of_file in rows.groupby("_file", sort=False):
        if (of_file["goal"] == "targeted").any():
            raise ValueError(f"{path}: targeted attack rows; the transfer matrix scores nontargeted attacks only "
                             "(a rank-1 drop), pass the nontargeted tables")
        found = sorted(set(of_file[MODE_COLUMNS].itertuples(index=False, name=None)))
        if len(found) > 1 or (mode is not None and found[0] != mode):
            raise ValueError(f"{path}: holds {' '.join(map(str, found[0]))} attack rows"
                             f"{'' if mode is None else ', the other tables ' + ' '.join(map(str, mode))}: the "
                             "transfer matrix compares one (kind, goal, setting, sparsity)")
        mode = found[0]
        if of_file["dataset"].iloc[0] != dataset:
            raise ValueError(f"{path}: attacks {of_file['dataset'].iloc[0]}, the store holds {dataset}")
    meta = metas[dataset]
    if (list(meta["gallery_views"]), meta["exclude_identical_view"]) != (list(protocol.views),
                                                                        protocol.exclude_identical_view):
        raise ValueError(f"source {name!r}: its tables' gallery views {meta['gallery_views']} (exclude identical "
                         f"view {meta['exclude_identical_view']}) are not the {dataset} protocol's")
    return rows.reset_index(drop=True), mode


def _attacked_batches(store: FrameStore, paths: Sequence[str | Path], batch_frames: int
                      ) -> Iterable[list[tuple[np.ndarray, np.ndarray]]]:
    """The (clean, adversarial) sequences of the tables in ``paths`` (in order,
    :func:`~gaitcore.experiments.transfer.attacked_sequences`), in groups of up to ``batch_frames``
    adversarial frames (at least one sequence each)."""
    group, frames = [], 0
    for path in paths:
        for pair in attacked_sequences(store, path)[1]:
            if group and frames + len(pair[1]) > batch_frames:
                yield group
                group, frames = [], 0
            group.append(pair)
            frames += len(pair[1])
    if group:
        yield group


def _nearest_hits(gallery: ProtocolGallery, features: np.ndarray, probes: pd.DataFrame, views: Sequence[int],
                  metric: str, prefix: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Hits in % ``[probes, views]`` (NaN where a view has no gallery) and the nearest subjects as
    the attack tables' ``{prefix}rank1_VVV`` columns."""
    nearest = gallery.nearest(features, views, metric)
    columns = pd.DataFrame({f"{prefix}rank1_{v:03d}": nearest[:, j] for j, v in enumerate(views)})
    truth = probes["subject"].astype(str).to_numpy(dtype=object)
    return 100.0 * gallery_hits(columns, views, prefix, truth), columns


def _check_diagonal(name: str, probes: pd.DataFrame, nearest: pd.DataFrame) -> None:
    """Warn where a source scored by itself does not give its attack tables' nearest subjects."""
    stored = probes[nearest.columns].to_numpy().astype(str)
    differ = int((nearest.to_numpy().astype(str) != stored).sum())  # as the job writes them: None is "None"
    if differ:
        log.warning("%s scored by itself: %d of %d nearest subjects differ from its attack tables (are the "
                    "target's weights and features those the attack used?)", name, differ, stored.size)


@dataclass(frozen=True)
class _GaitGAN:
    """The GaitGAN target: its generator and gallery templates (Table 3's GEI path)."""

    generator: GaitGANGenerator
    templates: np.ndarray
    gallery: pd.DataFrame  # the gallery's store index rows, in the templates' order

    def hits(self, clean: np.ndarray, attacked: np.ndarray, probes: pd.DataFrame, protocol: Protocol,
             device: torch.device, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Natural and after-attack hits in % ``[probes, views]`` of ``probes`` from their ``clean`` and
        ``attacked`` GEIs (NaN rows for probes outside the protocol's probe sets)."""
        out = []
        for geis in (clean, attacked):
            matched, combined = with_gallery(self.generator, self.templates, self.gallery, probes, geis, protocol,
                                              device=device, batch=batch)
            out.append(100.0 * gaitgan_hits(matched, combined, protocol, len(self.gallery), len(probes)))
        return out[0], out[1]


@dataclass(frozen=True)
class _Scorer:
    """Scores the adversarial sequences of one source's tables on every target."""

    store: FrameStore
    protocol: Protocol
    victims: Mapping[str, _Victim]
    gaitgan: _GaitGAN | None
    metric: str
    device: torch.device
    batch_frames: int

    def hits(self, source: str, probes: pd.DataFrame, paths: Sequence[str | Path]
             ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{target: (natural hits, after hits)}`` in % ``[probes, views]``, victims in order, GaitGAN last;
        where a target is the source, its nearest subjects are checked against the tables."""
        views = list(self.protocol.views)
        attacked = {name: [] for name in self.victims}
        geis = []  # GaitGAN's clean and adversarial GEIs, from the same pass over the sequences
        for group in _attacked_batches(self.store, paths, self.batch_frames):
            for name, victim in self.victims.items():
                attacked[name].append(victim.forward([adversarial for _, adversarial in group], self.device))
            if self.gaitgan is not None:
                geis += [(gait_energy_image(clean), gait_energy_image(adversarial)) for clean, adversarial in group]
        hits = {}
        for name, victim in self.victims.items():
            natural, clean_nearest = _nearest_hits(victim.gallery, victim.clean_features(probes), probes, views,
                                                   self.metric, "clean_")
            after, after_nearest = _nearest_hits(victim.gallery, np.concatenate(attacked[name]), probes, views,
                                                 self.metric, "")
            if name == source:
                _check_diagonal(source, probes, pd.concat([clean_nearest, after_nearest], axis=1))
            hits[name] = (natural, after)
        if self.gaitgan is not None:
            clean, adversarial = (np.stack(g).astype(np.float32) for g in zip(*geis, strict=True))
            hits[GAITGAN] = self.gaitgan.hits(clean, adversarial, probes, self.protocol, self.device)
        return hits


def _stacked(values: np.ndarray, probe_views: np.ndarray, blocks: Sequence[tuple[np.ndarray, dict]]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, spread, weights)`` laying out ``values`` for the mean over the ``blocks`` (conditions:
    their probe rows and counted gallery views) of each block's rank-1 estimator (Table 3's per-cell
    layout, :func:`~gaitcore.experiments.transfer.cell_columns`, side by side)."""
    parts = [(of, *cell_columns(values[of], probe_views[of], used, AVERAGE)) for of, used in blocks]
    spread, weights = block_columns([(spread, weights) for _, _, spread, weights in parts])
    return np.concatenate([of[rows] for of, rows, _, _ in parts]), spread, weights


def _cells(natural: np.ndarray, after: np.ndarray, probes: pd.DataFrame, protocol: Protocol, seed: int
           ) -> list[dict]:
    """Per condition (:data:`ALL` first) natural, after and drop with their intervals, probes and subjects."""
    probe_views = probes["view"].to_numpy().astype(int)
    subjects = probes["subject"].astype(str).to_numpy(dtype=object)
    conditions = probes["condition"].to_numpy()
    blocks = {}
    for condition in conditions_of(probes):
        of = np.flatnonzero(conditions == condition)
        used = counted_gallery_views(after[of], probe_views[of], protocol.views, protocol.exclude_identical_view)
        if used:
            blocks[condition] = (of, used)
    none = Interval(np.nan, np.nan, np.nan, 0, 0)
    records = []
    for condition in [ALL, *blocks]:
        chosen = list(blocks.values()) if condition == ALL else [blocks[condition]]
        if chosen:
            rows, before, weights = _stacked(natural, probe_views, chosen)
            spread = _stacked(after, probe_views, chosen)[1]
            intervals = [subject_bootstrap(before, subjects[rows], weights=weights, seed=seed),
                         subject_bootstrap(spread, subjects[rows], weights=weights, seed=seed)]
            if condition == ALL:
                intervals.append(paired_difference(before, spread, subjects[rows], weights=weights, seed=seed))
            else:  # Table 3's paired drop of one condition's average
                of, used = blocks[condition]
                intervals.append(paired_drops(natural[of], after[of], probe_views[of], subjects[of], used, [AVERAGE],
                                               seed=seed)[AVERAGE])
        else:
            intervals = [none] * 3
        records.append({"condition": condition, "probes": intervals[2].n_probes, "subjects": intervals[2].n_subjects,
                        **{f"{v}{end}": getattr(i, attribute) for v, i in zip(VALUES, intervals, strict=True)
                           for end, attribute in zip(ENDS, ("estimate", "low", "high"), strict=True)}})
    return records


def _control_rows(paths: Sequence[str | Path], dataset: str, protocol: Protocol, mode: tuple) -> pd.DataFrame:
    """The random control's probes, checked: the sources' kind, goal and sparsity, setting ``random``."""
    expected = (*mode[:2], CONTROL_SETTING, mode[3])
    rows, found = _source_rows(CONTROL, paths, dataset, protocol, None)
    if found != expected:
        raise ValueError(f"{paths[0]}: holds {' '.join(map(str, found))} attack rows; the control of the sources' "
                         f"{' '.join(map(str, mode))} attack is the random control {' '.join(map(str, expected))}: "
                         "pass its tables")
    return rows


def _positions(probes: pd.DataFrame, control: pd.DataFrame, source: str, control_path: str | Path) -> np.ndarray:
    """The random control's row of each of ``probes``; a DataError naming a source probe it lacks."""
    at = pd.Series(np.arange(len(control)), index=_probe_keys(control)).reindex(_probe_keys(probes))
    if at.isna().any():
        missing = tuple(probes[PROBE_KEY].iloc[int(np.flatnonzero(at.isna().to_numpy())[0])].tolist())
        raise DataError(Path(control_path), f"the random control has no probe {missing} that source {source!r} "
                        f"attacked ({int(at.isna().sum())} of {len(probes)} missing)",
                        "attack the sources within the random control's probe budget (victims.subjects_per_view)")
    return at.to_numpy(np.int64)


def _renamed(cell: dict, names: Mapping[str, str]) -> dict:
    """The ``{value}{end}`` entries of ``cell`` for the values in ``names``, under their new names."""
    return {f"{new}{end}": cell[f"{old}{end}"] for old, new in names.items() for end in ENDS}


def transfer_matrix(
    sources: Mapping[str, Sequence[str | Path]],
    targets: Mapping[str, TargetFiles],
    store_root: str | Path,
    *,
    control: Sequence[str | Path] | None = None,
    gaitgan_weights: str | Path | None = None,
    test_subjects: tuple[int, int] = TEST_SUBJECTS,
    metric: str = "euclidean",
    device: str = "cpu",
    seed: int = SEED,
    batch_frames: int = 2048,
) -> pd.DataFrame:
    """The transfer matrix (see the module docstring): columns :data:`COLUMNS`.

    ``sources``: ``{victim name: its attack tables}`` (``.parquet``, each with its ``.npz``), all
    nontargeted, of one (kind, goal, setting, sparsity), attacking the store at ``store_root``;
    ``targets``: ``{victim name: (weights, features array, features index)}`` (a source scored by the
    target of its own name is the white-box diagonal). ``control``: the random control's tables of
    the sources' kind and sparsity (a last source row :data:`CONTROL` and each cell's
    ``control_after`` and ``beyond_control``; None: neither). With ``gaitgan_weights`` a last target
    :data:`GAITGAN` (CASIA-B only). Rows: sources in their order (the control last), targets in
    theirs (GaitGAN last), conditions (:data:`ALL` first, then those present). ``metric``: the
    victims' distance; ``seed``: the bootstraps'. Raises ``ValueError`` on targeted or mixed sources
    or a control of another attack (naming the file), ``DataError`` on a source probe the control lacks.
    """
    if not sources or not (targets or gaitgan_weights):
        raise ValueError("the transfer matrix needs at least one source and one target")
    if GAITGAN in targets:
        raise ValueError(f"{GAITGAN!r} is the GaitGAN column (gaitgan_weights); name the victim targets otherwise")
    if CONTROL in sources:
        raise ValueError(f"{CONTROL!r} is the random control's row (control); name the sources otherwise")
    store = FrameStore(store_root)
    protocol = protocol_for(store.dataset, test_subjects)
    if gaitgan_weights is not None and store.dataset != CASIA_B:
        raise DataError(store.root, f"holds {store.dataset}; GaitGAN is evaluated on casia_b (Table 3)",
                        "leave gaitgan_weights out for this store")
    checked, mode = {}, None
    for name, paths in sources.items():  # every source checked before any model runs
        checked[name], mode = _source_rows(name, paths, store.dataset, protocol, mode)
    control_rows = None if control is None else _control_rows(control, store.dataset, protocol, mode)
    positions = {name: _positions(probes, control_rows, name, control[0])
                 for name, probes in checked.items()} if control_rows is not None else {}
    dev = resolve_device(device)
    victims = {name: _Victim.load(files, protocol, dev) for name, files in targets.items()}
    gaitgan = None
    if gaitgan_weights is not None:  # GaitGAN's gallery templates, once
        generator = load_gaitgan(gaitgan_weights, map_location=dev).generator
        rows = store.index[protocol.gallery_mask(store.index)]
        gaitgan = _GaitGAN(generator, gaitgan_templates(generator, store_geis(store, rows), rows["view"].to_numpy(),
                                                        device=dev), rows.reset_index(drop=True))
    scorer = _Scorer(store, protocol, victims, gaitgan, metric, dev, batch_frames)
    control_hits = None if control_rows is None else scorer.hits(CONTROL, control_rows, list(control))
    records = []
    for source, probes in checked.items():
        for target, (natural, after) in scorer.hits(source, probes, list(sources[source])).items():
            cells = _cells(natural, after, probes, protocol, seed)
            if control_hits is not None:  # control after - source after on the source's probes, paired
                beyond = _cells(control_hits[target][1][positions[source]], after, probes, protocol, seed)
                for cell, extra in zip(cells, beyond, strict=True):
                    cell.update(_renamed(extra, {"natural": "control_after", "drop": "beyond_control"}))
            records += [{"source": source, "target": target, **dict(zip(MODE_COLUMNS, mode, strict=True)), **cell}
                        for cell in cells]
            log.info("%s -> %s: rank-1 %.1f -> %.1f (drop %.1f) on %d probes", source, target, cells[0]["natural"],
                     cells[0]["after"], cells[0]["drop"], cells[0]["probes"])
    for target, (natural, after) in (control_hits or {}).items():
        cells = _cells(natural, after, control_rows, protocol, seed)
        labels = dict(zip(MODE_COLUMNS, (*mode[:2], CONTROL_SETTING, mode[3]), strict=True))
        records += [{"source": CONTROL, "target": target, **labels, **cell} for cell in cells]
        log.info("%s -> %s: rank-1 %.1f -> %.1f (drop %.1f) on %d probes", CONTROL, target, cells[0]["natural"],
                 cells[0]["after"], cells[0]["drop"], cells[0]["probes"])
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def _matrix_lines(table: pd.DataFrame, sources: Sequence[str], targets: Sequence[str], value: str,
                  digits: int) -> list[str]:
    """One Markdown matrix per condition of ``value`` and its interval, ``value [low, high]``."""
    lines = []
    for condition in dict.fromkeys(table["condition"]):
        cells = table[table["condition"] == condition].set_index(["source", "target"])
        lines += [f"#### {condition_label(condition)}", "", "| source \\ target | " + " | ".join(targets) + " |",
                  "|---|" + "---:|" * len(targets)]
        for source in sources:
            row = [cell_text(*cells.loc[(source, t), [value, f"{value}_low", f"{value}_high"]], digits=digits)
                   if (source, t) in cells.index else "" for t in targets]
            lines.append(f"| {source} | " + " | ".join(row) + " |")
        lines.append("")
    return lines


def transfer_matrix_markdown(table: pd.DataFrame, digits: int = 1) -> str:
    """One matrix per condition (:data:`ALL` first): sources as rows, targets as columns, each cell the
    drop in points and its paired 95 % interval, ``drop [low, high]``; with the random control, then
    the same of ``beyond_control`` for the victims' rows; then the probes per source."""
    if table.empty:
        return "No transfer matrix: no source was scored.\n"
    first = table.iloc[0]
    mode = f"{first['kind']} {first['goal']} {first['setting']}, S = {first['sparsity']}"
    sources = list(dict.fromkeys(table["source"]))
    targets = list(dict.fromkeys(table["target"]))
    lines = [f"### Transfer of adversarial sequences across victims ({mode}): rank-1 drop (points)", "",
             "Rows: the victim the attack was crafted against (source); columns: the model scoring the adversarial "
             "sequences (target). Each cell: the target's rank-1 accuracy (%) on the source's attacked probes before "
             "the attack minus after it, in points, with its paired 95 % subject-level bootstrap interval on the same "
             "probes in brackets. The diagonal is the white-box attack (it reproduces the source's own attack table); "
             "off it the target was never queried (black-box transfer, as He et al. Sec. 4.3, Table 3, for GaitSet "
             f"-> GaitGAN; the matrix is beyond the paper). `{ALL}`: the mean over the conditions present. Natural "
             "and after-attack accuracies, probes and subjects: the CSV.", ""]
    if CONTROL in sources:
        lines[-1:-1] = ["", f"Row `{CONTROL}`: the generator's frames at random latents in the same places "
                        "(He et al. Sec. 4.2's control), crafted against no victim: what a foreign frame costs "
                        "each target by itself."]
    lines += _matrix_lines(table, sources, targets, "drop", digits)
    victims = [source for source in sources if source != CONTROL]
    if CONTROL in sources:
        lines += ["### Beyond the random control: transfer of the optimisation (points)", "",
                  "Each victim row's cell: the target's rank-1 after the random control minus after the source's "
                  "adversary, on the source's probes, with its paired 95 % interval: above 0, the optimisation "
                  "against the source costs the target more than the foreign frame alone.", ""]
        lines += _matrix_lines(table[table["source"] != CONTROL], victims, targets, "beyond_control", digits)
    counts = table[table["condition"] == ALL].drop_duplicates("source")
    lines.append("Attacked probes per source (subjects): "
                 + "; ".join(f"{r.source} {int(r.probes)} ({int(r.subjects)})" for r in counts.itertuples()) + ".")
    return "\n".join(lines) + "\n"


def write_transfer_matrix(
    sources: Mapping[str, Sequence[str | Path]],
    targets: Mapping[str, TargetFiles],
    store_root: str | Path,
    *,
    csv_path: str | Path,
    md_path: str | Path,
    figure_path: str | Path,
    control: Sequence[str | Path] | None = None,
    gaitgan_weights: str | Path | None = None,
    test_subjects: tuple[int, int] = TEST_SUBJECTS,
    metric: str = "euclidean",
    device: str = "cpu",
    seed: int = SEED,
) -> pd.DataFrame:
    """:func:`transfer_matrix` written as CSV and Markdown (:func:`transfer_matrix_markdown`) and its
    heat map (:func:`gaitcore.reporting.transfer_matrix_figures.transfer_matrix_figure`), each atomically."""
    table = transfer_matrix(sources, targets, store_root, control=control, gaitgan_weights=gaitgan_weights,
                            test_subjects=test_subjects, metric=metric, device=device, seed=seed)
    write_table(table, csv_path, md_path, transfer_matrix_markdown(table))
    transfer_matrix_figure(table, figure_path)
    return table


__all__ = ["ALL", "COLUMNS", "CONTROL", "GAITGAN", "transfer_matrix", "transfer_matrix_markdown",
           "write_transfer_matrix"]
