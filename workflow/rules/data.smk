# Stage 1: silhouettes (real trees, OpenGait pickles or synthetic) -> preprocessed stores.


rule preprocess:
    input:
        dataset_source_input,
    output:
        **store_files("{dataset}"),
    params:
        source=lambda wildcards: canonical(config["datasets"][wildcards.dataset]),
        # Any change deep inside a real dataset's tree (the root folder's mtime misses it).
        source_tree=dataset_source_fingerprint,
    threads: config["threads"]["preprocess"]
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        f"{LOGS}/preprocess/{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/preprocess/{{dataset}}.tsv"
    conda:
        CONDA_ENV
    script:
        "../../scripts/preprocess.py"
