"""Colour frames of the synthetic walker for the SPADE silhouette-to-frame generator (issue 2).

The person is painted part by part, farthest first, into a label image with exactly the polygons of
the silhouette, so the returned mask is the clean silhouette. Each pixel then gets its part's colour
(per-subject clothes and skin, a per-recording bag) times Lambert shading from the part's normal
(cylindrical for capsules, ellipsoidal for ellipses, from the distance to the outline for the skirt).
The background is a static, textured wall-and-floor scene fixed per view. Clothing colours are
drawn away from the background's colours, so background subtraction recovers the mask.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np

from gaitcore.data.layout import SequenceKey
from gaitcore.data.synthetic.config import SyntheticConfig, rng_for
from gaitcore.data.synthetic.identity import Walk
from gaitcore.data.synthetic.raster import draw_parts, person_boxes
from gaitcore.data.synthetic.scene import Scene2D

WALL = np.array([150.0, 165.0, 178.0])  # cool grey, RGB
FLOOR = np.array([96.0, 116.0, 106.0])  # grey-green
_BACKGROUND_REFS = np.stack([WALL, FLOOR, WALL - 25, FLOOR - 25, WALL + 20, FLOOR + 20])
SHADES = (0.5, 0.78, 1.05)  # range of the Lambert shading below
LIGHT = np.array([-0.45, 0.55, -0.70]) / np.linalg.norm([-0.45, 0.55, -0.70])  # camera coords
SKIN_TONES = np.array([[236, 192, 160], [214, 165, 125], [180, 126, 90], [130, 86, 58], [92, 60, 40]])
TROUSERS = np.array([[35, 45, 80], [30, 30, 35], [60, 75, 125], [150, 125, 90], [90, 60, 40],
                     [110, 40, 40], [70, 70, 30]])


@lru_cache(maxsize=32)
def background(cfg: SyntheticConfig, view: int) -> np.ndarray:
    """The static scene behind every walk of ``view``: uint8 [rows, cols, 3] RGB, read-only."""
    rng = rng_for(cfg, "background", view)
    rows, cols = cfg.frame_shape
    img = np.empty((rows, cols, 3), dtype=np.float32)
    horizon = int(rows * rng.uniform(0.45, 0.6))
    img[:horizon] = WALL + rng.normal(0, 8, 3)
    img[horizon:] = FLOOR + rng.normal(0, 6, 3)
    edges = np.sort(rng.uniform(0, cols, int(rng.integers(3, 7)))).astype(int)
    for x0, x1 in zip(np.r_[0, edges], np.r_[edges, cols]):  # wall panels with dark joints
        img[:horizon, x0:x1] += rng.normal(0, 6)
        img[:horizon, x0 : x0 + 2] -= 18
    img[horizon - 5 : horizon] -= 20  # skirting board
    depth = rows - horizon
    for y in horizon + (depth * np.linspace(0.1, 1.0, 8) ** 2).astype(int):  # floor tile joints
        img[y : y + 1] -= 12
    texture = (5.0 * _smooth_noise(rng, rows, cols, 20) + 2.5 * _smooth_noise(rng, rows, cols, 3))
    img += texture[..., None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    out.flags.writeable = False
    return out


def _smooth_noise(rng: np.random.Generator, rows: int, cols: int, cell: int) -> np.ndarray:
    coarse = rng.normal(0, 1, (rows // cell + 2, cols // cell + 2)).astype(np.float32)
    return cv2.resize(coarse, (cols, rows), interpolation=cv2.INTER_CUBIC)


def _separable(colour: np.ndarray, margin: float = 40.0) -> bool:
    """Whether ``colour`` differs from every background colour under every shading by ``margin``."""
    shaded = np.clip(np.multiply.outer(SHADES, colour), 0, 255)  # [3, 3]
    return bool(np.abs(shaded[:, None] - _BACKGROUND_REFS[None]).max(-1).min() >= margin)


def _pick(draw: Callable[[], np.ndarray]) -> np.ndarray:
    """First colour from ``draw`` that stands out from the background (the last one after 200)."""
    for _ in range(200):
        colour = np.clip(draw(), 0, 255)
        if _separable(colour):
            break
    return colour


def _cloth(rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.25:  # dark clothes
        h, s, v = rng.uniform(), rng.uniform(0.0, 0.5), rng.uniform(0.08, 0.25)
    else:
        h, s, v = rng.uniform(), rng.uniform(0.45, 0.95), rng.uniform(0.3, 0.95)
    return 255.0 * np.array(colorsys.hsv_to_rgb(h, s, v))


def palette(cfg: SyntheticConfig, key: SequenceKey) -> dict[str, np.ndarray]:
    """RGB colours of the subject's skin, hair, clothes and coat, and of this recording's bag."""
    rng = rng_for(cfg, "palette", key.subject)
    colours = {
        "skin": _pick(lambda: SKIN_TONES[rng.integers(len(SKIN_TONES))] + rng.normal(0, 8, 3)),
        "hair": _pick(lambda: rng.uniform(15, 70) * np.array([1.0, 0.8, 0.6]) + rng.normal(0, 5, 3)),
        "shirt": _pick(lambda: _cloth(rng)),
        "trousers": _pick(lambda: TROUSERS[rng.integers(len(TROUSERS))] + rng.normal(0, 10, 3)),
        "shoes": _pick(lambda: rng.uniform(15, 60, 3)),
        "coat": _pick(lambda: _cloth(rng)),
    }
    colours["sleeve"] = colours["shirt"] if rng.random() < 0.5 else colours["skin"]
    bag_rng = rng_for(cfg, "bag colour", key.subject, key.condition, key.seq)
    colours["bag"] = _pick(lambda: _cloth(bag_rng))
    return colours


def _material(name: str, walk: Walk) -> str:
    """Which colour a body part wears."""
    part = name.rsplit("_", 1)[0] if name.endswith(("_l", "_r")) else name
    coat = walk.coat is not None
    return {
        "neck": "skin", "hand": "skin", "head": "skin", "hair": "hair", "foot": "shoes", "bag": "bag",
        "skirt": "coat" if coat else "trousers",
        "thigh": "trousers", "shin": "trousers",
        "pelvis": "coat" if coat else "trousers",
        "waist": "coat" if coat else "shirt",
        "chest": "coat" if coat else "shirt",
        "shoulders": "coat" if coat else "shirt",
        "upper_arm": "coat" if coat else "shirt",
        "forearm": "coat" if coat else "sleeve",
    }[part]


SHADED_FRAMES = 8  # frames whose person pixels are shaded together: few numpy calls, arrays kept small


def paint(cfg: SyntheticConfig, key: SequenceKey, walk: Walk,
          scene: Scene2D) -> tuple[np.ndarray, np.ndarray]:
    """Render ``scene`` in colour: ``(rgb uint8 [T, rows, cols, 3], clean mask uint8 [T, rows, cols])``.

    Each frame's parts are drawn into a label image; the person pixels of :data:`SHADED_FRAMES`
    frames are then shaded together (per-frame numpy calls on a few thousand pixels cost more than
    their arithmetic), the skirt's from its frame's outline.
    """
    colours = palette(cfg, key)
    base = np.array([colours[_material(n, walk)] for n in scene.names])  # [P, 3]
    inverses = np.linalg.inv(scene.ell_cov).reshape(-1, 2, 2)  # each frame's ellipses, once
    bg = background(cfg, key.view)
    frames = scene.polys.shape[0]
    skirt_label = scene.cap_a.shape[1] + scene.ell_c.shape[1] + 1  # label of part i is i + 1
    rgb = np.broadcast_to(bg, (frames, *bg.shape)).copy()
    masks = np.zeros((frames, *cfg.frame_shape), dtype=np.uint8)
    labels = np.zeros(cfg.frame_shape, dtype=np.uint8)
    boxes = person_boxes(scene, cfg.frame_shape, pad=1)
    ids = np.arange(1, len(scene.names) + 1)
    for first in range(0, frames, SHADED_FRAMES):
        pixels: list[tuple[np.ndarray, ...]] = []  # per frame: t, ys, xs (frame coordinates), part
        skirt_normals: list[np.ndarray] = []
        for t in range(first, min(frames, first + SHADED_FRAMES)):
            labels[...] = 0
            draw_parts(scene, t, labels, ids, np.argsort(-scene.depth[t], kind="stable"))  # far first
            x0, y0, x1, y1 = boxes[t]
            roi = labels[y0:y1, x0:x1]
            ys, xs = np.nonzero(roi)
            if ys.size == 0:
                continue
            part = roi[ys, xs]
            skirt = part == skirt_label
            if skirt.any():
                skirt_normals.append(_outline_normals(roi == skirt_label, ys[skirt], xs[skirt]))
            pixels.append((np.full(ys.size, t), ys + y0, xs + x0, part.astype(np.int64) - 1))
            masks[t, y0:y1, x0:x1] = (roi > 0).astype(np.uint8) * np.uint8(255)
        if pixels:
            t, ys, xs, part = (np.concatenate(column) for column in zip(*pixels))
            colour = _shade(scene, base, colours["hair"], inverses, t, xs, ys, part, skirt_normals)
            rows, cols = cfg.frame_shape
            rgb.reshape(-1, 3)[(t * rows + ys) * cols + xs] = colour
    return rgb, masks


def _shade(scene: Scene2D, base: np.ndarray, hair_colour: np.ndarray, inverses: np.ndarray, t: np.ndarray,
           xs: np.ndarray, ys: np.ndarray, part: np.ndarray, skirt_normals: list[np.ndarray]) -> np.ndarray:
    """Colours (uint8 ``[N, 3]``) of person pixels ``(xs, ys)`` of frames ``t`` showing part ``part``:
    the part's colour (``base``; ``hair_colour`` on the head) times Lambert shading from its normal.
    ``inverses``: the inverse covariance of every frame's ellipses, ``[T * ellipses, 2, 2]``; the
    skirt's normals, in pixel order, are given."""
    n_caps, n_ells = scene.cap_a.shape[1], scene.ell_c.shape[1]
    px, py = xs.astype(np.float64), ys.astype(np.float64)
    normal = np.zeros((ys.size, 3))
    hair = np.zeros(ys.size, dtype=bool)
    is_cap = part < n_caps
    is_ell = (part >= n_caps) & (part < n_caps + n_ells)
    if is_cap.any():
        at = t[is_cap] * n_caps + part[is_cap]  # one flat index gathers far faster than two
        normal[is_cap] = _capsule_normals(px[is_cap], py[is_cap], scene.cap_a.reshape(-1, 2)[at],
                                          scene.cap_b.reshape(-1, 2)[at], scene.cap_r.reshape(-1, 2)[at])
    if is_ell.any():
        te, idx = t[is_ell], part[is_ell] - n_caps
        at = te * n_ells + idx
        centre = scene.ell_c.reshape(-1, 2)[at]
        q = np.stack([px[is_ell] - centre[:, 0], py[is_ell] - centre[:, 1]], -1)
        inv = inverses[at]
        grad = np.einsum("nij,nj->ni", inv, q)
        normal[is_ell] = _normals(grad[:, 0], grad[:, 1], np.einsum("ni,nij,nj->n", q, inv, q))
        # Hair on top and at the back of the head; facing away from the camera, all hair.
        head = scene.names.index("head") - n_caps
        on_head = idx == head
        fwd = scene.forward
        qh = q[on_head] / np.sqrt(scene.ell_cov[te[on_head], head, 1, 1])[:, None]
        score = -qh[:, 1] - 0.8 * (qh[:, 0] * fwd[0] - qh[:, 1] * fwd[1]) + 0.6 * fwd[2]
        hair[np.flatnonzero(is_ell)[on_head]] = score > 0
    if skirt_normals:
        normal[~(is_cap | is_ell)] = np.concatenate(skirt_normals)
    shade = 0.5 + 0.55 * np.clip(normal @ LIGHT, 0.0, 1.0)
    colour = base[part]
    colour[hair] = hair_colour
    return np.clip(colour * shade[:, None], 0, 255).astype(np.uint8)


def _normals(gx: np.ndarray, gy: np.ndarray, rho2: np.ndarray) -> np.ndarray:
    """Camera-space normals ``[N, 3]`` of a convex body from the image gradient ``(gx, gy)`` of its
    outline function and the squared normalised distance from its axis (0 at the axis, 1 at the edge)."""
    rho = np.sqrt(np.clip(rho2, 0.0, 1.0))
    length = np.maximum(np.sqrt(gx * gx + gy * gy), 1e-9)
    out = np.empty((gx.size, 3))
    out[:, 0] = gx / length * rho
    out[:, 1] = -(gy / length) * rho
    out[:, 2] = -np.sqrt(1.0 - rho**2)
    return out


def _capsule_normals(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Normals of tapered capsules (axis ``a`` -> ``b``, radii ``r`` at its ends) at pixels ``(px, py)``:
    round across the axis, facing the camera on it."""
    ax, ay, abx, aby = a[:, 0], a[:, 1], b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    t = np.clip(((px - ax) * abx + (py - ay) * aby) / np.maximum(abx * abx + aby * aby, 1e-9), 0.0, 1.0)
    qx, qy = px - (ax + t * abx), py - (ay + t * aby)
    radius = r[:, 0] + t * (r[:, 1] - r[:, 0])
    return _normals(qx, qy, (qx * qx + qy * qy) / np.maximum(radius, 1e-6) ** 2)


def _outline_normals(region: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Normals of a flat-ish region (the skirt) from the distance to its outline."""
    dist = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 3)
    gy, gx = np.gradient(dist)
    reach = max(2.0, 0.5 * float(dist.max()))
    rho = 1.0 - np.clip(dist[ys, xs] / reach, 0.0, 1.0)
    return _normals(-gx[ys, xs], -gy[ys, xs], rho**2)
