"""Snakemake glue: every victim's attacks on the test subjects side by side (rule `victims_table`); the
input lists each victim's jobs in turn, GaitSet's first."""

from gaitcore.experiments.victims import write_victim_table
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
victims = snakemake.params.victims
paths = list(snakemake.input)
per_victim = len(paths) // len(victims)
write_victim_table({victim: paths[i * per_victim : (i + 1) * per_victim] for i, victim in enumerate(victims)},
                   snakemake.output.csv, snakemake.output.md, seed=snakemake.params.seed, test=True)
