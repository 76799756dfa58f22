"""Snakemake glue: one random-control job against real silhouettes of others (rule `random_control_sources_job`)."""

from pathlib import Path

import torch

from gaitcore.experiments.random_control_sources import random_control_sources, write_random_control_rows
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
long = random_control_sources(
    gaitset_weights=snakemake.input.gaitset,
    store_root=Path(snakemake.input.meta).parent,
    features_array=snakemake.input.features,
    features_index=snakemake.input.feature_index,
    attack_tables=[snakemake.input.attack_table],
    attack_frames=[snakemake.input.attack_frames],
    test_subjects=tuple(p.test_subjects),
    metric=p.metric,
    seed=p.seed,
    device=p.runtime["device"],
)
write_random_control_rows(long, snakemake.output[0])
