# Stage 5: black-box transfer and cross-dataset validation (He et al. Sec. 4.3, 4.4): GaitGAN, the
# template-based victim, trained on CASIA-B's training subjects' GEIs; Table 3 (the S = 1/40 attack on
# GaitSet's NM probes, transferred to GaitGAN) and Table 4 (the attack on CASIA-A). Config: the
# `gaitgan` block, `threads.train_gaitgan`, `threads.transfer_tables`, `device`, `seed`,
# `gaitset.evaluation.test_subjects`, `attack.datasets` (casia_b: Table 3, casia_a: Table 4).

from gaitcore.training.gaitgan import GaitGANTrainConfig

GAITGAN = config["gaitgan"]
GAITGAN_MODEL = f"{RESULTS}/models/gaitgan"
GAITGAN_TRAIN, GAITGAN_RUNTIME = training_params(
    GaitGANTrainConfig,
    {"width": GAITGAN["width"], "seed": config["seed"], "device": config["device"], **GAITGAN["train"]},
)


rule train_gaitgan:
    input:
        **store_files("casia_b"),
    output:
        weights=f"{GAITGAN_MODEL}/weights.pt",
    params:
        # The resume checkpoint is no output: Snakemake would delete it when the job fails.
        checkpoint=f"{GAITGAN_MODEL}/resume.pt",
        train=GAITGAN_TRAIN,
        runtime=GAITGAN_RUNTIME,
    threads: config["threads"]["train_gaitgan"]
    resources:
        mem_mb=GAITGAN["resources"]["train"]["mem_mb"],
        runtime=GAITGAN["resources"]["train"]["runtime"],
    log:
        f"{LOGS}/gaitgan/train.log",
    benchmark:
        f"{BENCHMARKS}/gaitgan/train.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/train_gaitgan.py"


rule table3_blackbox_gaitgan:
    input:
        gaitgan=rules.train_gaitgan.output.weights,
        tables=table3_attack_tables(),
        attack_frames=[path.replace(".parquet", ".npz") for path in table3_attack_tables()],
        **store_files("casia_b"),
    output:
        csv=report(
            TRANSFER_TABLES["table3_csv"],
            caption="../report/table3_blackbox_gaitgan.rst",
            category="Transfer",
        ),
        md=TRANSFER_TABLES["table3_md"],
    params:
        test_subjects=config["gaitset"]["evaluation"]["test_subjects"],
        runtime=runtime_knobs({"device": config["device"]}),
    threads: config["threads"]["transfer_tables"]
    resources:
        mem_mb=GAITGAN["resources"]["tables"]["mem_mb"],
        runtime=GAITGAN["resources"]["tables"]["runtime"],
    log:
        f"{LOGS}/gaitgan/table3.log",
    benchmark:
        f"{BENCHMARKS}/gaitgan/table3.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/table3_blackbox_gaitgan.py"


rule table4_cross_dataset:
    input:
        tables=table4_attack_tables(),
        natural=rules.natural_accuracy.output.csv,
    output:
        csv=report(
            TRANSFER_TABLES["table4_csv"],
            caption="../report/table4_cross_dataset.rst",
            category="Transfer",
        ),
        md=TRANSFER_TABLES["table4_md"],
    threads: config["threads"]["transfer_tables"]
    resources:
        mem_mb=GAITGAN["resources"]["tables"]["mem_mb"],
        runtime=GAITGAN["resources"]["tables"]["runtime"],
    log:
        f"{LOGS}/gaitgan/table4.log",
    conda:
        CONDA_ENV
    script:
        "../../scripts/table4_cross_dataset.py"
