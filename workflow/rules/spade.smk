# Stage 8, silhouette-to-video (He et al. Sec. 3.3, Fig. 3, Fig. 9, Appendix A): SPADE trained on
# (frame, silhouette) pairs of CASIA-B's videos, and Fig. 9 (docs/spade.md). Config: `spade`,
# `datasets.casia_b`, `threads.train_spade`, `threads.spade_report`, `device`, `seed`,
# `subjects.casia_b.test`.
from gaitcore.training.spade import SpadeTrainConfig

SPADE_TRAIN, SPADE_RUNTIME = training_params(
    SpadeTrainConfig,
    {
        **{
            key: SPADE[key]
            for key in ("size", "ngf", "ndf", "nhidden", "num_d", "n_layers_d")
        },
        "seed": config["seed"],
        "device": config["device"],
        **SPADE["train"],
        "train_subjects": TRAIN_SUBJECTS,
    },
)


rule train_spade:
    input:
        video_source_input,
    output:
        weights=model_files("spade")["weights"],
    log:
        f"{LOGS}/spade/train.log",
    benchmark:
        f"{BENCHMARKS}/spade/train.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["train_spade"]
    resources:
        mem_mb=SPADE["resources"]["train"]["mem_mb"],
        runtime=SPADE["resources"]["train"]["runtime"],
    params:
        checkpoint=model_files("spade")["checkpoint"],
        source=video_source_params(),
        source_tree=video_source_fingerprint,
        train=SPADE_TRAIN,
        runtime=SPADE_RUNTIME,
    script:
        "../../scripts/train_spade.py"


rule spade_report:
    input:
        video_source_input,
        spade=rules.train_spade.output.weights,
    output:
        figure=report(
            f"{RESULTS}/figures/fig9_spade_examples.png",
            caption="../report/fig9_spade_examples.rst",
            category="SPADE",
        ),
    log:
        f"{LOGS}/spade/report.log",
    benchmark:
        f"{BENCHMARKS}/spade/report.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["spade_report"]
    resources:
        mem_mb=SPADE["resources"]["report"]["mem_mb"],
        runtime=SPADE["resources"]["report"]["runtime"],
    params:
        source=video_source_params(),
        source_tree=video_source_fingerprint,
        report=canonical(
            {
                "samples": SPADE["report"]["samples"],
                "subjects": TEST_SUBJECTS,
                "seed": config["seed"],
            }
        ),
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/spade_report.py"
