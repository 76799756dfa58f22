"""Snakemake glue: one perturbation-baseline job, FGSM / PGD / MI-FGSM (rule `perturbation_attack`)."""

from pathlib import Path

import torch

from gaitcore.attacks.job import AttackJob, run_attack_job
from gaitcore.attacks.perturbation import PerturbationSettings
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
job = dict(snakemake.params.job)
run_attack_job(
    gaitset_weights=snakemake.input.gaitset,
    wgan_weights=None,
    store_root=Path(snakemake.input.meta).parent,
    features_array=snakemake.input.features,
    features_index=snakemake.input.feature_index,
    job=AttackJob(**{**job, "test_subjects": tuple(job["test_subjects"])}),
    settings=PerturbationSettings(**snakemake.params.settings),
    out_table=snakemake.output.table,
    out_frames=snakemake.output.frames,
    device=snakemake.params.device,
    channels_last=snakemake.params.channels_last,
)
