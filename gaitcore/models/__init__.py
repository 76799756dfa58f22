"""Gait recognition models attacked by the paper (He et al. Sec. 4.1): GaitSet."""

from gaitcore.models.gaitset import (
    GaitSet,
    SetPoolCache,
    build_gaitset,
    load_gaitset,
    save_gaitset,
    silhouettes_to_input,
)

__all__ = ["GaitSet", "SetPoolCache", "build_gaitset", "load_gaitset", "save_gaitset", "silhouettes_to_input"]
