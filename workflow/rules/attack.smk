# Stage 4: the temporal sparse attack (He et al. Sec. 3, Algorithm 1) and its white-box experiments
# (Sec. 4.2, Appendix B): one job per (dataset, condition, view, sparsity, mode), aggregated into
# Fig. 5, Fig. 10 and Tables 2, 5 and 6. Config: the `attack` block, `threads.attack`,
# `threads.aggregate_attacks`, `device`, `seed`, `gaitset.evaluation`.

ATTACK = config["attack"]
ATTACKS = f"{RESULTS}/attacks"


wildcard_constraints:
    condition="nm|bg|cl",
    view=r"\d{3}",
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
        table=f"{ATTACKS}/{{dataset}}/{{mode}}/{{sparsity}}/{{condition}}-{{view}}.parquet",
        frames=f"{ATTACKS}/{{dataset}}/{{mode}}/{{sparsity}}/{{condition}}-{{view}}.npz",
    params:
        job=lambda wildcards: attack_job(wildcards),
        settings=lambda wildcards: attack_settings(wildcards),
        device=config["device"],
        channels_last=ATTACK["channels_last"],
    threads: config["threads"]["attack"]
    resources:
        mem_mb=ATTACK["resources"]["attack"]["mem_mb"],
        runtime=ATTACK["resources"]["attack"]["runtime"],
    log:
        f"{LOGS}/attacks/{{dataset}}/{{mode}}/{{sparsity}}/{{condition}}-{{view}}.log",
    benchmark:
        f"{BENCHMARKS}/attacks/{{dataset}}/{{mode}}/{{sparsity}}/{{condition}}-{{view}}.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/attack.py"


rule aggregate_attacks:
    input:
        attack_tables("casia_b"),
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
