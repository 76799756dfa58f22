"""Figures and tables of the paper's results."""

from gaitcore.reporting.figures import fig8_wgan_samples

__all__ = ["fig8_wgan_samples"]
