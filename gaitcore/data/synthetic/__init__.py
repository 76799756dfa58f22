"""Procedural synthetic CASIA-B / CASIA-A gait silhouettes (issue 2, "Synthetic data").

A 3-D articulated walker (tapered capsules and ellipsoids driven by a periodic gait cycle) with a
per-subject identity, per-recording jitter and the NM/BG/CL conditions is filmed from the datasets'
views and rasterised into 0/255 masks with segmentation-like noise; the same poses can be rendered
as shaded RGB frames on a per-view background. See ``docs/synthetic.md``.

Everything depends only on ``(cfg, key)``: never on call order, process or worker count.
"""

from __future__ import annotations

from gaitcore.data.synthetic.config import SyntheticConfig, casia_a_subject_names, synthetic_keys
from gaitcore.data.synthetic.raster import SegmentationArtifacts
from gaitcore.data.synthetic.render import render_sequence, render_sequence_rgb, segmentation_artifacts
from gaitcore.data.synthetic.trees import write_casia_a_tree, write_casia_b_tree

__all__ = [
    "SegmentationArtifacts",
    "SyntheticConfig",
    "casia_a_subject_names",
    "render_sequence",
    "render_sequence_rgb",
    "segmentation_artifacts",
    "synthetic_keys",
    "write_casia_a_tree",
    "write_casia_b_tree",
]
