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

**Table 4.** GaitSet and the WGAN-GP trained on CASIA-B's training subjects only, attacked on
CASIA-A (probes x_1..3 of each view, gallery x_4; per probe view the mean over the 3 gallery views,
identical view included, Table 1): rank-1 accuracy of the frame-alteration nontargeted adversary
per sparsity, sparsity 0 being the natural accuracy of the same probes; a labelled row gives the
natural accuracy over all probes (``natural_accuracy.csv``) when the attack covers only some (its
average over the attacked probe views, so that it compares with the other rows).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gaitcore.attacks.records import load_attacks, read_attack_frames, read_attack_table
from gaitcore.attacks.vocabulary import sparsity_value
from gaitcore.data.gei import gait_energy_image, store_geis
from gaitcore.data.layout import CASIA_A, CASIA_B
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import AVERAGE, NATURAL, attack_accuracy
from gaitcore.evaluation.gei import adversarial_sequence, gaitgan_templates, template_rank1
from gaitcore.evaluation.protocols import casia_b_protocol
from gaitcore.evaluation.rank1 import MEAN_ROW
from gaitcore.models.gaitgan import load_gaitgan
from gaitcore.reporting.transfer_tables import AFTER, DROP, NATURAL_ALL, NATURAL_ATTACKED
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)

TABLE3_MODE = ("alteration", "nontargeted", "adversary")  # Sec. 4.3: the sequences of Fig. 5(a)'s Adv, NM
TABLE3_SPARSITY = "1/40"
TABLE4_MODE = TABLE3_MODE
REGENERATE = "rerun the rule `attack` for this job (delete its .parquet and .npz first)"


def _by_view(summary: pd.DataFrame, condition: str = "nm") -> dict[str, float]:
    """``{"0": acc, ..., "average": mean}`` from a rank-1 summary (probe_view ints and "mean")."""
    rows = summary[summary["condition"] == condition]
    value = "rank1" if "rank1" in rows else "value"
    return {(AVERAGE if str(v) == MEAN_ROW else str(int(v))): float(x) for v, x in zip(rows["probe_view"], rows[value])}


def _check_mode(rows: pd.DataFrame, mode: tuple[str, str, str], sparsities: Sequence[str] | None, what: str) -> None:
    found = sorted(set(zip(rows["kind"], rows["goal"], rows["setting"])))
    if found and found != [mode]:
        raise ValueError(f"{what} needs {'_'.join(mode)} attack results, got {['_'.join(f) for f in found]}")
    if sparsities is not None and set(rows["sparsity"]) - set(sparsities):
        raise ValueError(f"{what} needs sparsity {list(sparsities)}, got {sorted(set(rows['sparsity']))}")


# ---------------------------------------------------------------------------------------- Table 3
def attacked_geis(store: FrameStore, table_path: str | Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One attack job's probes (its table), their clean GEIs and the GEIs of their adversarial sequences.

    The adversarial sequence is the stored probe with the job's generated frames (``.npz`` beside the
    table) at their places. Raises :class:`DataError` naming the file when table, frames and store disagree.
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
    clean = np.empty((len(table), 64, 64), dtype=np.float32)
    attacked = np.empty_like(clean)
    for i, row in enumerate(table.itertuples(index=False)):
        probe = (row.subject, row.condition, int(row.seq), int(row.view))
        if probe not in where.index:
            raise DataError(table_path, f"attacks probe {probe}, which is not in the store {store.root}",
                            "rerun the attack against this store")
        original = np.asarray(store.sequence(int(where.loc[probe])))
        if len(original) != int(row.frame_count):
            raise DataError(table_path, f"probe {probe} had {row.frame_count} frames when attacked, the store has "
                            f"{len(original)}", REGENERATE)
        clean[i] = gait_energy_image(original)
        frames = adversarial_sequence(original, generated[offsets[i] : offsets[i + 1]], row.positions, row.kind)
        attacked[i] = gait_energy_image(frames)
    return table, clean, attacked


def table3_blackbox_gaitgan(
    gaitgan_weights: str | Path,
    store_root: str | Path,
    attack_paths: Sequence[str | Path],
    *,
    test_subjects: tuple[int, int] = (75, 124),
    device: str = "auto",
    batch: int = 256,
) -> pd.DataFrame:
    """Table 3 (see the module docstring): rows (model, setting), columns ``model``, ``setting``,
    ``probes``, one per probe view (strings) and ``average``.

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
                        "check gaitset.evaluation.test_subjects")
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
    combined = pd.concat([gallery_index, probes[gallery_index.columns.intersection(probes.columns)]], ignore_index=True)
    combined["dataset"] = CASIA_B
    summaries = {}
    for setting, probe_geis in ((NATURAL_ATTACKED, np.concatenate(clean)), (AFTER, np.concatenate(attacked))):
        probe_templates = gaitgan_templates(model.generator, probe_geis, probe_views, device=dev, batch=batch)
        _, summaries[setting] = template_rank1(np.concatenate([templates[is_gallery], probe_templates]), combined,
                                               protocol)

    long = attack_accuracy(*load_attacks(list(attack_paths)))
    gaitset = {s: long[(long["setting"] == s) & (long["condition"] == "nm")] for s in (NATURAL, "adversary")}
    view_columns = [str(v) for v in protocol.views if v in set(probe_views)]
    n_attacked, n_all = len(probes), int(protocol.probe_mask(used[shown], "nm").sum())
    rows = []

    def add(model_name: str, setting: str, probes_count: int, values: dict[str, float]) -> None:
        rows.append({"model": model_name, "setting": setting, "probes": probes_count,
                     **{c: values.get(c, np.nan) for c in [*view_columns, AVERAGE]}})

    natural, after = _by_view(summaries[NATURAL_ATTACKED]), _by_view(summaries[AFTER])
    add("GaitGAN", NATURAL_ATTACKED, n_attacked, natural)
    add("GaitGAN", AFTER, n_attacked, after)
    add("GaitGAN", DROP, n_attacked, {k: natural[k] - after[k] for k in natural if k in after})
    natural, after = _by_view(gaitset[NATURAL]), _by_view(gaitset["adversary"])
    add("GaitSet", NATURAL_ATTACKED, n_attacked, natural)
    add("GaitSet", AFTER, n_attacked, after)
    add("GaitSet", DROP, n_attacked, {k: natural[k] - after[k] for k in natural if k in after})
    add("GaitGAN", NATURAL_ALL, n_all, _by_view(all_probes))
    result = pd.DataFrame.from_records(rows, columns=["model", "setting", "probes", *view_columns, AVERAGE])
    log.info("Table 3: GaitGAN average %.1f -> %.1f, GaitSet %.1f -> %.1f on %d attacked probes",
             *result.loc[[0, 1, 3, 4], AVERAGE], n_attacked)
    return result


# ---------------------------------------------------------------------------------------- Table 4
def table4_cross_dataset(attack_paths: Sequence[str | Path], natural_csv: str | Path | None = None) -> pd.DataFrame:
    """Table 4 (see the module docstring): rows ``sparsity`` ``"0"`` (natural accuracy of the attacked
    probes), each attacked sparsity ascending, and ``"0 (all probes)"`` from ``natural_csv`` (the
    ``natural_accuracy.csv`` of rule ``natural_accuracy``) if given; columns ``sparsity``, ``probes``,
    ``0``, ``45``, ``90``, ``average``."""
    long = attack_accuracy(*load_attacks(list(attack_paths)))
    long = long[(long["dataset"] == CASIA_A) & (long["condition"] == "nm")]
    if long.empty:
        raise ValueError("Table 4 needs CASIA-A attack results (attack.datasets must include casia_a)")
    attacked = long[long["setting"] == TABLE4_MODE[2]]
    _check_mode(attacked, TABLE4_MODE, None, "Table 4")
    views = sorted({int(v) for v in long["probe_view"] if v != MEAN_ROW})
    columns = ["sparsity", "probes", *map(str, views), AVERAGE]
    rows = []

    def add(label: str, block: pd.DataFrame) -> None:
        probes = block.loc[block["probe_view"] == MEAN_ROW, "probes"]
        rows.append({"sparsity": label, "probes": int(probes.iloc[0]) if len(probes) else np.nan,
                     **{c: np.nan for c in columns[2:]}, **_by_view(block)})

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
        by_view = {view: value for view, value in _by_view(summary).items() if view in columns[2:-1]}
        rows.append({"sparsity": "0 (all probes)", "probes": np.nan, **{c: np.nan for c in columns[2:]}, **by_view,
                     AVERAGE: float(np.mean(list(by_view.values()))) if by_view else np.nan})
    return pd.DataFrame.from_records(rows, columns=columns)


__all__ = ["attacked_geis", "table3_blackbox_gaitgan", "table4_cross_dataset"]
