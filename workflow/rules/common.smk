# Config validation, paths and input functions shared by every rule file.
import os
import re
from functools import cache

from snakemake.utils import validate

from gaitcore.config_check import check_config, check_sparsities
from gaitcore.data.build import SourceSpec
from gaitcore.data.fingerprint import tree_fingerprint
from gaitcore.data.layout import CASIA_A_VIEWS, CASIA_B_VIEWS
from gaitcore.data.readers import require_root
from gaitcore.utils.runtime import RuntimeKnobs

# One short error naming each bad key (Snakemake's own validation error prints the whole schema and
# config), then Snakemake's validate fills in the defaults, whose sparsities are checked too.
check_config(config, os.path.join(workflow.basedir, "schemas", "config.schema.yaml"))
validate(config, schema="../schemas/config.schema.yaml")
check_sparsities(config)

# Jobs import gaitcore from this checkout, also inside `--use-conda` environments, which hold
# only the dependencies (environment.yml, the same pins as pyproject.toml).
REPO_ROOT = os.path.abspath(os.path.join(workflow.basedir, ".."))
# Set here (not required from the user), and set again when a cluster job parses this file.
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))
)
CONDA_ENV = "../../environment.yml"

RESULTS = config["results"]
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"
DATASETS = list(config["datasets"])


wildcard_constraints:
    dataset="|".join(DATASETS),


def canonical(value):
    """``value`` with every dict's keys sorted, recursively.

    Snakemake compares a rule's params as written, so a config whose keys were merely reordered
    would otherwise rerun the rule. Every dict-valued param goes through this.
    """
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def runtime_knobs(values):
    """Settings that choose where and how fast a job runs, not what it computes (device, periods,
    chunk sizes, memory layout), as one param the params trigger ignores (gaitcore.utils.runtime)."""
    return RuntimeKnobs(canonical(values))


def training_params(config_class, settings):
    """A training rule's ``train`` param (what decides the model: a rerun trigger) and ``runtime``
    param (``config_class.runtime_settings``: no rerun), from one mapping of its settings."""
    runtime = config_class.runtime_settings
    return (
        canonical({key: value for key, value in settings.items() if key not in runtime}),
        runtime_knobs({key: value for key, value in settings.items() if key in runtime}),
    )


def dataset_spec(dataset):
    """The validated source settings of one dataset (fails early on a missing root)."""
    spec = SourceSpec(dataset=dataset, **config["datasets"][dataset])
    if spec.source != "synthetic":
        require_root(spec.root, dataset)
    return spec


for _dataset in DATASETS:
    dataset_spec(_dataset)


def store_files(dataset):
    """The three files of a dataset's preprocessed store."""
    root = f"{RESULTS}/data/{dataset}"
    return {
        "index": f"{root}/index.parquet",
        "frames": f"{root}/frames.u8",
        "meta": f"{root}/store.json",
    }


def dataset_source_input(wildcards):
    """A real dataset's root folder, so that replacing the data reruns preprocessing."""
    spec = dataset_spec(wildcards.dataset)
    return [] if spec.source == "synthetic" else [spec.root]


@cache
def source_tree_fingerprint(root):
    """``tree_fingerprint(root)`` (paths, sizes and mtimes of the files under ``root``), computed
    once per Snakemake run however many jobs ask for it."""
    return tree_fingerprint(root)


def dataset_tree_fingerprint(dataset):
    """The tree fingerprint of a real dataset's root ("" for the synthetic source)."""
    spec = dataset_spec(dataset)
    return "" if spec.source == "synthetic" else source_tree_fingerprint(spec.root)


def dataset_source_fingerprint(wildcards):
    """The dataset's tree fingerprint, as a param: a change anywhere inside the tree (a frame or a
    sequence folder deleted, a frame replaced) reruns preprocessing."""
    return dataset_tree_fingerprint(wildcards.dataset)


# ---------------------------------------------------------------------------------------- attacks
ATTACK_VIEWS = {"casia_b": CASIA_B_VIEWS, "casia_a": CASIA_A_VIEWS}
ATTACK_CONDITIONS = {"casia_b": ("nm", "bg", "cl"), "casia_a": ("nm",)}
# The aggregated attack results (He et al. Fig. 5, Fig. 10, Tables 2, 5, 6) and their file names.
ATTACK_AGGREGATES = {
    "attack_accuracy_csv": f"{RESULTS}/tables/attack_accuracy.csv",
    "attack_accuracy_md": f"{RESULTS}/tables/attack_accuracy.md",
    "table2_csv": f"{RESULTS}/tables/table2_targeted_success.csv",
    "table2_md": f"{RESULTS}/tables/table2_targeted_success.md",
    "table5_csv": f"{RESULTS}/tables/table5_insertion_targeted.csv",
    "table5_md": f"{RESULTS}/tables/table5_insertion_targeted.md",
    "table6_csv": f"{RESULTS}/tables/table6_alteration_targeted.csv",
    "table6_md": f"{RESULTS}/tables/table6_alteration_targeted.md",
    "fig5": f"{RESULTS}/figures/fig5_nontargeted_alteration.png",
    "fig10": f"{RESULTS}/figures/fig10_nontargeted_insertion.png",
}
ATTACK_REPORTED = ("attack_accuracy_csv", "table2_csv", "table5_csv", "table6_csv", "fig5", "fig10")


def sparsity_wildcard(sparsity):
    """``"1/40"`` (config) -> ``"1-40"`` (file names)."""
    return "-".join(re.findall(r"\d+", sparsity))


def attack_modes():
    """The mode wildcards: every configured mode, plus ``mode+variant`` for each settings variant."""
    attack = config["attack"]
    adversary = [m for m in attack["modes"] if m.endswith("_adversary")]
    variants = [
        f"{mode}+{name}"
        for name, variant in attack["variants"].items()
        for mode in (variant.get("modes") or adversary)
    ]
    return [*attack["modes"], *variants]


def attack_views(dataset):
    """The probe views attacked on ``dataset``: attack.views among the dataset's views (empty: all of them)."""
    return [v for v in ATTACK_VIEWS[dataset] if not config["attack"]["views"] or v in config["attack"]["views"]]


def attack_conditions(dataset):
    """The probe conditions attacked on ``dataset`` (CASIA-A has NM only)."""
    return [c for c in config["attack"]["conditions"] if c in ATTACK_CONDITIONS[dataset]]


def job_tables(dataset, modes, sparsities):
    """The tables of the attack jobs of ``dataset`` for ``modes`` x ``sparsities`` x its attacked
    conditions: one job (``<condition>.parquet``) per condition covers every attacked view."""
    if dataset not in config["attack"]["datasets"] or not attack_views(dataset):
        return []
    return expand(
        f"{RESULTS}/attacks/{dataset}/{{mode}}/{{sparsity}}/{{condition}}.parquet",
        mode=modes,
        sparsity=[sparsity_wildcard(s) for s in sparsities],
        condition=attack_conditions(dataset),
    )


def attack_tables(dataset):
    """The tables of every attack job the config asks for on ``dataset``."""
    return job_tables(dataset, attack_modes(), config["attack"]["sparsities"])


def foreign_frame_tables():
    """The random-control jobs that rule `random_control_sources` compares with real silhouettes."""
    return job_tables("casia_b", config["attack"]["foreign_frames"]["modes"], config["attack"]["sparsities"])


def attack_job(wildcards):
    """The job description of one attack (plain values, so that Snakemake's params trigger sees them)."""
    attack = config["attack"]
    return canonical(
        {
            "dataset": wildcards.dataset,
            "condition": wildcards.condition,
            "views": attack_views(wildcards.dataset),
            "sparsity": wildcards.sparsity.replace("-", "/"),
            "mode": wildcards.mode.partition("+")[0],
            "variant": wildcards.mode.partition("+")[2],
            "placement": attack["placement"],
            "k_rule": attack["k_rule"],
            "seed": config["seed"],
            "probe_subjects": attack["dataset_probe_subjects"].get(wildcards.dataset, attack["probe_subjects"]),
            "test_subjects": config["gaitset"]["evaluation"]["test_subjects"],
            "metric": config["gaitset"]["evaluation"]["metric"],
        }
    )


def attack_runtime():
    """The runtime knobs of an attack job: device, sequences attacked at once (results do not depend
    on it: tests/attacks/test_engine.py) and memory layout."""
    attack = config["attack"]
    return runtime_knobs(
        {"device": config["device"], "chunk_size": attack["chunk_size"], "channels_last": attack["channels_last"]}
    )


def attack_settings(wildcards):
    """The optimiser settings of one attack job (goal and setting from its mode)."""
    attack = config["attack"]
    mode, _, variant = wildcards.mode.partition("+")
    _, goal, setting = mode.split("_")
    keys = ("iterations", "decay", "step_size", "realism_weight", "temporal_weight", "early_stop", "dtype")
    settings = {key: attack[key] for key in keys}
    if variant:
        settings.update({k: v for k, v in attack["variants"][variant].items() if k != "modes"})
    if setting == "random":  # no optimisation: the optimiser's knobs must not rerun the control
        settings = {"dtype": attack["dtype"]}
    return canonical({"goal": goal, "setting": setting, **settings})


# ---------------------------------------------------------------------------------------- baselines
# Sec. 4.5's perturbation baselines: more attack modes, `{kind}_{goal}_{fgsm|pgd|mifgsm}` (rule
# perturbation_attack), at `attack.baselines.sparsities` (docs/baselines.md).
BASELINE_MODE_PATTERN = r"(alteration|insertion)_(nontargeted|targeted)_(fgsm|pgd|mifgsm)"
_baselines = config["attack"]["baselines"]
if _baselines["modes"] and _baselines["figure_sparsity"] not in _baselines["sparsities"]:
    raise ValueError(
        f"attack.baselines.figure_sparsity {_baselines['figure_sparsity']!r} is not among "
        f"attack.baselines.sparsities {_baselines['sparsities']}; Fig. 6 compares them there: add it"
    )
_judge = config["wgan"]["judge"]
if _judge["seed"] == config["seed"] or _judge["dim"] == config["wgan"]["dim"]:
    raise ValueError(
        "wgan.judge must differ from the attack's WGAN in seed and width (seed "
        f"{_judge['seed']} vs {config['seed']}, dim {_judge['dim']} vs {config['wgan']['dim']}): "
        "an independent judge; change wgan.judge.seed / wgan.judge.dim"
    )


def baseline_tables(dataset):
    """The tables of every perturbation-baseline job the config asks for on ``dataset``."""
    baselines = config["attack"]["baselines"]
    return job_tables(dataset, baselines["modes"], baselines["sparsities"])


def perturbation_settings(wildcards):
    """The settings of one baseline job (goal and method from its mode; PGD's random start only for PGD)."""
    baselines = config["attack"]["baselines"]
    _, goal, method = wildcards.mode.split("_")
    settings = {"goal": goal, "method": method, "budget": baselines["budget"]}
    if method != "fgsm":
        settings.update(iterations=baselines["iterations"], step_size=baselines["step_size"])
    if method == "mifgsm":
        settings["decay"] = baselines["decay"]
    if method == "pgd":
        settings["random_start"] = baselines["random_start"]
    return canonical(settings)


# ---------------------------------------------------------------------------------------- transfer
# He et al. Sec. 4.3 (Table 3: the S = 1/40 frame-alteration nontargeted adversary's NM sequences,
# transferred to GaitGAN) and Sec. 4.4 (Table 4: the same attack on CASIA-A), workflow/rules/gaitgan.smk.
TRANSFER_MODE = "alteration_nontargeted_adversary"  # as gaitcore.reporting.transfer.TABLE3_MODE / TABLE4_MODE
TABLE3_SPARSITY = "1/40"  # gaitcore.reporting.transfer.TABLE3_SPARSITY checks the tables it gets
TRANSFER_TABLES = {
    "table3_csv": f"{RESULTS}/tables/table3_blackbox_gaitgan.csv",
    "table3_md": f"{RESULTS}/tables/table3_blackbox_gaitgan.md",
    "table4_csv": f"{RESULTS}/tables/table4_cross_dataset.csv",
    "table4_md": f"{RESULTS}/tables/table4_cross_dataset.md",
}


def table3_attack_tables():
    """The CASIA-B NM attack table Table 3 reads: S = 1/40, every attacked view in one job (any attack.conditions)."""
    if not attack_views("casia_b"):
        return []
    return [f"{RESULTS}/attacks/casia_b/{TRANSFER_MODE}/{sparsity_wildcard(TABLE3_SPARSITY)}/nm.parquet"]


def table4_attack_tables():
    """The CASIA-A attack tables Table 4 reads: the frame-alteration nontargeted adversary's of attack_tables("casia_a")."""
    return [path for path in attack_tables("casia_a") if f"/{TRANSFER_MODE}/" in path]


def transfer_outputs():
    """Tables 3 and 4, each when attack.datasets attacks its dataset."""
    datasets = config["attack"]["datasets"]
    return [
        *(rules.table3_blackbox_gaitgan.output if "casia_b" in datasets else []),
        *(rules.table4_cross_dataset.output if "casia_a" in datasets else []),
    ]


# ---------------------------------------------------------------------------------------- video attack
# He et al. Sec. 3.3 (SPADE; Fig. 3, 4, 9) and the video attack scored through the sensor path,
# workflow/rules/spade.smk (docs/spade.md).


def video_source_params():
    """Where CASIA-B's videos come from: its dataset block (synthetic RGB mode, or the released
    silhouettes beside the real videos) and spade.videos_root."""
    return canonical({"dataset": config["datasets"]["casia_b"], "videos_root": config["spade"]["videos_root"]})


def video_source_input(wildcards):
    """The real videos' folder, so that replacing them reruns the SPADE rules (synthetic: none)."""
    root = config["spade"]["videos_root"]
    return [root] if root else []


def video_source_fingerprint(wildcards):
    """The tree fingerprints of the real videos and of the CASIA-B silhouettes read beside
    them, as a param: a change in either tree reruns the SPADE rules (synthetic: "")."""
    root = config["spade"]["videos_root"]
    if not root:
        return ""
    return canonical(
        {
            "silhouettes": dataset_tree_fingerprint("casia_b"),
            "videos": source_tree_fingerprint(root),
        }
    )


def _subset(chosen, available, key):
    """``chosen`` (all of ``available`` when empty), refusing values the attack stage does not produce."""
    missing = [value for value in chosen if value not in available]
    if missing:
        raise ValueError(f"video_attack.{key} {missing} are not attacked (the attack config gives {list(available)}); "
                         f"add them to the attack block or remove them from video_attack.{key}")
    return list(chosen) or list(available)


def video_attack_views():
    """The probe views whose attacked probes become videos (video_attack.views; empty: every attacked view)."""
    if "casia_b" not in config["attack"]["datasets"]:
        return []
    return _subset(config["video_attack"]["views"], attack_views("casia_b"), "views")


def video_attack_jobs():
    """(mode, sparsity wildcard, condition) of every video attack job: one per CASIA-B attack job
    selected, covering its probes at video_attack_views()."""
    attack, video = config["attack"], config["video_attack"]
    if not video_attack_views():
        return []
    modes = _subset(video["modes"], attack_modes(), "modes")
    sparsities = _subset(video["sparsities"], attack["sparsities"], "sparsities")
    conditions = _subset(video["conditions"], attack_conditions("casia_b"), "conditions")
    return [(m, sparsity_wildcard(s), c) for m in modes for s in sparsities for c in conditions]


def video_attack_outputs(ext):
    """The ``.parquet`` tables or ``.npz`` examples of every video attack job."""
    return [f"{RESULTS}/video_attacks/casia_b/{m}/{s}/{c}.{ext}" for m, s, c in video_attack_jobs()]


def video_attack_examples():
    """Fig. 4's examples: per mode, the job at the largest sparsity and first condition (its first probe)."""
    first = {}
    for mode, sparsity, condition in video_attack_jobs():
        value = int(sparsity.split("-")[0]) / int(sparsity.split("-")[1])
        if mode not in first or value > first[mode][0]:
            first[mode] = (value, f"{RESULTS}/video_attacks/casia_b/{mode}/{sparsity}/{condition}.npz")
    return [path for _, path in first.values()]


def video_outputs():
    """Fig. 9, and the video attack table and Fig. 4 when CASIA-B is attacked."""
    return [*rules.spade_report.output, *(rules.aggregate_video_attacks.output if video_attack_jobs() else [])]


def final_outputs():
    """Everything `snakemake all` builds: the final tables and figures of each stage."""
    return [
        *(store_files(dataset)["meta"] for dataset in DATASETS),
        *rules.natural_accuracy.output,
        *rules.wgan_report.output,
        *(rules.aggregate_attacks.output if "casia_b" in config["attack"]["datasets"] else []),
        *(rules.compare_perturbations.output if "casia_b" in config["attack"]["datasets"] else []),
        *(rules.random_control_sources.output if foreign_frame_tables() else []),
        *transfer_outputs(),
        *video_outputs(),
    ]
