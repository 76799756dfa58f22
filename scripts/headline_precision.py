"""Snakemake glue: the headline cells' precision against the power target (rule `headline_precision`)."""

from gaitcore.experiments.headline_precision import write_precision
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
write_precision(
    list(snakemake.input.tables),
    snakemake.input.accuracy,
    snakemake.output.csv,
    snakemake.output.md,
    test_role=snakemake.params.test_role,
    target=snakemake.params.target,
)
