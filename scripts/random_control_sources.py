"""Snakemake glue: the random control against real silhouettes of others, summarised (rule `random_control_sources`)."""

from gaitcore.experiments.random_control_sources import write_random_control_sources
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
write_random_control_sources(list(snakemake.input.rows), snakemake.output.csv, snakemake.output.md)
