"""Snakemake glue: Fig. 9, SPADE on held-out silhouettes (rule `spade_report`)."""

import torch

from gaitcore.experiments.spade_report import write_spade_report
from gaitcore.utils.logs import setup_logging
from gaitcore.video.sources import video_source

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
source, p = dict(snakemake.params.source), dict(snakemake.params.report)
write_spade_report(
    snakemake.input.spade,
    video_source(source["dataset"], source["videos_root"]),
    tuple(p["subjects"]),
    snakemake.output.figure,
    samples=p["samples"],
    seed=p["seed"],
    device=snakemake.params.runtime["device"],
)
