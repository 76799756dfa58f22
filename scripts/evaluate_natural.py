"""Snakemake glue: natural rank-1 accuracy tables from stored features (rule `natural_accuracy`)."""

from gaitcore.evaluation.rank1 import natural_accuracy, summary_markdown
from gaitcore.utils.logs import setup_logging
from gaitcore.utils.tables import write_table

setup_logging(snakemake.log[0])
long, summary = natural_accuracy(
    {dataset: (snakemake.input[f"{dataset}_features"], snakemake.input[f"{dataset}_index"])
     for dataset in snakemake.params.datasets},
    metric=snakemake.params.metric,
    test_subjects=tuple(snakemake.params.test_subjects),
)
write_table(summary, snakemake.output.csv, snakemake.output.md, markdown=summary_markdown(summary))
write_table(long, snakemake.output.per_view_pair)
