"""Snakemake glue: Table 3, the black-box transfer of the attack to GaitGAN (rule `table3_blackbox_gaitgan`)."""

from pathlib import Path

import torch

from gaitcore.experiments.transfer import table3_blackbox_gaitgan
from gaitcore.reporting.transfer_tables import table3_markdown
from gaitcore.utils.logs import setup_logging
from gaitcore.utils.tables import write_table

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
table = table3_blackbox_gaitgan(
    snakemake.input.gaitgan,
    Path(snakemake.input.meta).parent,
    list(snakemake.input.tables),
    test_subjects=tuple(snakemake.params.test_subjects),
    device=snakemake.params.runtime["device"],
)
write_table(table, snakemake.output.csv, snakemake.output.md, markdown=table3_markdown(table))
