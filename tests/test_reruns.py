"""Incremental reruns: after a complete run of the CI config, changing one config value schedules
exactly the jobs that depend on it (dry-runs with Snakemake's default rerun triggers, which include
`params`). This works because every config value a rule depends on reaches it through `params:`;
a script that read `snakemake.config` itself would be invisible to the params trigger.
"""

from __future__ import annotations

import ast
import copy
import os
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from tests.snakemake_run import CI_CONFIG, REPO, job_stats, rule_names, scheduled_jobs, snakemake

pytestmark = pytest.mark.slow

PARAMS_CHANGED = "Params have changed since last execution"


def test_no_script_reads_the_config_behind_the_params_trigger():
    """Rule scripts get config values through snakemake.params, never snakemake.config."""
    offenders = []
    for script in sorted((REPO / "scripts").glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "config"
                and isinstance(node.value, ast.Name)
                and node.value.id == "snakemake"
            ):
                offenders.append(f"{script.relative_to(REPO)}:{node.lineno}")
    assert not offenders, f"scripts reading snakemake.config (pass the values as params): {offenders}"


@pytest.fixture(scope="module")
def built(ci_run, tmp_path_factory):
    """A copy of the session's finished run of the CI config (some tests here run jobs in it);
    yields (workdir, rules)."""
    workdir = ci_run.copy(tmp_path_factory.mktemp("reruns") / "run")
    return workdir, rule_names(workdir, "--configfile", str(CI_CONFIG))


def dry_run(workdir: Path, config: dict) -> tuple[Counter, list]:
    path = workdir / "changed-config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))  # keep the order: reordering must not rerun
    result = snakemake(workdir, "-n", "all", "--configfile", str(path), timeout=300)
    assert result.returncode == 0, result.stdout[-5000:]
    return job_stats(result.stdout), scheduled_jobs(result.stdout)


def forced_downstream(workdir: Path, target: str) -> Counter:
    """The jobs `--forcerun target` schedules with the unchanged config: target and all downstream."""
    result = snakemake(
        workdir, "-n", "all", "--configfile", str(CI_CONFIG), "--forcerun", target, timeout=300
    )
    assert result.returncode == 0, result.stdout[-5000:]
    return job_stats(result.stdout)


def ci_config() -> dict:
    return copy.deepcopy(yaml.safe_load(CI_CONFIG.read_text()))


def test_unchanged_config_schedules_nothing(built):
    workdir, _ = built
    stats, jobs = dry_run(workdir, ci_config())
    assert not stats and not jobs


def test_reordered_config_keys_schedule_nothing(built):
    workdir, _ = built
    config = ci_config()
    config["datasets"] = {
        name: dict(sorted(dataset.items(), reverse=True)) for name, dataset in config["datasets"].items()
    }
    for dataset in config["datasets"].values():
        dataset["synthetic"] = dict(sorted(dataset["synthetic"].items()))
    stats, jobs = dry_run(workdir, config)
    assert not stats, [(job.rule, job.reason[:200]) for job in jobs]


def test_synthetic_seed_of_casia_a_reruns_only_its_preprocessing_and_what_uses_it(built):
    workdir, rules = built
    config = ci_config()
    config["datasets"]["casia_a"]["synthetic"]["seed"] += 1
    stats, jobs = dry_run(workdir, config)

    expected = Counter({"preprocess": 1, "all": 1})
    # Downstream of the CASIA-A store (no training: GaitSet trains on CASIA-B only).
    if "extract_features" in rules:
        expected["extract_features"] = 1
    if "natural_accuracy" in rules:
        expected["natural_accuracy"] = 1
    if "findings" in rules:
        expected["findings"] = 1  # summary.md reports natural accuracy of every dataset
    # Table 4 attacks CASIA-A: its frame-alteration nontargeted adversary job at every sparsity (each
    # covering the CI views that CASIA-A has, 0 and 90), then the table.
    assert [view for view in config["attack"]["views"] if view in (0, 45, 90)]
    expected["attack"] = len(config["attack"]["sparsities"])
    expected["table4_cross_dataset"] = 1
    assert stats == expected, jobs
    assert all(job.wildcards["dataset"] == "casia_a" for job in jobs if job.rule == "attack")
    assert stats == forced_downstream(workdir, f"{config['results']}/data/casia_a/store.json")
    preprocess = [job for job in jobs if job.rule == "preprocess"]
    assert [job.wildcards for job in preprocess] == [{"dataset": "casia_a"}]
    assert PARAMS_CHANGED in preprocess[0].reason
    for job in jobs:
        if job.rule == "extract_features":
            assert job.wildcards == {"dataset": "casia_a"}
        assert job.rule != "train_gaitset"


def test_gaitset_training_setting_reruns_training_and_everything_downstream(built):
    workdir, rules = built
    if "train_gaitset" not in rules:
        pytest.skip("the workflow has no train_gaitset rule yet (workflow/rules/gaitset.smk not included)")
    config = ci_config()
    config["gaitset"]["train"]["iterations"] += 1
    stats, jobs = dry_run(workdir, config)

    evaluated = yaml.safe_load(CI_CONFIG.read_text())["gaitset"].get("evaluation", {}).get(
        "datasets", ["casia_b", "casia_a"]
    )
    expected = Counter({"train_gaitset": 1, "extract_features": len(evaluated), "natural_accuracy": 1, "all": 1})
    assert stats["preprocess"] == 0, jobs
    assert {rule: stats[rule] for rule in expected} == dict(expected), stats
    # Exactly training and everything downstream of it (later stages that use GaitSet included).
    assert stats == forced_downstream(workdir, "train_gaitset")
    train = next(job for job in jobs if job.rule == "train_gaitset")
    assert PARAMS_CHANGED in train.reason
    assert sorted(job.wildcards["dataset"] for job in jobs if job.rule == "extract_features") == sorted(evaluated)


def test_new_test_subjects_rerun_evaluation_and_attacks_but_no_training(built):
    """Test subjects are only attacked and reported: a new test range changes no model."""
    workdir, _ = built
    config = ci_config()
    config["subjects"]["casia_b"]["test"] = [8, 12]
    stats, jobs = dry_run(workdir, config)
    trainings = {"train_gaitset", "train_wgan", "train_judge_critic", "train_frame_detector", "train_gaitgan",
                 "train_spade", "train_victim", "train_wgan_recipe", "preprocess"}
    assert not trainings & set(stats), stats
    assert {"extract_features", "natural_accuracy", "attack", "findings"} <= set(stats)
    # The validation jobs read no test subject: they rerun only because the features file they share
    # with the test subjects is rebuilt, never for a changed setting.
    assert all(PARAMS_CHANGED not in job.reason for job in jobs if job.rule == "attack_validation")


def test_new_validation_subjects_recalibrate_the_critics_but_leave_gaitset(built):
    workdir, _ = built
    config = ci_config()
    config["subjects"]["casia_b"]["validation"] = [5, 7]
    config["subjects"]["casia_b"]["test"] = [8, 12]
    stats, _ = dry_run(workdir, config)
    assert stats["train_wgan"] == 1 and stats["train_judge_critic"] == 1 and stats["attack_validation"] > 0
    assert stats["train_frame_detector"] == 1  # read on the validation subjects
    assert stats["train_gaitset"] == 0 and stats["train_gaitgan"] == 0 and stats["train_spade"] == 0


def test_a_new_sparsity_schedules_only_its_attack_jobs(built):
    workdir, _ = built
    config = ci_config()
    attack = config["attack"]
    attack["sparsities"] = [*attack["sparsities"], "1/20"]
    stats, jobs = dry_run(workdir, config)
    built_per_sparsity = [path for path in (workdir / config["results"] / "attacks").glob("casia_b/*/1-40/*.parquet")
                          if path.parent.parent.name not in attack["baselines"]["modes"]]
    expected_attacks = len(built_per_sparsity)  # every mode (variants included) and condition once more
    modes = 6 + sum(len(variant["modes"]) for variant in attack["variants"].values())
    assert expected_attacks == modes * len(attack["conditions"])  # one job per condition covers every view
    # CASIA-A's Table 4 job (frame-alteration nontargeted adversary, all its views) at the new sparsity, then
    # Table 4; the random control's new jobs go to the comparison with real silhouettes too, the new
    # headline cells to their precision table.
    assert stats == Counter({"attack": expected_attacks + 1, "aggregate_attacks": 1, "compare_perturbations": 1,
                             "random_control_sources_job": len(attack["conditions"]), "random_control_sources": 1,
                             "table4_cross_dataset": 1, "headline_precision": 1,
                             "findings": 1, "all": 1}), jobs
    assert {job.wildcards["sparsity"] for job in jobs if job.rule == "attack"} == {"1-20"}
    assert sum(job.wildcards["dataset"] == "casia_a" for job in jobs if job.rule == "attack") == 1


def test_an_optimiser_setting_reruns_the_adversary_jobs_but_not_the_random_control(built):
    workdir, _ = built
    config = ci_config()
    config["attack"]["iterations"] += 1
    stats, jobs = dry_run(workdir, config)
    attacked = [job for job in jobs if job.rule == "attack"]
    assert attacked and all("_adversary" in job.wildcards["mode"] for job in attacked)
    assert any("+" in job.wildcards["mode"] for job in attacked)  # the settings variants derive from them
    assert all(PARAMS_CHANGED in job.reason for job in attacked)
    # The video attack (docs/spade.md) renders the adversary's new silhouettes again; Tables 3 and 4
    # read the frame-alteration adversary's outputs (docs/gaitgan.md); the validation runs compare
    # their candidates with the plain settings, which changed (docs/knobs.md).
    # The further victims' adversaries (docs/victims.md) take the same settings.
    assert set(stats) == {"attack", "aggregate_attacks", "compare_perturbations", "video_attack",
                          "aggregate_video_attacks", "table3_blackbox_gaitgan", "table4_cross_dataset", "findings",
                          "headline_precision", "attack_validation", "validation_settings", "attack_victim",
                          "victims_table", "transfer_matrix", "train_attack_detector", "all"}
    assert all("_adversary" in job.wildcards["mode"] for job in jobs if job.rule == "attack_victim")
    validated = [job for job in jobs if job.rule == "attack_validation"]
    assert validated and all(PARAMS_CHANGED in job.reason for job in validated)


def test_a_baseline_setting_reruns_only_the_baselines_that_use_it(built):
    workdir, _ = built
    config = ci_config()
    config["attack"]["baselines"]["iterations"] += 1  # PGD and MI-FGSM iterate; FGSM takes one step
    stats, jobs = dry_run(workdir, config)
    iterative = [m for m in config["attack"]["baselines"]["modes"] if not m.endswith("_fgsm")]
    runs = len(config["attack"]["conditions"])  # one job per condition covers every view
    # attack_accuracy.csv holds the baselines' rows too, so the precision table (which reads it) follows.
    assert stats == Counter({"perturbation_attack": len(iterative) * runs, "aggregate_attacks": 1,
                             "compare_perturbations": 1, "headline_precision": 1, "findings": 1, "all": 1}), jobs
    attacked = [job for job in jobs if job.rule == "perturbation_attack"]
    assert {job.wildcards["mode"] for job in attacked} == set(iterative)
    assert all(PARAMS_CHANGED in job.reason for job in attacked)


def test_the_video_views_rerun_only_the_video_attack(built):
    """video_attack.views reaches the video jobs through params: a job per (segmenter, mode, sparsity,
    condition) reruns, and the clean videos once per (segmenter, condition)."""
    workdir, _ = built
    config = ci_config()
    config["video_attack"]["views"] = [view for view in config["attack"]["views"] if view not in
                                       config["video_attack"]["views"]]
    stats, jobs = dry_run(workdir, config)
    video = config["video_attack"]
    # the two default modes, for each segmenter
    expected = len(video["segmenters"]) * 2 * len(video["sparsities"]) * len(config["attack"]["conditions"])
    # the findings read the video tables (the sensor path's findings, docs/findings.md)
    clean = len(video["segmenters"]) * len(config["attack"]["conditions"])
    assert stats == Counter({"video_attack": expected, "clean_video": clean, "aggregate_video_attacks": 1,
                             "findings": 1, "all": 1}), jobs
    assert all(PARAMS_CHANGED in job.reason for job in jobs if job.rule == "clean_video")
    # a video job's own views changed too, but Snakemake names the first reason: its clean table is remade
    assert all(PARAMS_CHANGED in job.reason or "updated by another job" in job.reason
               for job in jobs if job.rule == "video_attack")


def test_the_camera_reruns_a_sensed_store_and_the_paste_only_the_video_attack(built):
    """One sensor path (issue 21): the CI world's CASIA-B store is sensed through the video attack's
    camera, so the camera's noise and its empty-scene footage rerun that store and all it feeds; the
    attacker's paste mask (dilate) reaches only the video attack's jobs, not the clean videos."""
    workdir, _ = built
    for key, value in (("noise_sigma", 3.0), ("footage_frames", 3)):
        config = ci_config()
        assert config["datasets"]["casia_b"]["sensor"] == "median"
        config.setdefault("video_attack", {}).setdefault("camera", {})[key] = value
        stats, jobs = dry_run(workdir, config)
        assert stats == forced_downstream(workdir, f"{config['results']}/data/casia_b/store.json"), (key, jobs)
        assert [job.wildcards for job in jobs if job.rule == "preprocess"] == [{"dataset": "casia_b"}]
    config = ci_config()
    config.setdefault("video_attack", {}).setdefault("camera", {})["dilate"] = 2
    stats, jobs = dry_run(workdir, config)
    assert set(stats) == {"video_attack", "aggregate_video_attacks", "findings", "all"}, jobs


def test_a_gaitset_recipe_trains_only_itself_and_its_comparison(built):
    """gaitset.recipes adds candidate GaitSets scored on validation subjects; the victim and everything
    downstream of it stay (docs/knobs.md, K4)."""
    workdir, _ = built
    config = ci_config()
    config["gaitset"]["recipes"] = {"lr_low": {"learning_rate": 0.0005}, "batch": {"subjects_per_batch": 2}}
    stats, jobs = dry_run(workdir, config)
    assert stats == Counter({"train_gaitset_recipe": 2, "gaitset_recipes": 1, "all": 1}), jobs
    assert {job.wildcards["recipe"] for job in jobs if job.rule == "train_gaitset_recipe"} == {"lr_low", "batch"}


def test_a_generator_recipe_trains_only_itself_and_its_comparison(built):
    """wgan.recipes adds candidate generators scored on validation subjects (docs/knobs.md, K6); the
    attack's generator and everything downstream of it stay. Changing the default's recipe retrains
    the candidates too (they are overrides of it)."""
    workdir, _ = built
    config = ci_config()
    config["wgan"]["recipes"]["ttur"] = {"critic_learning_rate": 0.0004}
    stats, jobs = dry_run(workdir, config)
    assert stats == Counter({"train_wgan_recipe": 1, "wgan_recipes": 1, "all": 1}), jobs
    assert {job.wildcards["recipe"] for job in jobs if job.rule == "train_wgan_recipe"} == {"ttur"}
    config["wgan"]["train"]["gp_weight"] = 5.0
    stats, _ = dry_run(workdir, config)
    assert stats["train_wgan"] == 1 and stats["train_wgan_recipe"] == 2 and stats["wgan_recipes"] == 1


def test_a_candidate_victim_is_attacked_on_the_validation_probes_and_set_beside_the_victim(built):
    """attack.validation.victims attacks a GaitSet recipe like the victim (plain modes, validation
    subjects only); the run builds the victim table with a row per victim and nothing else reruns."""
    workdir, _ = built
    config = ci_config()
    config["gaitset"]["recipes"] = {"longer": {"iterations": 30}}
    config["attack"]["validation"]["victims"] = ["longer"]
    stats, jobs = dry_run(workdir, config)
    validation = config["attack"]["validation"]
    cells = len(validation["modes"]) * len(validation["sparsities"]) * len(validation["conditions"])
    assert stats == Counter({"train_gaitset_recipe": 1, "gaitset_recipes": 1, "extract_features_recipe": 1,
                             "attack_validation_victim": cells, "validation_victims": 1, "all": 1}), jobs
    attacked = [job for job in jobs if job.rule == "attack_validation_victim"]
    assert {job.wildcards["recipe"] for job in attacked} == {"longer"}
    assert {job.wildcards["mode"] for job in attacked} == set(validation["modes"])  # no candidate setting
    path = workdir / "victims-config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake(workdir, "--cores", "2", "validation_victims", "--configfile", str(path))
    assert result.returncode == 0, result.stdout[-5000:]
    table = pd.read_csv(workdir / config["results"] / "tables" / "validation_victims.csv")
    assert table["victim"].tolist() == ["default", "longer"] * cells
    assert table.loc[table["victim"] == "default", "difference"].isna().all()
    assert table.loc[table["victim"] == "longer", "difference"].notna().all()
    first, second = (table[table["victim"] == v].reset_index(drop=True) for v in ("default", "longer"))
    assert (first["probes"] == second["probes"]).all() and (first["subjects"] == second["subjects"]).all()


def victim_cells(workdir: Path, config: dict) -> int:
    """The attack jobs of one further victim in the built world (victims.modes x sparsities x conditions)."""
    cells = len(list((workdir / config["results"] / "victims" / "gaitpart" / "attacks").glob("casia_b/*/*/*.parquet")))
    assert cells == 2 * len(config["victims"]["sparsities"]) * len(config["victims"]["conditions"])  # default modes
    return cells


def test_a_further_victims_setting_retrains_only_that_victim_and_its_tables(built):
    """victims.models.<name> reaches only that victim's training, features and attacks (docs/victims.md)."""
    workdir, _ = built
    config = ci_config()
    config["victims"]["models"]["gaitpart"]["iterations"] += 1
    stats, jobs = dry_run(workdir, config)
    cells = victim_cells(workdir, config)
    assert stats == Counter({"train_victim": 1, "extract_features_victim": 1, "attack_victim": cells,
                             "victims_table": 1, "transfer_matrix": 1, "all": 1}), jobs
    assert {job.wildcards["victim"] for job in jobs if "victim" in job.wildcards.keys()} == {"gaitpart"}
    assert PARAMS_CHANGED in next(job for job in jobs if job.rule == "train_victim").reason


def test_an_opengait_checkpoint_replaces_a_victims_training(built, tmp_path):
    """victims.models.<name>.opengait: the checkpoint is imported (rule import_victim), never trained,
    and the victim is attacked and tabled beside the others (a real run)."""
    from tests.models.test_opengait import opengait_state

    workdir, _ = built
    config = ci_config()
    # A hard-linked copy of the built results, so that the other tests' world stays as built.
    shutil.copytree(workdir / config["results"], workdir / "results-zoo", copy_function=os.link)
    config["results"] = "results-zoo"
    torch.save({"model": opengait_state("GaitPart", seed=4), "iteration": 1}, tmp_path / "zoo.pt")
    config["victims"]["models"]["zoo"] = {"architecture": "GaitPart", "opengait": str(tmp_path / "zoo.pt")}
    stats, jobs = dry_run(workdir, config)
    cells = victim_cells(workdir, config)
    assert stats == Counter({"import_victim": 1, "extract_features_victim": 1, "attack_victim": cells,
                             "victims_table": 1, "transfer_matrix": 1, "all": 1}), jobs
    path = workdir / "zoo-config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake(workdir, "--cores", "2", "all", "--configfile", str(path))
    assert result.returncode == 0, result.stdout[-5000:]
    table = pd.read_csv(workdir / config["results"] / "tables" / "victims.csv")
    assert table["victim"].unique().tolist() == ["gaitset", "gaitpart", "gaitgl", "zoo"]
    matrix = pd.read_csv(workdir / config["results"] / "tables" / "transfer_matrix.csv")
    assert "zoo" in set(matrix["source"]) and "zoo" in set(matrix["target"])


def test_the_judge_critic_retrains_alone_and_only_the_comparison_and_findings_follow(built):
    workdir, _ = built
    config = ci_config()
    config["wgan"]["judge"]["iterations"] += 1
    stats, jobs = dry_run(workdir, config)
    # The findings read the judge's realism gains (imperceptibility.csv, docs/findings.md).
    assert stats == Counter({"train_judge_critic": 1, "compare_perturbations": 1, "findings": 1, "all": 1}), jobs
    assert PARAMS_CHANGED in next(job for job in jobs if job.rule == "train_judge_critic").reason


def test_binary_frames_rerun_every_generating_attack_and_the_detector_but_no_baseline_or_model(built):
    """attack.binary_frames changes what the generator's frames are: the adversary and random-control
    jobs (and the detector, which learns the attack's kind of frames) rerun; the pixel baselines,
    GaitSet and the WGAN do not; the validation candidate that already has grey frames does not."""
    workdir, _ = built
    config = ci_config()
    config["attack"]["binary_frames"] = False  # the default's (config/config.yaml) is on
    stats, jobs = dry_run(workdir, config)
    assert stats["train_frame_detector"] == 1 and stats["attack"] > 0
    assert not {"perturbation_attack", "train_gaitset", "train_wgan", "train_judge_critic"} & set(stats), stats
    validated = {job.wildcards["mode"] for job in jobs if job.rule == "attack_validation"}
    assert validated and not any(mode.endswith("+grey") for mode in validated)
    assert all(PARAMS_CHANGED in job.reason for job in jobs if job.rule in ("attack", "train_frame_detector"))


def test_a_detector_setting_retrains_the_detector_and_only_the_table_and_findings_follow(built):
    workdir, _ = built
    config = ci_config()
    config["attack"]["imperceptibility"]["detector"]["iterations"] += 1
    stats, jobs = dry_run(workdir, config)
    # The second judge (trained against the attack's own frames) shares the detector's settings.
    assert stats == Counter({"train_frame_detector": 1, "train_attack_detector": 1, "compare_perturbations": 1,
                             "findings": 1, "all": 1}), jobs
    assert PARAMS_CHANGED in next(job for job in jobs if job.rule == "train_frame_detector").reason
    assert PARAMS_CHANGED in next(job for job in jobs if job.rule == "train_attack_detector").reason


RUNTIME_ONLY_CHANGES = {
    "gaitset.train.log_every": 1,
    "gaitset.train.checkpoint_every": 3,
    "gaitset.train.frame_chunk": 7,
    "gaitset.evaluation.batch_frames": 100,
    "gaitset.evaluation.frame_chunk": 9,
    "gaitset.evaluation.channels_last": False,
    "wgan.train.log_every": 1,
    "wgan.train.checkpoint_every": 1,
    "wgan.train.channels_last": False,
    "gaitgan.train.log_every": 1,
    "spade.train.checkpoint_every": 1,
    "spade.train.channels_last": True,
    "attack.chunk_size": 1,
    "attack.channels_last": False,
    "attack.imperceptibility.detector.log_every": 7,
    "device": "auto",  # picks the CPU on a machine without CUDA
}


@pytest.mark.parametrize("key", sorted(RUNTIME_ONLY_CHANGES))
def test_a_knob_that_cannot_change_results_reruns_nothing(built, key):
    """Logging and checkpoint periods, the device, chunk sizes and memory layout reach the jobs as
    runtime knobs (gaitcore.utils.runtime), which Snakemake's params trigger ignores."""
    workdir, _ = built
    config = ci_config()
    *parents, name = key.split(".")
    block = config
    for parent in parents:
        block = block.setdefault(parent, {})
    block[name] = RUNTIME_ONLY_CHANGES[key]
    stats, jobs = dry_run(workdir, config)
    assert not stats, [(job.rule, job.reason[:300]) for job in jobs]


def test_new_data_under_the_same_settings_retrains_from_scratch(tmp_path):
    """The store is rebuilt from another synthetic seed: Snakemake reruns the trainings, whose finished
    checkpoints of the old data are set aside (no resume at the last iteration with 0 iterations
    trained), so the weights are those of the new data."""
    config = ci_config()
    results = tmp_path / config["results"]
    targets = [f"{config['results']}/models/{name}/weights.pt" for name in ("gaitset", "wgan")]  # relative
    first = snakemake(tmp_path, "--cores", "2", *targets, "--configfile", str(CI_CONFIG))
    assert first.returncode == 0, first.stdout[-5000:]
    before = {target: (tmp_path / target).read_bytes() for target in targets}

    config["datasets"]["casia_b"]["synthetic"]["seed"] += 1
    changed = tmp_path / "changed-config.yaml"
    changed.write_text(yaml.safe_dump(config, sort_keys=False))
    second = snakemake(tmp_path, "--cores", "2", *targets, "--configfile", str(changed))
    assert second.returncode == 0, second.stdout[-5000:]
    assert {job.rule for job in scheduled_jobs(second.stdout)} == {"preprocess", "train_gaitset", "train_wgan"}
    for target in targets:
        assert (tmp_path / target).read_bytes() != before[target], target
        assert (tmp_path / target).with_name("resume.pt.stale").exists()
    gaitset_log = (results / "logs" / "gaitset" / "train.log").read_text()
    assert "was written by a training run on other data" in gaitset_log
    iterations = config["gaitset"]["train"]["iterations"]
    assert f"trained {iterations} iterations" in gaitset_log, gaitset_log
    wgan_log = (results / "logs" / "wgan" / "train.log").read_text()
    assert f"trained {config['wgan']['train']['iterations']} iterations" in wgan_log, wgan_log
