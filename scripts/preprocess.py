"""Snakemake glue: build one dataset's preprocessed store (rule `preprocess`)."""

from pathlib import Path

from gaitcore.data.build import SourceSpec, build_store
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
build_store(
    SourceSpec(dataset=snakemake.wildcards.dataset, **snakemake.params.source),
    Path(snakemake.output.meta).parent,
    workers=snakemake.threads,
)
