"""Snakemake glue: the adversaries crafted on each victim scored on every victim and GaitGAN (rule
`transfer_matrix`); the inputs list the victims in params.victims' order, the sources in blocks, then
GaitSet's random control (the matrix's control row; none where victims.modes lacks it)."""

from pathlib import Path

from gaitcore.experiments.transfer_matrix import write_transfer_matrix
from gaitcore.experiments.victims import per_victim
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
victims = snakemake.params.victims
write_transfer_matrix(
    per_victim(list(snakemake.input.sources), victims),
    {victim: (weights, features, index) for victim, weights, features, index in zip(
        victims, snakemake.input.weights, snakemake.input.features, snakemake.input.feature_index, strict=True)},
    Path(snakemake.input.meta).parent,
    control=list(snakemake.input.control) or None,
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.md,
    figure_path=snakemake.output.figure,
    gaitgan_weights=snakemake.input.gaitgan,
    test_subjects=snakemake.params.test_subjects,
    metric=snakemake.params.metric,
    seed=snakemake.params.seed,
    device=snakemake.params.runtime["device"],
)
