"""Attack results -> the paper's tables and figures, on hand-made tables with known answers."""

import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gaitcore.attacks.records import load_attacks, read_attack_table
from gaitcore.evaluation.attack_accuracy import (
    LONG_COLUMNS,
    attack_accuracy,
    table2_targeted_success,
    targeted_view_table,
)
from gaitcore.experiments.attack_tables import aggregate_attacks
from gaitcore.reporting.attack_figures import fig5_nontargeted_alteration, fig10_nontargeted_insertion

A, B = "075", "076"
PNG = b"\x89PNG\r\n\x1a\n"


def row(subject, view, attacked, *, views=(0, 18), clean=None, dataset="casia_b", condition="nm", seq=1,
        kind="alteration", goal="nontargeted", setting="adversary", sparsity="1/40", target=""):
    """One attacked probe; ``attacked``/``clean``: nearest subject per gallery view (in ``views`` order)."""
    clean = clean or (subject,) * len(views)
    out = {
        "dataset": dataset, "subject": subject, "condition": condition, "seq": seq, "view": view,
        "mode": f"{kind}_{goal}_{setting}", "kind": kind, "goal": goal, "setting": setting,
        "sparsity": sparsity, "sparsity_value": float(Fraction(sparsity)), "frame_count": 40,
        "altered": round(40 * float(Fraction(sparsity))), "target": target, "final_loss": 0.5, "cosine": 0.9,
    }
    for v, c, a in zip(views, clean, attacked, strict=True):
        out[f"clean_rank1_{v:03d}"] = c
        out[f"rank1_{v:03d}"] = a
    return out


def write(path, rows, views=(0, 18), exclude=True):
    table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
    meta = {b"gaitcore.attack": json.dumps({"gallery_views": list(views), "exclude_identical_view": exclude}).encode()}
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **meta}), path)
    return path


# Gallery views (v0, v1). Attacked rank-1 subjects per probe: identical-view entries differ from the
# others, so excluding the identical view (CASIA-B) gives 50 %, including it (CASIA-A) gives 25 %.
def nontargeted_rows(v0, v1, **kw):
    views = (v0, v1)
    return [
        row(A, v0, (B, A), views=views, **kw),  # identical view wrong, other right
        row(B, v0, (A, A), views=views, **kw),  # both wrong
        row(A, v1, (A, B), views=views, **kw),  # other right, identical wrong
        row(B, v1, (A, A), views=views, **kw),  # both wrong
    ]


def clean_rows(v0, v1, **kw):
    """Attacked all correct; clean wrong only for B at probe view v1, gallery view v0."""
    views = (v0, v1)
    return [
        row(A, v0, (A, A), views=views, **kw), row(B, v0, (B, B), views=views, **kw),
        row(A, v1, (A, A), views=views, **kw), row(B, v1, (B, B), views=views, clean=(A, B), **kw),
    ]


def values(long, **where):
    sel = long
    for k, v in where.items():
        sel = sel[sel[k] == v]
    return {pv: round(val, 6) for pv, val in zip(sel["probe_view"], sel["value"], strict=True)}


def test_identical_view_excluded_for_casia_b_included_for_casia_a(tmp_path):
    b = write(tmp_path / "b.parquet", nontargeted_rows(0, 18))
    a = write(tmp_path / "a.parquet", nontargeted_rows(0, 45, dataset="casia_a"), views=(0, 45), exclude=False)
    frame, meta = read_attack_table(b)
    assert len(frame) == 4 and meta["gallery_views"] == [0, 18] and meta["exclude_identical_view"] is True
    long = attack_accuracy(*load_attacks([b, a]))
    assert list(long.columns) == LONG_COLUMNS
    attacked = dict(setting="adversary", goal="nontargeted", metric="rank1")
    assert values(long, dataset="casia_b", **attacked) == {0: 50.0, 18: 50.0, "mean": 50.0}
    assert values(long, dataset="casia_a", **attacked) == {0: 25.0, 45: 25.0, "mean": 25.0}
    # clean columns all right here: natural 100 %, one row per view and the mean
    assert values(long, dataset="casia_b", setting="natural") == {0: 100.0, 18: 100.0, "mean": 100.0}
    assert set(long.loc[long["probe_view"] == "mean", "probes"]) == {4}


def test_natural_from_clean_columns_deduplicated_and_random_from_attacked(tmp_path):
    paths = [
        write(tmp_path / "adv.parquet", clean_rows(0, 18, setting="adversary")),
        write(tmp_path / "ran.parquet", clean_rows(0, 18, setting="random")),
        write(tmp_path / "tgt.parquet", clean_rows(0, 18, goal="targeted", target=A)),
    ]
    long = attack_accuracy(*load_attacks(paths))
    natural = long[long["setting"] == "natural"]
    assert values(natural) == {0: 100.0, 18: 50.0, "mean": 75.0}  # B@18 vs gallery 0 wrong when clean
    assert natural["probes"].tolist() == [2, 2, 4]  # three jobs, the 4 probes counted once
    assert set(natural["goal"]) == {"none"} and set(natural["metric"]) == {"rank1"}
    assert values(long, setting="random") == {0: 100.0, 18: 100.0, "mean": 100.0}
    assert values(long, setting="adversary", goal="nontargeted") == {0: 100.0, 18: 100.0, "mean": 100.0}
    # targeted: success = nearest subject is the target A; A's probes hit, B's do not
    assert values(long, goal="targeted") == {0: 50.0, 18: 50.0, "mean": 50.0}
    assert set(long.loc[long["goal"] == "targeted", "metric"]) == {"success"}


def test_every_cell_carries_subjects_an_interval_and_the_paired_change(tmp_path):
    paths = [write(tmp_path / "adv.parquet", clean_rows(0, 18, setting="adversary")),
             write(tmp_path / "ntg.parquet", nontargeted_rows(0, 18, setting="random", seq=2))]
    long = attack_accuracy(*load_attacks(paths))
    assert long[["subjects", "ci_low", "ci_high"]].notna().all().all()
    assert (long["ci_low"] <= long["value"] + 1e-9).all() and (long["value"] <= long["ci_high"] + 1e-9).all()
    assert long.groupby("probe_view")["subjects"].agg(set).to_dict() == {0: {2}, 18: {2}, "mean": {2}}
    natural = long[long["setting"] == "natural"].set_index("probe_view")
    assert natural[["change", "change_low", "change_high"]].isna().all().all()
    # probe view 0: both probes right at the only counted gallery view, so no uncertainty at all
    assert natural.loc[0, ["ci_low", "ci_high"]].tolist() == [100.0, 100.0]
    # probe view 18: subject A 100 %, B 50 % (one of its two probes wrong): resampling the two subjects
    assert natural.loc[18, ["value", "ci_low", "ci_high", "probes", "subjects"]].tolist() == [75.0, 50.0, 100.0, 4, 2]
    # the adversary's rows: attacked all right, clean wrong for B at view 18 -> a change of +50 there, paired
    adversary = long[long["setting"] == "adversary"].set_index("probe_view")
    assert adversary["change"].to_dict() == {0: 0.0, 18: 50.0, "mean": 25.0}
    assert adversary.loc[0, ["change_low", "change_high"]].tolist() == [0.0, 0.0]
    assert adversary.loc["mean", ["change_low", "change_high"]].tolist() == [0.0, 50.0]
    # the random rows (other probes): clean all right; attacked, A still right at the counted view, B wrong:
    # a change of 0 for A and -100 for B, so -50 whose interval spans both subjects' changes
    random = long[long["setting"] == "random"].set_index("probe_view")
    assert random["change"].to_dict() == {0: -50.0, 18: -50.0, "mean": -50.0}
    assert (random["change_low"] == -100.0).all() and (random["change_high"] == 0.0).all()


def test_targeted_success_counts_target_not_subject(tmp_path):
    kw = dict(goal="targeted", setting="adversary")
    rows = [
        row(A, 0, (A, B), target=B, **kw),  # other view hits the target B (subject missed)
        row(B, 0, (B, A), target=A, **kw),  # hit
        row(A, 18, (B, A), target=B, **kw),  # hit
        row(B, 18, (B, A), target=A, **kw),  # other view gives the subject itself: no success
    ]
    long = attack_accuracy(*load_attacks([write(tmp_path / "t.parquet", rows)]))
    assert values(long, goal="targeted") == {0: 100.0, 18: 50.0, "mean": 75.0}


def targeted_table_rows(kind, sparsity, condition, hits):
    """Targeted adversary probes (targets A->B, B->A); ``hits[view]``: how many of the 2 probes hit.

    The identical-view entry always names the target, so including it would change the answer.
    """
    out = []
    for view, other in ((0, 1), (18, 0)):
        for i, (subject, target) in enumerate(((A, B), (B, A))):
            nearest = [target, target]
            nearest[other] = target if i < hits[view] else subject
            out.append(row(subject, view, tuple(nearest), kind=kind, goal="targeted", sparsity=sparsity,
                           condition=condition, target=target))
    return out


@pytest.fixture
def targeted_paths(tmp_path):
    specs = [  # written out of order: the tables sort sparsity ascending (1/40, 1/20, 1/10)
        ("1/10", "nm", {0: 2, 18: 2}), ("1/10", "cl", {0: 2, 18: 2}),
        ("1/40", "nm", {0: 0, 18: 0}), ("1/40", "cl", {0: 1, 18: 0}),
        ("1/20", "nm", {0: 1, 18: 1}), ("1/20", "cl", {0: 2, 18: 0}),
    ]
    paths = [write(tmp_path / f"alt{i}.parquet", targeted_table_rows("alteration", *spec))
             for i, spec in enumerate(specs)]
    paths.append(write(tmp_path / "ins.parquet", targeted_table_rows("insertion", "1/10", "bg", {0: 1, 18: 2})))
    paths.append(write(tmp_path / "ntg.parquet", nontargeted_rows(0, 18)))  # only adversary, only NM
    return paths


def test_tables_2_and_6_layout_and_agreement(targeted_paths):
    long = attack_accuracy(*load_attacks(targeted_paths))
    t6 = targeted_view_table(long, "alteration")
    assert list(t6.columns) == ["sparsity", "condition", "0", "18", "average", "probes", "subjects", "0_low", "0_high",
                                "18_low", "18_high", "average_low", "average_high"]
    assert t6[["sparsity", "condition"]].values.tolist() == [
        ["1/40", "NM"], ["1/40", "CL"], ["1/20", "NM"], ["1/20", "CL"], ["1/10", "NM"], ["1/10", "CL"]]
    np.testing.assert_allclose(t6[["0", "18", "average"]].to_numpy(), [
        [0, 0, 0], [50, 0, 25], [50, 50, 50], [100, 0, 50], [100, 100, 100], [100, 100, 100]])
    assert t6["probes"].tolist() == [4] * 6 and t6["subjects"].tolist() == [2] * 6
    for column in ("0", "18", "average"):  # every cell inside its interval
        assert (t6[f"{column}_low"] <= t6[column] + 1e-9).all() and (t6[column] <= t6[f"{column}_high"] + 1e-9).all()
    t2 = table2_targeted_success(long)
    extra = [f"{c}_{what}" for c in ("NM", "CL") for what in ("low", "high", "probes", "subjects")]
    assert list(t2.columns) == ["sparsity", "NM", "CL", *extra]  # no BG alteration results: no BG column
    assert t2["sparsity"].tolist() == ["1/40", "1/20", "1/10"]
    np.testing.assert_allclose(t2[["NM", "CL"]].to_numpy(), [[0, 25], [50, 50], [100, 100]])
    for condition in ("NM", "CL"):
        np.testing.assert_allclose(t2[condition].to_numpy(), t6.loc[t6["condition"] == condition, "average"].to_numpy())
        for end in ("low", "high"):
            np.testing.assert_allclose(t2[f"{condition}_{end}"].to_numpy(),
                                       t6.loc[t6["condition"] == condition, f"average_{end}"].to_numpy())
    t5 = targeted_view_table(long, "insertion")
    assert t5[["sparsity", "condition", "0", "18", "average"]].values.tolist() == [["1/10", "BG", 50.0, 100.0, 75.0]]
    # view 18: every probe hits, a zero-width interval; view 0: one subject hits, one misses
    assert t5[["18_low", "18_high"]].values.tolist() == [[100.0, 100.0]]
    assert t5[["0_low", "0_high"]].values.tolist() == [[0.0, 100.0]]


def test_aggregate_writes_everything_with_missing_settings(targeted_paths, tmp_path):
    out = {name: tmp_path / "out" / f"{name}.{'png' if name.startswith('fig') else name.rsplit('_', 1)[1]}"
           for name in ("attack_accuracy_csv", "attack_accuracy_md", "table2_csv", "table2_md", "table5_csv",
                        "table5_md", "table6_csv", "table6_md", "fig5", "fig10")}
    written = aggregate_attacks(targeted_paths, out)
    assert set(written) == set(out)
    for name, path in out.items():
        assert path.exists() and path.stat().st_size > 0, name
    # fig10: no nontargeted insertion
    assert out["fig5"].read_bytes()[:8] == PNG and out["fig10"].read_bytes()[:8] == PNG
    t2 = pd.read_csv(out["table2_csv"], dtype={"sparsity": str})
    assert t2["sparsity"].tolist() == ["1/40", "1/20", "1/10"]
    table2 = out["table2_md"].read_text()
    assert "Table 2" in table2 and "95 % confidence interval" in table2
    assert "| sparsity | NM | CL | NM_probes | NM_subjects | CL_probes | CL_subjects |" in table2
    assert "| 1/40 | 0.000 [0.000, 0.000] | 25.000 [0.000, 50.000] | 4 | 2 | 4 | 2 |" in table2
    assert ("| 1/40 | CL | 50.00 [0.00, 100.00] | 0.00 [0.00, 0.00] | 25.000 [0.000, 50.000] | 4 | 2 |"
            in out["table6_md"].read_text())
    long = pd.read_csv(out["attack_accuracy_csv"])
    assert list(long.columns) == LONG_COLUMNS and set(long["setting"]) == {"natural", "adversary"}
    markdown = out["attack_accuracy_md"].read_text()
    assert ("| sparsity | setting | condition | 0 | 18 | mean | probes | subjects | iterations | change of mean |"
            in markdown)
    assert ("| 1/40 | adversary | NM | 50.00 [0.00, 100.00] | 50.00 [0.00, 100.00] | 50.00 [0.00, 100.00] | 4 | 2 |"
            in markdown)


def test_figures_draw_what_exists(tmp_path):
    long = attack_accuracy(*load_attacks([write(tmp_path / "n.parquet", nontargeted_rows(0, 18))]))
    assert fig5_nontargeted_alteration(long, tmp_path / "f5.png").read_bytes()[:8] == PNG
    assert fig10_nontargeted_insertion(long, tmp_path / "f10.png").read_bytes()[:8] == PNG
    no_intervals = long.assign(ci_low=np.nan, ci_high=np.nan)  # single-subject cells: points without error bars
    assert fig5_nontargeted_alteration(no_intervals, tmp_path / "f5n.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="no casia_a results"):
        fig5_nontargeted_alteration(long, tmp_path / "x.png", dataset="casia_a")


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="no attack result tables"):
        load_attacks([])
    with pytest.raises(ValueError, match="no attack result tables"):
        aggregate_attacks([], {"table2_csv": tmp_path / "t2.csv"})
    b = write(tmp_path / "b.parquet", nontargeted_rows(0, 18))
    a = write(tmp_path / "a.parquet", nontargeted_rows(0, 45, dataset="casia_a"), views=(0, 45), exclude=False)
    long = attack_accuracy(*load_attacks([b, a]))
    with pytest.raises(ValueError, match="datasets"):
        table2_targeted_success(long, dataset=None)  # mixed datasets: which one?
    with pytest.raises(ValueError, match="no casia_b results"):
        targeted_view_table(attack_accuracy(*load_attacks([a])), "alteration")
    mixed = write(tmp_path / "m.parquet", nontargeted_rows(0, 18)[:2] + nontargeted_rows(0, 18, dataset="casia_a")[2:])
    with pytest.raises(ValueError, match="several datasets"):
        load_attacks([mixed])
    with pytest.raises(ValueError, match="disagrees"):
        load_attacks([b, write(tmp_path / "b2.parquet", nontargeted_rows(0, 18, seq=2), exclude=False)])
    with pytest.raises(ValueError, match="same probe twice"):
        load_attacks([b, b])
    with pytest.raises(ValueError, match="without a target"):
        load_attacks([write(tmp_path / "t.parquet", nontargeted_rows(0, 18, goal="targeted"))])
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(nontargeted_rows(0, 18)), preserve_index=False),
                   tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="metadata"):
        read_attack_table(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="unknown output"):
        aggregate_attacks([b], {"table7_csv": tmp_path / "t7.csv"})


def test_a_settings_variant_is_its_own_setting_with_its_mean_iterations(tmp_path):
    plain = [dict(r, iterations=100, variant="") for r in clean_rows(0, 18)]
    early = [dict(r, iterations=it, variant="early_stop") for r, it in zip(clean_rows(0, 18), (10, 30, 50, 70))]
    early[0]["rank1_018"] = B  # the variant fools probe A at view 0 on gallery view 18
    rows, metas = load_attacks([write(tmp_path / "p.parquet", plain), write(tmp_path / "e.parquet", early)])
    long = attack_accuracy(rows, metas)
    assert set(long["setting"]) == {"natural", "adversary", "adversary+early_stop"}
    assert values(long, setting="adversary") == {0: 100.0, 18: 100.0, "mean": 100.0}
    assert values(long, setting="adversary+early_stop") == {0: 50.0, 18: 100.0, "mean": 75.0}
    mean = long[(long["setting"] == "adversary+early_stop") & (long["probe_view"] == "mean")]
    assert mean["iterations"].tolist() == [40.0]
    assert long.loc[long["setting"] == "natural", "iterations"].isna().all()
    # The paper's tables and figures use the plain settings only.
    fig5_nontargeted_alteration(long, tmp_path / "fig5.png")
    assert (tmp_path / "fig5.png").read_bytes()[:8] == PNG
