"""Snakemake glue: the clean videos of one condition's video-attack probes, sensed and scored once per
segmenter (rule `clean_video`)."""

import torch

from gaitcore.data.sensor import SensorPath
from gaitcore.experiments.video_attack import run_clean_video_job
from gaitcore.utils.logs import setup_logging
from gaitcore.video.sources import video_source

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
source, p = dict(snakemake.params.source), dict(snakemake.params.evaluation)
run_clean_video_job(
    gaitset_weights=snakemake.input.gaitset,
    features_array=snakemake.input.features,
    features_index=snakemake.input.feature_index,
    source=video_source(source["dataset"], source["videos_root"]),
    condition=snakemake.wildcards.condition,
    views=snakemake.params.views,
    subjects_per_view=p["subjects_per_view"],
    out_table=snakemake.output.table,
    test_subjects=tuple(p["test_subjects"]),
    metric=p["metric"],
    sensor=SensorPath.from_settings(snakemake.params.sensor),
    seed=snakemake.params.seed,
    device=snakemake.params.runtime["device"],
)
