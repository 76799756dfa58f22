"""Snakemake glue: one attack job, the attack or its random control (rule `attack`) or a perturbation
baseline, FGSM / PGD / MI-FGSM (rule `perturbation_attack`, which has no WGAN input)."""

from pathlib import Path

import torch

from gaitcore.experiments.attack_job import AttackJob, run_attack_job, settings_for
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
job = AttackJob(**snakemake.params.job)
runtime = snakemake.params.runtime
run_attack_job(
    victim_weights=snakemake.input.victim,
    wgan_weights=snakemake.input.get("wgan"),
    store_root=Path(snakemake.input.meta).parent,
    features_array=snakemake.input.features,
    features_index=snakemake.input.feature_index,
    job=job,
    settings=settings_for(job.mode, {**snakemake.params.settings, "chunk_size": runtime["chunk_size"]}),
    out_table=snakemake.output.table,
    out_frames=snakemake.output.frames,
    device=runtime["device"],
    channels_last=runtime["channels_last"],
)
