"""Camera and projection: from the 3-D walker to 2-D convex polygons per frame.

The camera looks down by ``cfg.tilt_deg`` at a walk along a straight path. The view angle rotates the
walking direction about the vertical (CASIA-B convention: 0 toward the camera, 90 across the image,
180 away); the tilt makes views theta and 180-theta genuinely different. Projection is weak
perspective: every frame uses one scale, the focal length over the depth of the pelvis, so the walker
grows when approaching the camera.

Under (weak) orthographic projection a sphere maps to a circle, so a tapered capsule (the convex hull
of two spheres) maps to the convex hull of two circles, an ellipsoid to an ellipse and the skirt's
hull of spheres to the hull of circles. Each becomes one convex polygon in fixed point, which OpenCV
fills quickly (see :mod:`gaitcore.data.synthetic.raster`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitcore.data.synthetic.config import SyntheticConfig
from gaitcore.data.synthetic.identity import Shot, Walk
from gaitcore.data.synthetic.walker import pose, stride_length

SHIFT = 4  # fractional bits of the fixed-point polygon coordinates (1/16 pixel)
ARC = 10  # polygon vertices per capsule end; ellipses get 2 * ARC
HULL_ARC = 12  # vertices per circle of the skirt hull


@dataclass(frozen=True)
class Scene2D:
    """A projected walk: one convex polygon per part and frame, plus what shading needs."""

    names: tuple[str, ...]  # capsules, then ellipses, then "skirt" (a coat's or the outfit's) when one is worn
    polys: np.ndarray  # int32 [T, P, 2 * ARC, 2] fixed-point polygons of capsules and ellipses
    hull: np.ndarray | None  # int32 [T, K, 2] fixed-point points; the skirt is their convex hull
    depth: np.ndarray  # [T, len(names)] camera depth of each part (larger is farther)
    cap_a: np.ndarray  # [T, Nc, 2] capsule end points in pixels
    cap_b: np.ndarray  # [T, Nc, 2]
    cap_r: np.ndarray  # [T, Nc, 2] radii in pixels
    ell_c: np.ndarray  # [T, Ne, 2] ellipse centres in pixels
    ell_cov: np.ndarray  # [T, Ne, 2, 2] ellipse = {c + x : x^T cov^-1 x <= 1}
    forward: np.ndarray  # [3] the walker's forward axis in camera coordinates (x right, y up, z away)
    scale: np.ndarray  # [T] pixels per metre


def project(cfg: SyntheticConfig, walk: Walk, shot: Shot) -> Scene2D:
    """Film ``walk`` as ``shot`` describes and project every part to the image."""
    rows, cols = cfg.frame_shape
    t = np.arange(shot.frames, dtype=float)
    g = walk.gait
    p = pose(walk, shot.phase + 2 * np.pi * g.cadence * t / cfg.fps)

    speed = stride_length(walk) * g.cadence  # metres per second
    path = speed * shot.frames / cfg.fps
    focal = cfg.focal * cols
    height = walk.body.height
    # Seen from the side, the walk covers `span` of the frame width; keep the person 42-80% of the
    # frame height at mid-walk, and the whole walk in front of the camera.
    distance = float(np.clip(cfg.focal * path / shot.span,
                             focal * height / (0.80 * rows), focal * height / (0.42 * rows)))
    distance = max(distance, 0.75 * path)

    azimuth = shot.azimuth + walk.heading
    forward = np.array([np.sin(azimuth), 0.0, -np.cos(azimuth)])  # camera-horizontal, z away
    right = np.array([forward[2], 0.0, -forward[0]])
    body_to_world = np.stack([forward, [0.0, 1.0, 0.0], right], 1)
    tilt = np.radians(cfg.tilt_deg)
    world_to_cam = np.array([[1.0, 0.0, 0.0],
                             [0.0, np.cos(tilt), np.sin(tilt)],
                             [0.0, -np.sin(tilt), np.cos(tilt)]])
    rot = world_to_cam @ body_to_world
    camera = np.array([0.0, shot.aim_height + distance * np.tan(tilt), 0.0])
    centre = np.array([0.0, 0.0, distance]) + shot.across * right + shot.along * path * forward
    ground = centre + (t - (shot.frames - 1) / 2)[:, None] * (speed / cfg.fps) * forward
    origin = (ground - camera) @ world_to_cam.T  # [T, 3] body origin in camera coordinates

    def to_cam(x: np.ndarray) -> np.ndarray:  # [T, N, 3] body -> camera
        return origin[:, None] + x @ rot.T

    scale = focal / to_cam(p.pelvis[:, None])[:, 0, 2]  # [T]
    cx, cy = cols / 2 + shot.aim[0] * cols, rows / 2 + shot.aim[1] * rows

    def to_img(x: np.ndarray) -> np.ndarray:  # [T, N, 3] camera -> [T, N, 2] pixels
        return np.stack([cx + scale[:, None] * x[..., 0], cy - scale[:, None] * x[..., 1]], -1)

    ca, cb = to_cam(p.cap_a), to_cam(p.cap_b)
    cap_a, cap_b = to_img(ca), to_img(cb)
    cap_r = scale[:, None, None] * p.cap_r[None]
    ce = to_cam(p.ell_c)
    ell_c = to_img(ce)
    axes = np.einsum("ij,tnjk->tnik", rot, p.ell_rot) * p.ell_axes[None, :, None, :]  # scaled columns
    cov3 = axes @ np.swapaxes(axes, -1, -2)
    flip = np.array([[1.0, -1.0], [-1.0, 1.0]])  # image y points down
    ell_cov = cov3[..., :2, :2] * flip * (scale**2)[:, None, None, None]

    polys = np.concatenate([_capsule_polygons(cap_a, cap_b, cap_r[..., 0], cap_r[..., 1]),
                            _ellipse_polygons(ell_c, ell_cov)], axis=1)
    depth = [(ca[..., 2] + cb[..., 2]) / 2, ce[..., 2]]
    names = p.cap_names + p.ell_names
    hull = None
    if p.hull_c is not None:
        hc = to_cam(p.hull_c)
        hull = _fixed(_circle_points(to_img(hc), scale[:, None] * p.hull_r[None], HULL_ARC).reshape(
            shot.frames, -1, 2))
        depth.append(hc[..., 2].mean(1, keepdims=True))
        names = names + ("skirt",)
    return Scene2D(
        names=names, polys=_fixed(polys), hull=hull, depth=np.concatenate(depth, 1),
        cap_a=cap_a, cap_b=cap_b, cap_r=cap_r, ell_c=ell_c, ell_cov=ell_cov,
        forward=rot[:, 0], scale=scale,
    )


def _fixed(points: np.ndarray) -> np.ndarray:
    """Pixels to OpenCV fixed point with SHIFT fractional bits."""
    return np.rint(points * (1 << SHIFT)).astype(np.int32)


def _capsule_polygons(a: np.ndarray, b: np.ndarray, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    """Convex hull of circles (a, ra) and (b, rb) as 2 * ARC vertices: [..., 2] -> [..., 2 * ARC, 2].

    The outer tangents touch both circles at angle psi +- w from the axis direction psi, where
    cos w = (ra - rb) / |b - a|; when one circle holds the other, w clips to 0 or pi and the polygon
    is the larger circle.
    """
    d = b - a
    length = np.hypot(d[..., 0], d[..., 1])
    psi = np.arctan2(d[..., 1], d[..., 0])
    w = np.arccos(np.clip((ra - rb) / np.maximum(length, 1e-6), -1.0, 1.0))
    u = np.linspace(0.0, 1.0, ARC)
    ang_b = (psi - w)[..., None] + (2 * w)[..., None] * u  # front arc of b
    ang_a = (psi + w)[..., None] + (2 * np.pi - 2 * w)[..., None] * u  # back arc of a
    pb = b[..., None, :] + rb[..., None, None] * np.stack([np.cos(ang_b), np.sin(ang_b)], -1)
    pa = a[..., None, :] + ra[..., None, None] * np.stack([np.cos(ang_a), np.sin(ang_a)], -1)
    return np.concatenate([pb, pa], -2)


def _ellipse_polygons(c: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Ellipses {c + L u : |u| = 1} with L L^T = cov, as 2 * ARC vertices."""
    l11 = np.sqrt(np.maximum(cov[..., 0, 0], 1e-9))
    l21 = cov[..., 1, 0] / l11
    l22 = np.sqrt(np.maximum(cov[..., 1, 1] - l21**2, 0.0))
    ang = np.linspace(0.0, 2 * np.pi, 2 * ARC, endpoint=False)
    cos, sin = np.cos(ang), np.sin(ang)
    x = c[..., 0, None] + l11[..., None] * cos
    y = c[..., 1, None] + l21[..., None] * cos + l22[..., None] * sin
    return np.stack([x, y], -1)


def _circle_points(c: np.ndarray, r: np.ndarray, k: int) -> np.ndarray:
    """``k`` points on each circle: [..., 2], [...] -> [..., k, 2]."""
    ang = np.linspace(0.0, 2 * np.pi, k, endpoint=False)
    return c[..., None, :] + r[..., None, None] * np.stack([np.cos(ang), np.sin(ang)], -1)
