# Config validation, paths and input functions shared by every rule file.
import os
import re

from snakemake.utils import validate

from gaitcore.data.build import SourceSpec
from gaitcore.data.layout import CASIA_A_VIEWS, CASIA_B_VIEWS
from gaitcore.data.readers import require_root


validate(config, schema="../schemas/config.schema.yaml")

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


def attack_tables(dataset):
    """The tables of every attack job the config asks for on ``dataset``."""
    attack = config["attack"]
    if dataset not in attack["datasets"]:
        return []
    views = [v for v in ATTACK_VIEWS[dataset] if not attack["views"] or v in attack["views"]]
    conditions = [c for c in attack["conditions"] if c in ATTACK_CONDITIONS[dataset]]
    return expand(
        f"{RESULTS}/attacks/{dataset}/{{mode}}/{{sparsity}}/{{condition}}-{{view:03d}}.parquet",
        mode=attack_modes(),
        sparsity=[sparsity_wildcard(s) for s in attack["sparsities"]],
        condition=conditions,
        view=views,
    )


def attack_job(wildcards):
    """The job description of one attack (plain values, so that Snakemake's params trigger sees them)."""
    attack = config["attack"]
    return canonical(
        {
            "dataset": wildcards.dataset,
            "condition": wildcards.condition,
            "view": int(wildcards.view),
            "sparsity": wildcards.sparsity.replace("-", "/"),
            "mode": wildcards.mode.partition("+")[0],
            "variant": wildcards.mode.partition("+")[2],
            "placement": attack["placement"],
            "k_rule": attack["k_rule"],
            "seed": config["seed"],
            "probe_subjects": attack["probe_subjects"],
            "test_subjects": config["gaitset"]["evaluation"]["test_subjects"],
            "metric": config["gaitset"]["evaluation"]["metric"],
        }
    )


def attack_settings(wildcards):
    """The optimiser settings of one attack job (goal and setting from its mode)."""
    attack = config["attack"]
    mode, _, variant = wildcards.mode.partition("+")
    _, goal, setting = mode.split("_")
    keys = ("iterations", "decay", "step_size", "realism_weight", "temporal_weight", "early_stop", "chunk_size", "dtype")
    settings = {key: attack[key] for key in keys}
    if variant:
        settings.update({k: v for k, v in attack["variants"][variant].items() if k != "modes"})
    if setting == "random":  # no optimisation: the optimiser's knobs must not rerun the control
        settings = {"chunk_size": attack["chunk_size"], "dtype": attack["dtype"]}
    return canonical({"goal": goal, "setting": setting, **settings})


def final_outputs():
    """Everything `snakemake all` builds: the final tables and figures of each stage."""
    return [
        *(store_files(dataset)["meta"] for dataset in DATASETS),
        *rules.natural_accuracy.output,
        *rules.wgan_report.output,
        *(rules.aggregate_attacks.output if "casia_b" in config["attack"]["datasets"] else []),
    ]
