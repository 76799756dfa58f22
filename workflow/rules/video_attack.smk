# Stage 9, the video attack through the sensor path (He et al. Sec. 3.3, Fig. 4; the scoring is
# beyond the paper): per segmenter and CASIA-B condition the clean videos of the probes at
# video_attack.views, read through the camera model and the segmenter and scored by GaitSet once;
# per segmenter and selected CASIA-B attack job (mode, sparsity, condition), the adversarial
# silhouettes of its probes rendered by SPADE, pasted into the probe's video and read and scored the
# same way; aggregated into tables/video_attack.{csv,md} and Fig. 4 (docs/spade.md). Config: `video_attack`,
# `spade.videos_root`, `datasets.casia_b`, `gaitset.evaluation`, `threads.video_attack`,
# `threads.aggregate_video_attacks`, `device`.


rule clean_video:
    input:
        video_source_input,
        gaitset=rules.train_gaitset.output.weights,
        features=fill_wildcards(
            rules.extract_features.output.features, dataset="casia_b"
        ),
        feature_index=fill_wildcards(
            rules.extract_features.output.index, dataset="casia_b"
        ),
    output:
        table=clean_video_path("parquet"),
    log:
        clean_video_path("log", root=f"{LOGS}/video_attacks"),
    benchmark:
        clean_video_path("tsv", root=f"{BENCHMARKS}/video_attacks")
    conda:
        CONDA_ENV
    threads: config["threads"]["video_attack"]
    resources:
        mem_mb=VIDEO_ATTACK["resources"]["job"]["mem_mb"],
        runtime=VIDEO_ATTACK["resources"]["job"]["runtime"],
    params:
        source=video_source_params(silhouettes=True),
        source_tree=video_source_fingerprint,
        views=video_attack_views(),
        evaluation=canonical(
            {
                "test_subjects": TEST_SUBJECTS,
                "subjects_per_view": VIDEO_ATTACK["subjects_per_view"],
                "metric": GAITSET["evaluation"]["metric"],
            }
        ),
        sensor=clean_video_sensor,
        seed=config["seed"],
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/clean_video.py"


rule video_attack:
    input:
        video_source_input,
        attack_table=attack_path("parquet", dataset="casia_b"),
        attack_frames=attack_path("npz", dataset="casia_b"),
        gaitset=rules.train_gaitset.output.weights,
        spade=rules.train_spade.output.weights,
        features=fill_wildcards(
            rules.extract_features.output.features, dataset="casia_b"
        ),
        feature_index=fill_wildcards(
            rules.extract_features.output.index, dataset="casia_b"
        ),
        clean=clean_video_path("parquet"),
    output:
        table=video_attack_path("parquet"),
        example=video_attack_path("npz"),
    log:
        video_attack_path("log", root=f"{LOGS}/video_attacks"),
    benchmark:
        video_attack_path("tsv", root=f"{BENCHMARKS}/video_attacks")
    conda:
        CONDA_ENV
    threads: config["threads"]["video_attack"]
    resources:
        mem_mb=VIDEO_ATTACK["resources"]["job"]["mem_mb"],
        runtime=VIDEO_ATTACK["resources"]["job"]["runtime"],
    params:
        source=video_source_params(silhouettes=True),
        source_tree=video_source_fingerprint,
        views=video_attack_views(),
        evaluation=canonical(
            {
                "test_subjects": TEST_SUBJECTS,
                "subjects_per_view": VIDEO_ATTACK["subjects_per_view"],
                "metric": GAITSET["evaluation"]["metric"],
            }
        ),
        sensor=video_sensor,
        seed=config["seed"],
        runtime=runtime_knobs({"device": config["device"]}),
    script:
        "../../scripts/video_attack.py"


rule aggregate_video_attacks:
    input:
        tables=video_attack_files("parquet"),
        examples=video_attack_examples(),
    output:
        csv=report(
            f"{RESULTS}/tables/video_attack.csv",
            caption="../report/video_attack.rst",
            category="Video attack",
        ),
        md=f"{RESULTS}/tables/video_attack.md",
        fig4=report(
            f"{RESULTS}/figures/fig4_video_frames.png",
            caption="../report/fig4_video_frames.rst",
            category="Video attack",
        ),
    log:
        f"{LOGS}/video_attacks/aggregate.log",
    benchmark:
        f"{BENCHMARKS}/video_attacks/aggregate.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]["aggregate_video_attacks"]
    resources:
        mem_mb=VIDEO_ATTACK["resources"]["aggregate"]["mem_mb"],
        runtime=VIDEO_ATTACK["resources"]["aggregate"]["runtime"],
    script:
        "../../scripts/aggregate_video_attacks.py"
