"""Tables 3 and 4: GaitGAN on attacked sequences against a naive reference, CASIA-A tables with known answers,
and the intervals both carry."""

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.attacks.records import load_attacks
from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import attack_accuracy
from gaitcore.evaluation.uncertainty import paired_difference, view_columns
from gaitcore.experiments.transfer import table3_blackbox_gaitgan, table4_cross_dataset
from gaitcore.models.gaitgan import build_gaitgan, load_gaitgan, save_gaitgan
from gaitcore.reporting.transfer_tables import table3_markdown, table4_markdown
from gaitcore.utils.tables import write_table
from tests.reporting.test_attack_tables import row, write

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SUBJECTS = ("075", "076", "077")
VIEWS = (0, 18, 90)
GAIN = 20.0
CELLS = ["0", "18", "90", "average"]
ROWS = [("GaitGAN", "natural (attacked probes)"), ("GaitGAN", "after attack"), ("GaitGAN", "drop"),
        ("GaitSet", "natural (attacked probes)"), ("GaitSet", "after attack"), ("GaitSet", "drop"),
        ("GaitGAN", "natural (all probes)"), ("GaitSet - GaitGAN", "drop difference (GaitSet - GaitGAN)")]
# GaitSet's attacked nearest subjects per gallery view (VIEWS order), per attacked subject of the job "three".
GAITSET_ATTACKED = {"075": ("076",) * 3, "076": ("076",) * 3, "077": ("075", "077", "077")}


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
    generated = {(s, view, seq): rng.integers(0, 2, (2, 64, 64), dtype=np.uint8) * 255
                 for s in SUBJECTS for view in VIEWS for seq in (5, 6)}
    paths = {}
    # all/some: 075 only, GaitSet clean right and attacked wrong; three: 075-077, GaitSet attacked as
    # GAITSET_ATTACKED; same: 075-077 with their own frames put back (nothing changes for either model).
    for name, views, subjects in (("all", VIEWS, ("075",)), ("some", VIEWS[:2], ("075",)), ("three", VIEWS, SUBJECTS),
                                  ("same", VIEWS, SUBJECTS)):
        rows, frames = [], []
        for subject in subjects:
            for view in views:
                for seq in (5, 6):
                    original = store.sequence(int(store.select(subjects=[subject], seqs=[seq], views=[view]).index[0]))
                    attacked = {"three": GAITSET_ATTACKED.get(subject), "same": (subject,) * 3}.get(name, ("076",) * 3)
                    r = row(subject, view, attacked, views=VIEWS, seq=seq)
                    rows.append({**r, "frame_count": len(original), "altered": 2, "positions": [0, 1]})
                    frames.append(np.array(original[:2]) if name == "same" else generated[subject, view, seq])
        (root / name).mkdir()
        path = write(root / name / "nm.parquet", rows, views=VIEWS)
        np.savez(path.with_suffix(".npz"), frames=np.concatenate(frames), offsets=np.arange(0, 2 * len(rows) + 1, 2),
                 positions=np.tile([0, 1], len(rows)))
        paths[name] = path
    return root, paths


def naive_table3(root, path, views=VIEWS, per_probe=False):
    """GEIs, templates and 1-NN Manhattan written out with loops (probes of ``views``, attacked by the job at
    ``path``). With ``per_probe`` also the attacked probes' hits: ``[(subject, view, {gallery view: (natural
    hit, after hit)})]`` in the job's row order, the identical view left out."""
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

    def nearest(t, gv):
        return min(((np.abs(t - gt).sum(), gs) for gs, gview, gt in gallery if gview == gv), key=lambda c: c[0])[1]

    clean, attacked = [], []
    frames = np.load(path.with_suffix(".npz"))["frames"]
    for k, r in enumerate(pd.read_parquet(path).itertuples()):  # the job's row order
        original = np.array(store.sequence(int(store.select(subjects=[r.subject], seqs=[r.seq],
                                                            views=[r.view]).index[0])))
        clean.append((r.subject, r.view, template(original, r.view)))
        adv = original.copy()
        adv[[0, 1]] = frames[2 * k : 2 * k + 2]
        attacked.append((r.subject, r.view, template(adv, r.view)))
    every = [(r.subject, r.view, template(store.sequence(i), r.view)) for i, r in idx.iterrows()
             if r.seq >= 5 and r.view in views]
    out = accuracy(clean), accuracy(attacked), accuracy(every)
    if per_probe:
        out += ([(s, v, {gv: (float(nearest(c, gv) == s), float(nearest(a, gv) == s)) for gv in VIEWS if gv != v})
                 for (s, v, c), (_, _, a) in zip(clean, attacked, strict=True)],)
    return out


def laid_out(per_probe, which, probe_view=None):
    """Natural (``which`` 0) or after (1) hits of ``naive_table3``'s probes in %, as the average (or one
    probe view's) estimator lays them out: ``(values, weights, subjects)``."""
    chosen = [p for p in per_probe if probe_view is None or p[1] == probe_view]
    hits = np.array([[100.0 * h[g][which] if g in h else np.nan for g in VIEWS] for _, _, h in chosen])
    views = np.array([v for _, v, _ in chosen])
    values, weights = view_columns(hits, views, {v: np.array(VIEWS) != v for v in set(views.tolist())})
    return values, weights, [s for s, _, _ in chosen]


def test_table3_matches_a_naive_gei_template_and_manhattan_reference(world, tmp_path):
    root, paths = world
    table = table3_blackbox_gaitgan(root / "gaitgan.pt", root / "casia_b", [paths["all"]], test_subjects=(75, 77),
                                    device="cpu")
    assert table[["model", "setting"]].apply(tuple, axis=1).tolist() == ROWS
    assert table["probes"].tolist() == [6] * 6 + [18, 6]
    assert list(table.columns) == ["model", "setting", "probes", *CELLS, "subjects",
                                   *(f"{c}_{end}" for c in CELLS for end in ("low", "high"))]
    natural, after, every = naive_table3(root, paths["all"])
    assert natural != after and len(set(every.values())) > 1  # the toy world discriminates
    cells = table.set_index(["model", "setting"])
    for setting, expected in (("natural (attacked probes)", natural), ("after attack", after),
                              ("natural (all probes)", every)):
        assert cells.loc[("GaitGAN", setting), CELLS].astype(float).to_dict() == pytest.approx(expected), setting
    drop = cells.loc[("GaitGAN", "drop"), CELLS].astype(float).to_numpy()
    np.testing.assert_allclose(drop, [natural[k] - after[k] for k in CELLS])
    # GaitSet from the attack tables: clean always right, attacked always wrong.
    assert cells.loc[("GaitSet", "drop"), CELLS].astype(float).tolist() == [100.0] * 4
    difference = cells.loc[("GaitSet - GaitGAN", "drop difference (GaitSet - GaitGAN)"), CELLS].astype(float)
    np.testing.assert_allclose(difference, [100.0 - natural[k] + after[k] for k in CELLS])
    # One attacked subject: no interval for its rows; all probes (3 subjects) have one.
    assert table["subjects"].tolist() == [1] * 6 + [3, 1]
    bounds = [f"{c}_{end}" for c in CELLS for end in ("low", "high")]
    assert table.drop(index=6)[bounds].isna().all().all() and cells.loc[("GaitGAN", "natural (all probes)"),
                                                                        bounds].notna().all()
    text = table3_markdown(table)
    assert "GaitSet 100.0 points" in text and "| GaitGAN | natural (all probes) | 18 |" in text
    write_table(table, tmp_path / "t3.csv", tmp_path / "t3.md", markdown=text)
    assert pd.read_csv(tmp_path / "t3.csv").shape == (8, 16) and "paper Table 3" in (tmp_path / "t3.md").read_text()


def test_table3_intervals_contain_their_values_and_the_drops_are_paired(world):
    root, paths = world
    table = table3_blackbox_gaitgan(root / "gaitgan.pt", root / "casia_b", [paths["three"]], test_subjects=(75, 77),
                                    device="cpu")
    cells = table.set_index(["model", "setting"])
    natural, after, every, per_probe = naive_table3(root, paths["three"], per_probe=True)
    # The values are still the naive reference's; every row rests on the 3 attacked subjects' 18 probes.
    assert cells.loc[("GaitGAN", "natural (attacked probes)"), CELLS].astype(float).to_dict() == pytest.approx(natural)
    assert cells.loc[("GaitGAN", "after attack"), CELLS].astype(float).to_dict() == pytest.approx(after)
    assert table["probes"].tolist() == [18] * 6 + [18, 18] and table["subjects"].tolist() == [3] * 8
    for cell in CELLS:
        low, high, value = table[f"{cell}_low"], table[f"{cell}_high"], table[cell]
        assert low.notna().all() and ((low <= value + 1e-9) & (value <= high + 1e-9)).all(), cell
    # GaitSet (attack tables): clean always right; attacked 075 wrong at every gallery view, 076 right, 077 wrong
    # at gallery view 0 only (which probe view 0 does not count).
    gaitset_drop = cells.loc[("GaitSet", "drop"), CELLS].astype(float)
    np.testing.assert_allclose(gaitset_drop, [100 / 3, 100 / 2, 100 / 2, (100 / 3 + 50 + 50) / 3])
    # The drop intervals are paired: as paired_difference of the probes' hits (GaitGAN: the naive reference's),
    # and GaitSet's is the attack table's paired change of the same probes, negated.
    for cell, view in (("average", None), ("18", 18)):
        before, weights, subjects = laid_out(per_probe, 0, view)
        expected = paired_difference(before, laid_out(per_probe, 1, view)[0], subjects, weights=weights)
        assert cells.loc[("GaitGAN", "drop"), cell] == pytest.approx(expected.estimate)
        assert cells.loc[("GaitGAN", "drop"), [f"{cell}_low", f"{cell}_high"]].tolist() == pytest.approx(
            [expected.low, expected.high])
    long = attack_accuracy(*load_attacks([paths["three"]]))
    change = long[(long["setting"] == "adversary") & (long["probe_view"] == "mean")].iloc[0]
    assert cells.loc[("GaitSet", "drop"), ["average_low", "average_high"]].tolist() == pytest.approx(
        [-change["change_high"], -change["change_low"]])
    # The difference of the drops, on the same probes.
    key = ("GaitSet - GaitGAN", "drop difference (GaitSet - GaitGAN)")
    np.testing.assert_allclose(cells.loc[key, CELLS].astype(float),
                               gaitset_drop - cells.loc[("GaitGAN", "drop"), CELLS].astype(float))
    text = table3_markdown(table)
    assert f"| GaitSet | drop | 18 | {gaitset_drop['0']:.1f} [" in text and "| 3 |" in text
    assert "GaitSet's drop minus GaitGAN's, paired on the same probes" in text and "95 % CI [" in text


def test_table3_drops_of_unchanged_probes_are_exactly_zero(world):
    """The attack put the probes' own frames back: natural and after are identical for both models, so
    every drop and their difference is 0 with the interval [0, 0], while natural accuracy keeps its own."""
    root, paths = world
    table = table3_blackbox_gaitgan(root / "gaitgan.pt", root / "casia_b", [paths["same"]], test_subjects=(75, 77),
                                    device="cpu")
    cells = table.set_index(["model", "setting"])
    for key in (("GaitGAN", "drop"), ("GaitSet", "drop"), ("GaitSet - GaitGAN", "drop difference (GaitSet - GaitGAN)")):
        for cell in CELLS:
            assert cells.loc[key, [cell, f"{cell}_low", f"{cell}_high"]].tolist() == [0.0, 0.0, 0.0], (key, cell)
    natural = cells.loc[("GaitGAN", "natural (attacked probes)")]
    assert natural["average_low"] < natural["average_high"]  # not all probes hit: a real interval
    assert cells.loc[("GaitGAN", "after attack"), CELLS + ["average_low", "average_high"]].tolist() == \
        natural[CELLS + ["average_low", "average_high"]].tolist()


def test_table3_of_some_views_compares_all_probes_of_those_views(world):
    root, paths = world
    table = table3_blackbox_gaitgan(root / "gaitgan.pt", root / "casia_b", [paths["some"]], test_subjects=(75, 77),
                                    device="cpu")
    assert list(table.columns[3:6]) == ["0", "18", "average"] and "90_low" not in table
    natural, after, every = naive_table3(root, paths["some"], views=VIEWS[:2])
    cells = table.set_index(["model", "setting"])
    some = ["0", "18", "average"]
    assert cells.loc[("GaitGAN", "natural (all probes)"), some].astype(float).to_dict() == pytest.approx(every)
    assert cells.loc[("GaitGAN", "natural (all probes)"), "probes"] == 12
    assert cells.loc[("GaitGAN", "after attack"), some].astype(float).to_dict() == pytest.approx(after)


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
    assert list(table.columns) == ["sparsity", "probes", "0", "45", "90", "average", "subjects", "change", "change_low",
                                   "change_high", *(f"{c}_{end}" for c in ("0", "45", "90", "average")
                                                    for end in ("low", "high"))]
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
    assert list(table.columns[:4]) == ["probes", "0", "45", "average"] and "90_low" not in table
    assert table.loc["0 (all probes)", ["0", "45", "average"]].tolist() == [50.0, 60.0, 55.0]
    assert table.loc["0 (all probes)", ["0_low", "average_low", "subjects"]].isna().all()  # the CSV has no intervals
    # With them, the views' intervals are carried; the average of two of three views has none of its own.
    pd.read_csv(natural).assign(ci_low=[40.0, 50.0, 90.0, 65.0], ci_high=[60.0, 70.0, 100.0, 75.0], probes=20,
                                subjects=10).to_csv(natural, index=False)
    table = table4_cross_dataset([two_views], natural).set_index("sparsity")
    assert table.loc["0 (all probes)", ["0_low", "0_high", "45_low", "45_high"]].tolist() == [40.0, 60.0, 50.0, 70.0]
    assert table.loc["0 (all probes)", ["average_low", "average_high", "subjects"]].isna().all()
    insertion = write(tmp_path / "ins.parquet", casia_a_rows("1/40", lambda s: (s,) * 3, kind="insertion"),
                      views=A_VIEWS, exclude=False)
    with pytest.raises(ValueError, match="alteration_nontargeted_adversary"):
        table4_cross_dataset([insertion])
    casia_b = write(tmp_path / "b.parquet", [row("075", 0, ("075", "075"))])
    with pytest.raises(ValueError, match="casia_a"):
        table4_cross_dataset([casia_b])


def test_table4_carries_the_attack_cells_intervals_subjects_and_paired_change(tmp_path):
    other = {"a": "b", "b": "a"}
    # S = 1/40: a fooled at every gallery view, b not: 50 % per view with a real interval; S = 1/10: both fooled.
    paths = [write(tmp_path / "s40.parquet", casia_a_rows("1/40", lambda s: (other[s],) * 3 if s == "a" else (s,) * 3),
                   views=A_VIEWS, exclude=False),
             write(tmp_path / "s10.parquet", casia_a_rows("1/10", lambda s: (other[s],) * 3), views=A_VIEWS,
                   exclude=False)]
    natural = tmp_path / "natural_accuracy.csv"
    pd.DataFrame({"dataset": "casia_a", "condition": "nm", "probe_view": ["0", "45", "90", "mean"],
                  "rank1": [50.0, 60.0, 70.0, 60.0], "ci_low": [40.0, 50.0, 60.0, 55.0],
                  "ci_high": [60.0, 70.0, 80.0, 65.0], "probes": [20, 20, 20, 60], "subjects": 10}).to_csv(natural,
                                                                                                     index=False)
    table = table4_cross_dataset(paths, natural).set_index("sparsity")
    cells = ["0", "45", "90", "average"]
    assert table.loc["1/40", cells].tolist() == [50.0] * 4  # the values as before
    long = attack_accuracy(*load_attacks(paths))
    for label, setting, sparsity in (("0", "natural", "1/40"), ("1/40", "adversary", "1/40"),
                                     ("1/10", "adversary", "1/10")):
        block = long[(long["setting"] == setting) & (long["sparsity"] == sparsity)].set_index("probe_view")
        for cell, view in zip(cells, [0, 45, 90, "mean"], strict=True):
            assert table.loc[label, [f"{cell}_low", f"{cell}_high"]].tolist() == block.loc[
                view, ["ci_low", "ci_high"]].tolist(), (label, cell)
        assert table.loc[label, "subjects"] == block.loc["mean", "subjects"] == 2
        assert table.loc[label, ["change", "change_low", "change_high"]].tolist() == pytest.approx(
            block.loc["mean", ["change", "change_low", "change_high"]].astype(float).tolist(), nan_ok=True)
    assert table.loc["1/40", "average_low"] < 50.0 < table.loc["1/40", "average_high"]
    assert table.loc["1/40", "change"] == pytest.approx(-50.0) and table.loc["0", ["change", "change_low"]].isna().all()
    assert table.loc["1/10", ["change", "change_low", "change_high"]].tolist() == [-100.0] * 3
    for label in table.index:
        for cell in cells:
            low, value, high = table.loc[label, [f"{cell}_low", cell, f"{cell}_high"]]
            assert low - 1e-9 <= value <= high + 1e-9, (label, cell)
    # All probes: the CSV's intervals and, as the attacked views are all its views, its mean's.
    assert table.loc["0 (all probes)", ["average", "average_low", "average_high", "subjects"]].tolist() == [
        60.0, 55.0, 65.0, 10]
    text = table4_markdown(table.reset_index())
    assert "| 1/40 | 6 | 50.00 [" in text and "| 2 | -50.00 [" in text
    assert "Change of the average from sparsity 0 on the same probes (paired 95 % CI): 1/40 -50.0 [" in text
