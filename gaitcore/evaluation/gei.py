"""Gait energy images and GaitGAN's template matching (He et al. Sec. 4.3, Table 3).

**GEI** (Han and Bhanu 2006, the template of GaitGAN): the mean of a sequence's aligned silhouettes,
``G(x, y) = 1/T sum_t B_t(x, y)``. The store's frames are already aligned 64x64 silhouettes (GaitSet's
``pretreatment.py``: cropped to the person, height 64, centred on the body's column, padded and cut
to 64x64; see ``docs/store.md``), i.e. the 64x64 GEI input of GaitGAN: the GEI is their mean over
all frames, scaled to [0, 1] (uint8 / 255). No column is cut (GaitSet's 64x44 crop is GaitSet's
own) and no padding is needed.

**Recognition** as xuehy/pytorch-GaitGAN's ``knn_class_per_angle.py``, which He et al. used: every
gallery and probe GEI is passed through the generator to the side-view normal-walking GEI, written
as grey levels ``(x + 1) / 2 * 255``, except at the generator's target view (90 degrees), where the
real GEI (``255 * gei``) is matched as it is; each probe is assigned the subject of its nearest
gallery template of each gallery view (1-nearest neighbour, Manhattan distance between the flattened
64x64 templates). Gallery nm-01..04 and probe nm-05/06 of the test subjects (Table 1); per probe view
the accuracy is the mean over the other gallery views, identical view excluded
(:func:`gaitcore.evaluation.rank1.summarize_rank1`, Sec. 4.1 "Metrics").

**Attacked probes** (Sec. 4.3): the adversarial sequence of a probe is its stored sequence with the
attack's generated frames put at their places (:meth:`gaitcore.attacks.plan.FramePlan.assemble`);
GaitGAN sees only the result, never the attack.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from gaitcore.attacks.plan import FramePlan
from gaitcore.data.gei import gait_energy_image, store_geis
from gaitcore.data.store import FRAME_SIZE
from gaitcore.evaluation.protocols import Protocol
from gaitcore.evaluation.rank1 import evaluate_rank1
from gaitcore.models.gaitgan import TARGET_VIEW, GaitGANGenerator, gan_to_template, geis_to_gan

METRIC = "manhattan"


def adversarial_sequence(original: np.ndarray, generated: np.ndarray, positions: Sequence[int],
                         kind: str) -> np.ndarray:
    """The attacked sequence: ``generated`` frames at ``positions`` (their places in the result, as the
    attack table records them) and the original frames elsewhere, in order. ``kind``: ``alteration``
    (``N`` frames, those at ``positions`` replaced) or ``insertion`` (``N + K`` frames)."""
    plan = FramePlan.from_positions(kind, len(original), np.asarray(positions, dtype=np.int64))
    return plan.assemble(original, generated)


@torch.no_grad()
def gaitgan_templates(
    generator: GaitGANGenerator,
    geis: np.ndarray,
    views: Sequence[int],
    *,
    target_view: int | None = TARGET_VIEW,
    device: torch.device | str = "cpu",
    batch: int = 256,
) -> np.ndarray:
    """Templates ``[N, 64 * 64]`` (float32 grey levels, [0, 255]) of GEIs ``[N, 64, 64]`` seen at ``views``.

    ``G(gei)`` with the generator as it is (use eval mode), except at ``target_view`` (None: no
    exception), where the real GEI is the template (see the module docstring).
    """
    views = np.asarray(views)
    if len(views) != len(geis):
        raise ValueError(f"{len(views)} views for {len(geis)} GEIs")
    out = np.empty((len(geis), FRAME_SIZE * FRAME_SIZE), dtype=np.float32)
    for start in range(0, len(geis), batch):
        x = geis_to_gan(geis[start : start + batch], device)
        out[start : start + batch] = gan_to_template(generator(x)).flatten(1).float().cpu().numpy()
    if target_view is not None:
        raw = views == target_view
        out[raw] = 255.0 * geis[raw].reshape(int(raw.sum()), FRAME_SIZE * FRAME_SIZE)
    return out


def template_rank1(templates: np.ndarray, index: pd.DataFrame, protocol: Protocol) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long-form (per probe view and gallery view) and summary rank-1 accuracy (%) of 1-NN Manhattan
    matching; ``templates[i]`` belongs to ``index`` row ``i`` (positional), which holds gallery and probe rows."""
    return evaluate_rank1(np.asarray(templates)[:, None, :], index.reset_index(drop=True), protocol, METRIC)


__all__ = ["adversarial_sequence", "gait_energy_image", "gaitgan_templates", "store_geis", "template_rank1"]
