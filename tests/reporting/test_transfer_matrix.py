"""The transfer matrix of adversarial sequences across victims on the tiny attack world: the diagonal
reproduces each source's own attack table, an off-diagonal cell equals a naive one-sequence-at-a-time
recomputation, the intervals hold their estimates, GaitGAN's column, the refusals and the files."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.attacks.engine import AttackSettings
from gaitcore.attacks.records import load_attacks, read_attack_frames, read_attack_table, write_attack_table
from gaitcore.attacks.vocabulary import Mode
from gaitcore.data.layout import CASIA_B
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import attack_accuracy
from gaitcore.evaluation.features import extract_features, feature_index, read_features, write_features
from gaitcore.evaluation.protocols import casia_b_protocol
from gaitcore.experiments.attack_job import AttackJob, run_attack_job
from gaitcore.experiments.transfer_matrix import COLUMNS, CONTROL, transfer_matrix, write_transfer_matrix
from gaitcore.models.gaitgan import build_gaitgan, load_gaitgan, save_gaitgan
from gaitcore.models.gaitpart import build_gaitpart, save_gaitpart
from gaitcore.models.gaitset import silhouettes_to_input
from gaitcore.models.victims import load_victim
from tests.attacks.world import VIEWS

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEST = (75, 78)
CONDITIONS = ("nm", "bg")
NAMES = ("GaitSet", "GaitPart")


@pytest.fixture(scope="module")
def matrix(world, tmp_path_factory):
    """A tiny GaitPart beside the world's GaitSet (features of the same sequences), a tiny GaitGAN, one
    nontargeted alteration adversary job per victim and condition (views 0 and 90, S = 1/10), GaitSet's
    random control jobs, and the matrix written by :func:`write_transfer_matrix`."""
    out = tmp_path_factory.mktemp("matrix")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as one_torch_thread, which a module fixture runs before
    torch.manual_seed(1)
    save_gaitpart(build_gaitpart(channels=(2, 4, 8), hidden_dim=8).eval(), out / "gaitpart.pt")
    store = FrameStore(world / "casia_b")
    rows = casia_b_protocol(TEST).sequences(store.index)
    gaitpart, _ = load_victim(out / "gaitpart.pt")
    write_features(extract_features(gaitpart, store, rows), feature_index(rows), out / "gp.npy", out / "gp.parquet", {})
    gan = build_gaitgan(2)
    with torch.no_grad():  # larger weights than the init's, so the templates depend on the GEI
        for p in gan.generator.parameters():
            p.mul_(20.0 if p.dim() > 1 else 1.0)
    save_gaitgan(gan.train(False), out / "gaitgan.pt")
    targets = {"GaitSet": (world / "gaitset.pt", world / "f.npy", world / "f.parquet"),
               "GaitPart": (out / "gaitpart.pt", out / "gp.npy", out / "gp.parquet")}

    def attack(files, condition, mode, path):
        weights, array, index = files
        run_attack_job(victim_weights=weights, wgan_weights=world / "wgan.pt", store_root=world / "casia_b",
                       features_array=array, features_index=index,
                       job=AttackJob(CASIA_B, condition, VIEWS, "1/10", mode, subjects=TEST),
                       settings=AttackSettings(iterations=2, setting=Mode.parse(mode).setting), out_table=path,
                       out_frames=path.with_suffix(".npz"), device="cpu", channels_last=False)
        return path

    sources = {name: [attack(files, condition, "alteration_nontargeted_adversary", out / name / f"{condition}.parquet")
                      for condition in CONDITIONS] for name, files in targets.items()}
    # the random control: GaitSet's job, whose frames depend on no victim
    control = [attack(targets["GaitSet"], condition, "alteration_nontargeted_random",
                      out / "control" / f"{condition}.parquet") for condition in CONDITIONS]
    files = {"csv_path": out / "m.csv", "md_path": out / "m.md", "figure_path": out / "m.png"}
    warnings = _Warnings()
    logging.getLogger("gaitcore.experiments.transfer_matrix").addHandler(warnings)
    try:
        table = write_transfer_matrix(sources, targets, world / "casia_b", control=control,
                                      gaitgan_weights=out / "gaitgan.pt", test_subjects=TEST, **files)
    finally:
        torch.set_num_threads(threads)
        logging.getLogger("gaitcore.experiments.transfer_matrix").removeHandler(warnings)
    return out, sources, targets, table, files, warnings.messages, control


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def cell(table, source, target, condition):
    found = table[(table["source"] == source) & (table["target"] == target) & (table["condition"] == condition)]
    assert len(found) == 1
    return found.iloc[0]


def test_rows_in_order_with_every_condition_and_the_average(matrix):
    table = matrix[3]
    assert list(table.columns) == COLUMNS
    expected = [(s, t, c) for s in (*NAMES, CONTROL) for t in (*NAMES, "GaitGAN") for c in ("all", *CONDITIONS)]
    assert list(table[["source", "target", "condition"]].itertuples(index=False, name=None)) == expected
    modes = table[["source", "kind", "goal", "setting", "sparsity"]].drop_duplicates("source").to_numpy().tolist()
    assert modes == [[name, "alteration", "nontargeted", "adversary", "1/10"] for name in NAMES] + [
        [CONTROL, "alteration", "nontargeted", "random", "1/10"]]
    # 8 probes (4 subjects x nm-05/06 or bg-01/02) per view and condition, 2 views
    assert (table.loc[table["condition"] == "all", "probes"] == 32).all()
    assert (table.loc[table["condition"] != "all", "probes"] == 16).all() and (table["subjects"] == 4).all()
    # The average over the conditions is the mean of the conditions' values.
    for (source, target), rows in table.groupby(["source", "target"], sort=False):
        by = rows.set_index("condition")
        for value in ("natural", "after", "drop"):
            assert by.loc["all", value] == pytest.approx(by.loc[list(CONDITIONS), value].mean(), abs=1e-9)


def test_the_drop_is_natural_minus_after_within_its_interval(matrix):
    table = matrix[3]
    assert np.allclose(table["drop"], table["natural"] - table["after"], atol=1e-9)
    victims = table[table["source"] != CONTROL]
    assert np.allclose(victims["beyond_control"], victims["control_after"] - victims["after"], atol=1e-9)
    for value, rows in (("natural", table), ("after", table), ("drop", table), ("control_after", victims),
                        ("beyond_control", victims)):
        assert (rows[f"{value}_low"] <= rows[value] + 1e-9).all()
        assert (rows[value] <= rows[f"{value}_high"] + 1e-9).all()
    assert table[["natural", "after"]].stack().between(0.0, 100.0).all()
    assert table.loc[table["source"] == CONTROL, ["control_after", "beyond_control"]].isna().all().all()


def test_the_control_row_is_the_control_on_the_sources_probes(matrix, world):
    """Known answer: every source here attacked the control's probes, so a source cell's control_after is the
    control row's after on the same target, and the natural accuracies agree; the control's after equals a
    naive recomputation."""
    _, _, targets, table, *_, control = matrix
    for source in NAMES:
        for target in (*NAMES, "GaitGAN"):
            for condition in ("all", *CONDITIONS):
                got, row = cell(table, source, target, condition), cell(table, CONTROL, target, condition)
                assert got["control_after"] == pytest.approx(row["after"], abs=1e-9)
                assert got["natural"] == pytest.approx(row["natural"], abs=1e-9)
    for condition in CONDITIONS:
        expected = naive_cell(control, targets["GaitPart"], FrameStore(world / "casia_b"), condition)
        assert cell(table, CONTROL, "GaitPart", condition)["after"] == pytest.approx(expected["after"], abs=1e-9)


def test_the_diagonal_reproduces_each_source_attack_table(matrix):
    """Known answer: the source's own table through the project's attack accuracy. The job writes a gallery view
    without gallery sequence (18, 36, ... here) as the string "None"; it is read back as null here."""
    _, sources, _, table, _, warnings, _ = matrix
    assert warnings == []  # every recomputed nearest subject on the diagonal is the table's (clean and attacked)
    for name, paths in sources.items():
        rows, metas = load_attacks(paths)
        rank1 = [c for c in rows if "rank1_" in c]
        rows[rank1] = rows[rank1].mask(rows[rank1] == "None")
        long = attack_accuracy(rows, metas)
        means = long[long["probe_view"] == "mean"]
        for condition in CONDITIONS:
            got = cell(table, name, name, condition)
            for setting, value in (("natural", "natural"), ("adversary", "after")):
                expected = means[(means["setting"] == setting) & (means["condition"] == condition)].iloc[0]
                assert got[value] == pytest.approx(expected["value"], abs=1e-9)
                assert got[f"{value}_low"] == pytest.approx(expected["ci_low"], abs=1e-9)
                assert got[f"{value}_high"] == pytest.approx(expected["ci_high"], abs=1e-9)
                if setting == "adversary":
                    assert got["drop"] == pytest.approx(-expected["change"], abs=1e-9)
                    assert got["probes"] == expected["probes"] and got["subjects"] == expected["subjects"]


def naive_probes(source_paths, store):
    """Each attacked probe's table row, clean sequence and adversarial sequence (assembled by hand)."""
    for path in source_paths:
        table, _ = read_attack_table(path)
        frames, offsets, _ = read_attack_frames(path.with_suffix(".npz"))
        for i, row in table.iterrows():
            key = (store.index["subject"] == row["subject"]) & (store.index["condition"] == row["condition"]) & (
                store.index["seq"] == row["seq"]) & (store.index["view"] == row["view"])
            clean = np.array(store.sequence(int(store.index[key].index[0])))
            adversarial = clean.copy()
            adversarial[list(row["positions"])] = frames[offsets[i] : offsets[i + 1]]
            yield row, clean, adversarial


def naive_accuracy(hits, condition):
    """``{"natural": ..., "after": ...}`` from ``(condition, probe view, gallery view, value, hit)`` rows: per probe
    view the mean over its gallery views, then the mean over probe views."""
    hits = pd.DataFrame(hits, columns=["condition", "probe_view", "gallery_view", "value", "hit"])
    hits = hits[hits["condition"] == condition]
    per_pair = hits.groupby(["value", "probe_view", "gallery_view"])["hit"].mean()
    return per_pair.groupby(["value", "probe_view"]).mean().groupby("value").mean()


def naive_cell(source_paths, target, store, condition):
    """Loops: each adversarial sequence forwarded alone by the target, the nearest gallery subject per other
    gallery view by Euclidean distance; natural from the target's stored probe features."""
    weights, array, index = target
    model, _ = load_victim(weights)
    features, index, _ = read_features(array, index)
    gallery = index[(index["condition"] == "nm") & (index["seq"] <= 4)]
    hits = []
    for row, _, adversarial in naive_probes(source_paths, store):
        with torch.no_grad():
            after = model(silhouettes_to_input(adversarial)[None])[0].numpy()
        stored = features[int(index[(index["subject"] == row["subject"]) & (index["condition"] == row["condition"])
                                     & (index["seq"] == row["seq"]) & (index["view"] == row["view"])]
                              ["feature_row"].iloc[0])]
        for name, probe in (("natural", stored), ("after", after)):
            for gallery_view in VIEWS:
                if gallery_view != row["view"]:
                    of_view = gallery[gallery["view"] == gallery_view]
                    d = [np.linalg.norm((probe - features[r]).ravel()) for r in of_view["feature_row"]]
                    hits.append((row["condition"], row["view"], gallery_view, name,
                                 100.0 * (of_view["subject"].iloc[int(np.argmin(d))] == row["subject"])))
    return naive_accuracy(hits, condition)


def naive_gaitgan(source_paths, weights, store, condition):
    """GaitGAN written out: GEI (mean frame / 255), template G(2 GEI - 1) as grey levels (the raw GEI at 90
    degrees), nearest gallery (nm-01..04) template per other gallery view by Manhattan distance."""
    generator = load_gaitgan(weights).generator

    def template(frames, view):
        gei = frames.astype(np.float64).mean(0) / 255
        if view == 90:
            return 255 * gei.ravel()
        with torch.no_grad():
            out = generator(torch.tensor(2 * gei - 1, dtype=torch.float32)[None, None])
        return ((out[0, 0].double().numpy() + 1) / 2 * 255).ravel()

    gallery = [(r.subject, r.view, template(np.asarray(store.sequence(i)), r.view))
               for i, r in store.index.iterrows() if r.condition == "nm" and r.seq <= 4 and r.subject >= "075"]
    hits = []
    for row, clean, adversarial in naive_probes(source_paths, store):
        for name, frames in (("natural", clean), ("after", adversarial)):
            probe = template(frames, row["view"])
            for gallery_view in VIEWS:
                if gallery_view != row["view"]:
                    d = [(np.abs(probe - t).sum(), s) for s, v, t in gallery if v == gallery_view]
                    hits.append((row["condition"], row["view"], gallery_view, name,
                                 100.0 * (min(d, key=lambda x: x[0])[1] == row["subject"])))
    return naive_accuracy(hits, condition)


@pytest.mark.parametrize(("source", "target"), [("GaitSet", "GaitPart"), ("GaitPart", "GaitSet")])
def test_an_off_diagonal_cell_equals_a_naive_recomputation(matrix, world, source, target):
    _, sources, targets, table, *_ = matrix
    store = FrameStore(world / "casia_b")
    for condition in CONDITIONS:
        expected = naive_cell(sources[source], targets[target], store, condition)
        got = cell(table, source, target, condition)
        assert got["natural"] == pytest.approx(expected["natural"], abs=1e-9)
        assert got["after"] == pytest.approx(expected["after"], abs=1e-9)


def test_gaitgan_column(matrix, world):
    out, sources, _, table, *_ = matrix
    gan = table[table["target"] == "GaitGAN"]
    assert len(gan) == 3 * 3 and gan[["natural", "after", "drop"]].notna().all().all()
    assert (gan.loc[gan["condition"] == "all", "probes"] == 32).all()
    # Both sources and the control attacked the same probes: GaitGAN's natural accuracy on them is the same.
    by_source = gan.set_index(["condition", "source"])["natural"].unstack()
    assert np.allclose(by_source["GaitSet"], by_source["GaitPart"])
    assert np.allclose(by_source["GaitSet"], by_source[CONTROL])
    # Every probe set, BG too, against GaitGAN written out (Table 3's path for NM).
    for condition in CONDITIONS:
        expected = naive_gaitgan(sources["GaitPart"], out / "gaitgan.pt", FrameStore(world / "casia_b"), condition)
        got = cell(table, "GaitPart", "GaitGAN", condition)
        assert got["natural"] == pytest.approx(expected["natural"], abs=1e-9)
        assert got["after"] == pytest.approx(expected["after"], abs=1e-9)


def test_markdown_and_figure_are_written(matrix):
    _, _, _, table, files, *_ = matrix
    text = files["md_path"].read_text()
    assert text.count("| source \\ target | GaitSet | GaitPart | GaitGAN |") == 6  # drops, beyond the control
    assert text.index("### Beyond the random control") > text.index("| random control |")
    assert text.index("all conditions") < text.index("#### NM") < text.index("#### BG")
    gaitset = cell(table, "GaitSet", "GaitSet", "all")
    assert f"| GaitSet | {gaitset['drop']:.1f} [{gaitset['drop_low']:.1f}, {gaitset['drop_high']:.1f}] |" in text
    assert files["figure_path"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = pd.read_csv(files["csv_path"], dtype={"sparsity": str})
    assert written[["source", "target", "condition"]].equals(table[["source", "target", "condition"]])
    assert np.allclose(written["drop"], table["drop"], atol=1e-4)
    assert not list(files["csv_path"].parent.glob("*.tmp*"))


def test_targeted_and_mixed_sources_are_refused(matrix, world, tmp_path):
    _, sources, targets, *_ = matrix
    table, meta = read_attack_table(sources["GaitSet"][0])
    frames = sources["GaitSet"][0].with_suffix(".npz").read_bytes()
    for name, change in (("targeted", {"goal": "targeted", "mode": "alteration_targeted_adversary",
                                      "target": "076"}),
                         ("mixed", {"sparsity": "1/20"})):
        path = tmp_path / f"{name}.parquet"
        write_attack_table(table.assign(**change), path, meta)
        path.with_suffix(".npz").write_bytes(frames)
        given = {"GaitSet": [path]} if name == "targeted" else {"GaitSet": sources["GaitSet"], "GaitPart": [path]}
        with pytest.raises(ValueError, match=f"{path}.*{'targeted' if name == 'targeted' else '1/20'}"):
            transfer_matrix(given, targets, world / "casia_b", test_subjects=TEST)


def test_a_control_of_another_attack_or_missing_a_probe_is_refused(matrix, world, tmp_path):
    _, sources, targets, *_, control = matrix
    table, meta = read_attack_table(control[0])
    frames = control[0].with_suffix(".npz")
    with pytest.raises(ValueError, match=f"{sources['GaitSet'][0]}.*the random control alteration nontargeted random"):
        transfer_matrix(sources, targets, world / "casia_b", control=sources["GaitSet"], test_subjects=TEST)
    short = tmp_path / "short.parquet"  # the control without its last probe
    write_attack_table(table.iloc[:-1], short, meta)
    short.with_suffix(".npz").write_bytes(frames.read_bytes())
    with pytest.raises(DataError, match=f"{short}.*no probe .*'{table['subject'].iloc[-1]}'.*1 of 32 missing"):
        transfer_matrix(sources, targets, world / "casia_b", control=[short, control[1]], test_subjects=TEST)
