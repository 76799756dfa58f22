"""Snakemake glue: the plain validation attacks against each candidate victim beside the victim's own
(rule `validation_victims`); the input lists each victim's jobs in turn, the default victim's first."""

from gaitcore.experiments.victims import REFERENCE, write_victim_table
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
victims = [REFERENCE, *snakemake.params.victims]
paths = list(snakemake.input)
per_victim = len(paths) // len(victims)
write_victim_table({victim: paths[i * per_victim : (i + 1) * per_victim] for i, victim in enumerate(victims)},
                   snakemake.output.csv, snakemake.output.md, seed=snakemake.params.seed)
