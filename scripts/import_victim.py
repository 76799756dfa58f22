"""Snakemake glue: an OpenGait checkpoint of a further victim as gaitcore's weights file (rule `import_victim`)."""

from gaitcore.models.victims import import_opengait
from gaitcore.utils.logs import setup_logging

setup_logging(snakemake.log[0])
import_opengait(snakemake.input.checkpoint, snakemake.params.architecture, snakemake.output.weights)
