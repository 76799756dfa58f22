"""Snakemake glue: the second frame judge, trained against the attack's own frames on validation probes
(rule `train_attack_detector`)."""

from pathlib import Path

import torch

from gaitcore.experiments.attack_detector import train_attack_frame_detector
from gaitcore.training.detector import DetectorTrainConfig
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
runtime = snakemake.params.runtime.as_dict()
config = DetectorTrainConfig(**{**snakemake.params.train, "log_every": runtime["log_every"]})
train_attack_frame_detector(Path(snakemake.input.meta).parent, snakemake.input.tables, snakemake.output.weights,
                            config, device=runtime["device"])
