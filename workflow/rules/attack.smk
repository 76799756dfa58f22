# Stage 4: the temporal sparse attack (He et al. Sec. 3, Algorithm 1) and its white-box experiments
# (Sec. 4.2, Appendix B): one job per (dataset, mode, sparsity, condition) covering every attacked
# view (one process start-up per condition, not per view: docs/attack.md "Scale and cost"), aggregated into
# Fig. 5, Fig. 10 and Tables 2, 5 and 6; the perturbation baselines (Sec. 4.5) as more jobs of the
# same kind, Fig. 6, Fig. 7 and the imperceptibility table. Config: the `attack` block,
# `threads.attack`, `threads.aggregate_attacks`, `threads.compare_perturbations`, `device`, `seed`,
# `gaitset.evaluation`, `wgan.judge`.

ATTACK = config["attack"]
ATTACKS = f"{RESULTS}/attacks"
ATTACK_JOB = "{dataset}/{mode}/{sparsity}/{condition}"  # one job's files: <ATTACK_JOB>.parquet and .npz


wildcard_constraints:
    condition="nm|bg|cl",
    sparsity=r"\d+-\d+",
    mode=r"(alteration|insertion)_(nontargeted|targeted)_(adversary|random)(\+[a-z0-9_]+)?",


rule attack:
    input:
        gaitset=rules.train_gaitset.output.weights,
        wgan=rules.train_wgan.output.weights,
        features=rules.extract_features.output.features,
        feature_index=rules.extract_features.output.index,
        **store_files("{dataset}"),
    output:
        table=f"{ATTACKS}/{ATTACK_JOB}.parquet",
        frames=f"{ATTACKS}/{ATTACK_JOB}.npz",
    params:
        job=lambda wildcards: attack_job(wildcards),
        settings=lambda wildcards: attack_settings(wildcards),
        runtime=attack_runtime(),
    threads: config["threads"]["attack"]
    resources:
        mem_mb=ATTACK["resources"]["attack"]["mem_mb"],
        runtime=ATTACK["resources"]["attack"]["runtime"],
    log:
        f"{LOGS}/attacks/{ATTACK_JOB}.log",
    benchmark:
        f"{BENCHMARKS}/attacks/{ATTACK_JOB}.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/attack.py"


rule perturbation_attack:
    # Sec. 4.5's pixel-space baselines (FGSM, PGD, MI-FGSM) on the attack's probes, targets and frame
    # places; the same outputs as `attack`, no generator (docs/baselines.md).
    input:
        gaitset=rules.train_gaitset.output.weights,
        features=rules.extract_features.output.features,
        feature_index=rules.extract_features.output.index,
        **store_files("{dataset}"),
    output:
        table=f"{ATTACKS}/{ATTACK_JOB}.parquet",
        frames=f"{ATTACKS}/{ATTACK_JOB}.npz",
    wildcard_constraints:
        mode=BASELINE_MODE_PATTERN,
    params:
        job=lambda wildcards: attack_job(wildcards),
        settings=lambda wildcards: perturbation_settings(wildcards),
        runtime=attack_runtime(),
    threads: config["threads"]["attack"]
    resources:
        mem_mb=ATTACK["resources"]["attack"]["mem_mb"],
        runtime=ATTACK["resources"]["attack"]["runtime"],
    log:
        f"{LOGS}/attacks/{ATTACK_JOB}.log",
    benchmark:
        f"{BENCHMARKS}/attacks/{ATTACK_JOB}.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/attack.py"


rule compare_perturbations:
    # Fig. 6, Fig. 7 and the imperceptibility table of every attack setting, judged by the separately
    # trained critic (rule train_judge_critic), GaitSet frame features, shapes, IoU and pixel change.
    input:
        tables=[*attack_tables("casia_b"), *baseline_tables("casia_b")],
        attack_frames=[p.replace(".parquet", ".npz") for p in (*attack_tables("casia_b"), *baseline_tables("casia_b"))],
        gaitset=rules.train_gaitset.output.weights,
        judge=rules.train_judge_critic.output.weights,
        **store_files("casia_b"),
    output:
        imperceptibility_csv=report(
            f"{RESULTS}/tables/imperceptibility.csv", caption="../report/imperceptibility.rst", category="Baselines"
        ),
        imperceptibility_md=f"{RESULTS}/tables/imperceptibility.md",
        fig6=report(
            f"{RESULTS}/figures/fig6_perturbation_comparison.png",
            caption="../report/fig6_perturbation_comparison.rst",
            category="Baselines",
        ),
        fig7=report(
            f"{RESULTS}/figures/fig7_examples.png", caption="../report/fig7_examples.rst", category="Baselines"
        ),
    params:
        dataset="casia_b",
        figure_sparsity=ATTACK["baselines"]["figure_sparsity"],
        reference_frames=ATTACK["imperceptibility"]["reference_frames"],
        seed=config["seed"],
        runtime=runtime_knobs({"device": config["device"]}),
    threads: config["threads"]["compare_perturbations"]
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    log:
        f"{LOGS}/attacks/compare_perturbations.log",
    benchmark:
        f"{BENCHMARKS}/attacks/compare_perturbations.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/compare_perturbations.py"


rule random_control_sources:
    # The random control's generated frames against real silhouettes of other people in the same
    # places: is the control's damage the generator's or GaitSet's (docs/attack.md "The random control")?
    input:
        tables=foreign_frame_tables(),
        attack_frames=[p.replace(".parquet", ".npz") for p in foreign_frame_tables()],
        gaitset=rules.train_gaitset.output.weights,
        features=expand(rules.extract_features.output.features, dataset="casia_b"),
        feature_index=expand(rules.extract_features.output.index, dataset="casia_b"),
        **store_files("casia_b"),
    output:
        csv=report(
            f"{RESULTS}/tables/random_control_sources.csv", caption="../report/random_control_sources.rst",
            category="Attacks",
        ),
        md=f"{RESULTS}/tables/random_control_sources.md",
    params:
        test_subjects=GAITSET["evaluation"]["test_subjects"],
        metric=GAITSET["evaluation"]["metric"],
        seed=config["seed"],
        runtime=runtime_knobs({"device": config["device"]}),
    threads: config["threads"]["compare_perturbations"]
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    log:
        f"{LOGS}/attacks/random_control_sources.log",
    benchmark:
        f"{BENCHMARKS}/attacks/random_control_sources.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/random_control_sources.py"


rule aggregate_attacks:
    input:
        attack_tables("casia_b"),
        baseline_tables("casia_b"),
    output:
        **{
            name: report(path, caption="../report/attack_results.rst", category="Attacks")
            if name in ATTACK_REPORTED
            else path
            for name, path in ATTACK_AGGREGATES.items()
        },
    params:
        dataset="casia_b",
    threads: config["threads"]["aggregate_attacks"]
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    log:
        f"{LOGS}/attacks/aggregate.log",
    conda:
        CONDA_ENV
    script:
        "../../scripts/aggregate_attacks.py"
