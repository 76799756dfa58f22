"""Snakemake glue: GaitSet's validation rank-1 at each kept snapshot and at the end (rule
`gaitset_validation`)."""

from pathlib import Path

import torch

from gaitcore.experiments.gaitset_validation import write_validation_curve
from gaitcore.training.checkpoint import snapshot_paths
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
runtime = snakemake.params.runtime
write_validation_curve(
    [*snapshot_paths(snakemake.input.snapshots), snakemake.input.weights],
    Path(snakemake.input.meta).parent,
    snakemake.output.csv,
    snakemake.output.md,
    validation_subjects=tuple(snakemake.params.validation_subjects),
    metric=snakemake.params.metric,
    device=runtime["device"],
    frame_chunk=runtime["frame_chunk"],
    channels_last=runtime["channels_last"],
    final_features=(snakemake.input.features, snakemake.input.feature_index),
)
