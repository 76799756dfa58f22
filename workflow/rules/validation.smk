# Stage 11, setting choices on validation subjects (never test subjects): the plain attack and each
# candidate setting of `attack.validation.candidates` on the same validation probes, and their
# paired differences (docs/knobs.md); the plain attack against each candidate victim of
# `attack.validation.victims` beside the victim's (docs/deviations.md). Config:
# `attack.validation`, `gaitset.recipes`, `subjects.casia_b.validation`, `threads.attack`,
# `device`, `seed`.


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


use rule attack_validation as attack_validation_victim with:
    # the same attack against a candidate GaitSet recipe (gaitset.recipes)
    input:
        **store_files("{dataset}"),
        victim=rules.train_gaitset_recipe.output.weights,
        wgan=rules.train_wgan.output.weights,
        features=rules.extract_features_recipe.output.features,
        feature_index=rules.extract_features_recipe.output.index,
    output:
        table=attack_path("parquet", root=f"{VICTIM_ATTACKS}/{{recipe}}"),
        frames=attack_path("npz", root=f"{VICTIM_ATTACKS}/{{recipe}}"),
    log:
        attack_path("log", root=f"{LOGS}/validation/victims/{{recipe}}"),
    benchmark:
        attack_path("tsv", root=f"{BENCHMARKS}/validation/victims/{{recipe}}")


rule validation_victims:
    input:
        victim_files("parquet"),
    output:
        csv=report(
            f"{RESULTS}/tables/validation_victims.csv",
            caption="../report/validation_victims.rst",
            category="Validation",
        ),
        md=f"{RESULTS}/tables/validation_victims.md",
    log:
        f"{LOGS}/validation/victims.log",
    benchmark:
        f"{BENCHMARKS}/validation/victims.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        victims=VALIDATION["victims"],  # the order of the input's blocks after the default victim's
        seed=config["seed"],
    script:
        "../../scripts/validation_victims.py"
