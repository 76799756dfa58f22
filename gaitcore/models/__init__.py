"""Models of the paper (He et al.): the victim GaitSet (Sec. 4.1, exported here) and the further victims
GaitPart and GaitGL (exported here; OpenGait checkpoints of all three via ``load_opengait``), the WGAN-GP generator
and critic (``gaitcore.models.wgan``) with the calibrated realism score (``gaitcore.models.realism``,
Sec. 3.2), SPADE (``gaitcore.models.spade``, Sec. 3.3) and the template-based GaitGAN
(``gaitcore.models.gaitgan``, Sec. 4.3)."""

from gaitcore.models.gaitgl import GaitGL, build_gaitgl, load_gaitgl, save_gaitgl
from gaitcore.models.gaitpart import GaitPart, build_gaitpart, load_gaitpart, save_gaitpart
from gaitcore.models.gaitset import (
    GaitSet,
    SetPoolCache,
    build_gaitset,
    load_gaitset,
    save_gaitset,
    silhouettes_to_input,
)
from gaitcore.models.opengait import load_opengait, map_opengait_state_dict, model_from_opengait_state_dict

__all__ = [
    "GaitGL", "GaitPart", "GaitSet", "SetPoolCache", "build_gaitgl", "build_gaitpart", "build_gaitset", "load_gaitgl",
    "load_gaitpart", "load_gaitset", "load_opengait", "map_opengait_state_dict", "model_from_opengait_state_dict",
    "save_gaitgl", "save_gaitpart", "save_gaitset", "silhouettes_to_input",
]
