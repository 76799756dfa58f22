"""Black-box transfer to GaitGAN (He et al. Sec. 4.3, Table 3) and CASIA-A cross-dataset (Sec. 4.4, Table 4).

**Table 3.** The adversarial sequences are the frame-alteration nontargeted adversary outputs at
S = 1/40 crafted against GaitSet on CASIA-B's NM probes (Fig. 5(a)'s "Adv, NM"); GaitGAN is never
queried while attacking. GaitGAN's rank-1 accuracy (:mod:`gaitcore.evaluation.gei`: GEI ->
generator -> 1-NN Manhattan, gallery nm-01..04 of every test subject, per probe view the mean over
the other gallery views) is measured on exactly the attacked probes, clean ("natural") and attacked
("after attack"), and the drop is their difference, per probe view and on average over the probe
views. For comparison the table also holds GaitSet's accuracy on the same probes (from the attack
tables' clean and attacked rank-1 columns, :mod:`gaitcore.reporting.attack_tables`) and GaitGAN's
natural accuracy over all NM probes of the attacked probe views (labelled; the paper's "natural" row
uses all probes).

Uncertainty (:mod:`gaitcore.evaluation.uncertainty`): every value cell of Table 3 carries its 95 %
subject-level bootstrap interval (``<column>_low``, ``<column>_high``) and every row its ``subjects``
(those of the average). The natural and after-attack rows take the intervals of the cells they come
from (GaitGAN: :func:`gaitcore.evaluation.rank1.summarize_rank1` of the GEI matching; GaitSet:
:func:`gaitcore.evaluation.attack_accuracy.attack_accuracy`); a ``drop`` row's interval is the paired
one of natural minus after on the same probes (:func:`~gaitcore.evaluation.uncertainty.paired_difference`
on the probes' per-gallery-view hits), and a last row, :data:`DROP_DIFFERENCE`, holds GaitSet's drop
minus GaitGAN's with its paired interval on the same probes (the paper's finding compares the two).
Table 4 carries the same columns from the attack cells, and ``change`` (``change_low``,
``change_high``): the average minus that of the same probes at sparsity 0, with its paired interval.

**Table 4.** GaitSet and the WGAN-GP trained on CASIA-B's training subjects only, attacked on
CASIA-A (probes x_1..3 of each view, gallery x_4; per probe view the mean over the 3 gallery views,
identical view included, Table 1): rank-1 accuracy of the frame-alteration nontargeted adversary
per sparsity, sparsity 0 being the natural accuracy of the same probes; a labelled row gives the
natural accuracy over all probes (``natural_accuracy.csv``) when the attack covers only some (its
average over the attacked probe views, so that it compares with the other rows).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gaitcore.attacks.records import load_attacks, read_attack_frames, read_attack_table
from gaitcore.attacks.vocabulary import sparsity_value
from gaitcore.data.gei import gait_energy_image, store_geis
from gaitcore.data.layout import CASIA_A, CASIA_B, TEST_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import (
    AVERAGE,
    NATURAL,
    attack_accuracy,
    counted_gallery_views,
    gallery_hits,
)
from gaitcore.evaluation.gei import METRIC, adversarial_sequence, gaitgan_templates, template_rank1
from gaitcore.evaluation.protocols import Protocol, casia_b_protocol
from gaitcore.evaluation.rank1 import MEAN_ROW, rank1_hits
from gaitcore.evaluation.uncertainty import SEED, Interval, paired_difference, view_columns
from gaitcore.models.gaitgan import GaitGANGenerator, load_gaitgan
from gaitcore.reporting.transfer_tables import (
    AFTER,
    DROP,
    DROP_DIFFERENCE,
    DROP_DIFFERENCE_MODEL,
    NATURAL_ALL,
    NATURAL_ATTACKED,
)
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)

TABLE3_MODE = ("alteration", "nontargeted", "adversary")  # Sec. 4.3: the sequences of Fig. 5(a)'s Adv, NM
TABLE3_SPARSITY = "1/40"
TABLE4_MODE = TABLE3_MODE
REGENERATE = "rerun the rule `attack` for this job (delete its .parquet and .npz first)"


def _by_view(summary: pd.DataFrame, condition: str = "nm", column: str | None = None) -> dict[str, float]:
    """``{"0": acc, ..., "average": mean}`` from a rank-1 summary (probe_view ints and "mean").

    ``column``: which column (None: the value, ``rank1`` or ``value``); ``{}`` where the summary lacks it.
    """
    rows = summary[summary["condition"] == condition]
    value = column or ("rank1" if "rank1" in rows else "value")
    if value not in rows:
        return {}
    return {(AVERAGE if str(v) == MEAN_ROW else str(int(v))): float(x) for v, x in zip(rows["probe_view"], rows[value])}


def _bounds(summary: pd.DataFrame) -> dict[str, float]:
    """The interval columns ``{"<cell>_low": ..., "<cell>_high": ...}`` of a summary with ``ci_low``/``ci_high``."""
    return {f"{cell}_{end}": value for end in ("low", "high")
            for cell, value in _by_view(summary, column=f"ci_{end}").items()}


def _subjects(summary: pd.DataFrame) -> float:
    """The subjects of a summary's average (NaN without the column)."""
    return _by_view(summary, column="subjects").get(AVERAGE, np.nan)


def _interval_bounds(intervals: dict[str, Interval]) -> dict[str, float]:
    return {f"{cell}_{end}": getattr(interval, end) for cell, interval in intervals.items() for end in ("low", "high")}


def _check_mode(rows: pd.DataFrame, mode: tuple[str, str, str], sparsities: Sequence[str] | None, what: str) -> None:
    found = sorted(set(zip(rows["kind"], rows["goal"], rows["setting"])))
    if found and found != [mode]:
        raise ValueError(f"{what} needs {'_'.join(mode)} attack results, got {['_'.join(f) for f in found]}")
    if sparsities is not None and set(rows["sparsity"]) - set(sparsities):
        raise ValueError(f"{what} needs sparsity {list(sparsities)}, got {sorted(set(rows['sparsity']))}")


# ---------------------------------------------------------------------------------------- Table 3
def attacked_sequences(store: FrameStore, table_path: str | Path
                       ) -> tuple[pd.DataFrame, Iterator[tuple[np.ndarray, np.ndarray]]]:
    """One attack job's probes (its table) and, lazily in the table's row order, each probe's stored
    (clean) sequence and its adversarial sequence: the stored probe with the job's generated frames
    (``.npz`` beside the table) at their places (:func:`gaitcore.evaluation.gei.adversarial_sequence`).

    Raises :class:`DataError` naming the file when table, frames and store disagree (the frames file
    at once, a probe when the iterator reaches it).
    """
    table_path = Path(table_path)
    frames_path = table_path.with_suffix(".npz")
    table, _ = read_attack_table(table_path)
    generated, offsets, _ = read_attack_frames(frames_path)
    if len(offsets) != len(table) + 1 or (np.diff(offsets) != table["altered"].to_numpy()).any():
        raise DataError(frames_path, f"holds frames for {len(offsets) - 1} probes, its table {table_path.name} "
                        f"lists {len(table)} (or their frame counts differ)", REGENERATE)
    key = ["subject", "condition", "seq", "view"]
    where = store.index.reset_index().set_index(key)["index"]

    def sequences() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i, row in enumerate(table.itertuples(index=False)):
            probe = (row.subject, row.condition, int(row.seq), int(row.view))
            if probe not in where.index:
                raise DataError(table_path, f"attacks probe {probe}, which is not in the store {store.root}",
                                "rerun the attack against this store")
            original = np.asarray(store.sequence(int(where.loc[probe])))
            if len(original) != int(row.frame_count):
                raise DataError(table_path, f"probe {probe} had {row.frame_count} frames when attacked, the store "
                                f"has {len(original)}", REGENERATE)
            yield original, adversarial_sequence(original, generated[offsets[i] : offsets[i + 1]], row.positions,
                                                 row.kind)

    return table, sequences()


def attacked_geis(store: FrameStore, table_path: str | Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One attack job's probes (its table), their clean GEIs and the GEIs of their adversarial sequences.

    The adversarial sequence is the stored probe with the job's generated frames (``.npz`` beside the
    table) at their places (:func:`attacked_sequences`). Raises :class:`DataError` naming the file when
    table, frames and store disagree.
    """
    table, sequences = attacked_sequences(store, table_path)
    clean = np.empty((len(table), 64, 64), dtype=np.float32)
    attacked = np.empty_like(clean)
    for i, (original, frames) in enumerate(sequences):
        clean[i] = gait_energy_image(original)
        attacked[i] = gait_energy_image(frames)
    return table, clean, attacked


def with_gallery(generator: GaitGANGenerator, gallery_templates: np.ndarray, gallery_index: pd.DataFrame,
                  probes: pd.DataFrame, probe_geis: np.ndarray, protocol: Protocol, *, device: torch.device,
                  batch: int) -> tuple[np.ndarray, pd.DataFrame]:
    """The gallery's templates followed by those of the probes (their GEIs ``probe_geis`` at their views
    through ``generator``), and the index of both (``gallery_index``'s rows, then ``probes``'), as
    :func:`template_rank1` and :func:`gaitgan_hits` take them."""
    probe_templates = gaitgan_templates(generator, probe_geis, probes["view"].to_numpy(), device=device, batch=batch)
    combined = pd.concat([gallery_index, probes[gallery_index.columns.intersection(probes.columns)]], ignore_index=True)
    combined["dataset"] = protocol.dataset
    return np.concatenate([gallery_templates, probe_templates]), combined


def gaitgan_hits(templates: np.ndarray, index: pd.DataFrame, protocol: Protocol, n_gallery: int,
                  n_probes: int) -> np.ndarray:
    """Per-probe GaitGAN hits ``[n_probes, len(protocol.views)]`` of the matching :func:`template_rank1`
    summarises: ``index`` (and ``templates``) holds ``n_gallery`` gallery rows, then the probes.

    The same 1-NN matching (:func:`gaitcore.evaluation.rank1.rank1_hits`, metric of
    :mod:`gaitcore.evaluation.gei`) on the same templates; a probe outside the protocol's probe sets
    (which the summary leaves out) gets a NaN row.
    """
    index = index.reset_index(drop=True)
    _, hits = rank1_hits(np.asarray(templates)[:, None, :], index, protocol, METRIC)
    # rank1_hits lists the probe sets in the protocol's order, each in index order
    counted = np.concatenate([np.flatnonzero(protocol.probe_mask(index, name)) for name, _ in protocol.probes])
    counted = counted.astype(np.int64) - n_gallery
    out = np.full((n_probes, len(protocol.views)), np.nan)
    out[counted] = hits
    return out


def cell_columns(values: np.ndarray, probe_views: np.ndarray, used: dict[int, np.ndarray], cell: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of ``cell`` (a probe view or the average) and their values and weights laid out for its
    estimator (:func:`gaitcore.evaluation.uncertainty.view_columns`)."""
    rows = np.isin(probe_views, list(used)) if cell == AVERAGE else probe_views == int(cell)
    spread, weights = view_columns(values[rows], probe_views[rows], used)
    return rows, spread, weights


def paired_drops(natural: np.ndarray, after: np.ndarray, probe_views: np.ndarray, subjects: np.ndarray,
                  used: dict[int, np.ndarray], cells: Sequence[str], seed: int = SEED) -> dict[str, Interval]:
    """Per cell, natural minus after on the same probes with its paired subject-level interval (``seed``: the
    bootstrap's)."""
    out = {}
    for cell in cells:
        if cell != AVERAGE and int(cell) not in used:
            continue
        rows, before, weights = cell_columns(natural, probe_views, used, cell)
        out[cell] = paired_difference(before, cell_columns(after, probe_views, used, cell)[1], subjects[rows],
                                      weights=weights, seed=seed)
    return out


def _paired_drop_difference(gaitset: tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]],
                            gaitgan: tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]], probe_views: np.ndarray,
                            subjects: np.ndarray, cells: Sequence[str]) -> dict[str, Interval]:
    """Per cell, GaitSet's drop minus GaitGAN's on the same probes with its paired interval.

    ``gaitset``/``gaitgan``: ``(natural hits, after hits, counted gallery views per probe view)``. A
    probe's drop at a gallery view is its natural minus its after hit; the two models' drops sit in
    separate blocks of columns, each with its own weights, so that each side's estimate is its drop
    row's value while every resample draws the subjects once for both.
    """
    views = [v for v in gaitset[2] if v in gaitgan[2]]  # probe views both models count
    out = {}
    for cell in cells:
        if cell != AVERAGE and int(cell) not in views:
            continue
        (rows, a, wa), (_, b, wb) = (
            cell_columns(natural - after, probe_views, {v: used[v] for v in views}, cell)
            for natural, after, used in (gaitset, gaitgan))
        if not rows.any():
            continue
        out[cell] = paired_difference(np.hstack([a, np.full_like(b, np.nan)]), np.hstack([np.full_like(a, np.nan), b]),
                                      subjects[rows], weights=np.concatenate([wa, wb]))
    return out


def table3_blackbox_gaitgan(
    gaitgan_weights: str | Path,
    store_root: str | Path,
    attack_paths: Sequence[str | Path],
    *,
    test_subjects: tuple[int, int] = TEST_SUBJECTS,
    device: str = "auto",
    batch: int = 256,
) -> pd.DataFrame:
    """Table 3 (see the module docstring): rows (model, setting), columns ``model``, ``setting``,
    ``probes``, one per probe view (strings) and ``average``; then ``subjects`` (those of the
    average) and each value column's 95 % interval, ``"<column>_low"`` and ``"<column>_high"``.

    Rows: GaitGAN's ``natural (attacked probes)``, ``after attack`` and ``drop``, the same three of
    GaitSet, GaitGAN's ``natural (all probes)`` and last (model ``"GaitSet - GaitGAN"``, setting
    :data:`~gaitcore.reporting.transfer_tables.DROP_DIFFERENCE`) GaitSet's drop minus GaitGAN's. The
    ``drop`` rows' and the last row's intervals are paired: subject-level bootstrap of the
    difference on the same probes.

    ``attack_paths`` are the CASIA-B attack tables (``.parquet``, each with its ``.npz``) of the
    frame-alteration nontargeted adversary at S = 1/40, condition NM.
    """
    if not attack_paths:
        raise ValueError("Table 3 needs the NM attack tables of the frame-alteration nontargeted adversary at S = 1/40")
    dev = resolve_device(device)
    model = load_gaitgan(gaitgan_weights, map_location=dev)
    store = FrameStore(store_root)
    if store.dataset != CASIA_B:
        raise DataError(store.root, f"holds {store.dataset}; Table 3 evaluates GaitGAN on casia_b",
                        "check the rule's store input")
    protocol = casia_b_protocol(test_subjects)
    index = store.index
    used = index[protocol.gallery_mask(index) | protocol.probe_mask(index, "nm")]
    gallery = used[protocol.gallery_mask(used)]
    if gallery.empty:
        raise DataError(store.root, f"has no gallery sequence (nm-01..04) of the test subjects {test_subjects}",
                        "check subjects.casia_b.test")
    views = used["view"].to_numpy()
    geis = store_geis(store, used)
    templates = gaitgan_templates(model.generator, geis, views, device=dev, batch=batch)
    is_gallery = protocol.gallery_mask(used)
    log.info("GaitGAN templates of %d gallery and %d NM probe sequences of the test subjects", int(is_gallery.sum()),
             int((~is_gallery).sum()))

    tables, clean, attacked = [], [], []
    for path in attack_paths:
        table, c, a = attacked_geis(store, path)
        tables.append(table)
        clean.append(c)
        attacked.append(a)
        log.info("%s: %d attacked probes", Path(path).name, len(table))
    probes = pd.concat(tables, ignore_index=True)
    _check_mode(probes, TABLE3_MODE, [TABLE3_SPARSITY], "Table 3")
    if (probes["condition"] != "nm").any():
        raise ValueError(f"Table 3 uses NM probes; got conditions {sorted(set(probes['condition']))}")
    probe_views = probes["view"].to_numpy()
    shown = is_gallery | used["view"].isin(set(probe_views)).to_numpy()  # all probes of the attacked views
    _, all_probes = template_rank1(templates[shown], used[shown], protocol)
    gallery_index = used[is_gallery].reset_index(drop=True)
    summaries, gan_hits = {}, {}
    for setting, probe_geis in ((NATURAL_ATTACKED, np.concatenate(clean)), (AFTER, np.concatenate(attacked))):
        matched, combined = with_gallery(model.generator, templates[is_gallery], gallery_index, probes, probe_geis,
                                          protocol, device=dev, batch=batch)
        _, summaries[setting] = template_rank1(matched, combined, protocol)
        gan_hits[setting] = gaitgan_hits(matched, combined, protocol, len(gallery_index), len(probes))

    attack_rows, metas = load_attacks(list(attack_paths))
    long = attack_accuracy(attack_rows, metas)
    gaitset = {s: long[(long["setting"] == s) & (long["condition"] == "nm")] for s in (NATURAL, "adversary")}
    cells = [str(v) for v in protocol.views if v in set(probe_views)]
    values_columns = [*cells, AVERAGE]
    bound_columns = [f"{c}_{end}" for c in values_columns for end in ("low", "high")]
    n_attacked, n_all = len(probes), int(protocol.probe_mask(used[shown], "nm").sum())
    rows = []

    def add(model_name: str, setting: str, probes_count: int, values: dict[str, float], subjects: float,
            bounds: dict[str, float]) -> None:
        rows.append({"model": model_name, "setting": setting, "probes": probes_count,
                     **{c: values.get(c, np.nan) for c in values_columns}, "subjects": subjects,
                     **{c: bounds.get(c, np.nan) for c in bound_columns}})

    # Both models' hits per probe (the rows of `probes`) and gallery view, natural and after the attack,
    # with the gallery views each probe view counts: the per-probe values behind the rows' cells.
    subjects = probes["subject"].astype(str).to_numpy(dtype=object)
    probe_views = probe_views.astype(int)
    meta = metas[str(probes["dataset"].iloc[0])]
    gan_natural, gan_after = 100.0 * gan_hits[NATURAL_ATTACKED], 100.0 * gan_hits[AFTER]  # in %, as the table
    truth = probes["subject"].astype(str).to_numpy(dtype=object)
    set_natural, set_after = (100.0 * gallery_hits(probes, meta["gallery_views"], p, truth) for p in ("clean_", ""))
    models = {
        "GaitGAN": (summaries[NATURAL_ATTACKED], summaries[AFTER], gan_natural, gan_after,
                    counted_gallery_views(gan_natural, probe_views, protocol.views, protocol.exclude_identical_view)),
        "GaitSet": (gaitset[NATURAL], gaitset["adversary"], set_natural, set_after,
                    counted_gallery_views(set_after, probe_views, meta["gallery_views"],
                                          meta["exclude_identical_view"])),
    }
    drops = {}
    for name, (natural_rows, after_rows, natural_hits, after_hits, counted) in models.items():
        natural, after = _by_view(natural_rows), _by_view(after_rows)
        drops[name] = {k: natural[k] - after[k] for k in natural if k in after}
        paired = paired_drops(natural_hits, after_hits, probe_views, subjects, counted, values_columns)
        _check_estimates(f"{name} {DROP}", drops[name], paired)
        add(name, NATURAL_ATTACKED, n_attacked, natural, _subjects(natural_rows), _bounds(natural_rows))
        add(name, AFTER, n_attacked, after, _subjects(after_rows), _bounds(after_rows))
        add(name, DROP, n_attacked, drops[name], paired[AVERAGE].n_subjects if AVERAGE in paired else np.nan,
            _interval_bounds(paired))
    add("GaitGAN", NATURAL_ALL, n_all, _by_view(all_probes), _subjects(all_probes), _bounds(all_probes))

    # GaitSet's drop minus GaitGAN's on the same probes: those GaitGAN counts (every attacked probe,
    # unless one is outside the protocol's NM probe set, which GaitGAN's rows leave out).
    shared = ~np.isnan(gan_natural).all(axis=1)[:, None]
    difference = _paired_drop_difference(
        (np.where(shared, set_natural, np.nan), np.where(shared, set_after, np.nan), models["GaitSet"][4]),
        (gan_natural, gan_after, models["GaitGAN"][4]), probe_views, subjects, values_columns)
    values = {k: drops["GaitSet"][k] - drops["GaitGAN"][k] for k in drops["GaitSet"] if k in drops["GaitGAN"]}
    _check_estimates(DROP_DIFFERENCE, values, difference)
    average = difference.get(AVERAGE)
    add(DROP_DIFFERENCE_MODEL, DROP_DIFFERENCE, average.n_probes if average else 0, values,
        average.n_subjects if average else np.nan, _interval_bounds(difference))
    result = pd.DataFrame.from_records(rows, columns=["model", "setting", "probes", *values_columns,
                                                      "subjects", *bound_columns])
    log.info("Table 3: GaitGAN average %.1f -> %.1f, GaitSet %.1f -> %.1f on %d attacked probes",
             *result.loc[[0, 1, 3, 4], AVERAGE], n_attacked)
    return result


def _check_estimates(what: str, values: dict[str, float], intervals: dict[str, Interval]) -> None:
    """Warn where a paired interval's estimate is not the table's value (its probes would not be the table's)."""
    for cell, interval in intervals.items():
        if cell in values and not np.isclose(interval.estimate, values[cell], rtol=0.0, atol=1e-6, equal_nan=True):
            log.warning("Table 3 %s, %s: the paired interval's estimate %.6f is not the table's value %.6f",
                        what, cell, interval.estimate, values[cell])


# ---------------------------------------------------------------------------------------- Table 4
def table4_cross_dataset(attack_paths: Sequence[str | Path], natural_csv: str | Path | None = None) -> pd.DataFrame:
    """Table 4 (see the module docstring): rows ``sparsity`` ``"0"`` (natural accuracy of the attacked
    probes), each attacked sparsity ascending, and ``"0 (all probes)"`` from ``natural_csv`` (the
    ``natural_accuracy.csv`` of rule ``natural_accuracy``) if given; columns ``sparsity``, ``probes``,
    ``0``, ``45``, ``90``, ``average``.

    Then ``subjects`` (those of the average), ``change``, ``change_low``, ``change_high`` (attacked
    rows: the average minus that of the same probes before the attack, with its paired 95 %
    interval; NaN on the natural rows) and each value column's 95 % subject-level bootstrap interval,
    ``"<column>_low"`` and ``"<column>_high"``, all from the attack cells
    (:func:`gaitcore.evaluation.attack_accuracy.attack_accuracy`). The ``"0 (all probes)"`` row takes
    ``natural_csv``'s intervals where it has them (its average's only when it covers every view of
    the CSV, the CSV's mean then being that average)."""
    long = attack_accuracy(*load_attacks(list(attack_paths)))
    long = long[(long["dataset"] == CASIA_A) & (long["condition"] == "nm")]
    if long.empty:
        raise ValueError("Table 4 needs CASIA-A attack results (attack.datasets must include casia_a)")
    attacked = long[long["setting"] == TABLE4_MODE[2]]
    _check_mode(attacked, TABLE4_MODE, None, "Table 4")
    views = sorted({int(v) for v in long["probe_view"] if v != MEAN_ROW})
    cells = [*map(str, views), AVERAGE]
    bound_columns = [f"{c}_{end}" for c in cells for end in ("low", "high")]
    change_columns = ["change", "change_low", "change_high"]
    columns = ["sparsity", "probes", *cells, "subjects", *change_columns, *bound_columns]
    rows = []

    def add(label: str, block: pd.DataFrame) -> None:
        mean = block[block["probe_view"] == MEAN_ROW]
        rows.append({"sparsity": label, "probes": int(mean["probes"].iloc[0]) if len(mean) else np.nan,
                     **{c: np.nan for c in columns[2:]}, **_by_view(block),
                     "subjects": _subjects(block), **_bounds(block),
                     **{c: float(mean[c].iloc[0]) if len(mean) else np.nan for c in change_columns}})

    natural = long[(long["setting"] == NATURAL) & (long["kind"] == TABLE4_MODE[0])]
    sparsities = sorted(set(attacked["sparsity"]), key=sparsity_value)
    add("0", natural[natural["sparsity"] == sparsities[0]])  # the same probes at every sparsity
    for sparsity in sparsities:
        add(sparsity, attacked[attacked["sparsity"] == sparsity])
    if natural_csv is not None:
        summary = pd.read_csv(natural_csv, dtype={"probe_view": str})
        summary = summary[summary["dataset"] == CASIA_A]
        if summary.empty:
            raise DataError(Path(natural_csv), "has no casia_a rows", "add casia_a to gaitset.evaluation.datasets")
        by_view = {view: value for view, value in _by_view(summary).items() if view in cells[:-1]}
        bounds = {c: value for c, value in _bounds(summary).items() if c.rsplit("_", 1)[0] in by_view}
        every_view = set(by_view) == set(_by_view(summary)) - {AVERAGE}  # the CSV's mean is this average
        whole = {c: value for c, value in _bounds(summary).items() if c.startswith(f"{AVERAGE}_")} if every_view else {}
        rows.append({"sparsity": "0 (all probes)", "probes": np.nan, **{c: np.nan for c in columns[2:]}, **by_view,
                     AVERAGE: float(np.mean(list(by_view.values()))) if by_view else np.nan,
                     "subjects": _subjects(summary) if every_view else np.nan, **bounds, **whole})
    return pd.DataFrame.from_records(rows, columns=columns)


__all__ = ["attacked_geis", "attacked_sequences", "cell_columns", "gaitgan_hits", "paired_drops",
           "table3_blackbox_gaitgan", "table4_cross_dataset", "with_gallery"]
