# Config validation, paths and input functions shared by every rule file.
import os

from snakemake.utils import validate

from gaitcore.data.build import SourceSpec
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


def final_outputs():
    """Everything `snakemake all` builds: the final tables and figures of each stage."""
    return [
        *(store_files(dataset)["meta"] for dataset in DATASETS),
        *rules.natural_accuracy.output,
        *rules.wgan_report.output,
    ]
