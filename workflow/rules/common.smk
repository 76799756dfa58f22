# Shared by every stage's file, included first by the Snakefile. In this file: config
# validation, the config blocks and the results layout, the wildcard constraints, param
# helpers, path helpers (every path spelled in more than one rule file is built here) and the
# input functions that decide which jobs the config asks for. The stage files hold their rules
# (and their own training params); a rule reads another's output as `rules.<name>.output.<key>`.
import os
from functools import cache

from snakemake.utils import validate

from gaitcore.attacks.vocabulary import Mode, Sparsity
from gaitcore.config_check import (
    check_config,
    check_roles,
    check_sparsities,
    check_victims,
)
from gaitcore.data.build import SourceSpec
from gaitcore.data.fingerprint import tree_fingerprint
from gaitcore.data.layout import CASIA_A_VIEWS, CASIA_B_VIEWS, CONDITIONS
from gaitcore.data.readers import require_root
from gaitcore.data.sensor import CAPTURE_SETTINGS
from gaitcore.training.wgan import WGANTrainConfig
from gaitcore.utils.runtime import RuntimeKnobs

# One short error naming each bad key (Snakemake's own validation error prints the whole schema and
# config), then Snakemake's validate fills in the defaults, whose sparsities, subject roles,
# probe budgets and candidate victims are checked too.
check_config(config, os.path.join(workflow.basedir, "schemas", "config.schema.yaml"))
validate(config, schema="../schemas/config.schema.yaml")
check_sparsities(config)
check_roles(config)
check_victims(config)

# Jobs import gaitcore from this checkout, also inside `--use-conda` environments, which hold
# only the dependencies (environment.yml, the same pins as pyproject.toml).
REPO_ROOT = os.path.abspath(os.path.join(workflow.basedir, ".."))
# Set here (not required from the user), and set again when a cluster job parses this file.
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))
)
CONDA_ENV = "../../environment.yml"

# ---------------------------------------------------------------------------------------- config
# The config blocks the rule files read (validated, with the schema's defaults filled in).
DATASETS = list(config["datasets"])
GAITSET = config["gaitset"]
WGAN = config["wgan"]
ATTACK = config["attack"]
GAITGAN = config["gaitgan"]
SPADE = config["spade"]
VIDEO_ATTACK = config["video_attack"]
VALIDATION = ATTACK["validation"]
VICTIMS = config["victims"]

# The subjects' roles (CASIA-B; CASIA-A is test only): models train on TRAIN_SUBJECTS, fits and
# setting choices read VALIDATION_SUBJECTS, and TEST_SUBJECTS are attacked and reported only.
ROLES = config["subjects"]["casia_b"]
TRAIN_SUBJECTS = ROLES["train"]
VALIDATION_SUBJECTS = ROLES["validation"]
TEST_SUBJECTS = ROLES["test"]

# ---------------------------------------------------------------------------------------- layout
# Where each stage writes, below `results`: data/, models/, features/, attacks/, video_attacks/,
# tables/, figures/, and each job's log and benchmark under logs/ and benchmarks/.
RESULTS = config["results"]
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"
ATTACKS = f"{RESULTS}/attacks"
VALIDATION_ATTACKS = f"{RESULTS}/validation/attacks"  # attacks on validation subjects
VICTIM_ATTACKS = f"{RESULTS}/validation/victims"  # the same against candidate victims
VIDEO_ATTACKS = f"{RESULTS}/video_attacks"
RANDOM_CONTROL_SOURCES = (
    f"{RESULTS}/random_control_sources"  # rows per random-control job
)
VICTIMS_ROOT = (
    f"{RESULTS}/victims"  # further victims' attacks on the test subjects (victims.smk)
)

# The modes of the temporal sparse attack (rule attack) and of the perturbation baselines (rule
# perturbation_attack), which write the same kind of job files.
ATTACK_MODE_PATTERN = (
    r"(alteration|insertion)_(nontargeted|targeted)_(adversary|random)(\+[a-z0-9_]+)?"
)
BASELINE_MODE_PATTERN = (
    r"(alteration|insertion)_(nontargeted|targeted)_(fgsm|pgd|mifgsm)"
)


wildcard_constraints:
    dataset="|".join(DATASETS),
    condition="nm|bg|cl",
    sparsity=r"\d+-\d+",
    mode=ATTACK_MODE_PATTERN,
    recipe=r"[A-Za-z0-9_.-]+",
    segmenter=r"median|mog2|knn",
    victim=r"[A-Za-z0-9_.-]+",


def store_files(dataset):
    """The three files of a dataset's preprocessed store (rule preprocess)."""
    root = f"{RESULTS}/data/{dataset}"
    return {
        "index": f"{root}/index.parquet",
        "frames": f"{root}/frames.u8",
        "meta": f"{root}/store.json",
    }


def model_files(model):
    """A trained model's ``weights`` (the training rule's output) and resume ``checkpoint`` (a param,
    no output: Snakemake would delete it when the job fails), under ``models/<model>/``.
    """
    root = f"{RESULTS}/models/{model}"
    return {"weights": f"{root}/weights.pt", "checkpoint": f"{root}/resume.pt"}


def attack_path(
    ext,
    root=ATTACKS,
    dataset="{dataset}",
    mode="{mode}",
    sparsity="{sparsity}",
    condition="{condition}",
):
    """A file of one attack job: ``<root>/<dataset>/<mode>/<sparsity>/<condition>.<ext>``, its table
    (``parquet``) and frames (``npz``) under attacks/, its ``log`` and benchmark (``tsv``) under
    logs/attacks and benchmarks/attacks. Wildcards not given stay wildcards (the rules' patterns).
    """
    return f"{root}/{dataset}/{mode}/{sparsity}/{condition}.{ext}"


def video_attack_path(
    ext,
    root=VIDEO_ATTACKS,
    segmenter="{segmenter}",
    mode="{mode}",
    sparsity="{sparsity}",
    condition="{condition}",
):
    """A file of one video attack job (one per segmenter and CASIA-B attack job): its table
    (``parquet``) and example (``npz``) under video_attacks/, its ``log`` and benchmark (``tsv``)
    under logs/ and benchmarks/video_attacks."""
    return f"{root}/{segmenter}/casia_b/{mode}/{sparsity}/{condition}.{ext}"


def clean_video_path(
    ext, root=VIDEO_ATTACKS, segmenter="{segmenter}", condition="{condition}"
):
    """A file of one clean video job (one per segmenter and CASIA-B condition): its table
    (``parquet``) under video_attacks/<segmenter>/casia_b/clean/, its ``log`` and benchmark
    (``tsv``) under logs/ and benchmarks/video_attacks."""
    return f"{root}/{segmenter}/casia_b/clean/{condition}.{ext}"


def sensor_settings(segmenter, camera_keys=None):
    """The sensor path spelt out (``SensorPath.from_settings``): ``segmenter`` with its settings and
    ``video_attack``'s min_area and camera, all of it or only ``camera_keys``."""
    camera = VIDEO_ATTACK["camera"]
    return canonical(
        {
            "segmenter": segmenter,
            "settings": VIDEO_ATTACK["segmentation"][segmenter],
            "min_area": VIDEO_ATTACK["min_area"],
            "camera": {key: camera[key] for key in camera_keys or camera},
        }
    )


def video_sensor(wildcards):
    """The sensor path of one video attack job (its segmenter's settings, the camera with the
    attacker's paste), for rule video_attack."""
    return sensor_settings(wildcards.segmenter)


def clean_video_sensor(wildcards):
    """The sensor path of one clean video job: the camera's capture without the attacker's paste,
    so a change of the paste mask reruns the video attack jobs only."""
    return sensor_settings(wildcards.segmenter, CAPTURE_SETTINGS)


def fill_wildcards(pattern, **wildcards):
    """The one path ``pattern`` (e.g. ``rules.extract_features.output.features``) names for
    ``wildcards``."""
    (path,) = expand(pattern, **wildcards)
    return path


# ---------------------------------------------------------------------------------------- params
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
    chunk sizes, memory layout), as one param the params trigger ignores (gaitcore.utils.runtime).
    """
    return RuntimeKnobs(canonical(values))


def training_params(config_class, settings):
    """A training rule's ``train`` param (what decides the model: a rerun trigger) and ``runtime``
    param (``config_class.checkpointing.runtime``: no rerun), from one mapping of its settings.
    """
    runtime = config_class.checkpointing.runtime
    return (
        canonical(
            {key: value for key, value in settings.items() if key not in runtime}
        ),
        runtime_knobs(
            {key: value for key, value in settings.items() if key in runtime}
        ),
    )


def victim_train_settings():
    """``gaitset.train`` as the victim's training param takes it: ``dtype: float32``, what victims
    trained before the key existed computed in, is left out, so their results stay current.
    """
    return {
        key: value
        for key, value in GAITSET["train"].items()
        if (key, value) != ("dtype", "float32")
    }


def wgan_training_params(**overrides):
    """``training_params`` of a WGAN-GP: the attack's generator (rule train_wgan), or with
    ``overrides`` (dim, seed, iterations) the judge critic (rule train_judge_critic)."""
    return training_params(
        WGANTrainConfig,
        {
            "dim": WGAN["dim"],
            "latent_dim": WGAN["latent_dim"],
            "seed": config["seed"],
            "device": config["device"],
            **WGAN["train"],
            "train_subjects": TRAIN_SUBJECTS,
            "calibration_subjects": VALIDATION_SUBJECTS,
            "calibration_real": WGAN["calibration"]["real_frames"],
            "calibration_fake": WGAN["calibration"]["generated_frames"],
            "calibration_l2": WGAN["calibration"]["l2"],
            "bn_refresh_batches": WGAN["calibration"]["bn_refresh_batches"],
            **overrides,
        },
    )


def wgan_recipe_train(wildcards):
    """The ``train`` param of a candidate generator recipe (wgan.recipes): the attack's generator's
    (wgan_training_params) with the recipe's overrides and snapshots at the shares
    wgan.recipe_validation.snapshots of its iterations."""
    train, _ = wgan_training_params(**WGAN["recipes"][wildcards.recipe])
    shares = WGAN["recipe_validation"]["snapshots"]
    at = {round(share * train["iterations"]) for share in shares}
    return canonical(
        {**train, "snapshots": sorted(i for i in at if 0 < i < train["iterations"])}
    )


def detector_train():
    """The frame detector's ``train`` param, with its settings but the logging period, the
    subjects' roles and the seed (for the detector's training rule)."""
    settings = ATTACK["imperceptibility"]["detector"]
    return canonical(
        {
            **{key: value for key, value in settings.items() if key != "log_every"},
            "train_subjects": TRAIN_SUBJECTS,
            "validation_subjects": VALIDATION_SUBJECTS,
            "seed": config["seed"],
            **binary_when_on({"binary_frames": ATTACK["binary_frames"]}),
        }
    )


def gaitset_recipe_train(wildcards):
    """The ``train`` param of a candidate GaitSet recipe: the victim's (GAITSET_TRAIN, gaitset.smk)
    with the recipe's overrides, no snapshots."""
    return canonical(
        {**GAITSET_TRAIN, **GAITSET["recipes"][wildcards.recipe], "snapshots": []}
    )


# ---------------------------------------------------------------------------------------- data
def dataset_settings(dataset):
    """A dataset's config block with its ``sensor`` spelt out: the segmenter named there with its
    settings, and the camera (noise, JPEG) of the video attack, the one sensor path (issue 21).
    Changing the camera or that segmenter's settings reruns the store's preprocessing then.
    """
    block = dict(config["datasets"][dataset])
    # Without a sensor the key goes: the params of stores built before it existed stay the same. A
    # real source's silhouettes come from its own sensor: the key (the default's `median`) describes
    # how the synthetic renderer is sensed and does not apply to it.
    if block.get("sensor") is None or block.get("source") != "synthetic":
        block.pop("sensor", None)
    else:  # the camera without the attacker's paste mask (dilate, feather)
        block["sensor"] = sensor_settings(block["sensor"], CAPTURE_SETTINGS)
    return canonical(block)


def dataset_spec(dataset):
    """The validated source settings of one dataset (fails early on a missing root)."""
    spec = SourceSpec(dataset=dataset, **dataset_settings(dataset))
    if spec.source != "synthetic":
        require_root(spec.root, dataset)
    return spec


for _dataset in DATASETS:
    dataset_spec(_dataset)


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
ATTACK_CONDITIONS = {"casia_b": CONDITIONS, "casia_a": ("nm",)}


def sparsity_wildcard(sparsity):
    """``"1/40"`` (config) -> ``"1-40"`` (file names)."""
    return Sparsity.parse(sparsity).file_name


def attack_modes():
    """The mode wildcards: every configured mode, plus ``mode+variant`` for each settings variant."""
    adversary = [m for m in ATTACK["modes"] if m.endswith("_adversary")]
    variants = [
        f"{mode}+{name}"
        for name, variant in ATTACK["variants"].items()
        for mode in (variant.get("modes") or adversary)
    ]
    return [*ATTACK["modes"], *variants]


def attack_views(dataset):
    """The probe views attacked on ``dataset``: attack.views among the dataset's views (empty: all
    of them)."""
    return [
        v for v in ATTACK_VIEWS[dataset] if not ATTACK["views"] or v in ATTACK["views"]
    ]


def attack_conditions(dataset):
    """The probe conditions attacked on ``dataset`` (CASIA-A has NM only)."""
    return [c for c in ATTACK["conditions"] if c in ATTACK_CONDITIONS[dataset]]


def job_files(dataset, modes, sparsities, ext, root=ATTACKS):
    """The ``ext`` files (``parquet`` tables, ``npz`` frames) of the attack jobs of ``dataset`` for
    ``modes`` x ``sparsities`` x its attacked conditions, under ``root`` (attack_path): one job per
    condition covers every attacked view."""
    if dataset not in ATTACK["datasets"] or not attack_views(dataset):
        return []
    return expand(
        attack_path(ext, root=root, dataset=dataset),
        mode=modes,
        sparsity=[sparsity_wildcard(s) for s in sparsities],
        condition=attack_conditions(dataset),
    )


def attack_files(dataset, ext):
    """The ``ext`` files of every attack job the config asks for on ``dataset``."""
    return job_files(dataset, attack_modes(), ATTACK["sparsities"], ext)


def headline_files(ext):
    """The CASIA-B jobs of the headline cells: the cells whose precision rule headline_precision
    reads."""
    modes = [m for m in ATTACK["modes"] if Mode.parse(m).is_headline]
    return job_files("casia_b", modes, ATTACK["sparsities"], ext)


def foreign_frame_files():
    """The rows of the random-control jobs that rule random_control_sources summarises (one
    random_control_sources_job per CASIA-B random-control job)."""
    return job_files(
        "casia_b",
        ATTACK["foreign_frames"]["modes"],
        ATTACK["sparsities"],
        "parquet",
        root=RANDOM_CONTROL_SOURCES,
    )


def subjects_per_view(dataset, mode):
    """The probe budget of a job (attack.subjects_per_view): ``casia_a`` on CASIA-A, ``headline``
    for CASIA-B's plain nontargeted adversary and random control, ``other`` for every other mode
    (targeted, settings variants, baselines), whose probes are the first of the headline's.
    """
    budget = ATTACK["subjects_per_view"]
    if dataset == "casia_a":
        return budget["casia_a"]
    return budget["headline"] if Mode.parse(mode).is_headline else budget["other"]


# Keys of a validation candidate that change which frames are generated (the job), not the optimiser.
JOB_KEYS = ("placement", "k_rule", "target_choice")


def _job(wildcards, subjects, budget, overrides=None):
    """The job description of one attack on ``subjects`` (a role's range) with the probe budget
    ``budget`` and ``overrides`` of JOB_KEYS (plain values, so that Snakemake's params trigger
    sees them)."""
    overrides = overrides or {}
    return canonical(
        {
            "dataset": wildcards.dataset,
            "condition": wildcards.condition,
            "views": attack_views(wildcards.dataset),
            "sparsity": Sparsity.from_file_name(wildcards.sparsity).label,
            "mode": Mode.parse(wildcards.mode).name,
            "variant": Mode.parse(wildcards.mode).variant,
            "placement": overrides.get("placement", ATTACK["placement"]),
            "k_rule": overrides.get("k_rule", ATTACK["k_rule"]),
            "target_choice": overrides.get("target_choice", ATTACK["target_choice"]),
            "seed": config["seed"],
            "subjects_per_view": budget,
            "subjects": subjects,
            "metric": GAITSET["evaluation"]["metric"],
        }
    )


def attack_job(wildcards):
    """The job description of one attack on the test subjects (rule attack)."""
    return _job(
        wildcards, TEST_SUBJECTS, subjects_per_view(wildcards.dataset, wildcards.mode)
    )


def validation_job(wildcards):
    """The job description of one attack on the validation subjects (rule attack_validation), a
    candidate's placement, K rule or target choice applied."""
    variant = Mode.parse(wildcards.mode).variant
    overrides = VALIDATION["candidates"][variant] if variant else {}
    return _job(
        wildcards, VALIDATION_SUBJECTS, VALIDATION["subjects_per_view"], overrides
    )


def attack_runtime():
    """The runtime knobs of an attack job: device, sequences attacked at once (results do not
    depend on it: tests/attacks/test_engine.py) and memory layout."""
    return runtime_knobs(
        {
            "device": config["device"],
            "chunk_size": ATTACK["chunk_size"],
            "channels_last": ATTACK["channels_last"],
        }
    )


def optimiser_settings(wildcards, variants):
    """The optimiser settings of one attack job (goal and setting from its mode, a variant's
    overrides from ``variants``)."""
    mode = Mode.parse(wildcards.mode)
    goal, setting, variant = mode.goal, mode.setting, mode.variant
    keys = (
        "iterations",
        "decay",
        "step_size",
        "realism_weight",
        "temporal_weight",
        "early_stop",
        "binary_frames",
        "dtype",
    )
    settings = {key: ATTACK[key] for key in keys}
    if variant:
        settings.update(
            {
                k: v
                for k, v in variants[variant].items()
                if k != "modes" and k not in JOB_KEYS
            }
        )
    if (
        setting == "random"
    ):  # no optimisation: the optimiser's knobs must not rerun the control
        settings = {k: settings[k] for k in ("dtype", "binary_frames")}
    return canonical({"goal": goal, "setting": setting, **binary_when_on(settings)})


def binary_when_on(settings):
    """``settings`` without ``binary_frames`` while it is off, its default (gaitcore's
    AttackSettings and DetectorTrainConfig): a job's params name the option only when it changes
    what the job computes."""
    return {k: v for k, v in settings.items() if k != "binary_frames" or v}


def attack_settings(wildcards):
    """The optimiser settings of one attack job on the test subjects (rule attack)."""
    return optimiser_settings(wildcards, ATTACK["variants"])


def validation_settings(wildcards):
    """The optimiser settings of one attack job on the validation subjects: the plain attack's,
    or a candidate's of attack.validation.candidates (rule attack_validation)."""
    return optimiser_settings(wildcards, VALIDATION["candidates"])


def validation_files(ext, root=VALIDATION_ATTACKS, candidates=True):
    """The ``ext`` files of the validation attack jobs under ``root``: every attack.validation mode,
    plain and (``candidates``) with each candidate setting, at its sparsities and conditions (none
    without CASIA-B).
    """
    if "casia_b" not in DATASETS or not attack_views("casia_b"):
        return []
    modes = VALIDATION["modes"]
    variants = (
        [f"{m}+{name}" for m in modes for name in VALIDATION["candidates"]]
        if candidates
        else []
    )
    return expand(
        attack_path(ext, root=root, dataset="casia_b"),
        mode=[*modes, *variants],
        sparsity=[sparsity_wildcard(s) for s in VALIDATION["sparsities"]],
        condition=VALIDATION["conditions"],
    )


def validation_adversary_files(ext):
    """The ``ext`` files of the plain validation attacks of the adversary (not the random control):
    the attack's own frames the second frame judge trains on (rule train_attack_detector).
    """
    modes = [m for m in VALIDATION["modes"] if Mode.parse(m).setting == "adversary"]
    if not modes or not validation_files(ext, candidates=False):
        return []
    return expand(
        attack_path(ext, root=VALIDATION_ATTACKS, dataset="casia_b"),
        mode=modes,
        sparsity=[sparsity_wildcard(s) for s in VALIDATION["sparsities"]],
        condition=VALIDATION["conditions"],
    )


def attack_detector_input():
    """The second frame judge's weights (rule train_attack_detector), where there are validation
    attacks of the adversary to train it on (none: the imperceptibility table leaves its column empty).
    """
    if not validation_adversary_files("parquet"):
        return []
    return model_files("attack_detector")["weights"]


def victim_files(ext):
    """The ``ext`` files of the plain validation attacks (rule attack_validation) and of the same
    against each candidate victim of attack.validation.victims (rule attack_validation_victim), one
    victim after another, the default victim first (rule validation_victims reads them so).
    """
    return [
        *validation_files(ext, candidates=False),
        *(
            path
            for victim in VALIDATION["victims"]
            for path in validation_files(
                ext, root=f"{VICTIM_ATTACKS}/{victim}", candidates=False
            )
        ),
    ]


# ---------------------------------------------------------------------------------------- victims
# Further victims beside GaitSet (victims.smk; docs/victims.md): `victims.models`, each trained by
# the victim's recipe or read from an OpenGait checkpoint, attacked on the test subjects.
REFERENCE_VICTIM = "gaitset"  # the pipeline's own victim (rules train_gaitset, attack)


def victim_spec(wildcards):
    """The config of one further victim (victims.models)."""
    return VICTIMS["models"][wildcards.victim]


def victim_weights(wildcards):
    """A further victim's weights (rule train_victim or import_victim)."""
    return victim_weights_of(wildcards.victim)


def victim_weights_of(victim):
    """The weights of further victim ``victim``: trained (rule train_victim) or imported from its
    OpenGait checkpoint (rule import_victim)."""
    made_by = (
        rules.import_victim
        if VICTIMS["models"][victim].get("opengait")
        else rules.train_victim
    )
    return fill_wildcards(made_by.output.weights, victim=victim)


def victim_train(wildcards):
    """The ``train`` param of a further victim: GaitSet's (GAITSET_TRAIN, gaitset.smk) with the
    victim's architecture and overrides, no snapshots; GaitPart and GaitGL train on ordered frames
    (OpenGait's fixed_ordered) unless told otherwise, GaitGL without channels-last (3-D convolutions),
    all in float32 (rule K7 read bfloat16 training on GaitSet alone).
    """
    spec = {k: v for k, v in victim_spec(wildcards).items() if k != "opengait"}
    architecture = spec["architecture"]
    defaults = {"ordered_frames": architecture != "GaitSet"}
    if architecture == "GaitGL":
        defaults["channels_last"] = False
    recipe = {k: v for k, v in GAITSET_TRAIN.items() if k != "dtype"}
    return canonical({**recipe, "snapshots": [], **defaults, **spec})


def victim_runtime(wildcards):
    """The runtime param of a further victim's training: GaitSet's, frame chunks for GaitSet only."""
    knobs = GAITSET_RUNTIME.as_dict()
    if victim_spec(wildcards)["architecture"] != "GaitSet":
        knobs["frame_chunk"] = None
    return runtime_knobs(knobs)


def victim_job(wildcards):
    """The job description of one attack on a further victim, for rule attack_victim. GaitSet's job
    (rule attack) at the victims' probe budget, so that its probes are among GaitSet's.
    """
    return _job(wildcards, TEST_SUBJECTS, VICTIMS["subjects_per_view"])


def victim_attack_files(victim, ext, sparsities=None, modes=None):
    """The ``ext`` files of the CASIA-B attack jobs of ``victim`` (REFERENCE_VICTIM: rule attack's)
    over victims.modes (or ``modes``), victims.sparsities (or ``sparsities``) and victims.conditions.
    """
    root = ATTACKS if victim == REFERENCE_VICTIM else f"{VICTIMS_ROOT}/{victim}/attacks"
    return expand(
        attack_path(ext, root=root, dataset="casia_b"),
        mode=modes or VICTIMS["modes"],
        sparsity=[sparsity_wildcard(s) for s in sparsities or VICTIMS["sparsities"]],
        condition=VICTIMS["conditions"],
    )


def victim_files_of(victim):
    """A victim's ``weights`` and its CASIA-B ``features`` and ``index`` (REFERENCE_VICTIM: GaitSet's,
    rules train_gaitset and extract_features)."""
    if victim == REFERENCE_VICTIM:
        return {
            "weights": rules.train_gaitset.output.weights,
            "features": fill_wildcards(
                rules.extract_features.output.features, dataset="casia_b"
            ),
            "index": fill_wildcards(
                rules.extract_features.output.index, dataset="casia_b"
            ),
        }
    features = rules.extract_features_victim.output
    return {
        "weights": victim_weights_of(victim),
        "features": fill_wildcards(features.features, victim=victim, dataset="casia_b"),
        "index": fill_wildcards(features.index, victim=victim, dataset="casia_b"),
    }


def victims_order():
    """Every victim of the victims tables: GaitSet first, then victims.models in config order."""
    return [REFERENCE_VICTIM, *VICTIMS["models"]]


def victims_table_files(ext):
    """The attack tables of every victim, one victim after another (rule victims_table)."""
    return [
        path for victim in victims_order() for path in victim_attack_files(victim, ext)
    ]


def transfer_source_files(ext):
    """The nontargeted alteration adversaries at victims.transfer_sparsity of every victim, one
    victim after another (rule transfer_matrix)."""
    return [
        path
        for victim in victims_order()
        for path in victim_attack_files(
            victim,
            ext,
            sparsities=[VICTIMS["transfer_sparsity"]],
            modes=["alteration_nontargeted_adversary"],
        )
    ]


def transfer_control_files(ext):
    """GaitSet's random control at victims.transfer_sparsity (rule attack), the transfer matrix's
    control row, where victims.modes holds it; [] otherwise."""
    mode = "alteration_nontargeted_random"
    if mode not in VICTIMS["modes"]:
        return []
    return victim_attack_files(
        REFERENCE_VICTIM, ext, sparsities=[VICTIMS["transfer_sparsity"]], modes=[mode]
    )


# ---------------------------------------------------------------------------------------- baselines
# Sec. 4.5's perturbation baselines: more attack modes, `{kind}_{goal}_{fgsm|pgd|mifgsm}` (rule
# perturbation_attack), at `attack.baselines.sparsities` (docs/baselines.md).
_baselines = ATTACK["baselines"]
if (
    _baselines["modes"]
    and _baselines["figure_sparsity"] not in _baselines["sparsities"]
):
    raise ValueError(
        f"attack.baselines.figure_sparsity {_baselines['figure_sparsity']!r} is not among "
        f"attack.baselines.sparsities {_baselines['sparsities']}; Fig. 6 compares them there: add it"
    )
_judge = WGAN["judge"]
if _judge["seed"] == config["seed"] or _judge["dim"] == WGAN["dim"]:
    raise ValueError(
        "wgan.judge must differ from the attack's WGAN in seed and width (seed "
        f"{_judge['seed']} vs {config['seed']}, dim {_judge['dim']} vs {WGAN['dim']}): "
        "an independent judge; change wgan.judge.seed / wgan.judge.dim"
    )


def baseline_files(dataset, ext):
    """The ``ext`` files of every perturbation-baseline job the config asks for on ``dataset``."""
    baselines = ATTACK["baselines"]
    return job_files(dataset, baselines["modes"], baselines["sparsities"], ext)


def white_box_files(ext):
    """The ``ext`` files of every CASIA-B job of the attack and of the baselines."""
    return [*attack_files("casia_b", ext), *baseline_files("casia_b", ext)]


def perturbation_settings(wildcards):
    """The settings of one baseline job (goal and method from its mode; PGD's random start only
    for PGD)."""
    baselines = ATTACK["baselines"]
    mode = Mode.parse(wildcards.mode)
    goal, method = mode.goal, mode.setting
    settings = {"goal": goal, "method": method, "budget": baselines["budget"]}
    if method != "fgsm":
        settings.update(
            iterations=baselines["iterations"], step_size=baselines["step_size"]
        )
    if method == "mifgsm":
        settings["decay"] = baselines["decay"]
    if method == "pgd":
        settings["random_start"] = baselines["random_start"]
    return canonical(settings)


# ---------------------------------------------------------------------------------------- transfer
# He et al. Sec. 4.3 (Table 3: the S = 1/40 frame-alteration nontargeted adversary's NM
# sequences, transferred to GaitGAN, gaitgan.smk) and Sec. 4.4 (Table 4: the same attack on
# CASIA-A, cross_dataset.smk).
TRANSFER_MODE = "alteration_nontargeted_adversary"  # as gaitcore.experiments.transfer.TABLE3_MODE / TABLE4_MODE
TABLE3_SPARSITY = (
    "1/40"  # gaitcore.experiments.transfer.TABLE3_SPARSITY checks the tables it gets
)


def table3_attack_files(ext):
    """The CASIA-B NM attack job Table 3 reads: S = 1/40, every attacked view in one job (any
    attack.conditions)."""
    if not attack_views("casia_b"):
        return []
    sparsity = sparsity_wildcard(TABLE3_SPARSITY)
    return [
        attack_path(
            ext,
            dataset="casia_b",
            mode=TRANSFER_MODE,
            sparsity=sparsity,
            condition="nm",
        )
    ]


def table4_attack_files(ext):
    """The CASIA-A attack jobs Table 4 reads: the frame-alteration nontargeted adversary's of
    attack_files("casia_a")."""
    return [
        path for path in attack_files("casia_a", ext) if f"/{TRANSFER_MODE}/" in path
    ]


# ---------------------------------------------------------------------------------------- videos
# He et al. Sec. 3.3 (SPADE; Fig. 3, 4, 9, spade.smk) and the video attack scored through the
# sensor path (video_attack.smk, docs/spade.md).
def video_source_params(silhouettes=False):
    """Where CASIA-B's videos come from: its dataset block (synthetic RGB mode, or the released
    silhouettes beside the real videos) and spade.videos_root. The store's sensor only for a rule
    that re-renders the store's silhouettes (``silhouettes``: the video attack); SPADE reads the
    colour frames and exact masks, which no sensor changes."""
    dataset = dataset_settings("casia_b")
    if not silhouettes:
        dataset.pop("sensor", None)
    return canonical({"dataset": dataset, "videos_root": SPADE["videos_root"]})


def video_source_input(wildcards):
    """The real videos' folder, so that replacing them reruns the SPADE rules (synthetic: none)."""
    root = SPADE["videos_root"]
    return [root] if root else []


def video_source_fingerprint(wildcards):
    """The tree fingerprints of the real videos and of the CASIA-B silhouettes read beside
    them, as a param: a change in either tree reruns the SPADE rules (synthetic: "")."""
    root = SPADE["videos_root"]
    if not root:
        return ""
    return canonical(
        {
            "silhouettes": dataset_tree_fingerprint("casia_b"),
            "videos": source_tree_fingerprint(root),
        }
    )


def _subset(chosen, available, key):
    """``chosen`` (all of ``available`` when empty), refusing values the attack stage does not
    produce."""
    missing = [value for value in chosen if value not in available]
    if missing:
        raise ValueError(
            f"video_attack.{key} {missing} are not attacked (the attack config gives "
            f"{list(available)}); add them to the attack block or remove them from "
            f"video_attack.{key}"
        )
    return list(chosen) or list(available)


def video_attack_views():
    """The probe views whose attacked probes become videos (video_attack.views; empty: every
    attacked view)."""
    if "casia_b" not in ATTACK["datasets"]:
        return []
    return _subset(VIDEO_ATTACK["views"], attack_views("casia_b"), "views")


def video_attack_jobs():
    """(mode, sparsity wildcard, condition) of every video attack job: one per CASIA-B attack job
    selected, covering its probes at video_attack_views()."""
    if not video_attack_views():
        return []
    modes = _subset(VIDEO_ATTACK["modes"], attack_modes(), "modes")
    sparsities = _subset(VIDEO_ATTACK["sparsities"], ATTACK["sparsities"], "sparsities")
    conditions = _subset(
        VIDEO_ATTACK["conditions"], attack_conditions("casia_b"), "conditions"
    )
    return [
        (m, sparsity_wildcard(s), c)
        for m in modes
        for s in sparsities
        for c in conditions
    ]


def video_attack_files(ext):
    """The ``parquet`` tables or ``npz`` examples of every video attack job, segmenter by segmenter."""
    return [
        video_attack_path(ext, segmenter=g, mode=m, sparsity=s, condition=c)
        for g in VIDEO_ATTACK["segmenters"]
        for m, s, c in video_attack_jobs()
    ]


def video_attack_examples():
    """Fig. 4's examples: per mode, the first segmenter's job at the largest sparsity and first
    condition (its first probe)."""
    first = {}
    for mode, sparsity, condition in video_attack_jobs():
        value = Sparsity.from_file_name(sparsity)
        if mode not in first or value > first[mode][0]:
            path = video_attack_path(
                "npz",
                segmenter=VIDEO_ATTACK["segmenters"][0],
                mode=mode,
                sparsity=sparsity,
                condition=condition,
            )
            first[mode] = (value, path)
    return [path for _, path in first.values()]


# ---------------------------------------------------------------------------------------- targets
def final_outputs():
    """Everything `snakemake all` builds: the final tables and figures of each stage (called by
    rule all, after every rule file is included)."""
    attacked = ATTACK["datasets"]
    return [
        *(store_files(dataset)["meta"] for dataset in DATASETS),
        *rules.natural_accuracy.output,
        *rules.gaitset_validation.output,
        *(rules.gaitset_recipes.output if GAITSET["recipes"] else []),
        *rules.wgan_report.output,
        *(rules.wgan_recipes.output if WGAN["recipes"] else []),
        *(rules.aggregate_attacks.output if "casia_b" in attacked else []),
        *(rules.compare_perturbations.output if "casia_b" in attacked else []),
        *(rules.findings.output if "casia_b" in attacked else []),
        *(rules.headline_precision.output if headline_files("parquet") else []),
        *(rules.random_control_sources.output if foreign_frame_files() else []),
        *(rules.table3_blackbox_gaitgan.output if "casia_b" in attacked else []),
        *(rules.table4_cross_dataset.output if "casia_a" in attacked else []),
        *rules.spade_report.output,
        *(rules.aggregate_video_attacks.output if video_attack_jobs() else []),
        *(rules.validation_settings.output if validation_files("parquet") else []),
        *(
            rules.validation_victims.output
            if VALIDATION["victims"] and validation_files("parquet")
            else []
        ),
        *(
            [*rules.victims_table.output, *rules.transfer_matrix.output]
            if VICTIMS["models"] and "casia_b" in attacked
            else []
        ),
    ]
