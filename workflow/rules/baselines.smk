# Stage 5, the perturbation baselines (He et al. Sec. 4.5, Fig. 6, Fig. 7): FGSM, PGD and MI-FGSM
# on the attack's probes, targets and frame places (rule attack's body without the generator),
# an independent judge critic (rule train_wgan's body with its own seed, width and iterations),
# a frame detector (the defender's judge, beyond the paper) and the measured imperceptibility of
# every attack setting (docs/baselines.md). Config: `attack.baselines`,
# `attack.imperceptibility`, `attack.resources`, `wgan.judge`, `threads.attack`,
# `threads.train_wgan`, `threads.train_frame_detector`, `threads.compare_perturbations`,
# `device`, `seed`.

JUDGE_TRAIN, JUDGE_RUNTIME = wgan_training_params(
    dim=WGAN["judge"]["dim"],
    seed=WGAN["judge"]["seed"],
    iterations=WGAN["judge"]["iterations"],
)


use rule attack as perturbation_attack with:
    input:
        **store_files("{dataset}"),
        victim=rules.train_gaitset.output.weights,
        features=rules.extract_features.output.features,
        feature_index=rules.extract_features.output.index,
    wildcard_constraints:
        mode=BASELINE_MODE_PATTERN,
    params:
        settings=perturbation_settings,


use rule train_wgan as train_judge_critic with:
    # Its critic judges the realism of every attack's frames (rule compare_perturbations) and is
    # never given to an attack, so no attack has optimised against it (docs/wgan.md, "The judge
    # critic").
    output:
        weights=model_files("wgan_judge")["weights"],
    log:
        f"{LOGS}/wgan/train_judge.log",
    benchmark:
        f"{BENCHMARKS}/wgan/train_judge.tsv"
    params:
        checkpoint=model_files("wgan_judge")["checkpoint"],
        train=JUDGE_TRAIN,
        runtime=JUDGE_RUNTIME,


rule train_frame_detector:
    # Real silhouettes of the training subjects against the generator's unoptimised frames; read on
    # the validation subjects. Scores every setting's frames in rule compare_perturbations.
    input:
        **store_files("casia_b"),
        wgan=rules.train_wgan.output.weights,
    output:
        weights=model_files("frame_detector")["weights"],
    log:
        f"{LOGS}/frame_detector/train.log",
    benchmark:
        f"{BENCHMARKS}/frame_detector/train.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["train_frame_detector"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        train=detector_train(),
        runtime=runtime_knobs(
            {
                "device": config["device"],
                "log_every": ATTACK["imperceptibility"]["detector"]["log_every"],
            }
        ),
    script:
        "../../scripts/train_frame_detector.py"


rule train_attack_detector:
    # The second judge: real silhouettes of the training subjects against the plain attack's own
    # frames on the validation probes (half of the validation subjects'; read on the other half's).
    input:
        **store_files("casia_b"),
        tables=validation_adversary_files("parquet"),
        attack_frames=validation_adversary_files("npz"),
    output:
        weights=model_files("attack_detector")["weights"],
    log:
        f"{LOGS}/attack_detector/train.log",
    benchmark:
        f"{BENCHMARKS}/attack_detector/train.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["train_frame_detector"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        train=detector_train(),
        runtime=runtime_knobs(
            {
                "device": config["device"],
                "log_every": ATTACK["imperceptibility"]["detector"]["log_every"],
            }
        ),
    script:
        "../../scripts/train_attack_detector.py"


rule compare_perturbations:
    # Fig. 6, Fig. 7 and the imperceptibility table of every attack setting, judged by the judge
    # critic, GaitSet frame features, shapes, IoU and pixel change.
    input:
        **store_files("casia_b"),
        tables=white_box_files("parquet"),
        attack_frames=white_box_files("npz"),
        gaitset=rules.train_gaitset.output.weights,
        judge=rules.train_judge_critic.output.weights,
        detector=rules.train_frame_detector.output.weights,
        attack_detector=attack_detector_input(),
    output:
        imperceptibility_csv=report(
            f"{RESULTS}/tables/imperceptibility.csv",
            caption="../report/imperceptibility.rst",
            category="Baselines",
        ),
        imperceptibility_md=f"{RESULTS}/tables/imperceptibility.md",
        fig6=report(
            f"{RESULTS}/figures/fig6_perturbation_comparison.png",
            caption="../report/fig6_perturbation_comparison.rst",
            category="Baselines",
        ),
        fig7=report(
            f"{RESULTS}/figures/fig7_examples.png",
            caption="../report/fig7_examples.rst",
            category="Baselines",
        ),
    log:
        f"{LOGS}/attacks/compare_perturbations.log",
    benchmark:
        f"{BENCHMARKS}/attacks/compare_perturbations.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["compare_perturbations"]
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        dataset="casia_b",
        figure_sparsity=ATTACK["baselines"]["figure_sparsity"],
        reference_frames=ATTACK["imperceptibility"]["reference_frames"],
        seed=config["seed"],
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/compare_perturbations.py"
