"""Rendering entry points: raw silhouettes with segmentation noise, and colour frames with masks."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gaitcore.data.layout import SequenceKey
from gaitcore.data.segment import Segmenter
from gaitcore.data.sensor import SensorPath
from gaitcore.data.synthetic.config import SyntheticConfig, rng_for
from gaitcore.data.synthetic.identity import Walk, shot_for, walk_for
from gaitcore.data.synthetic.raster import SegmentationArtifacts, add_segmentation_noise, silhouettes
from gaitcore.data.synthetic.rgb import background, paint
from gaitcore.data.synthetic.scene import Scene2D, project


def _film(cfg: SyntheticConfig, key: SequenceKey) -> tuple[Walk, Scene2D]:
    """The walk recorded as ``key`` and its projection into the camera of ``key.view``."""
    if key.dataset != cfg.dataset:
        raise ValueError(f"key {key} belongs to {key.dataset}, but the config to {cfg.dataset}")
    walk = walk_for(cfg, key)
    return walk, project(cfg, walk, shot_for(cfg, key))


def render_sequence(cfg: SyntheticConfig, key: SequenceKey, sensor: SensorPath | None = None,
                    painted: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Raw silhouettes of ``key`` as segmentation would give them: uint8 [T, rows, cols], 0 or 255.

    ``T`` lies in ``[cfg.frames_min, cfg.frames_max]``; some frames may be empty or cut by the
    border. Without ``sensor`` the masks are the exact ones with the recording's segmentation errors
    (none with ``cfg.clean``). With ``sensor`` (issue 21 item 1) the colour frames go through it
    instead of being rasterised: the camera films the walk (its own draws per recording), the view's
    segmenter (:func:`view_segmenter`) finds the person in windows around where it is
    (:meth:`~gaitcore.data.sensor.SensorPath.sense`), then the same errors follow, so the video
    attack's clean video and the store are one sensor path's output. ``painted``: the colour frames
    and exact masks :func:`render_sequence_rgb` gave ``key``, if at hand (not painted again).
    """
    walk, scene = _film(cfg, key)
    if sensor is None:
        masks = silhouettes(scene, cfg.frame_shape)
    else:
        frames, exact = paint(cfg, key, walk, scene) if painted is None else painted
        masks, _ = sensor.sense(frames, view_segmenter(cfg, key.view, sensor), _camera_rng(cfg, key), people=exact)
    add_segmentation_noise(masks, scene, cfg, _noise_rng(cfg, key))
    return masks


@lru_cache(maxsize=32)
def view_segmenter(cfg: SyntheticConfig, view: int, sensor: SensorPath) -> Segmenter:
    """``sensor``'s segmenter of ``view``, learnt once from the camera's film of the view's empty scene
    (its own draws per view): a fixed camera's model of its scene, against which every recording of
    the view is segmented, as the video attack segments its probes."""
    footage = np.asarray(background(cfg, view))[None]
    return sensor.background(footage, rng_for(cfg, "camera background", view))


def segmentation_artifacts(cfg: SyntheticConfig, key: SequenceKey) -> SegmentationArtifacts:
    """The segmentation errors :func:`render_sequence` gives ``key``'s frames, to apply to other masks of
    the same recording (the video path's, :mod:`gaitcore.data.sensor`)."""
    _, scene = _film(cfg, key)
    return SegmentationArtifacts.draw(scene, cfg.frame_shape, cfg, _noise_rng(cfg, key))


def _noise_rng(cfg: SyntheticConfig, key: SequenceKey) -> np.random.Generator:
    return rng_for(cfg, "noise", key.subject, key.condition, key.seq, key.view)


def _camera_rng(cfg: SyntheticConfig, key: SequenceKey) -> np.random.Generator:
    return rng_for(cfg, "camera", key.subject, key.condition, key.seq, key.view)


def render_sequence_rgb(cfg: SyntheticConfig, key: SequenceKey) -> tuple[np.ndarray, np.ndarray]:
    """The poses of :func:`render_sequence` as colour frames (for the SPADE generator).

    Returns ``(rgb, mask)``: uint8 [T, rows, cols, 3] in RGB order -- a shaded person in
    per-subject clothes on the static background of the view -- and the exact clean mask, uint8
    [T, rows, cols] 0/255 (``render_sequence(cfg.clean, key)``).
    """
    walk, scene = _film(cfg, key)
    return paint(cfg, key, walk, scene)
