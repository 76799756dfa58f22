# Stage 5: silhouette-to-video with SPADE (He et al. Sec. 3.3, Fig. 3, Fig. 4, Fig. 9, Appendix A) and
# the video attack scored through the sensor path (beyond the paper): SPADE trained on (frame,
# silhouette) pairs, Fig. 9; per CASIA-B attack job (mode, sparsity, condition), the adversarial
# silhouettes of its probes at video_attack.views rendered by SPADE, composited into the probe's
# video, segmented by background subtraction and scored by GaitSet;
# aggregated into tables/video_attack.{csv,md} and Fig. 4. Config: the `spade` and `video_attack`
# blocks, `threads.train_spade`, `threads.spade_report`, `threads.video_attack`,
# `threads.aggregate_video_attacks`, `device`, `seed`, `datasets.casia_b`, `gaitset.evaluation`.

from gaitcore.training.spade import SpadeTrainConfig

SPADE = config["spade"]
VIDEO_ATTACK = config["video_attack"]
SPADE_TRAIN, SPADE_RUNTIME = training_params(
    SpadeTrainConfig,
    {
        **{key: SPADE[key] for key in ("size", "ngf", "ndf", "nhidden", "num_d", "n_layers_d")},
        "seed": config["seed"],
        "device": config["device"],
        **SPADE["train"],
    },
)
SPADE_MODEL = f"{RESULTS}/models/spade"
VIDEO_ATTACKS = f"{RESULTS}/video_attacks"


rule train_spade:
    input:
        video_source_input,
    output:
        weights=f"{SPADE_MODEL}/weights.pt",
    params:
        # The resume checkpoint is no output: Snakemake would delete it when the job fails.
        checkpoint=f"{SPADE_MODEL}/resume.pt",
        source=video_source_params(),
        source_tree=video_source_fingerprint,
        train=SPADE_TRAIN,
        runtime=SPADE_RUNTIME,
    threads: config["threads"]["train_spade"]
    resources:
        mem_mb=SPADE["resources"]["train"]["mem_mb"],
        runtime=SPADE["resources"]["train"]["runtime"],
    log:
        f"{LOGS}/spade/train.log",
    benchmark:
        f"{BENCHMARKS}/spade/train.tsv"
    conda:
        CONDA_ENV
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
    params:
        source=video_source_params(),
        source_tree=video_source_fingerprint,
        report=canonical(
            {
                "samples": SPADE["report"]["samples"],
                "subjects": config["gaitset"]["evaluation"]["test_subjects"],
                "seed": config["seed"],
            }
        ),
        runtime=runtime_knobs({"device": config["device"]}),
    threads: config["threads"]["spade_report"]
    resources:
        mem_mb=SPADE["resources"]["report"]["mem_mb"],
        runtime=SPADE["resources"]["report"]["runtime"],
    log:
        f"{LOGS}/spade/report.log",
    benchmark:
        f"{BENCHMARKS}/spade/report.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/spade_report.py"


rule video_attack:
    input:
        video_source_input,
        attack_table=f"{ATTACKS}/casia_b/{{mode}}/{{sparsity}}/{{condition}}.parquet",
        attack_frames=f"{ATTACKS}/casia_b/{{mode}}/{{sparsity}}/{{condition}}.npz",
        gaitset=rules.train_gaitset.output.weights,
        spade=rules.train_spade.output.weights,
        features=f"{GAITSET_FEATURES}/casia_b.npy",
        feature_index=f"{GAITSET_FEATURES}/casia_b.parquet",
    output:
        table=f"{VIDEO_ATTACKS}/casia_b/{{mode}}/{{sparsity}}/{{condition}}.parquet",
        example=f"{VIDEO_ATTACKS}/casia_b/{{mode}}/{{sparsity}}/{{condition}}.npz",
    params:
        source=video_source_params(),
        source_tree=video_source_fingerprint,
        views=video_attack_views(),
        evaluation=canonical(
            {
                "test_subjects": config["gaitset"]["evaluation"]["test_subjects"],
                "metric": config["gaitset"]["evaluation"]["metric"],
                "threshold": VIDEO_ATTACK["threshold"],
                "min_area": VIDEO_ATTACK["min_area"],
            }
        ),
        runtime=runtime_knobs({"device": config["device"]}),
    threads: config["threads"]["video_attack"]
    resources:
        mem_mb=VIDEO_ATTACK["resources"]["job"]["mem_mb"],
        runtime=VIDEO_ATTACK["resources"]["job"]["runtime"],
    log:
        f"{LOGS}/video_attacks/casia_b/{{mode}}/{{sparsity}}/{{condition}}.log",
    benchmark:
        f"{BENCHMARKS}/video_attacks/casia_b/{{mode}}/{{sparsity}}/{{condition}}.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/video_attack.py"


rule aggregate_video_attacks:
    input:
        tables=video_attack_outputs("parquet"),
        examples=video_attack_examples(),
    output:
        csv=report(
            f"{RESULTS}/tables/video_attack.csv",
            caption="../report/video_attack.rst",
            category="Video attack",
        ),
        md=f"{RESULTS}/tables/video_attack.md",
        fig4=report(
            f"{RESULTS}/figures/fig4_video_frames.png",
            caption="../report/fig4_video_frames.rst",
            category="Video attack",
        ),
    threads: config["threads"]["aggregate_video_attacks"]
    resources:
        mem_mb=VIDEO_ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=VIDEO_ATTACK["resources"]["aggregate"]["runtime"],
    log:
        f"{LOGS}/video_attacks/aggregate.log",
    conda:
        CONDA_ENV
    script:
        "../../scripts/aggregate_video_attacks.py"
