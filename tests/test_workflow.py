"""The Snakemake DAG: lint, config validation, dry runs, and a real end-to-end run of the CI config."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from gaitcore.attacks.records import read_attack_table
from gaitcore.data.store import FrameStore
from gaitcore.models.victims import architecture_of, load_victim
from tests.snakemake_run import CI_CONFIG, REPO, snakemake


def write_config(tmp_path: Path, **overrides) -> Path:
    """config/ci.yaml with ``overrides`` (a dotted key such as ``"attack.sparsities"`` sets a nested one)."""
    config = yaml.safe_load(CI_CONFIG.read_text())
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_lint_is_clean(tmp_path):
    result = snakemake(tmp_path, "--lint")
    assert result.returncode == 0, result.stdout
    assert "Lints for" not in result.stdout


def test_workflow_is_formatted_by_snakefmt():
    """workflow/ is as `snakefmt workflow/` writes it (the version pinned in pyproject.toml's test extra)."""
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "workflow/"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"run `snakefmt workflow/` to fix:\n{result.stdout}"


def test_default_dry_run_lists_the_data_jobs(tmp_path):
    result = snakemake(tmp_path, "-n", "all")
    assert result.returncode == 0, result.stdout
    out = result.stdout
    assert "preprocess" in out
    assert "casia_b" in out and "casia_a" in out


def dry_run_error(tmp_path: Path, **overrides) -> str:
    """The output of `snakemake -n all` with a bad config: it must fail before any job, in a few lines."""
    config = write_config(tmp_path, **overrides)
    result = snakemake(tmp_path, "-n", "all", "--configfile", str(config))
    assert result.returncode != 0
    assert "Building DAG of jobs" not in result.stdout and "Job stats" not in result.stdout
    assert "Failed validating" not in result.stdout  # not Snakemake's dump of the whole schema and config
    assert len(result.stdout.splitlines()) < 20, result.stdout
    return result.stdout


def test_unknown_config_key_is_an_error_naming_it(tmp_path):
    out = dry_run_error(tmp_path, sparsitee=[0.025])
    assert "sparsitee: unknown key; the keys at the top level are attack, datasets," in out
    assert "attack.sparsities" in out  # a key of a similar name elsewhere


def test_misspelt_key_is_an_error_naming_its_path_and_the_closest_name(tmp_path):
    out = dry_run_error(tmp_path, **{"gaitset.train.iteratons": 3})
    assert "gaitset.train.iteratons: unknown key; did you mean gaitset.train.iterations?" in out


def test_wrong_type_is_an_error(tmp_path):
    out = dry_run_error(tmp_path, seed="zero")
    assert "seed: 'zero' is not of type 'integer'" in out


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("attack.sparsities", ["1/40", "1/10", "3/2"], "attack.sparsities[2]: sparsity '3/2' is 1.5, above 1"),
        ("attack.sparsities", ["2/1"], "attack.sparsities[0]: sparsity '2/1' is 2, above 1"),
        ("attack.sparsities", ["0/40"], "attack.sparsities[0]: sparsity '0/40' is 0"),
        ("attack.sparsities", ["1/0"], "attack.sparsities[0]: sparsity '1/0' divides by zero"),
        ("attack.baselines.sparsities", ["3/2"], "attack.baselines.sparsities[0]: sparsity '3/2' is 1.5"),
        ("attack.baselines.figure_sparsity", "1/0", "attack.baselines.figure_sparsity: sparsity '1/0' divides by zero"),
        ("video_attack.sparsities", ["0/10"], "video_attack.sparsities[0]: sparsity '0/10' is 0"),
    ],
)
def test_a_sparsity_outside_0_1_stops_the_dag_naming_the_key(tmp_path, key, value, message):
    out = dry_run_error(tmp_path, **{key: value})
    assert message in out and "ZeroDivisionError" not in out


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("subjects.casia_b", {"train": [1, 4], "validation": [6, 5], "test": [7, 12]},
         "subjects.casia_b.validation = [6, 5] is empty"),
        ("subjects.casia_b", {"train": [1, 5], "validation": [5, 6], "test": [7, 12]},
         "subjects.casia_b.train = [1, 5] and subjects.casia_b.validation = [5, 6] overlap on subjects 5..5"),
        ("subjects.casia_b", {"train": [1, 4], "validation": [5, 5], "test": [6, 12]},
         "subjects.casia_b.validation = [5, 5] holds 1 subject; the critics' calibration and the validation "
         "runs need at least 2"),
        ("attack.subjects_per_view", {"headline": 7, "other": 2, "casia_a": 4},
         "attack.subjects_per_view.headline = 7 is more than the 6 test subjects of subjects.casia_b.test"),
        ("attack.subjects_per_view", {"headline": 3, "other": 4, "casia_a": 4},
         "attack.subjects_per_view.other = 4 exceeds headline = 3"),
        ("gaitset.evaluation.test_subjects", [7, 12],
         "gaitset.evaluation.test_subjects: this key moved; set subjects.casia_b.test instead"),
        ("video_attack.subjects_per_view", 6,
         "video_attack.subjects_per_view = 6 is above the attack jobs' budget 5 for video_attack.modes"),
    ],
)
def test_bad_subject_roles_or_budgets_stop_the_dag_naming_the_key(tmp_path, key, value, message):
    out = dry_run_error(tmp_path, **{key: value})
    assert message in out


def test_a_partial_resource_block_takes_the_other_values_from_the_defaults(tmp_path):
    # docs/cluster.md: a config block may set one resource of a rule; the rest keep their defaults
    config = write_config(tmp_path, **{"attack.resources": {"attack": {"mem_mb": 8000}},
                                       "gaitset.resources": {"train": {"runtime": 45}}})
    result = snakemake(tmp_path, "-n", "all", "--configfile", str(config))
    assert result.returncode == 0, result.stdout[-3000:]
    blocks = re.split(r"^(?=(?:local)?rule \w+:$)", result.stdout, flags=re.M)
    attack = [block for block in blocks if block.startswith("rule attack:")]
    train = [block for block in blocks if block.startswith("rule train_gaitset:")]
    assert attack and all(re.search(r"resources: .*runtime=60, mem_mb=8000\b", block) for block in attack)
    assert len(train) == 1 and re.search(r"resources: .*runtime=45, mem_mb=4000\b", train[0])


def test_a_misspelt_resource_is_an_error_naming_the_closest_name(tmp_path):
    out = dry_run_error(tmp_path, **{"attack.resources": {"attack": {"runtme": 90}}})
    assert "attack.resources.attack.runtme: unknown key; did you mean attack.resources.attack.runtime?" in out


def test_a_judge_critic_like_the_attacks_own_is_refused(tmp_path):
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["wgan"]["judge"]["seed"] = config.get("seed", 0)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "-n", "all", "--configfile", str(path))
    assert result.returncode != 0
    assert "wgan.judge must differ" in result.stdout and "wgan.judge.seed" in result.stdout


def test_missing_dataset_root_says_how_to_fix_it(tmp_path):
    """A real source without its folder stops the DAG naming the key; the default's sensed store
    (config.yaml's `sensor: median`) does not apply to a real source, so switching the source is enough."""
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["datasets"]["casia_b"] = {"source": "png", "root": str(tmp_path / "no-such-casia")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "-n", "all", "--configfile", str(path))
    assert result.returncode != 0
    assert "no-such-casia" in result.stdout
    assert "datasets.casia_b.root" in result.stdout and "source: synthetic" in result.stdout


@pytest.mark.slow
def test_ci_config_runs_end_to_end(ci_run, tmp_path):
    """`snakemake --cores 2 all` of the CI config from an empty workdir (the session's ``ci_run``)."""
    results = ci_run.workdir / "results-ci"
    for dataset, subjects, sequences in (("casia_b", 12, 12 * 110), ("casia_a", 4, 4 * 12)):
        store = FrameStore(results / "data" / dataset)
        assert store.meta["subjects"] == subjects
        assert len(store) + len(store.meta["empty_sequences"]) == sequences
        assert (store.index["frame_count"] > 0).all()
        assert (results / "logs" / "preprocess" / f"{dataset}.log").stat().st_size > 0
        assert (results / "benchmarks" / "preprocess" / f"{dataset}.tsv").exists()
    # Subject roles: every model trained on the training subjects, the critics calibrated on the
    # validation subjects (tests/training/test_subject_roles.py: no fit reads any other subject).
    roles = yaml.safe_load(CI_CONFIG.read_text())["subjects"]["casia_b"]
    for model in ("gaitset", "wgan", "wgan_judge", "gaitgan", "spade"):
        trained = torch.load(results / "models" / model / "weights.pt", weights_only=True)["extra"]["train_config"]
        assert list(trained["train_subjects"]) == roles["train"], model
        if "calibration_subjects" in trained:
            assert list(trained["calibration_subjects"]) == roles["validation"], model
    natural = pd.read_csv(results / "tables" / "natural_accuracy.csv")
    assert set(natural["dataset"]) == {"casia_b", "casia_a"}
    assert natural["rank1"].between(0, 100).all()
    assert list(natural.columns) == ["dataset", "condition", "probe_view", "rank1", "ci_low", "ci_high", "probes",
                                     "subjects"]
    assert ((natural["ci_low"] <= natural["rank1"] + 1e-9) & (natural["rank1"] <= natural["ci_high"] + 1e-9)).all()
    assert (results / "figures" / "fig8_wgan_samples.png").stat().st_size > 0
    quality = pd.read_csv(results / "tables" / "generator_quality.csv")
    assert len(quality) == 4 and (quality["frechet_distance"] > 0).all()
    # The attack jobs (one per mode, sparsity and condition, covering every view) and their aggregates.
    attack = yaml.safe_load(CI_CONFIG.read_text())["attack"]
    tables = sorted((results / "attacks" / "casia_b").glob("*/*/*.parquet"))
    modes = 6 + sum(len(variant["modes"]) for variant in attack["variants"].values())
    baselines = len(attack["baselines"]["modes"]) * len(attack["baselines"]["sparsities"])  # FGSM / PGD / MI-FGSM
    assert len(tables) == (modes * len(attack["sparsities"]) + baselines) * len(attack["conditions"])
    for path in tables:
        rows, meta = read_attack_table(path)
        assert path.stem in attack["conditions"] and meta["exclude_identical_view"]
        budget = attack["subjects_per_view"]["headline" if "_nontargeted_adversary/" in str(path) or
                                               "_nontargeted_random/" in str(path) else "other"]
        assert meta["job"]["views"] == attack["views"] and rows["view"].tolist() == sorted(attack["views"] * budget)
        assert (rows.groupby("view")["subject"].nunique() == budget).all()
        assert path.with_suffix(".npz").stat().st_size > 0
        job = path.relative_to(results / "attacks").with_suffix("")
        assert (results / "logs" / "attacks" / job).with_suffix(".log").stat().st_size > 0
        assert (results / "benchmarks" / "attacks" / job).with_suffix(".tsv").exists()
    accuracy = pd.read_csv(results / "tables" / "attack_accuracy.csv")
    assert set(accuracy["setting"]) == {"natural", "random", "adversary", "adversary+temporal",
                                        *(mode.split("_")[2] for mode in attack["baselines"]["modes"])}
    imperceptibility = pd.read_csv(results / "tables" / "imperceptibility.csv")
    assert {"natural", "adversary", "fgsm", "pgd", "mifgsm"} <= set(imperceptibility["setting"])
    assert (imperceptibility.loc[imperceptibility["setting"] == "natural", "l0"] == 0).all()
    judged = imperceptibility.loc[imperceptibility["setting"] == "adversary", ["detector_auc", "attack_detector_auc",
                                                                              "sequence_auc"]]
    assert judged.notna().all().all() and judged.stack().between(0, 1).all()
    second = torch.load(results / "models" / "attack_detector" / "weights.pt", weights_only=True)["extra"]
    assert set(second["fitted_subjects"]) | set(second["held_out_subjects"]) <= {f"{s:03d}" for s in range(
        roles["validation"][0], roles["validation"][1] + 1)}
    for figure in ("fig6_perturbation_comparison", "fig7_examples"):
        assert (results / "figures" / f"{figure}.png").stat().st_size > 0
    sources = pd.read_csv(results / "tables" / "random_control_sources.csv")  # the random control's frames vs real ones
    assert sources["source"].unique().tolist() == ["clean", "generated", "training subject", "test subject"]
    assert len(sources) == 4 * len(attack["sparsities"]) * len(attack["conditions"])
    assert sources["accuracy"].between(0, 100).all() and (sources["max_share"] > 0).all()
    assert accuracy["value"].between(0, 100).all()
    assert {"ci_low", "ci_high", "subjects", "change", "change_low", "change_high"} <= set(accuracy.columns)
    inside = (accuracy["ci_low"] <= accuracy["value"] + 1e-9) & (accuracy["value"] <= accuracy["ci_high"] + 1e-9)
    assert (inside | accuracy["ci_low"].isna()).all() and (accuracy["subjects"] >= 1).all()
    # Setting choices on the validation subjects: each candidate against the plain attack, same probes.
    validation = pd.read_csv(results / "tables" / "validation_settings.csv")
    candidates = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["attack"]["validation"]["candidates"]
    assert validation["setting"].tolist() == ["adversary", *sorted(f"adversary+{name}" for name in candidates)]
    assert validation["difference"].isna().tolist() == [True] + [False] * len(candidates)
    assert (validation["probes"] == 2 * len(attack["views"])).all()
    assert validation.loc[validation["setting"] == "adversary+full_t", "iterations"].item() == attack["iterations"]
    for path in (results / "validation" / "attacks" / "casia_b").glob("*/*/*.parquet"):
        rows, meta = read_attack_table(path)
        first, last = yaml.safe_load(CI_CONFIG.read_text())["subjects"]["casia_b"]["validation"]
        assert rows["subject"].astype(int).between(first, last).all() and meta["job"]["subjects"] == [first, last]
    table6 = pd.read_csv(results / "tables" / "table6_alteration_targeted.csv")
    assert sorted(table6["sparsity"].unique()) == sorted(attack["sparsities"])
    for figure in ("fig5_nontargeted_alteration", "fig10_nontargeted_insertion"):
        assert (results / "figures" / f"{figure}.png").stat().st_size > 0
    # Tables 3 (GaitGAN on the S = 1/40 NM attack) and 4 (CASIA-A), docs/gaitgan.md.
    assert (results / "models" / "gaitgan" / "weights.pt").stat().st_size > 0
    table3 = pd.read_csv(results / "tables" / "table3_blackbox_gaitgan.csv")
    cells3 = [*map(str, attack["views"]), "average"]
    assert len(table3) == 8 and list(table3.columns[3:3 + len(cells3)]) == cells3
    # The paper's findings, each with a verdict (docs/findings.md), and the run's summary.
    findings = pd.read_csv(results / "tables" / "findings.csv")
    assert len(findings) and set(findings["verdict"]) <= {"holds", "fails", "inconclusive"}
    summary = (results / "summary.md").read_text()
    assert "Natural rank-1 accuracy" in summary and "## Headline cells" in summary
    # The headline cells' precision against the power target (docs/findings.md "Precision").
    precision = pd.read_csv(results / "tables" / "precision.csv")
    assert len(precision) == 2 * 2 * len(attack["sparsities"]) * len(attack["conditions"])
    assert set(precision["verdict"]) <= {"met", "larger budget", "more test subjects", "no interval"}
    table4 = pd.read_csv(results / "tables" / "table4_cross_dataset.csv", dtype={"sparsity": str})
    assert table4["sparsity"].tolist() == ["0", *attack["sparsities"], "0 (all probes)"]
    assert table4[["average"]].stack().between(0, 100).all()
    # Further victims (docs/victims.md): GaitPart and GaitGL trained on the training subjects by the
    # victim's recipe, attacked like GaitSet; the victims table and the transfer matrix.
    victims = yaml.safe_load(CI_CONFIG.read_text())["victims"]
    for name, spec in victims["models"].items():
        model, extra = load_victim(results / "models" / "victims" / name / "weights.pt")
        assert architecture_of(model).name == spec["architecture"]
        trained = extra["train_config"]
        assert list(trained["train_subjects"]) == roles["train"] and trained["ordered_frames"]
    victim_rows = pd.read_csv(results / "tables" / "victims.csv")
    assert victim_rows["victim"].unique().tolist() == ["gaitset", *victims["models"]]
    assert (victim_rows["probes"] == victims["subjects_per_view"] * len(attack["views"])).all()
    assert victim_rows.loc[victim_rows["victim"] == "gaitset", "difference"].isna().all()
    assert victim_rows.loc[victim_rows["victim"] != "gaitset", "difference"].notna().all()
    matrix = pd.read_csv(results / "tables" / "transfer_matrix.csv")
    names = ["gaitset", *victims["models"]]
    # the victims' rows, then the random control's (the CI world's victims.modes hold it)
    assert matrix["source"].unique().tolist() == [*names, "random control"]
    assert matrix["target"].unique().tolist() == [*names, "GaitGAN"]
    assert ((matrix["drop_low"] <= matrix["drop"] + 1e-9) & (matrix["drop"] <= matrix["drop_high"] + 1e-9)).all()
    beyond = matrix[matrix["source"] != "random control"]
    assert beyond["beyond_control"].notna().all()
    assert ((beyond["beyond_control"] - (beyond["control_after"] - beyond["after"])).abs() < 1e-3).all()  # CSV rounding
    assert (results / "figures" / "transfer_matrix.png").stat().st_size > 0
    # SPADE (Fig. 9) and the video attack through the sensor path (Fig. 4, video_attack), docs/spade.md.
    video = yaml.safe_load(CI_CONFIG.read_text())["video_attack"]
    video_tables = sorted((results / "video_attacks").glob("*/casia_b/*/*/*.parquet"))
    # a job per segmenter and attack job
    assert len(video_tables) == len(video["segmenters"]) * 2 * len(video["sparsities"]) * len(attack["conditions"])
    for path in video_tables:  # only the probes of video_attack.views, sensed by the job's segmenter
        job = pd.read_parquet(path)
        assert set(job["view"]) == set(video["views"]) and set(job["segmenter"]) == {path.parts[-5]}
    video_table = pd.read_csv(results / "tables" / "video_attack.csv")
    assert set(video_table["kind"]) == {"alteration", "insertion"} and (video_table["probes"] > 0).all()
    assert video_table["segmenter"].unique().tolist() == video["segmenters"]
    rates = ["natural_silhouettes", "natural_video", "attack_silhouettes", "attack_video"]
    assert video_table[rates].stack().between(0, 100).all() and video_table["segmentation_iou"].between(0, 1).all()
    for figure in ("fig4_video_frames", "fig9_spade_examples"):
        assert (results / "figures" / f"{figure}.png").stat().st_size > 0
    # The final tables and figures are report()ed: the HTML report bundles them.
    report = snakemake(ci_run.workdir, "--report", str(tmp_path / "report.html"), "--configfile", str(CI_CONFIG))
    assert report.returncode == 0, report.stdout[-3000:]
    html = (tmp_path / "report.html").read_text()
    assert len(html) > 100_000  # the bundled tables and figures, not an empty shell
    assert "fig8_wgan_samples.png" in html and "natural_accuracy.csv" in html
    assert "fig5_nontargeted_alteration.png" in html and "table2_targeted_success.csv" in html
    assert "fig6_perturbation_comparison.png" in html and "imperceptibility.csv" in html
    assert "table3_blackbox_gaitgan.csv" in html and "table4_cross_dataset.csv" in html
    assert "random_control_sources.csv" in html
    assert "victims.csv" in html and "transfer_matrix.csv" in html and "transfer_matrix.png" in html
    assert "fig9_spade_examples.png" in html and "video_attack.csv" in html and "fig4_video_frames.png" in html
    # Nothing is left to do afterwards: a rerun schedules no job.
    rerun = snakemake(ci_run.workdir, "-n", "all", "--configfile", str(CI_CONFIG))
    assert rerun.returncode == 0 and "Nothing to be done" in rerun.stdout
