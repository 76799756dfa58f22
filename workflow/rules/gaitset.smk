# Stage 2, the victim model (He et al. Sec. 4.1, Table 1): GaitSet trained on CASIA-B's training
# subjects, the features of every test sequence stored once per trained model, the natural rank-1
# accuracy (docs/gaitset.md). Config: `gaitset`, `threads.train_gaitset`,
# `threads.extract_features`, `device`, `seed`.
from gaitcore.training import GaitSetTrainConfig

GAITSET_TRAIN, GAITSET_RUNTIME = training_params(
    GaitSetTrainConfig,
    {
        "channels": GAITSET["channels"],
        "hidden_dim": GAITSET["hidden_dim"],
        "seed": config["seed"],
        "device": config["device"],
        **victim_train_settings(),
        "train_subjects": TRAIN_SUBJECTS,
    },
)


rule train_gaitset:
    input:
        **store_files("casia_b"),
    output:
        weights=model_files("gaitset")["weights"],
        # the weights at gaitset.train.snapshots, for the validation curve
        snapshots=directory(f"{RESULTS}/models/gaitset/snapshots"),
    log:
        f"{LOGS}/gaitset/train.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/train.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["train_gaitset"]
    resources:
        mem_mb=GAITSET["resources"]["train"]["mem_mb"],
        runtime=GAITSET["resources"]["train"]["runtime"],
    params:
        checkpoint=model_files("gaitset")["checkpoint"],
        train=GAITSET_TRAIN,
        runtime=GAITSET_RUNTIME,
    script:
        "../../scripts/train_gaitset.py"


rule extract_features:
    input:
        **store_files("{dataset}"),
        weights=rules.train_gaitset.output.weights,
    output:
        # float32 features and their index, one row per test or validation sequence
        features=f"{RESULTS}/features/gaitset/{{dataset}}.npy",
        index=f"{RESULTS}/features/gaitset/{{dataset}}.parquet",
    log:
        f"{LOGS}/gaitset/extract_{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/extract_{{dataset}}.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["extract_features"]
    resources:
        mem_mb=GAITSET["resources"]["extract"]["mem_mb"],
        runtime=GAITSET["resources"]["extract"]["runtime"],
    params:
        test_subjects=TEST_SUBJECTS,
        validation_subjects=VALIDATION_SUBJECTS,
        runtime=runtime_knobs(
            {
                "device": config["device"],
                "channels_last": GAITSET["evaluation"]["channels_last"],
                "batch_frames": GAITSET["evaluation"]["batch_frames"],
                "frame_chunk": GAITSET["evaluation"]["frame_chunk"],
            }
        ),
    script:
        "../../scripts/extract_features.py"


rule natural_accuracy:
    input:
        **{
            f"{dataset}_{key}": fill_wildcards(
                rules.extract_features.output[key], dataset=dataset
            )
            for dataset in GAITSET["evaluation"]["datasets"]
            for key in ("features", "index")
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
    log:
        f"{LOGS}/gaitset/natural_accuracy.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/natural_accuracy.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        datasets=GAITSET["evaluation"]["datasets"],
        metric=GAITSET["evaluation"]["metric"],
        test_subjects=TEST_SUBJECTS,
    script:
        "../../scripts/evaluate_natural.py"


rule gaitset_validation:
    # GaitSet's rank-1 on the validation subjects at each kept snapshot and at the end: whether the
    # iteration count (a compute budget) had levelled off, read without a test subject.
    input:
        **store_files("casia_b"),
        snapshots=rules.train_gaitset.output.snapshots,
        weights=rules.train_gaitset.output.weights,
        # the final weights' validation features, extracted once for the attacks' validation jobs
        features=fill_wildcards(
            rules.extract_features.output.features, dataset="casia_b"
        ),
        feature_index=fill_wildcards(
            rules.extract_features.output.index, dataset="casia_b"
        ),
    output:
        csv=report(
            f"{RESULTS}/tables/gaitset_validation.csv",
            caption="../report/gaitset_validation.rst",
            category="GaitSet",
        ),
        md=f"{RESULTS}/tables/gaitset_validation.md",
    log:
        f"{LOGS}/gaitset/validation.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/validation.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["extract_features"]
    resources:
        mem_mb=GAITSET["resources"]["extract"]["mem_mb"],
        runtime=GAITSET["resources"]["extract"]["runtime"],
    params:
        validation_subjects=VALIDATION_SUBJECTS,
        metric=GAITSET["evaluation"]["metric"],
        runtime=runtime_knobs(
            {
                "device": config["device"],
                "frame_chunk": GAITSET["evaluation"]["frame_chunk"],
                "channels_last": GAITSET["evaluation"]["channels_last"],
            }
        ),
    script:
        "../../scripts/gaitset_validation.py"


use rule train_gaitset as train_gaitset_recipe with:
    # a candidate recipe (gaitset.recipes): the victim's training with some settings overridden
    output:
        weights=f"{RESULTS}/models/gaitset_recipes/{{recipe}}/weights.pt",
        snapshots=directory(f"{RESULTS}/models/gaitset_recipes/{{recipe}}/snapshots"),
    log:
        f"{LOGS}/gaitset/recipes/{{recipe}}.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/recipes/{{recipe}}.tsv"
    params:
        checkpoint=f"{RESULTS}/models/gaitset_recipes/{{recipe}}/checkpoint.pt",
        train=gaitset_recipe_train,
        runtime=GAITSET_RUNTIME,


use rule extract_features as extract_features_recipe with:
    # a candidate recipe's features, for attacking it on validation subjects (validation.smk)
    input:
        **store_files("{dataset}"),
        weights=rules.train_gaitset_recipe.output.weights,
    output:
        features=f"{RESULTS}/features/gaitset_recipes/{{recipe}}/{{dataset}}.npy",
        index=f"{RESULTS}/features/gaitset_recipes/{{recipe}}/{{dataset}}.parquet",
    log:
        f"{LOGS}/gaitset/recipes/{{recipe}}/extract_{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/recipes/{{recipe}}/extract_{{dataset}}.tsv"


rule gaitset_recipes:
    # the candidate recipes against the victim's on the validation subjects (docs/knobs.md)
    input:
        **store_files("casia_b"),
        weights=rules.train_gaitset.output.weights,
        # in the config's order, as params.names
        recipes=expand(
            rules.train_gaitset_recipe.output.weights, recipe=list(GAITSET["recipes"])
        ),
    output:
        csv=report(
            f"{RESULTS}/tables/gaitset_recipes.csv",
            caption="../report/gaitset_recipes.rst",
            category="GaitSet",
        ),
        md=f"{RESULTS}/tables/gaitset_recipes.md",
    log:
        f"{LOGS}/gaitset/recipes.log",
    benchmark:
        f"{BENCHMARKS}/gaitset/recipes.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["extract_features"]
    resources:
        mem_mb=GAITSET["resources"]["extract"]["mem_mb"],
        runtime=GAITSET["resources"]["extract"]["runtime"],
    params:
        recipes=canonical(GAITSET["recipes"]),
        names=list(GAITSET["recipes"]),  # the order of input.recipes (canonical sorts the keys)
        validation_subjects=VALIDATION_SUBJECTS,
        metric=GAITSET["evaluation"]["metric"],
        runtime=runtime_knobs(
            {
                "device": config["device"],
                "frame_chunk": GAITSET["evaluation"]["frame_chunk"],
                "channels_last": GAITSET["evaluation"]["channels_last"],
            }
        ),
    script:
        "../../scripts/gaitset_recipes.py"
