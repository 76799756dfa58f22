"""Snakemake glue: train GaitGAN on CASIA-B's training GEIs (rule `train_gaitgan`)."""

from pathlib import Path

import torch

from gaitcore.training.gaitgan import GaitGANTrainConfig, train_gaitgan
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
config = GaitGANTrainConfig.from_mapping({**snakemake.params.train, **snakemake.params.runtime.as_dict()})
train_gaitgan(
    Path(snakemake.input.meta).parent,
    snakemake.output.weights,
    snakemake.params.checkpoint,
    config,
    set_aside_stale=True,  # Snakemake reran the rule: data or settings may have changed
)
