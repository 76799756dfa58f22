"""Snakemake glue: Table 4, the attack on CASIA-A (rule `table4_cross_dataset`)."""

from gaitcore.reporting.transfer import table4_cross_dataset, table4_markdown, write_transfer_table
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
table = table4_cross_dataset(list(snakemake.input.tables), snakemake.input.natural)
write_transfer_table(table, table4_markdown(table), snakemake.output.csv, snakemake.output.md)
