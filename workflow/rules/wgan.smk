# Stage 3, the silhouette generator (He et al. Sec. 3.2, Appendix A, Fig. 8): WGAN-GP trained on
# CASIA-B's training subjects, its critic calibrated to a realism probability, Fig. 8 and the
# generator quality table (docs/wgan.md); candidate training recipes checked on the validation
# subjects (rule K6, docs/knobs.md). The judge critic, a second WGAN-GP trained by the same rule
# body, is the baselines' (baselines.smk). Config: `wgan` (but `wgan.judge`),
# `threads.train_wgan`, `threads.wgan_report`, `device`, `seed`.

WGAN_TRAIN, WGAN_RUNTIME = wgan_training_params()


rule train_wgan:
    input:
        **store_files("casia_b"),
    output:
        weights=model_files("wgan")["weights"],
    log:
        f"{LOGS}/wgan/train.log",
    benchmark:
        f"{BENCHMARKS}/wgan/train.tsv"
    # the longest training, which every generating attack waits for: started first when jobs compete
    priority: 1
    conda:
        CONDA_ENV
    threads: config["threads"]["train_wgan"]
    resources:
        mem_mb=WGAN["resources"]["train"]["mem_mb"],
        runtime=WGAN["resources"]["train"]["runtime"],
    params:
        checkpoint=model_files("wgan")["checkpoint"],
        train=WGAN_TRAIN,
        runtime=WGAN_RUNTIME,
    script:
        "../../scripts/train_wgan.py"


rule wgan_report:
    input:
        **store_files("casia_b"),
        wgan=rules.train_wgan.output.weights,
        gaitset=rules.train_gaitset.output.weights,
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
    log:
        f"{LOGS}/wgan/report.log",
    benchmark:
        f"{BENCHMARKS}/wgan/report.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["wgan_report"]
    resources:
        mem_mb=WGAN["resources"]["report"]["mem_mb"],
        runtime=WGAN["resources"]["report"]["runtime"],
    params:
        report=canonical(
            {
                "samples": WGAN["report"]["samples"],
                "columns": WGAN["report"]["columns"],
                "real_samples": WGAN["report"]["real_samples"],
                "quality_frames": WGAN["report"]["quality_frames"],
                "train_subjects": TRAIN_SUBJECTS,
                "heldout_subjects": VALIDATION_SUBJECTS,
                "seed": config["seed"],
            }
        ),
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/wgan_report.py"


use rule train_wgan as train_wgan_recipe with:
    # a candidate recipe (wgan.recipes): the generator's training with some settings overridden,
    # keeping snapshots at wgan.recipe_validation.snapshots shares of its iterations
    output:
        weights=f"{RESULTS}/models/wgan_recipes/{{recipe}}/weights.pt",
        snapshots=directory(f"{RESULTS}/models/wgan_recipes/{{recipe}}/snapshots"),
    log:
        f"{LOGS}/wgan/recipes/{{recipe}}.log",
    benchmark:
        f"{BENCHMARKS}/wgan/recipes/{{recipe}}.tsv"
    params:
        checkpoint=f"{RESULTS}/models/wgan_recipes/{{recipe}}/resume.pt",
        train=wgan_recipe_train,
        runtime=WGAN_RUNTIME,


rule wgan_recipes:
    # every recipe's snapshots and final generator against the default's on the validation
    # subjects (rule K6, docs/knobs.md)
    input:
        **store_files("casia_b"),
        wgan=rules.train_wgan.output.weights,
        gaitset=rules.train_gaitset.output.weights,
        # in the config's order, as params.names
        recipes=expand(
            rules.train_wgan_recipe.output.weights, recipe=list(WGAN["recipes"])
        ),
        snapshots=expand(
            rules.train_wgan_recipe.output.snapshots, recipe=list(WGAN["recipes"])
        ),
    output:
        csv=report(
            f"{RESULTS}/tables/wgan_recipes.csv",
            caption="../report/wgan_recipes.rst",
            category="WGAN-GP",
        ),
        md=f"{RESULTS}/tables/wgan_recipes.md",
    log:
        f"{LOGS}/wgan/recipes.log",
    benchmark:
        f"{BENCHMARKS}/wgan/recipes.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["wgan_report"]
    resources:
        mem_mb=WGAN["resources"]["report"]["mem_mb"],
        runtime=WGAN["resources"]["report"]["runtime"],
    params:
        recipes=canonical(WGAN["recipes"]),
        names=list(WGAN["recipes"]),  # the order of input.recipes (canonical sorts the keys)
        validation_subjects=VALIDATION_SUBJECTS,
        frames=WGAN["recipe_validation"]["frames"],
        seed=config["seed"],
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/wgan_recipes.py"
