# Stage 3, the silhouette generator (He et al. Sec. 3.2, Appendix A, Fig. 8): WGAN-GP trained on
# CASIA-B's training subjects, its critic calibrated to a realism probability, Fig. 8 and the
# generator quality table (docs/wgan.md). The judge critic, a second WGAN-GP trained by the same
# rule body, is the baselines' (baselines.smk). Config: `wgan` (but `wgan.judge`),
# `threads.train_wgan`, `threads.wgan_report`, `device`, `seed`.

WGAN_TRAIN, WGAN_RUNTIME = wgan_training_params()


rule train_wgan:
    input:
        **store_files("casia_b"),
    output:
        weights=model_files("wgan")["weights"],
    log:
        f"{LOGS}/wgan/train.log",
    benchmark:
        f"{BENCHMARKS}/wgan/train.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["train_wgan"]
    resources:
        mem_mb=WGAN["resources"]["train"]["mem_mb"],
        runtime=WGAN["resources"]["train"]["runtime"],
    params:
        checkpoint=model_files("wgan")["checkpoint"],
        train=WGAN_TRAIN,
        runtime=WGAN_RUNTIME,
    script:
        "../../scripts/train_wgan.py"


rule wgan_report:
    input:
        **store_files("casia_b"),
        wgan=rules.train_wgan.output.weights,
        gaitset=rules.train_gaitset.output.weights,
    output:
        figure=report(
            f"{RESULTS}/figures/fig8_wgan_samples.png",
            caption="../report/fig8_wgan_samples.rst",
            category="WGAN-GP",
        ),
        quality=report(
            f"{RESULTS}/tables/generator_quality.csv",
            caption="../report/generator_quality.rst",
            category="WGAN-GP",
        ),
    log:
        f"{LOGS}/wgan/report.log",
    benchmark:
        f"{BENCHMARKS}/wgan/report.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["wgan_report"]
    resources:
        mem_mb=WGAN["resources"]["report"]["mem_mb"],
        runtime=WGAN["resources"]["report"]["runtime"],
    params:
        report=canonical(
            {
                "samples": WGAN["report"]["samples"],
                "columns": WGAN["report"]["columns"],
                "real_samples": WGAN["report"]["real_samples"],
                "quality_frames": WGAN["report"]["quality_frames"],
                "train_subjects": TRAIN_SUBJECTS,
                "heldout_subjects": VALIDATION_SUBJECTS,
                "seed": config["seed"],
            }
        ),
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/wgan_report.py"
