"""Models of the paper (He et al.): the victim GaitSet (Sec. 4.1, exported here), the WGAN-GP generator
and critic (``gaitcore.models.wgan``) with the calibrated realism score (``gaitcore.models.realism``,
Sec. 3.2), SPADE (``gaitcore.models.spade``, Sec. 3.3) and the template-based GaitGAN
(``gaitcore.models.gaitgan``, Sec. 4.3)."""

from gaitcore.models.gaitset import (
    GaitSet,
    SetPoolCache,
    build_gaitset,
    load_gaitset,
    save_gaitset,
    silhouettes_to_input,
)

__all__ = ["GaitSet", "SetPoolCache", "build_gaitset", "load_gaitset", "save_gaitset", "silhouettes_to_input"]
