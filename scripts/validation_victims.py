"""Snakemake glue: the plain validation attacks against each candidate victim beside the victim's own
(rule `validation_victims`); the input lists each victim's jobs in turn, the default victim's first."""

from gaitcore.experiments.victims import REFERENCE, per_victim, write_victim_table
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
write_victim_table(per_victim(list(snakemake.input), [REFERENCE, *snakemake.params.victims]), snakemake.output.csv,
                   snakemake.output.md, seed=snakemake.params.seed)
