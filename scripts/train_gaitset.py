"""Snakemake glue: train GaitSet on CASIA-B's training subjects (rule `train_gaitset`)."""

from pathlib import Path

import torch

from gaitcore.training import GaitSetTrainConfig, train_gaitset
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
config = GaitSetTrainConfig.from_mapping({**snakemake.params.train, **snakemake.params.runtime.as_dict()})
train_gaitset(
    Path(snakemake.input.meta).parent,
    snakemake.output.weights,
    snakemake.params.checkpoint,
    config,
    set_aside_stale=True,  # Snakemake reran the rule: data or settings may have changed
    snapshot_dir=snakemake.output.snapshots,
)
