"""Snakemake glue: the adversaries crafted on each victim scored on every victim and GaitGAN (rule
`transfer_matrix`); the inputs list the victims in params.victims' order, the sources in blocks."""

from pathlib import Path

from gaitcore.experiments.transfer_matrix import write_transfer_matrix
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
victims = snakemake.params.victims
sources = list(snakemake.input.sources)
per_victim = len(sources) // len(victims)
write_transfer_matrix(
    {victim: sources[i * per_victim : (i + 1) * per_victim] for i, victim in enumerate(victims)},
    {victim: (weights, features, index) for victim, weights, features, index in zip(
        victims, snakemake.input.weights, snakemake.input.features, snakemake.input.feature_index, strict=True)},
    Path(snakemake.input.meta).parent,
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.md,
    figure_path=snakemake.output.figure,
    gaitgan_weights=snakemake.input.gaitgan,
    test_subjects=snakemake.params.test_subjects,
    metric=snakemake.params.metric,
    seed=snakemake.params.seed,
    device=snakemake.params.runtime["device"],
)
