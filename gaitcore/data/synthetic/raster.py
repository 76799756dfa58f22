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

from dataclasses import dataclass

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


@dataclass(frozen=True)
class SegmentationArtifacts:
    """The segmentation errors of one recorded sequence (see the module docstring), drawn once for its
    ``T`` frames, applied to any mask of frame ``t``'s place: the store's exact masks
    (:func:`add_segmentation_noise`) and the masks a segmenter finds in the sequence's video, frame
    for frame, so that the two paths meet the same errors (issue 21, :mod:`gaitcore.data.sensor`).

    Frame ``t``'s errors live in its person box (the walk's, padded) and at its lowest foot point.
    """

    boxes: np.ndarray  # int [T, 4] (x0, y0, x1, y1)
    foot: np.ndarray  # int [T, 2] (u, v): the lowest foot point
    empty: np.ndarray  # bool [T]
    coarse: np.ndarray  # uint8 [T, gh, gw]: the ragged edge's threshold grid
    first_hole: np.ndarray  # int [T + 1]: frame t's holes are first_hole[t]:first_hole[t + 1]
    hole_at: np.ndarray  # [holes, 2] place in the box, as a fraction of its size
    hole_axes: np.ndarray  # int [holes, 2]
    hole_angle: np.ndarray  # [holes]
    shadow: np.ndarray  # bool [T]
    shadow_shape: np.ndarray  # [T, 3] shift, width, height as fractions of the box height
    edge_px: int
    ragged: bool

    @classmethod
    def draw(cls, scene: Scene2D, shape: tuple[int, int], cfg: SyntheticConfig,
             rng: np.random.Generator) -> SegmentationArtifacts:
        """The errors of the walk ``scene`` in frames of ``shape``. All random numbers are drawn up
        front, one array per kind; they depend only on the frame count and the boxes."""
        frames = scene.polys.shape[0]
        boxes = person_boxes(scene, shape, pad=cfg.edge_px + 1)
        sizes = boxes[:, 2:] - boxes[:, :2]  # [T, (w, h)]
        feet = [i for i, name in enumerate(scene.names) if name.startswith("foot")]
        foot_pts = scene.polys[:, feet].reshape(frames, -1, 2) >> SHIFT
        foot = foot_pts[np.arange(frames), np.argmax(foot_pts[:, :, 1], axis=1)]
        empty = rng.random(frames) < cfg.empty_rate
        spread = 126.0 * cfg.edge_noise  # the threshold stays in 2..254: the interior never breaks up
        grid = sizes.max(0) // 4 + 2
        coarse = rng.integers(round(128 - spread), round(128 + spread) + 1, (frames, grid[1], grid[0]),
                              dtype=np.uint8)
        holes = rng.poisson(cfg.hole_rate, frames)
        hole_at = rng.random((holes.sum(), 2))
        hole_axes = np.stack([rng.integers(1, 4, holes.sum()), rng.integers(1, 3, holes.sum())], 1)
        hole_angle = rng.uniform(0, 180, holes.sum())
        shadow = rng.random(frames) < cfg.shadow_rate
        shadow_shape = rng.uniform([-0.04, 0.05, 0.01], [0.04, 0.14, 0.025], (frames, 3))
        return cls(boxes, foot, empty, coarse, np.concatenate([[0], np.cumsum(holes)]), hole_at, hole_axes,
                   hole_angle, shadow, shadow_shape, cfg.edge_px, cfg.edge_noise > 0 and cfg.edge_px > 0)

    def __len__(self) -> int:
        return len(self.empty)

    def apply(self, mask: np.ndarray, t: int) -> None:
        """Degrade ``mask`` (uint8 ``[rows, cols]`` 0/255) in place with frame ``t``'s errors."""
        if self.empty[t]:
            mask[:] = 0
            return
        x0, y0, x1, y1 = self.boxes[t]
        w, h = x1 - x0, y1 - y0
        if w <= 0 or h <= 0:
            return  # walked out of the picture
        roi = mask[y0:y1, x0:x1]
        if self.ragged:
            threshold = cv2.resize(self.coarse[t, : h // 4 + 2, : w // 4 + 2], (int(w), int(h)),
                                   interpolation=cv2.INTER_LINEAR)
            cv2.compare(cv2.blur(roi, (2 * self.edge_px + 1,) * 2), threshold, cv2.CMP_GT, dst=roi)
        for j in range(self.first_hole[t], self.first_hole[t + 1]):
            x, y = int(self.hole_at[j, 0] * w), int(self.hole_at[j, 1] * h)
            if roi[y, x]:
                cv2.ellipse(roi, (x, y), (int(self.hole_axes[j, 0]), int(self.hole_axes[j, 1])),
                            float(self.hole_angle[j]), 0, 360, 0, -1)
        if self.shadow[t]:
            u, v = self.foot[t]
            shift, width, height = self.shadow_shape[t] * h
            cv2.ellipse(mask, (int(u + shift), int(v)), (max(1, int(width)), max(1, int(height))),
                        0.0, 0, 360, 255, -1)

    def apply_all(self, masks: np.ndarray, origin: np.ndarray | None = None) -> np.ndarray:
        """A degraded copy of ``masks`` ``[T', rows, cols]``: mask ``i`` gets frame ``origin[i]``'s errors
        (``origin``: the recorded frame each mask shows, or replaces, or was inserted before; None:
        frame ``i``)."""
        origin = np.arange(len(masks)) if origin is None else np.asarray(origin)
        if len(origin) != len(masks) or (len(origin) and not 0 <= origin.min() <= origin.max() < len(self)):
            raise ValueError(f"{len(masks)} masks with origins in 0..{len(self) - 1} expected, got "
                             f"{origin.tolist()}")
        out = np.array(masks, dtype=np.uint8, copy=True)
        for i, t in enumerate(origin):
            self.apply(out[i], int(t))
        return out


def add_segmentation_noise(masks: np.ndarray, scene: Scene2D, cfg: SyntheticConfig,
                           rng: np.random.Generator) -> None:
    """Degrade clean masks in place the way background subtraction does
    (:class:`SegmentationArtifacts` of the walk, frame for frame)."""
    artifacts = SegmentationArtifacts.draw(scene, masks.shape[1:], cfg, rng)
    for t in range(masks.shape[0]):
        artifacts.apply(masks[t], t)
