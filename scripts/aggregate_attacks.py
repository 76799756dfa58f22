"""Snakemake glue: Fig. 5, Fig. 10 and Tables 2, 5, 6 from the attack jobs (rule `aggregate_attacks`)."""

from gaitcore.experiments.attack_tables import aggregate_attacks
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
aggregate_attacks(list(snakemake.input), dict(snakemake.output.items()), dataset=snakemake.params.dataset)
