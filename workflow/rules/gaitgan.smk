# Stage 6, black-box transfer (He et al. Sec. 4.3, Table 3): GaitGAN, the template-based victim,
# trained on the GEIs of CASIA-B's training subjects, and the S = 1/40 frame-alteration
# nontargeted attack on GaitSet's NM probes transferred to it (docs/gaitgan.md). Config: `gaitgan`,
# `threads.train_gaitgan`, `threads.transfer_tables`, `device`, `seed`,
# `subjects.casia_b.test`, `attack.datasets` (Table 3 when it attacks casia_b).
from gaitcore.training.gaitgan import GaitGANTrainConfig

GAITGAN_TRAIN, GAITGAN_RUNTIME = training_params(
    GaitGANTrainConfig,
    {
        "width": GAITGAN["width"],
        "seed": config["seed"],
        "device": config["device"],
        **GAITGAN["train"],
        "train_subjects": TRAIN_SUBJECTS,
    },
)


rule train_gaitgan:
    input:
        **store_files("casia_b"),
    output:
        weights=model_files("gaitgan")["weights"],
    log:
        f"{LOGS}/gaitgan/train.log",
    benchmark:
        f"{BENCHMARKS}/gaitgan/train.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["train_gaitgan"]
    resources:
        mem_mb=GAITGAN["resources"]["train"]["mem_mb"],
        runtime=GAITGAN["resources"]["train"]["runtime"],
    params:
        checkpoint=model_files("gaitgan")["checkpoint"],
        train=GAITGAN_TRAIN,
        runtime=GAITGAN_RUNTIME,
    script:
        "../../scripts/train_gaitgan.py"


rule table3_blackbox_gaitgan:
    input:
        **store_files("casia_b"),
        gaitgan=rules.train_gaitgan.output.weights,
        tables=table3_attack_files("parquet"),
        attack_frames=table3_attack_files("npz"),
    output:
        csv=report(
            f"{RESULTS}/tables/table3_blackbox_gaitgan.csv",
            caption="../report/table3_blackbox_gaitgan.rst",
            category="Transfer",
        ),
        md=f"{RESULTS}/tables/table3_blackbox_gaitgan.md",
    log:
        f"{LOGS}/gaitgan/table3.log",
    benchmark:
        f"{BENCHMARKS}/gaitgan/table3.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["transfer_tables"]
    resources:
        mem_mb=GAITGAN["resources"]["tables"]["mem_mb"],
        runtime=GAITGAN["resources"]["tables"]["runtime"],
    params:
        test_subjects=TEST_SUBJECTS,
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/table3_blackbox_gaitgan.py"
