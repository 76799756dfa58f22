# Stage 10, the paper's findings (Sec. 4.2-4.5): each decided on this run's probes by a rule stated
# before the run (docs/findings.md), as paired differences with subject-level bootstrap intervals,
# and the run's summary (results/summary.md), the one place docs take headline numbers from; the
# headline cells' precision against the power target (docs/findings.md, "Precision").
# Config: `seed`, `attack` (which cells exist, `target_half_width`), `subjects.casia_b.test`.


rule headline_precision:
    input:
        tables=headline_files("parquet"),
        accuracy=rules.aggregate_attacks.output.attack_accuracy_csv,
    output:
        csv=report(
            f"{RESULTS}/tables/precision.csv",
            caption="../report/precision.rst",
            category="Findings",
        ),
        md=f"{RESULTS}/tables/precision.md",
    log:
        f"{LOGS}/headline_precision.log",
    benchmark:
        f"{BENCHMARKS}/headline_precision.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        test_role=TEST_SUBJECTS,
        target=ATTACK["target_half_width"],
    script:
        "../../scripts/headline_precision.py"


rule findings:
    input:
        tables=white_box_files("parquet"),
        natural=rules.natural_accuracy.output.csv,
        table3=rules.table3_blackbox_gaitgan.output.csv,
        imperceptibility=rules.compare_perturbations.output.imperceptibility_csv,
        precision=rules.headline_precision.output.csv,
        videos=video_attack_files("parquet"),  # the sensor path's findings (none without video jobs)
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
