# Stage 3: the silhouette generator (He et al. Sec. 3.2, Appendix A): WGAN-GP trained on CASIA-B's
# training subjects, its critic calibrated to a realism probability, Fig. 8 and a quality table.
# The judge critic (train_judge_critic) is a second, independent WGAN-GP for the imperceptibility table.
# Config: the `wgan` block, `threads.train_wgan`, `threads.wgan_report`, `device`, `seed`.

from gaitcore.training.wgan import WGANTrainConfig

WGAN = config["wgan"]
WGAN_MODEL = f"{RESULTS}/models/wgan"
WGAN_CALIBRATION = {
    "calibration_subjects": WGAN["calibration"]["subjects"],
    "calibration_real": WGAN["calibration"]["real_frames"],
    "calibration_fake": WGAN["calibration"]["generated_frames"],
    "calibration_l2": WGAN["calibration"]["l2"],
    "bn_refresh_batches": WGAN["calibration"]["bn_refresh_batches"],
}
WGAN_TRAIN, WGAN_RUNTIME = training_params(
    WGANTrainConfig,
    {
        "dim": WGAN["dim"],
        "latent_dim": WGAN["latent_dim"],
        "seed": config["seed"],
        "device": config["device"],
        **WGAN["train"],
        **WGAN_CALIBRATION,
    },
)
# The judge critic: the same recipe with its own seed, width and iterations.
JUDGE_TRAIN, JUDGE_RUNTIME = training_params(
    WGANTrainConfig,
    {
        "dim": WGAN["judge"]["dim"],
        "latent_dim": WGAN["latent_dim"],
        "seed": WGAN["judge"]["seed"],
        "device": config["device"],
        **WGAN["train"],
        "iterations": WGAN["judge"]["iterations"],
        **WGAN_CALIBRATION,
    },
)


rule train_wgan:
    input:
        **store_files("casia_b"),
    output:
        weights=f"{WGAN_MODEL}/weights.pt",
    params:
        # The resume checkpoint is no output: Snakemake would delete it when the job fails.
        checkpoint=f"{WGAN_MODEL}/resume.pt",
        train=WGAN_TRAIN,
        runtime=WGAN_RUNTIME,
    threads: config["threads"]["train_wgan"]
    resources:
        mem_mb=WGAN["resources"]["train"]["mem_mb"],
        runtime=WGAN["resources"]["train"]["runtime"],
    log:
        f"{LOGS}/wgan/train.log",
    benchmark:
        f"{BENCHMARKS}/wgan/train.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/train_wgan.py"


rule wgan_report:
    input:
        wgan=rules.train_wgan.output.weights,
        gaitset=f"{RESULTS}/models/gaitset/weights.pt",
        **store_files("casia_b"),
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
    params:
        report=canonical(
            {
                "samples": WGAN["report"]["samples"],
                "columns": WGAN["report"]["columns"],
                "real_samples": WGAN["report"]["real_samples"],
                "quality_frames": WGAN["report"]["quality_frames"],
                "train_subjects": WGAN["train"]["train_subjects"],
                "heldout_subjects": WGAN["calibration"]["subjects"],
                "seed": config["seed"],
            }
        ),
        runtime=runtime_knobs({"device": config["device"]}),
    threads: config["threads"]["wgan_report"]
    resources:
        mem_mb=WGAN["resources"]["report"]["mem_mb"],
        runtime=WGAN["resources"]["report"]["runtime"],
    log:
        f"{LOGS}/wgan/report.log",
    benchmark:
        f"{BENCHMARKS}/wgan/report.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/wgan_report.py"


rule train_judge_critic:
    # A second WGAN-GP, trained and calibrated the same way with its own seed and width: its critic
    # judges the realism of every attack's frames (rule compare_perturbations) and is never given
    # to an attack, so no attack has optimised against it (docs/wgan.md, "The judge critic").
    input:
        **store_files("casia_b"),
    output:
        weights=f"{RESULTS}/models/wgan_judge/weights.pt",
    params:
        checkpoint=f"{RESULTS}/models/wgan_judge/resume.pt",
        train=JUDGE_TRAIN,
        runtime=JUDGE_RUNTIME,
    threads: config["threads"]["train_wgan"]
    resources:
        mem_mb=WGAN["resources"]["train"]["mem_mb"],
        runtime=WGAN["resources"]["train"]["runtime"],
    log:
        f"{LOGS}/wgan/train_judge.log",
    benchmark:
        f"{BENCHMARKS}/wgan/train_judge.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/train_wgan.py"
