# Stage 4, the temporal sparse attack, white box (He et al. Sec. 3, Algorithm 1; Sec. 4.2,
# Appendix B; Fig. 5, Fig. 10, Tables 2, 5 and 6): one job per (dataset, mode, sparsity,
# condition) covering every attacked view (one process start-up per condition, not per view:
# docs/attack.md "Scale and cost"), their aggregates, and the random control's frames against real
# silhouettes of other people (beyond the paper). Config: `attack` (but `attack.baselines`),
# `threads.attack`, `threads.aggregate_attacks`, `threads.compare_perturbations`, `device`,
# `seed`, `gaitset.evaluation`.

# The aggregated attack results (Fig. 5, Fig. 10, Tables 2, 5, 6); the report bundles some.
ATTACK_AGGREGATES = {
    "attack_accuracy_csv": f"{RESULTS}/tables/attack_accuracy.csv",
    "attack_accuracy_md": f"{RESULTS}/tables/attack_accuracy.md",
    "table2_csv": f"{RESULTS}/tables/table2_targeted_success.csv",
    "table2_md": f"{RESULTS}/tables/table2_targeted_success.md",
    "table5_csv": f"{RESULTS}/tables/table5_insertion_targeted.csv",
    "table5_md": f"{RESULTS}/tables/table5_insertion_targeted.md",
    "table6_csv": f"{RESULTS}/tables/table6_alteration_targeted.csv",
    "table6_md": f"{RESULTS}/tables/table6_alteration_targeted.md",
    "fig5": f"{RESULTS}/figures/fig5_nontargeted_alteration.png",
    "fig10": f"{RESULTS}/figures/fig10_nontargeted_insertion.png",
}
ATTACK_REPORTED = (
    "attack_accuracy_csv",
    "table2_csv",
    "table5_csv",
    "table6_csv",
    "fig5",
    "fig10",
)


rule attack:
    # Also the body of rule perturbation_attack (baselines.smk).
    input:
        **store_files("{dataset}"),
        victim=rules.train_gaitset.output.weights,
        wgan=rules.train_wgan.output.weights,
        features=rules.extract_features.output.features,
        feature_index=rules.extract_features.output.index,
    output:
        table=attack_path("parquet"),
        frames=attack_path("npz"),
    log:
        attack_path("log", root=f"{LOGS}/attacks"),
    benchmark:
        attack_path("tsv", root=f"{BENCHMARKS}/attacks")
    conda:
        CONDA_ENV
    threads: config["threads"]["attack"]
    resources:
        mem_mb=ATTACK["resources"]["attack"]["mem_mb"],
        runtime=ATTACK["resources"]["attack"]["runtime"],
    params:
        job=attack_job,
        settings=attack_settings,
        runtime=attack_runtime(),
    script:
        "../../scripts/attack.py"


rule aggregate_attacks:
    # The baselines' jobs too: attack_accuracy holds a row per baseline setting.
    input:
        attack_files("casia_b", "parquet"),
        baseline_files("casia_b", "parquet"),
    output:
        **{
            name: (
                report(
                    path, caption="../report/attack_results.rst", category="Attacks"
                )
                if name in ATTACK_REPORTED
                else path
            )
            for name, path in ATTACK_AGGREGATES.items()
        },
    log:
        f"{LOGS}/attacks/aggregate.log",
    benchmark:
        f"{BENCHMARKS}/attacks/aggregate.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["aggregate_attacks"]
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        dataset="casia_b",
    script:
        "../../scripts/aggregate_attacks.py"


rule random_control_sources_job:
    # One random-control job's frames against real silhouettes of other people in the same places:
    # is the control's damage the generator's or GaitSet's (docs/attack.md "The random control")?
    # One job per random-control job, so each runs as soon as its job is done.
    input:
        **store_files("{dataset}"),
        attack_table=attack_path("parquet"),
        attack_frames=attack_path("npz"),
        gaitset=rules.train_gaitset.output.weights,
        features=rules.extract_features.output.features,
        feature_index=rules.extract_features.output.index,
    output:
        attack_path("parquet", root=RANDOM_CONTROL_SOURCES),
    log:
        attack_path("log", root=f"{LOGS}/random_control_sources"),
    benchmark:
        attack_path("tsv", root=f"{BENCHMARKS}/random_control_sources")
    conda:
        CONDA_ENV
    threads: config["threads"]["compare_perturbations"]
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        test_subjects=TEST_SUBJECTS,
        metric=GAITSET["evaluation"]["metric"],
        seed=config["seed"],
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/random_control_sources_job.py"


rule random_control_sources:
    input:
        rows=foreign_frame_files(),
    output:
        csv=report(
            f"{RESULTS}/tables/random_control_sources.csv",
            caption="../report/random_control_sources.rst",
            category="Attacks",
        ),
        md=f"{RESULTS}/tables/random_control_sources.md",
    log:
        f"{LOGS}/attacks/random_control_sources.log",
    benchmark:
        f"{BENCHMARKS}/attacks/random_control_sources.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    script:
        "../../scripts/random_control_sources.py"
