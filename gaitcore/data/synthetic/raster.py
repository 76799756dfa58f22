"""Silhouette rasterisation and segmentation-like noise (issue 2: "ragged edges, holes, some empty or
partial frames, as in the real data").

Each part is one convex fixed-point polygon filled by ``cv2.fillConvexPoly``, which only touches the
pixels it covers, so a 240x320 frame costs a few microseconds per part. Noise is applied inside the
person's bounding box only:

* ragged boundary -- a box blur of the mask compared against a smooth random threshold moves the
  edge in and out by up to ``edge_px`` pixels, like background subtraction on a textured scene;
* holes -- about ``hole_rate`` small ellipses per frame punched into the body;
* shadow -- with probability ``shadow_rate`` a flat blob at the feet;
* empty frames -- with probability ``empty_rate`` segmentation failed and the frame is all zeros.

Partial frames need no noise: the walk starts and ends near the image border (``cfg.span``).
"""

from __future__ import annotations

import cv2
import numpy as np

from gaitcore.data.synthetic.config import SyntheticConfig
from gaitcore.data.synthetic.scene import SHIFT, Scene2D


def draw_parts(scene: Scene2D, t: int, canvas: np.ndarray, values: np.ndarray,
               order: np.ndarray | range) -> None:
    """Fill the parts of frame ``t`` into ``canvas`` in ``order``, part ``i`` with ``values[i]``.

    Parts are numbered as ``scene.names``: the polygons, then the skirt hull when there is one.
    """
    polys = scene.polys[t]
    for i in order:
        if i < polys.shape[0]:
            cv2.fillConvexPoly(canvas, polys[i], int(values[i]), cv2.LINE_8, SHIFT)
        else:
            cv2.fillConvexPoly(canvas, cv2.convexHull(scene.hull[t]), int(values[i]), cv2.LINE_8, SHIFT)


def silhouettes(scene: Scene2D, shape: tuple[int, int]) -> np.ndarray:
    """Exact 0/255 masks of a projected walk: uint8 [T, rows, cols]."""
    frames = scene.polys.shape[0]
    out = np.zeros((frames, *shape), dtype=np.uint8)
    white = np.full(len(scene.names), 255)
    parts = range(len(scene.names))
    for t in range(frames):
        draw_parts(scene, t, out[t], white, parts)
    return out


def person_boxes(scene: Scene2D, shape: tuple[int, int], pad: int) -> np.ndarray:
    """Per-frame bounding boxes ``(x0, y0, x1, y1)`` of the person, padded and clipped: int [T, 4]."""
    pts = scene.polys.reshape(scene.polys.shape[0], -1, 2)
    if scene.hull is not None:
        pts = np.concatenate([pts, scene.hull], 1)
    x, y = pts[..., 0], pts[..., 1]  # reducing each coordinate alone is much faster in numpy
    rows, cols = shape
    return np.stack([np.clip((x.min(1) >> SHIFT) - pad, 0, cols),
                     np.clip((y.min(1) >> SHIFT) - pad, 0, rows),
                     np.clip((x.max(1) >> SHIFT) + pad + 2, 0, cols),
                     np.clip((y.max(1) >> SHIFT) + pad + 2, 0, rows)], 1)


def add_segmentation_noise(masks: np.ndarray, scene: Scene2D, cfg: SyntheticConfig,
                           rng: np.random.Generator) -> None:
    """Degrade clean masks in place the way background subtraction does.

    All random numbers are drawn up front, one array per kind, which keeps the per-frame loop
    cheap; the draws depend only on the frame count and the boxes, so the result is reproducible.
    """
    frames = masks.shape[0]
    boxes = person_boxes(scene, masks.shape[1:], pad=cfg.edge_px + 1)
    sizes = boxes[:, 2:] - boxes[:, :2]  # [T, (w, h)]
    feet = [i for i, name in enumerate(scene.names) if name.startswith("foot")]
    foot_pts = scene.polys[:, feet].reshape(frames, -1, 2) >> SHIFT
    empty = rng.random(frames) < cfg.empty_rate
    spread = 126.0 * cfg.edge_noise  # the threshold stays in 2..254: the interior never breaks up
    grid = sizes.max(0) // 4 + 2
    coarse = rng.integers(round(128 - spread), round(128 + spread) + 1, (frames, grid[1], grid[0]),
                          dtype=np.uint8)
    holes = rng.poisson(cfg.hole_rate, frames)
    hole_at = rng.random((holes.sum(), 2))  # position in the box, as a fraction of its size
    hole_axes = np.stack([rng.integers(1, 4, holes.sum()), rng.integers(1, 3, holes.sum())], 1)
    hole_angle = rng.uniform(0, 180, holes.sum())
    shadow = rng.random(frames) < cfg.shadow_rate
    shadow_shape = rng.uniform([-0.04, 0.05, 0.01], [0.04, 0.14, 0.025], (frames, 3))
    ragged = cfg.edge_noise > 0 and cfg.edge_px > 0
    kernel = (2 * cfg.edge_px + 1,) * 2
    first_hole = np.concatenate([[0], np.cumsum(holes)])
    for t in range(frames):
        if empty[t]:
            masks[t] = 0
            continue
        (x0, y0, x1, y1), (w, h) = boxes[t], sizes[t]
        if w <= 0 or h <= 0:
            continue  # walked out of the picture
        roi = masks[t, y0:y1, x0:x1]
        if ragged:
            threshold = cv2.resize(coarse[t, : h // 4 + 2, : w // 4 + 2], (int(w), int(h)),
                                   interpolation=cv2.INTER_LINEAR)
            cv2.compare(cv2.blur(roi, kernel), threshold, cv2.CMP_GT, dst=roi)
        for j in range(first_hole[t], first_hole[t + 1]):
            x, y = int(hole_at[j, 0] * w), int(hole_at[j, 1] * h)
            if roi[y, x]:
                cv2.ellipse(roi, (x, y), (int(hole_axes[j, 0]), int(hole_axes[j, 1])),
                            float(hole_angle[j]), 0, 360, 0, -1)
        if shadow[t]:
            u, v = foot_pts[t, np.argmax(foot_pts[t, :, 1])]
            shift, width, height = shadow_shape[t] * h
            cv2.ellipse(masks[t], (int(u + shift), int(v)), (max(1, int(width)), max(1, int(height))),
                        0.0, 0, 360, 255, -1)
