# Beyond the paper (He et al. attack GaitSet only): further victims, GaitPart and GaitGL (issue 22,
# docs/victims.md). Each is trained by the victim's recipe with its own architecture, or read from
# an OpenGait checkpoint, then attacked on the test subjects like GaitSet; the victims table sets
# them beside GaitSet on the probes they share, and the transfer matrix scores the adversarial
# sequences crafted on each victim on every victim and on GaitGAN. Config: `victims`, `gaitset`,
# `attack`, `threads`, `device`, `seed`.


use rule train_gaitset as train_victim with:
    output:
        weights=f"{RESULTS}/models/victims/{{victim}}/weights.pt",
        snapshots=directory(f"{RESULTS}/models/victims/{{victim}}/snapshots"),
    log:
        f"{LOGS}/victims/{{victim}}/train.log",
    benchmark:
        f"{BENCHMARKS}/victims/{{victim}}/train.tsv"
    params:
        checkpoint=f"{RESULTS}/models/victims/{{victim}}/checkpoint.pt",
        train=victim_train,
        runtime=victim_runtime,


rule import_victim:
    # a victim of victims.models with an `opengait` checkpoint: converted, not trained
    input:
        checkpoint=lambda wildcards: victim_spec(wildcards)["opengait"],
    output:
        weights=f"{RESULTS}/models/victims/{{victim}}/opengait.pt",
    log:
        f"{LOGS}/victims/{{victim}}/import.log",
    benchmark:
        f"{BENCHMARKS}/victims/{{victim}}/import.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        architecture=lambda wildcards: victim_spec(wildcards)["architecture"],
    script:
        "../../scripts/import_victim.py"


use rule extract_features as extract_features_victim with:
    input:
        **store_files("{dataset}"),
        weights=victim_weights,
    output:
        features=f"{RESULTS}/features/victims/{{victim}}/{{dataset}}.npy",
        index=f"{RESULTS}/features/victims/{{victim}}/{{dataset}}.parquet",
    log:
        f"{LOGS}/victims/{{victim}}/extract_{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/victims/{{victim}}/extract_{{dataset}}.tsv"


use rule attack as attack_victim with:
    input:
        **store_files("{dataset}"),
        victim=victim_weights,
        wgan=rules.train_wgan.output.weights,
        features=rules.extract_features_victim.output.features,
        feature_index=rules.extract_features_victim.output.index,
    output:
        table=attack_path("parquet", root=f"{VICTIMS_ROOT}/{{victim}}/attacks"),
        frames=attack_path("npz", root=f"{VICTIMS_ROOT}/{{victim}}/attacks"),
    log:
        attack_path("log", root=f"{LOGS}/victims/{{victim}}/attacks"),
    benchmark:
        attack_path("tsv", root=f"{BENCHMARKS}/victims/{{victim}}/attacks")
    params:
        job=victim_job,
        settings=attack_settings,
        runtime=attack_runtime(),


rule victims_table:
    input:
        victims_table_files("parquet"),
    output:
        csv=report(
            f"{RESULTS}/tables/victims.csv",
            caption="../report/victims.rst",
            category="Victims",
        ),
        md=f"{RESULTS}/tables/victims.md",
    log:
        f"{LOGS}/victims/table.log",
    benchmark:
        f"{BENCHMARKS}/victims/table.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        victims=victims_order(),  # the order of the input's blocks
        seed=config["seed"],
    script:
        "../../scripts/victims_table.py"


rule transfer_matrix:
    input:
        **store_files("casia_b"),
        sources=transfer_source_files("parquet"),
        source_frames=transfer_source_files("npz"),
        control=transfer_control_files("parquet"),
        control_frames=transfer_control_files("npz"),
        weights=[victim_files_of(victim)["weights"] for victim in victims_order()],
        features=[victim_files_of(victim)["features"] for victim in victims_order()],
        feature_index=[victim_files_of(victim)["index"] for victim in victims_order()],
        gaitgan=rules.train_gaitgan.output.weights,
    output:
        csv=report(
            f"{RESULTS}/tables/transfer_matrix.csv",
            caption="../report/transfer_matrix.rst",
            category="Victims",
        ),
        md=f"{RESULTS}/tables/transfer_matrix.md",
        figure=report(
            f"{RESULTS}/figures/transfer_matrix.png",
            caption="../report/transfer_matrix.rst",
            category="Victims",
        ),
    log:
        f"{LOGS}/victims/transfer_matrix.log",
    benchmark:
        f"{BENCHMARKS}/victims/transfer_matrix.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["compare_perturbations"]
    resources:
        mem_mb=ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=ATTACK["resources"]["aggregate"]["runtime"],
    params:
        victims=victims_order(),  # the order of the sources' blocks and of weights / features
        test_subjects=TEST_SUBJECTS,
        metric=GAITSET["evaluation"]["metric"],
        seed=config["seed"],
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/transfer_matrix.py"
