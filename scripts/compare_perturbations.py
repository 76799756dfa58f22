"""Snakemake glue: Fig. 6, Fig. 7 and the imperceptibility table (rule `compare_perturbations`)."""

from pathlib import Path

import torch

from gaitcore.experiments.imperceptibility import compare_perturbations
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
compare_perturbations(
    list(snakemake.input.tables),
    {p.dataset: Path(snakemake.input.meta).parent},
    snakemake.input.gaitset,
    snakemake.input.judge,
    snakemake.input.detector,
    dict(snakemake.output.items()),
    attack_detector_weights=snakemake.input.get("attack_detector") or None,  # none without validation attacks
    figure_sparsity=p.figure_sparsity,
    dataset=p.dataset,
    reference_count=p.reference_frames,
    seed=p.seed,
    device=p.runtime["device"],
)
