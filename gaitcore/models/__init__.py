"""Models of the paper (He et al.): the victim GaitSet (Sec. 4.1) here; the WGAN-GP generator and critic
in ``gaitcore.models.wgan`` and the calibrated realism score in ``gaitcore.models.realism`` (Sec. 3.2)."""

from gaitcore.models.gaitset import (
    GaitSet,
    SetPoolCache,
    build_gaitset,
    load_gaitset,
    save_gaitset,
    silhouettes_to_input,
)

__all__ = ["GaitSet", "SetPoolCache", "build_gaitset", "load_gaitset", "save_gaitset", "silhouettes_to_input"]
