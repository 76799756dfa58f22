"""Snakemake glue: train the frame detector, the defender's judge of the attack's frames (rule
`train_frame_detector`)."""

from pathlib import Path

import torch

from gaitcore.training.detector import DetectorTrainConfig, train_detector
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
runtime = snakemake.params.runtime.as_dict()
config = DetectorTrainConfig(**{**snakemake.params.train, "log_every": runtime["log_every"]})
train_detector(Path(snakemake.input.meta).parent, snakemake.input.wgan, snakemake.output.weights, config,
               device=runtime["device"])
