"""Snakemake glue: train the silhouette WGAN-GP and calibrate its critic (rules `train_wgan`,
`train_judge_critic`, and `train_wgan_recipe` with its snapshots)."""

from pathlib import Path

import torch

from gaitcore.training.wgan import WGANTrainConfig, train_wgan
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
config = WGANTrainConfig.from_mapping({**snakemake.params.train, **snakemake.params.runtime.as_dict()})
train_wgan(
    Path(snakemake.input.meta).parent,
    snakemake.output.weights,
    snakemake.params.checkpoint,
    config,
    set_aside_stale=True,  # Snakemake reran the rule: data or settings may have changed
    snapshot_dir=snakemake.output.get("snapshots"),
)
