"""Snakemake glue: the plain attack against each candidate setting on validation subjects (rule
`validation_settings`)."""

from gaitcore.experiments.validation import write_validation_table
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
write_validation_table(list(snakemake.input), snakemake.output.csv, snakemake.output.md, seed=snakemake.params.seed)
