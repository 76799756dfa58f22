"""Snakemake glue: Fig. 8 (generated silhouettes) and the generator-quality table (rule `wgan_report`)."""

from pathlib import Path

import torch

from gaitcore.experiments.generator_quality import write_wgan_report
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = dict(snakemake.params.report)
write_wgan_report(
    snakemake.input.wgan,
    snakemake.input.gaitset,
    Path(snakemake.input.meta).parent,
    snakemake.output.figure,
    snakemake.output.quality,
    train_subjects=tuple(p.pop("train_subjects")),
    heldout_subjects=tuple(p.pop("heldout_subjects")),
    **p,
    device=snakemake.params.runtime["device"],
)
