"""Snakemake glue: the paper's findings with their verdicts and the run's summary (rule `findings`)."""

from gaitcore.experiments.findings import write_findings
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
write_findings(
    list(snakemake.input.tables),
    snakemake.input.natural,
    snakemake.output.csv,
    snakemake.output.md,
    snakemake.output.summary,
    table3_csv=snakemake.input.table3,
    imperceptibility_csv=snakemake.input.imperceptibility,
    precision_csv=snakemake.input.precision,
    video_paths=list(snakemake.input.videos),
    seed=snakemake.params.seed,
)
