"""Snakemake glue: train SPADE, the silhouette-to-frame generator (rule `train_spade`)."""

import torch

from gaitcore.training.spade import SpadeTrainConfig, train_spade
from gaitcore.utils.logs import setup_logging
from gaitcore.video.sources import video_source

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
config = SpadeTrainConfig.from_mapping({**snakemake.params.train, **snakemake.params.runtime.as_dict()})
source = dict(snakemake.params.source)
train_spade(
    video_source(source["dataset"], source["videos_root"]),
    snakemake.output.weights,
    snakemake.params.checkpoint,
    config,
    set_aside_stale=True,  # Snakemake reran the rule: data or settings may have changed
)
