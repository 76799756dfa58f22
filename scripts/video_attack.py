"""Snakemake glue: the adversarial videos of one attack job's probes at the selected views, sensed and
scored (rule `video_attack`)."""

import torch

from gaitcore.data.sensor import SensorPath
from gaitcore.experiments.video_attack import run_video_attack_job
from gaitcore.utils.logs import setup_logging
from gaitcore.video.sources import video_source

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
source, p = dict(snakemake.params.source), dict(snakemake.params.evaluation)
run_video_attack_job(
    attack_table=snakemake.input.attack_table,
    attack_frames=snakemake.input.attack_frames,
    views=snakemake.params.views,
    subjects_per_view=p["subjects_per_view"],
    gaitset_weights=snakemake.input.gaitset,
    spade_weights=snakemake.input.spade,
    features_array=snakemake.input.features,
    features_index=snakemake.input.feature_index,
    clean_table=snakemake.input.clean,
    source=video_source(source["dataset"], source["videos_root"]),
    out_table=snakemake.output.table,
    out_example=snakemake.output.example,
    test_subjects=tuple(p["test_subjects"]),
    metric=p["metric"],
    sensor=SensorPath.from_settings(snakemake.params.sensor),
    seed=snakemake.params.seed,
    device=snakemake.params.runtime["device"],
)
