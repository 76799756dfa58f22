"""Snakemake glue: Table 4, the attack on CASIA-A (rule `table4_cross_dataset`)."""

from gaitcore.experiments.transfer import table4_cross_dataset
from gaitcore.reporting.transfer_tables import table4_markdown
from gaitcore.utils.logs import setup_logging
from gaitcore.utils.tables import write_table

setup_logging(snakemake.log[0])
table = table4_cross_dataset(list(snakemake.input.tables), snakemake.input.natural)
write_table(table, snakemake.output.csv, snakemake.output.md, markdown=table4_markdown(table))
