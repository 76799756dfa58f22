# Stage 11, setting choices on validation subjects (never test subjects): the plain attack and each
# candidate setting of `attack.validation.candidates` on the same validation probes, and their
# paired differences (docs/knobs.md). Config: `attack.validation`, `subjects.casia_b.validation`,
# `threads.attack`, `device`, `seed`.


use rule attack as attack_validation with:
    output:
        table=attack_path("parquet", root=VALIDATION_ATTACKS),
        frames=attack_path("npz", root=VALIDATION_ATTACKS),
    log:
        attack_path("log", root=f"{LOGS}/validation/attacks"),
    benchmark:
        attack_path("tsv", root=f"{BENCHMARKS}/validation/attacks")
    params:
        job=validation_job,
        settings=validation_settings,
        runtime=attack_runtime(),


rule validation_settings:
    input:
        validation_files("parquet"),
    output:
        csv=report(
            f"{RESULTS}/tables/validation_settings.csv",
            caption="../report/validation_settings.rst",
            category="Validation",
        ),
        md=f"{RESULTS}/tables/validation_settings.md",
    log:
        f"{LOGS}/validation/settings.log",
    benchmark:
        f"{BENCHMARKS}/validation/settings.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        seed=config["seed"],
    script:
        "../../scripts/validation_settings.py"
