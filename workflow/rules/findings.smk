# Stage 10, the paper's findings (Sec. 4.2-4.5): each decided on this run's probes by a rule stated
# before the run (docs/findings.md), as paired differences with subject-level bootstrap intervals,
# and the run's summary (results/summary.md), the one place docs take headline numbers from.
# Config: `seed`, `attack` (which cells exist), `gaitset.evaluation`.


rule findings:
    input:
        tables=white_box_files("parquet"),
        natural=rules.natural_accuracy.output.csv,
        table3=rules.table3_blackbox_gaitgan.output.csv,
        imperceptibility=rules.compare_perturbations.output.imperceptibility_csv,
    output:
        csv=report(
            f"{RESULTS}/tables/findings.csv",
            caption="../report/findings.rst",
            category="Findings",
        ),
        md=f"{RESULTS}/tables/findings.md",
        summary=report(
            f"{RESULTS}/summary.md",
            caption="../report/findings.rst",
            category="Findings",
        ),
    log:
        f"{LOGS}/findings.log",
    benchmark:
        f"{BENCHMARKS}/findings.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        seed=config["seed"],
    script:
        "../../scripts/findings.py"
