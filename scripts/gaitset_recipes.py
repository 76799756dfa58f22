"""Snakemake glue: candidate GaitSet training recipes against the victim's on the validation subjects
(rule `gaitset_recipes`)."""

from pathlib import Path

import torch

from gaitcore.experiments.gaitset_validation import REFERENCE, write_recipe_comparison
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
runtime = snakemake.params.runtime
names = snakemake.params.names  # the config's order, as the input files
write_recipe_comparison(
    {REFERENCE: snakemake.input.weights, **dict(zip(names, snakemake.input.recipes, strict=True))},
    snakemake.params.recipes,
    Path(snakemake.input.meta).parent,
    snakemake.output.csv,
    snakemake.output.md,
    validation_subjects=tuple(snakemake.params.validation_subjects),
    metric=snakemake.params.metric,
    device=runtime["device"],
    frame_chunk=runtime["frame_chunk"],
    channels_last=runtime["channels_last"],
)
