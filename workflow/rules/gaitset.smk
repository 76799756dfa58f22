# Stage 2: the victim model (He et al. Sec. 4.1): GaitSet trained on CASIA-B's training subjects,
# features of every test sequence stored once per trained model, natural rank-1 accuracy (Table 1).
# Config: the `gaitset` block, `threads.train_gaitset`, `threads.extract_features`, `device`, `seed`.
from gaitcore.training import GaitSetTrainConfig


GAITSET = config["gaitset"]
GAITSET_MODEL = f"{RESULTS}/models/gaitset"
GAITSET_FEATURES = f"{RESULTS}/features/gaitset"  # {dataset}.npy (float32 features) + {dataset}.parquet
GAITSET_TRAIN, GAITSET_RUNTIME = training_params(
    GaitSetTrainConfig,
    {
        "channels": GAITSET["channels"],
        "hidden_dim": GAITSET["hidden_dim"],
        "seed": config["seed"],
        "device": config["device"],
        **GAITSET["train"],
    },
)


rule train_gaitset:
    input:
        **store_files("casia_b"),
    output:
        weights=f"{GAITSET_MODEL}/weights.pt",
    params:
        # The resume checkpoint is no output: Snakemake would delete it when the job fails.
        checkpoint=f"{GAITSET_MODEL}/resume.pt",
        train=GAITSET_TRAIN,
        runtime=GAITSET_RUNTIME,
    threads: config["threads"]["train_gaitset"]
    resources:
        mem_mb=GAITSET["resources"]["train"]["mem_mb"],
        runtime=GAITSET["resources"]["train"]["runtime"],
    log:
        f"{LOGS}/gaitset/train.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/train.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/train_gaitset.py"


rule extract_features:
    input:
        weights=rules.train_gaitset.output.weights,
        **store_files("{dataset}"),
    output:
        features=f"{GAITSET_FEATURES}/{{dataset}}.npy",
        index=f"{GAITSET_FEATURES}/{{dataset}}.parquet",
    params:
        test_subjects=GAITSET["evaluation"]["test_subjects"],
        runtime=runtime_knobs(
            {
                "device": config["device"],
                "channels_last": GAITSET["evaluation"]["channels_last"],
                "batch_frames": GAITSET["evaluation"]["batch_frames"],
                "frame_chunk": GAITSET["evaluation"]["frame_chunk"],
            }
        ),
    threads: config["threads"]["extract_features"]
    resources:
        mem_mb=GAITSET["resources"]["extract"]["mem_mb"],
        runtime=GAITSET["resources"]["extract"]["runtime"],
    log:
        f"{LOGS}/gaitset/extract_{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/extract_{{dataset}}.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/extract_features.py"


rule natural_accuracy:
    input:
        **{
            f"{dataset}_{kind}": f"{GAITSET_FEATURES}/{dataset}.{suffix}"
            for dataset in GAITSET["evaluation"]["datasets"]
            for kind, suffix in (("features", "npy"), ("index", "parquet"))
        },
    output:
        csv=report(
            f"{RESULTS}/tables/natural_accuracy.csv",
            caption="../report/natural_accuracy.rst",
            category="GaitSet",
        ),
        md=f"{RESULTS}/tables/natural_accuracy.md",
        per_view_pair=report(
            f"{RESULTS}/tables/natural_accuracy_per_view_pair.csv",
            caption="../report/natural_accuracy.rst",
            category="GaitSet",
        ),
    params:
        datasets=GAITSET["evaluation"]["datasets"],
        metric=GAITSET["evaluation"]["metric"],
        test_subjects=GAITSET["evaluation"]["test_subjects"],
    resources:
        mem_mb=4000,
        runtime=10,
    log:
        f"{LOGS}/gaitset/natural_accuracy.log",
    conda:
        CONDA_ENV
    script:
        "../../scripts/evaluate_natural.py"
