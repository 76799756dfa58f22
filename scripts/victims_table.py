"""Snakemake glue: every victim's attacks on the test subjects side by side (rule `victims_table`); the
input lists each victim's jobs in turn, GaitSet's first."""

from gaitcore.experiments.victims import per_victim, write_victim_table
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
write_victim_table(per_victim(list(snakemake.input), snakemake.params.victims), snakemake.output.csv,
                   snakemake.output.md, seed=snakemake.params.seed, test=True)
