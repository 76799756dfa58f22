"""Snakemake glue: store GaitSet features of a dataset's test and validation sequences (rule `extract_features`)."""

from pathlib import Path

import torch

from gaitcore.evaluation.features import extract_store_features
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
extract_store_features(
    snakemake.input.weights,
    Path(snakemake.input.meta).parent,
    snakemake.output.features,
    snakemake.output.index,
    test_subjects=snakemake.params.test_subjects,
    validation_subjects=snakemake.params.validation_subjects,
    workers=snakemake.threads,
    **snakemake.params.runtime.as_dict(),
)
