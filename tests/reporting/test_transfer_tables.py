"""Tables 3 and 4: GaitGAN on attacked sequences against a naive reference, CASIA-A tables with known answers."""

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.errors import DataError
from gaitcore.experiments.transfer import table3_blackbox_gaitgan, table4_cross_dataset
from gaitcore.models.gaitgan import build_gaitgan, load_gaitgan, save_gaitgan
from gaitcore.reporting.transfer_tables import table3_markdown, table4_markdown, transfer_finding_holds
from gaitcore.utils.tables import write_table
from tests.reporting.test_attack_tables import row, write

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SUBJECTS = ("075", "076", "077")
VIEWS = (0, 18, 90)
GAIN = 20.0


# ---------------------------------------------------------------------------------------- Table 3
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Test subjects 075-077 with nm-01..06 at 0, 18 and 90 degrees; a tiny GaitGAN; the S = 1/40 NM
    attack job's table and frames (one job over the views, as the pipeline writes it) for 075's NM
    probes at every view (two generated frames at places 0 and 1), and one over the first two views."""
    root = tmp_path_factory.mktemp("transfer")
    rng = np.random.default_rng(0)
    with StoreWriter(root / "casia_b", CASIA_B) as writer:
        for s, subject in enumerate(SUBJECTS):
            for seq in range(1, 7):
                for view in VIEWS:
                    frames = np.zeros((int(rng.integers(6, 10)), 64, 64), dtype=np.uint8)
                    for t, frame in enumerate(frames):
                        left = 12 + 10 * s + int(rng.integers(0, 4)) + t % 3
                        frame[6 + 3 * s : 60, left : left + 6 + view // 30] = 255
                    writer.add(SequenceKey(CASIA_B, subject, "nm", seq, view), frames)
    torch.manual_seed(0)
    model = build_gaitgan(2)
    with torch.no_grad():  # larger weights than the init's N(0, 0.02), so templates depend on the GEI
        for p in model.generator.parameters():
            p.mul_(GAIN if p.dim() > 1 else 1.0)
    save_gaitgan(model.train(False), root / "gaitgan.pt")
    store = FrameStore(root / "casia_b")
    generated = {(view, seq): rng.integers(0, 2, (2, 64, 64), dtype=np.uint8) * 255 for view in VIEWS for seq in (5, 6)}
    paths = {}
    for name, views in (("all", VIEWS), ("some", VIEWS[:2])):
        rows = []
        for view in views:
            for seq in (5, 6):
                n = len(store.sequence(int(store.select(subjects=["075"], seqs=[seq], views=[view]).index[0])))
                r = row("075", view, ("076",) * 3, views=VIEWS, seq=seq)  # GaitSet: clean right, attacked wrong
                rows.append({**r, "frame_count": n, "altered": 2, "positions": [0, 1]})
        (root / name).mkdir()
        path = write(root / name / "nm.parquet", rows, views=VIEWS)
        np.savez(path.with_suffix(".npz"), frames=np.concatenate([generated[r["view"], r["seq"]] for r in rows]),
                 offsets=np.arange(0, 2 * len(rows) + 1, 2), positions=np.tile([0, 1], len(rows)))
        paths[name] = path
    return root, paths


def naive_table3(root, path, views=VIEWS):
    """GEIs, templates and 1-NN Manhattan written out with loops (probes of ``views``, attacked by the job at
    ``path``)."""
    store = FrameStore(root / "casia_b")
    g = load_gaitgan(root / "gaitgan.pt").generator

    def template(frames, view):
        gei = frames.astype(np.float64).mean(0) / 255
        if view == 90:
            return 255 * gei.ravel()
        with torch.no_grad():
            out = g(torch.tensor(2 * gei - 1, dtype=torch.float32)[None, None])
        return ((out[0, 0].double().numpy() + 1) / 2 * 255).ravel()

    idx = store.index
    gallery = [(r.subject, r.view, template(store.sequence(i), r.view)) for i, r in idx.iterrows() if r.seq <= 4]

    def accuracy(probes):  # probes: (subject, view, template) -> {view: acc, "average": mean}
        out = {}
        for pv in sorted({p[1] for p in probes}):
            per_gallery_view = []
            for gv in VIEWS:
                if gv == pv:
                    continue
                hits = []
                for subject, _, t in (p for p in probes if p[1] == pv):
                    cands = [(np.abs(t - gt).sum(), gs) for gs, gview, gt in gallery if gview == gv]
                    hits.append(min(cands, key=lambda c: c[0])[1] == subject)
                per_gallery_view.append(100 * np.mean(hits))
            out[str(pv)] = np.mean(per_gallery_view)
        out["average"] = np.mean(list(out.values()))
        return out

    clean, attacked = [], []
    frames = np.load(path.with_suffix(".npz"))["frames"]
    for k, (view, seq) in enumerate((view, seq) for view in views for seq in (5, 6)):  # the job's row order
        original = np.array(store.sequence(int(store.select(subjects=["075"], seqs=[seq], views=[view]).index[0])))
        clean.append(("075", view, template(original, view)))
        adv = original.copy()
        adv[[0, 1]] = frames[2 * k : 2 * k + 2]
        attacked.append(("075", view, template(adv, view)))
    every = [(r.subject, r.view, template(store.sequence(i), r.view)) for i, r in idx.iterrows()
             if r.seq >= 5 and r.view in views]
    return accuracy(clean), accuracy(attacked), accuracy(every)


def test_table3_matches_a_naive_gei_template_and_manhattan_reference(world, tmp_path):
    root, paths = world
    table = table3_blackbox_gaitgan(root / "gaitgan.pt", root / "casia_b", [paths["all"]], test_subjects=(75, 77),
                                    device="cpu")
    assert table[["model", "setting", "probes"]].values.tolist() == [
        ["GaitGAN", "natural (attacked probes)", 6], ["GaitGAN", "after attack", 6], ["GaitGAN", "drop", 6],
        ["GaitSet", "natural (attacked probes)", 6], ["GaitSet", "after attack", 6], ["GaitSet", "drop", 6],
        ["GaitGAN", "natural (all probes)", 18]]
    assert list(table.columns[3:]) == ["0", "18", "90", "average"]
    natural, after, every = naive_table3(root, paths["all"])
    assert natural != after and len(set(every.values())) > 1  # the toy world discriminates
    cells = table.set_index(["model", "setting"])
    for setting, expected in (("natural (attacked probes)", natural), ("after attack", after),
                              ("natural (all probes)", every)):
        assert cells.loc[("GaitGAN", setting)].iloc[1:].astype(float).to_dict() == pytest.approx(expected), setting
    drop = cells.loc[("GaitGAN", "drop")].iloc[1:].astype(float).to_numpy()
    np.testing.assert_allclose(drop, [natural[k] - after[k] for k in ("0", "18", "90", "average")])
    # GaitSet from the attack tables: clean always right, attacked always wrong.
    assert cells.loc[("GaitSet", "drop")].iloc[1:].astype(float).tolist() == [100.0] * 4
    assert "GaitSet 100.0 points" in table3_markdown(table)
    write_table(table, tmp_path / "t3.csv", tmp_path / "t3.md", markdown=table3_markdown(table))
    assert pd.read_csv(tmp_path / "t3.csv").shape == (7, 7) and "paper Table 3" in (tmp_path / "t3.md").read_text()


@pytest.mark.parametrize(("gaitgan_drop", "gaitset_drop", "holds"), [
    (0.9, 1.4, False),  # neither model hurt: GaitSet did not collapse
    (3.0, 40.0, True),  # a few points against more than half of GaitSet's 70
    (12.0, 60.0, False),  # GaitGAN lost more than a few points
])
def test_table3_verdict_needs_gaitset_to_collapse_and_gaitgan_to_hold(gaitgan_drop, gaitset_drop, holds):
    assert transfer_finding_holds(gaitgan_drop, gaitset_drop, gaitset_natural=70.0) is holds


def test_table3_of_some_views_compares_all_probes_of_those_views(world):
    root, paths = world
    table = table3_blackbox_gaitgan(root / "gaitgan.pt", root / "casia_b", [paths["some"]], test_subjects=(75, 77),
                                    device="cpu")
    assert list(table.columns[3:]) == ["0", "18", "average"]
    natural, after, every = naive_table3(root, paths["some"], views=VIEWS[:2])
    cells = table.set_index(["model", "setting"])
    assert cells.loc[("GaitGAN", "natural (all probes)")].iloc[1:].astype(float).to_dict() == pytest.approx(every)
    assert cells.loc[("GaitGAN", "natural (all probes)"), "probes"] == 12
    assert cells.loc[("GaitGAN", "after attack")].iloc[1:].astype(float).to_dict() == pytest.approx(after)


def test_table3_names_an_attack_frames_file_that_does_not_fit_its_table(world, tmp_path):
    root, paths = world
    bad = write(tmp_path / "nm.parquet", pd.read_parquet(paths["all"]).to_dict("records"), views=VIEWS)
    data = dict(np.load(paths["all"].with_suffix(".npz")))
    np.savez(bad.with_suffix(".npz"), **{**data, "offsets": np.array([0, 2, 4, 6, 8, 9, 12])})
    with pytest.raises(DataError, match=r"nm\.npz.*rerun the rule `attack`"):
        table3_blackbox_gaitgan(root / "gaitgan.pt", root / "casia_b", [bad], test_subjects=(75, 77), device="cpu")


def test_table3_refuses_other_attack_modes(world, tmp_path):
    root, paths = world
    records = pd.read_parquet(paths["all"]).to_dict("records")
    other = write(tmp_path / "nm.parquet", [{**r, "sparsity": "1/10"} for r in records], views=VIEWS)
    np.savez(other.with_suffix(".npz"), **dict(np.load(paths["all"].with_suffix(".npz"))))
    with pytest.raises(ValueError, match="sparsity"):
        table3_blackbox_gaitgan(root / "gaitgan.pt", root / "casia_b", [other], test_subjects=(75, 77), device="cpu")


# ---------------------------------------------------------------------------------------- Table 4
A_VIEWS = (0, 45, 90)


def casia_a_rows(sparsity, attacked, **kw):
    """Subjects a and b probed at every view; ``attacked(subject)``: nearest subjects per gallery view."""
    return [row(s, v, attacked(s), views=A_VIEWS, dataset="casia_a", sparsity=sparsity, **kw)
            for s in ("a", "b") for v in A_VIEWS]


def test_table4_rows_per_sparsity_with_the_identical_view_included(tmp_path):
    other = {"a": "b", "b": "a"}
    paths = [
        # S = 1/40: wrong at the gallery view 0 only (the identical view of probe view 0 counts): 66.67 %.
        write(tmp_path / "s40.parquet", casia_a_rows("1/40", lambda s: (other[s], s, s)), views=A_VIEWS, exclude=False),
        # S = 1/10: always wrong; clean wrong for b at gallery view 90.
        write(tmp_path / "s10.parquet", casia_a_rows("1/10", lambda s: (other[s],) * 3), views=A_VIEWS, exclude=False),
    ]
    natural = tmp_path / "natural_accuracy.csv"
    pd.DataFrame({"dataset": ["casia_b"] * 2 + ["casia_a"] * 4, "condition": "nm",
                  "probe_view": ["0", "mean", "0", "45", "90", "mean"],
                  "rank1": [1.0, 1.0, 50.0, 60.0, 70.0, 60.0]}).to_csv(natural, index=False)
    table = table4_cross_dataset(paths, natural)
    assert table["sparsity"].tolist() == ["0", "1/40", "1/10", "0 (all probes)"]
    assert list(table.columns) == ["sparsity", "probes", "0", "45", "90", "average"]
    values = table.set_index("sparsity")[["0", "45", "90", "average"]]
    assert values.loc["0"].tolist() == [100.0] * 4
    assert values.loc["1/40"].tolist() == pytest.approx([200 / 3] * 4)
    assert values.loc["1/10"].tolist() == [0.0] * 4
    assert values.loc["0 (all probes)"].tolist() == [50.0, 60.0, 70.0, 60.0]
    assert table.set_index("sparsity")["probes"].tolist()[:3] == [6, 6, 6]
    text = table4_markdown(table)
    assert "100.0, 66.7, 0.0" in text and "holds here" in text


def test_table4_says_when_accuracy_does_not_fall_and_refuses_other_modes(tmp_path):
    other = {"a": "b", "b": "a"}
    paths = [write(tmp_path / "s40.parquet", casia_a_rows("1/40", lambda s: (other[s],) * 3), views=A_VIEWS,
                   exclude=False),
             write(tmp_path / "s10.parquet", casia_a_rows("1/10", lambda s: (s,) * 3), views=A_VIEWS, exclude=False)]
    assert "does not hold" in table4_markdown(table4_cross_dataset(paths))
    # Attacked at views 0 and 45 only: the all-probes row shows and averages those views.
    two_views = write(tmp_path / "two.parquet",
                      [r for r in casia_a_rows("1/40", lambda s: (s,) * 3) if r["view"] != 90],
                      views=A_VIEWS, exclude=False)
    natural = tmp_path / "natural_accuracy.csv"
    pd.DataFrame({"dataset": "casia_a", "condition": "nm", "probe_view": ["0", "45", "90", "mean"],
                  "rank1": [50.0, 60.0, 100.0, 70.0]}).to_csv(natural, index=False)
    table = table4_cross_dataset([two_views], natural).set_index("sparsity")
    assert list(table.columns) == ["probes", "0", "45", "average"]
    assert table.loc["0 (all probes)", ["0", "45", "average"]].tolist() == [50.0, 60.0, 55.0]
    insertion = write(tmp_path / "ins.parquet", casia_a_rows("1/40", lambda s: (s,) * 3, kind="insertion"),
                      views=A_VIEWS, exclude=False)
    with pytest.raises(ValueError, match="alteration_nontargeted_adversary"):
        table4_cross_dataset([insertion])
    casia_b = write(tmp_path / "b.parquet", [row("075", 0, ("075", "075"))])
    with pytest.raises(ValueError, match="casia_a"):
        table4_cross_dataset([casia_b])
