# Stage 1, data (He et al. Sec. 4.1, "Datasets"): CASIA-B and CASIA-A silhouettes (released
# trees, OpenGait pickles or the synthetic world) -> preprocessed stores (docs/store.md).
# Config: `datasets`, `threads.preprocess`.


rule preprocess:
    input:
        dataset_source_input,
    output:
        **store_files("{dataset}"),
    log:
        f"{LOGS}/preprocess/{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/preprocess/{{dataset}}.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["preprocess"]
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        source=lambda wildcards: dataset_settings(wildcards.dataset),
        # Any change deep inside a real dataset's tree (the root folder's mtime misses it).
        source_tree=dataset_source_fingerprint,
    script:
        "../../scripts/preprocess.py"
