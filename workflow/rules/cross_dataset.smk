# Stage 7, cross-dataset validation (He et al. Sec. 4.4, Table 4): the frame-alteration
# nontargeted attack on CASIA-A (its jobs are rule attack's) against GaitSet's natural accuracy
# there (docs/gaitgan.md). Config: `attack.datasets` (Table 4 when it attacks casia_a),
# `attack.sparsities`, `attack.subjects_per_view.casia_a`, `threads.transfer_tables`,
# `gaitgan.resources.tables`.


rule table4_cross_dataset:
    input:
        tables=table4_attack_files("parquet"),
        natural=rules.natural_accuracy.output.csv,
    output:
        csv=report(
            f"{RESULTS}/tables/table4_cross_dataset.csv",
            caption="../report/table4_cross_dataset.rst",
            category="Transfer",
        ),
        md=f"{RESULTS}/tables/table4_cross_dataset.md",
    log:
        f"{LOGS}/gaitgan/table4.log",
    benchmark:
        f"{BENCHMARKS}/gaitgan/table4.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["transfer_tables"]
    resources:
        mem_mb=GAITGAN["resources"]["tables"]["mem_mb"],
        runtime=GAITGAN["resources"]["tables"]["runtime"],
    script:
        "../../scripts/table4_cross_dataset.py"
