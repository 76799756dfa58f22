"""The articulated 3-D walker: a periodic gait cycle drives tapered capsules and ellipsoids.

Body coordinates: x forward (walking direction), y up, z to the walker's right; the origin is the
ground point under the hip joints' midpoint (before lateral sway). Phase 0 is the right heel strike;
the left leg runs half a cycle behind. Joint curves follow the textbook sagittal-plane patterns: hip
flexion ~ cosine, knee flexion with a loading peak (~13% of the cycle) and a swing peak (~71%), heel
rocker and push-off of the foot, arms swinging counter-phase to the leg of the same side, pelvis
rotation with shoulder counter-rotation, lateral sway and a forward trunk lean. The vertical bob
follows from the legs: every frame, the body is lifted so that the lowest foot touches the ground.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitcore.data.synthetic.identity import Walk

TAU = 2 * np.pi


@dataclass(frozen=True)
class Pose:
    """3-D primitives of a walk per frame, in body coordinates (metres)."""

    cap_names: tuple[str, ...]
    cap_a: np.ndarray  # [T, Nc, 3] capsule end points
    cap_b: np.ndarray  # [T, Nc, 3]
    cap_r: np.ndarray  # [Nc, 2] radii at a and b
    ell_names: tuple[str, ...]
    ell_c: np.ndarray  # [T, Ne, 3] ellipsoid centres
    ell_rot: np.ndarray  # [T, Ne, 3, 3] ellipsoid orientations (columns: depth, height, width axes)
    ell_axes: np.ndarray  # [Ne, 3] semi-axes (depth, height, width)
    hull_c: np.ndarray | None  # [T, Nh, 3] spheres whose convex hull is the coat skirt
    hull_r: np.ndarray | None  # [Nh]
    pelvis: np.ndarray  # [T, 3] hip joints' midpoint (weak-perspective reference)


def stride_length(walk: Walk) -> float:
    """Distance covered per gait cycle: the stance foot sweeps back over the hip angle range."""
    g, b = walk.gait, walk.body
    sweep = np.sin(g.hip_mean + g.hip_amp) - np.sin(g.hip_mean - g.hip_amp)
    return float(2 * (b.thigh + b.shin) * sweep)


def _bump(phi: np.ndarray, centre: float, kappa: float) -> np.ndarray:
    """A smooth periodic bump of height 1 at ``centre`` (von Mises shape)."""
    return np.exp(kappa * (np.cos(phi - centre) - 1.0))


def _rot_y(a: np.ndarray) -> np.ndarray:
    """Yaw about the vertical; positive turns the right side forward. [T] -> [T, 3, 3]."""
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rot_z(a: np.ndarray) -> np.ndarray:
    """Pitch about the lateral axis; positive tips the up axis forward. [T] -> [T, 3, 3]."""
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, s, z], -1), np.stack([-s, c, z], -1), np.stack([z, z, o], -1)], -2)


def _apply(rot: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate per-frame vectors: [T, 3, 3] x ([3] or [T, 3]) -> [T, 3]."""
    return np.einsum("tij,tj->ti", rot, np.broadcast_to(v, (rot.shape[0], 3)))


def _sagittal(angle: np.ndarray, length: float, lateral: np.ndarray | float = 0.0) -> np.ndarray:
    """A segment hanging down, swung forward by ``angle``: [T] -> [T, 3]."""
    lat = np.broadcast_to(lateral, angle.shape)
    return np.stack([length * np.sin(angle), -length * np.cos(angle), lat], -1)


def pose(walk: Walk, phase: np.ndarray) -> Pose:
    """Primitives of ``walk`` at gait phases ``phase`` ([T] radians, right heel strike at 0)."""
    b, g = walk.body, walk.gait
    n = phase.shape[0]
    zeros = np.zeros(n)
    sway = g.sway * np.sin(phase)
    yaw_pelvis = g.pelvis_yaw * np.cos(phase)
    yaw_chest = -g.chest_yaw * np.cos(phase)
    lean = g.lean + np.radians(1.5) * np.cos(2 * phase)
    r_pelvis = _rot_y(yaw_pelvis)
    r_waist = _rot_z(lean) @ _rot_y(0.5 * (yaw_pelvis + yaw_chest))
    r_chest = _rot_z(lean) @ _rot_y(yaw_chest)
    pelvis = np.stack([zeros, zeros, sway], -1)  # lifted below, once the feet are known

    caps: dict[str, tuple[np.ndarray, np.ndarray, tuple[float, float]]] = {}
    hips, knees, lowest = {}, {}, np.full(n, np.inf)
    for side, s in (("r", 1), ("l", -1)):
        phi = phase if s > 0 else phase + np.pi
        hip_flex = g.hip_mean + g.hip_amp * np.cos(phi)
        knee_flex = (np.radians(3.0) + g.knee_stance * _bump(phi, 0.13 * TAU, 6.0)
                     + g.knee_swing * _bump(phi, g.swing_peak, 3.5))
        shank = hip_flex - knee_flex
        foot_pitch = (shank * _bump(phi, 0.8 * TAU, 2.0) + np.radians(10.0) * _bump(phi, 0.03 * TAU, 10.0)
                      - g.push_off * _bump(phi, 0.6 * TAU, 8.0))
        hip = pelvis + _apply(r_pelvis, np.array([0.0, 0.0, s * b.hip_half]))
        foot_z = s * (b.hip_half + g.step_width)  # feet keep their track while the pelvis sways
        knee = hip + _sagittal(hip_flex, b.thigh, (foot_z - hip[:, 2]) * b.thigh / (b.thigh + b.shin))
        ankle = knee + _sagittal(shank, b.shin)
        ankle[:, 2] = foot_z
        heel = ankle + _foot_offset(foot_pitch, -0.22 * b.foot, -0.6 * b.ankle, s * g.toe_out)
        toe = ankle + _foot_offset(foot_pitch, 0.76 * b.foot, -0.72 * b.ankle, s * g.toe_out)
        lowest = np.minimum(lowest, np.minimum(heel[:, 1] - b.foot_r[0], toe[:, 1] - b.foot_r[1]))
        caps[f"thigh_{side}"] = (hip, knee, b.thigh_r)
        caps[f"shin_{side}"] = (knee, ankle, b.shin_r)
        caps[f"foot_{side}"] = (heel, toe, b.foot_r)
        hips[s], knees[s] = hip, knee

    up = np.array([0.0, 1.0, 0.0])
    neck_base = pelvis + _apply(_rot_z(lean), (b.torso + 0.01) * up)
    neck_top = neck_base + _apply(_rot_z(lean + np.radians(8.0)), b.neck * up)
    caps["neck"] = (neck_base, neck_top, (b.neck_r, b.neck_r))
    head_rot = _rot_z(np.full(n, g.head_pitch))
    head_centre = neck_top + _apply(head_rot, np.array([0.015, 0.8 * b.head[1], 0.0]))
    ells: dict[str, tuple[np.ndarray, np.ndarray, tuple[float, float, float]]] = {
        "pelvis": (pelvis + _apply(r_pelvis, np.array([-0.01, 0.03, 0.0])), r_pelvis, b.pelvis),
        "waist": (pelvis + _apply(r_waist, np.array([0.0, 0.42 * b.torso, 0.0])), r_waist, b.waist),
        "chest": (pelvis + _apply(r_chest, np.array([-0.01, 0.72 * b.torso, 0.0])), r_chest, b.chest),
        "head": (head_centre, head_rot, b.head),
    }
    hair = _hair(walk.outfit.hair, b.head)
    if hair is not None:
        offset, axes = hair
        ells["hair"] = (head_centre + _apply(head_rot, offset), head_rot, axes)

    shoulders = [pelvis + _apply(r_chest, np.array([-0.02, b.torso - 0.02, s * b.shoulder_half]))
                 for s in (1, -1)]
    caps["shoulders"] = (shoulders[0], shoulders[1], (b.upper_arm_r[0] + 0.01,) * 2)
    bag = walk.bag
    wrists = {}
    for side, s in (("r", 1), ("l", -1)):
        amp = g.arm_amp * (1 + s * g.arm_asym)
        elbow_mean, elbow_amp, out = g.elbow_mean, g.elbow_amp, g.arm_out
        if bag is not None and bag.kind == "backpack":
            amp *= 0.9
        elif bag is not None and bag.side == s and bag.kind == "shoulder":
            amp, out = 0.75 * amp, out + np.radians(6.0)
        elif bag is not None and bag.side == s and bag.kind == "hand":
            amp, elbow_mean, elbow_amp = 0.3 * amp, np.radians(4.0), np.radians(2.0)
        swing = np.cos(phase - g.arm_lag)
        shoulder_flex = g.arm_mean - s * amp * swing
        elbow = shoulder_flex + elbow_mean + elbow_amp * 0.5 * (1 - s * swing)
        shoulder = shoulders[0] if s > 0 else shoulders[1]
        elbow_pt = shoulder + _sagittal(shoulder_flex, b.upper_arm * np.cos(out), s * b.upper_arm * np.sin(out))
        fore_out = 0.6 * out
        wrist = elbow_pt + _sagittal(elbow, b.forearm * np.cos(fore_out), s * b.forearm * np.sin(fore_out))
        tip = wrist + _sagittal(elbow + np.radians(8.0), 0.85 * b.hand * np.cos(fore_out),
                                s * 0.85 * b.hand * np.sin(fore_out))
        caps[f"upper_arm_{side}"] = (shoulder, elbow_pt, b.upper_arm_r)
        caps[f"forearm_{side}"] = (elbow_pt, wrist, b.forearm_r)
        caps[f"hand_{side}"] = (wrist, tip, b.hand_r)
        wrists[s] = wrist

    if bag is not None:
        depth, height, width = bag.size
        if bag.kind == "backpack":
            centre = pelvis + _apply(r_chest, np.array([-(b.chest[0] + 0.85 * depth), 0.6 * b.torso, 0.0]))
            ells["bag"] = (centre, r_chest, bag.size)
        elif bag.kind == "shoulder":
            offset = np.array([bag.offset, 0.0, bag.side * (b.pelvis[2] + 0.8 * width)])
            ells["bag"] = (pelvis + _apply(r_pelvis, offset), r_pelvis, bag.size)
        else:
            centre = wrists[bag.side] - np.array([0.0, 0.04 + height, 0.0])
            ells["bag"] = (centre, _rot_y(zeros), bag.size)

    hull_c = hull_r = None
    if walk.coat is not None:  # the coat's skirt covers any skirt of the outfit
        skirt = (walk.coat.length, walk.coat.margin + walk.coat.flare)
    elif walk.outfit.skirt > 0:
        skirt = (walk.outfit.skirt, walk.outfit.skirt_flare)
    else:
        skirt = None
    if skirt is not None:
        hem_at, extra = skirt
        depth, _, width = b.pelvis
        top = [pelvis + _apply(r_pelvis, np.array([-0.01, 0.05, s * max(width - depth, 0.0)])) for s in (1, -1)]
        length = min(hem_at, 1.0)
        hem_r = b.thigh_r[0] + (b.thigh_r[1] - b.thigh_r[0]) * length + extra
        hem = [hips[s] + hem_at * (knees[s] - hips[s]) for s in (1, -1)]
        hull_c = np.stack(top + hem, 1)
        hull_r = np.array([depth, depth, hem_r, hem_r])

    lift = np.array([0.0, 1.0, 0.0]) * -lowest[:, None]  # [T, 3]: lowest foot point on the ground
    names = tuple(caps)
    return Pose(
        cap_names=names,
        cap_a=np.stack([caps[k][0] for k in names], 1) + lift[:, None],
        cap_b=np.stack([caps[k][1] for k in names], 1) + lift[:, None],
        cap_r=np.array([caps[k][2] for k in names], dtype=float),
        ell_names=tuple(ells),
        ell_c=np.stack([v[0] for v in ells.values()], 1) + lift[:, None],
        ell_rot=np.stack([v[1] for v in ells.values()], 1),
        ell_axes=np.array([v[2] for v in ells.values()], dtype=float),
        hull_c=None if hull_c is None else hull_c + lift[:, None],
        hull_r=hull_r,
        pelvis=pelvis + lift,
    )


def _hair(style: str, head: tuple[float, float, float]) -> tuple[np.ndarray, tuple[float, float, float]] | None:
    """Offset from the head's centre (head coordinates) and semi-axes of the hair beyond a short cut."""
    d, h, w = head
    if style == "medium":  # fuller hair over the top, back and sides of the head
        return np.array([-0.12 * d, 0.1 * h, 0.0]), (1.1 * d, 1.02 * h, 1.15 * w)
    if style == "long":  # down the back of the neck to the shoulders
        return np.array([-0.55 * d, -0.75 * h, 0.0]), (0.55 * d, 1.3 * h, 1.1 * w)
    if style == "bun":
        return np.array([-1.0 * d, 0.35 * h, 0.0]), (0.42 * d, 0.38 * h, 0.5 * w)
    return None


def _foot_offset(pitch: np.ndarray, along: float, below: float, toe_out: float) -> np.ndarray:
    """Offset from the ankle of a point on the foot, pitched (toes up > 0) and turned out."""
    x = along * np.cos(pitch) - below * np.sin(pitch)
    y = along * np.sin(pitch) + below * np.cos(pitch)
    return np.stack([x * np.cos(toe_out), y, x * np.sin(toe_out)], -1)
