"""Renderers of the paper's figures and tables: DataFrames and frames in, Markdown and PNG out, written
atomically. Nothing here loads a model or reads a store."""

from gaitcore.reporting.figures import fig8_wgan_samples

__all__ = ["fig8_wgan_samples"]
