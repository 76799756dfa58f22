"""Snakemake glue: tables/video_attack.{csv,md} and Fig. 4 (rule `aggregate_video_attacks`)."""

from gaitcore.experiments.video_attack import read_example
from gaitcore.experiments.video_attack_table import aggregate_video_attacks
from gaitcore.reporting.video_figures import fig4_video_frames
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
aggregate_video_attacks(list(snakemake.input.tables), snakemake.output.csv, snakemake.output.md)
fig4_video_frames([read_example(path) for path in snakemake.input.examples], snakemake.output.fig4)
