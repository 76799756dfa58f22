"""Snakemake glue: candidate WGAN-GP training recipes against the default's generator on the
validation subjects (rule `wgan_recipes`)."""

from pathlib import Path

import torch

from gaitcore.experiments.wgan_recipes import write_recipe_comparison
from gaitcore.training.checkpoint import snapshot_paths
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
names = snakemake.params.names  # the config's order, as the input files
recipes = {
    name: [*snapshot_paths(snapshots), weights]
    for name, snapshots, weights in zip(names, snakemake.input.snapshots, snakemake.input.recipes, strict=True)
}
write_recipe_comparison(
    snakemake.input.wgan,
    recipes,
    Path(snakemake.input.meta).parent,
    snakemake.input.gaitset,
    snakemake.output.csv,
    snakemake.output.md,
    overrides=snakemake.params.recipes,
    validation_subjects=tuple(snakemake.params.validation_subjects),
    frames=snakemake.params.frames,
    seed=snakemake.params.seed,
    device=snakemake.params.runtime["device"],
)
