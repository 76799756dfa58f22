"""Who walks and how: per-subject identity, per-recording jitter and conditions, per-view shot.

Three levels of randomness (issue 2, "Synthetic data"):

* :func:`subject_identity` -- body proportions and gait dynamics of a subject, drawn from realistic
  human ranges (anthropometric ratios after Drillis & Contini; gait angles after textbook
  sagittal-plane curves), the subject's everyday clothes and hair (:class:`Outfit`) and the coat
  of the CL recordings. Depends on ``(seed, dataset, subject)``.
* :func:`walk_for` -- one recording ``(subject, condition, run)``: jitter of the gait (cadence,
  stride, arm swing, lean, ...) and of the clothes' fit, the walking direction, and the coat (CL) or
  bag (BG). All 11 cameras of CASIA-B film the same walk, so this does not depend on the view.
* :func:`shot_for` -- one camera's take of that walk: frame count, start phase, framing.

Lengths are metres, angles radians.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gaitcore.data.layout import CASIA_A, SequenceKey
from gaitcore.data.synthetic.config import SyntheticConfig, rng_for

Pair = tuple[float, float]
Triple = tuple[float, float, float]


@dataclass(frozen=True)
class Body:
    """Body proportions. Ellipsoid semi-axes are (depth, height, width); radii are (top, bottom)."""

    height: float
    thigh: float
    shin: float
    ankle: float  # ankle joint height when standing
    foot: float  # foot length
    hip_half: float  # half the distance between the hip joints
    torso: float  # hip joints to shoulder joints
    shoulder_half: float  # half the distance between the shoulder joints
    neck: float
    upper_arm: float
    forearm: float
    hand: float
    head: Triple
    pelvis: Triple
    waist: Triple
    chest: Triple
    thigh_r: Pair
    shin_r: Pair
    foot_r: Pair  # heel, toe
    upper_arm_r: Pair
    forearm_r: Pair
    hand_r: Pair
    neck_r: float


@dataclass(frozen=True)
class Gait:
    """Periodic gait dynamics; phase 0 is the right heel strike."""

    cadence: float  # gait cycles (strides) per second
    hip_mean: float  # mean hip flexion
    hip_amp: float  # half the hip flexion range
    knee_stance: float  # knee flexion peak at loading response
    knee_swing: float  # knee flexion peak in swing
    swing_peak: float  # phase of the swing peak
    push_off: float  # foot pitch (toes down) at push-off
    arm_mean: float  # mean shoulder flexion
    arm_amp: float  # shoulder swing amplitude, counter-phase to the leg of the same side
    arm_lag: float  # phase lag of the arm swing
    elbow_mean: float
    elbow_amp: float
    arm_out: float  # arm abduction
    arm_asym: float  # right arm swings (1 + arm_asym) times, the left (1 - arm_asym) times
    lean: float  # forward trunk lean
    head_pitch: float
    pelvis_yaw: float  # pelvis rotation amplitude
    chest_yaw: float  # counter-rotation amplitude of the shoulders
    sway: float  # lateral sway amplitude of the pelvis
    toe_out: float
    step_width: float  # lateral offset of the feet beyond the hip joints


@dataclass(frozen=True)
class Coat:
    """A subject's coat (CL): thicker torso and sleeves, a skirt to about the knees."""

    margin: float  # added to the torso semi-axes
    flare: float  # extra width at the hem
    length: float  # hem position along the thigh (1 = knee)
    sleeve: float  # added to the arm radii
    damp: float  # arm swing factor


@dataclass(frozen=True)
class Outfit:
    """A subject's everyday clothes and hair, the same in all their recordings.

    CASIA-B filmed each subject's sequences in one session: NM and BG in the subject's own clothes,
    CL with a coat over them. Trousers, tops and shoes change the outline of the legs, torso, arms
    and feet; a skirt (some subjects) is the convex hull of spheres at the hips and hem, like the
    coat's; hair beyond a short cut is one more ellipsoid at the head.
    """

    trouser_ease: float  # added to the thigh and shin radii (loose trousers)
    trouser_flare: float  # added at the ankle (wide or bootcut legs)
    top_ease: float  # added to the pelvis, waist and chest semi-axes (loose shirt, jacket)
    sleeve_ease: float  # added to the arm radii
    skirt: float  # hem position along the thigh (1 = knee); 0 = trousers
    skirt_flare: float  # extra width at the hem
    hair: str  # "short" | "medium" (fuller hair around the head) | "long" (down the back) | "bun"
    shoe: float  # foot radius scale (trainers, boots)


@dataclass(frozen=True)
class Bag:
    """A bag (BG): ``backpack`` on the chest, ``shoulder`` bag at the hip, ``hand`` bag in a hand."""

    kind: str
    side: int  # +1 right, -1 left
    size: Triple  # semi-axes (depth, height, width)
    offset: float  # fore (+) / aft (-) placement


@dataclass(frozen=True)
class Walk:
    """One recorded walk: the subject's body and gait with this recording's jitter and condition."""

    body: Body
    gait: Gait
    heading: float  # deviation of the walking direction from the nominal one
    coat: Coat | None
    bag: Bag | None
    outfit: Outfit


@dataclass(frozen=True)
class Shot:
    """One camera's take of a walk."""

    frames: int
    phase: float  # gait phase at the first frame
    azimuth: float  # walking direction relative to the camera: 0 toward it, pi/2 across, pi away
    span: float  # share of the frame width the walk would cover if filmed from the side
    along: float  # offset of the walk's midpoint along the path, in path lengths
    across: float  # offset of the path sideways, metres
    aim: Pair  # optical centre offset, in frame widths / heights
    aim_height: float  # height the camera points at, metres


def _normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return float(np.clip(rng.normal(mean, sd), lo, hi))


def _deg(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return float(np.radians(_normal(rng, mean, sd, lo, hi)))


def subject_identity(cfg: SyntheticConfig, subject: str) -> tuple[Body, Gait, Coat, Outfit]:
    """Body, gait, coat and outfit of ``subject``; depends only on ``(cfg.seed, cfg.dataset, subject)``."""
    rng = rng_for(cfg, "subject", subject)
    h = _normal(rng, 1.70, 0.075, 1.52, 1.95)
    k = h / 1.70
    male = float(rng.uniform())  # shoulders vs hips build
    girth = _normal(rng, 1.0, 0.09, 0.80, 1.30)
    leg_g = girth * _normal(rng, 1.0, 0.05, 0.85, 1.15)
    arm_g = girth * _normal(rng, 1.0, 0.05, 0.85, 1.15)
    depth_g = girth * _normal(rng, 1.0, 0.06, 0.85, 1.2)
    belly = girth * _normal(rng, 1.0, 0.08, 0.8, 1.3)
    leg = h * _normal(rng, 0.530, 0.010, 0.50, 0.56)  # hip joint height
    ankle = 0.039 * h
    thigh_share = _normal(rng, 0.50, 0.012, 0.46, 0.54)
    shoulder_half = h * _normal(rng, 0.104, 0.004, 0.092, 0.116) * (0.95 + 0.08 * male)
    head_scale = _normal(rng, 1.0, 0.04, 0.9, 1.1) * k**0.3
    body = Body(
        height=h,
        thigh=(leg - ankle) * thigh_share,
        shin=(leg - ankle) * (1 - thigh_share),
        ankle=ankle,
        foot=h * _normal(rng, 0.152, 0.005, 0.14, 0.165),
        hip_half=h * _normal(rng, 0.052, 0.003, 0.045, 0.06) * (1.04 - 0.06 * male),
        torso=h * _normal(rng, 0.818, 0.008, 0.795, 0.84) - leg,
        shoulder_half=shoulder_half,
        neck=h * _normal(rng, 0.045, 0.004, 0.035, 0.055),
        upper_arm=h * _normal(rng, 0.186, 0.006, 0.17, 0.20),
        forearm=h * _normal(rng, 0.146, 0.005, 0.135, 0.16),
        hand=h * 0.095,
        head=(0.100 * head_scale, 0.117 * head_scale, 0.078 * head_scale),
        pelvis=(0.105 * k * depth_g, 0.11 * k, 0.165 * k * girth**0.7 * (1.05 - 0.07 * male)),
        waist=(0.095 * k * belly, 0.12 * k, 0.135 * k * girth**0.7),
        chest=(0.115 * k * depth_g, 0.165 * k, 0.88 * shoulder_half),
        thigh_r=(0.075 * k * leg_g, 0.050 * k * leg_g),
        shin_r=(0.050 * k * leg_g, 0.032 * k * leg_g),
        foot_r=(0.034 * k, 0.024 * k),
        upper_arm_r=(0.046 * k * arm_g, 0.036 * k * arm_g),
        forearm_r=(0.035 * k * arm_g, 0.026 * k * arm_g),
        hand_r=(0.026 * k, 0.020 * k),
        neck_r=0.052 * k * girth**0.5,
    )
    gait = Gait(
        cadence=_normal(rng, 0.92, 0.06, 0.78, 1.08),
        hip_mean=_deg(rng, 8.0, 2.0, 2.0, 14.0),
        hip_amp=_deg(rng, 21.0, 2.2, 15.0, 28.0),
        knee_stance=_deg(rng, 16.0, 4.0, 5.0, 28.0),
        knee_swing=_deg(rng, 60.0, 5.0, 48.0, 72.0),
        swing_peak=2 * np.pi * _normal(rng, 0.71, 0.02, 0.65, 0.77),
        push_off=_deg(rng, 22.0, 5.0, 8.0, 35.0),
        arm_mean=_deg(rng, 2.0, 3.0, -6.0, 10.0),
        arm_amp=_deg(rng, 17.0, 5.5, 5.0, 32.0),
        arm_lag=_normal(rng, 0.0, 0.15, -0.4, 0.4),
        elbow_mean=_deg(rng, 14.0, 5.0, 3.0, 30.0),
        elbow_amp=_deg(rng, 14.0, 6.0, 0.0, 30.0),
        arm_out=_deg(rng, 7.0, 2.0, 3.0, 13.0),
        arm_asym=_normal(rng, 0.0, 0.07, -0.2, 0.2),
        lean=_deg(rng, 4.0, 2.5, -2.0, 11.0),
        head_pitch=_deg(rng, 6.0, 4.0, -5.0, 18.0),
        pelvis_yaw=_deg(rng, 5.0, 1.5, 1.0, 10.0),
        chest_yaw=_deg(rng, 6.0, 2.0, 1.0, 12.0),
        sway=_normal(rng, 0.022, 0.006, 0.008, 0.04),
        toe_out=_deg(rng, 7.0, 4.0, -3.0, 18.0),
        step_width=_normal(rng, 0.01, 0.012, -0.01, 0.04),
    )
    coat = Coat(
        margin=_normal(rng, 0.045, 0.012, 0.02, 0.08),
        flare=float(rng.uniform(0.01, 0.06)),
        length=float(rng.uniform(0.75, 1.1)),
        sleeve=float(rng.uniform(0.01, 0.025)),
        damp=float(rng.uniform(0.5, 0.85)),
    )
    return body, gait, coat, _draw_outfit(rng)


def _draw_outfit(rng: np.random.Generator) -> Outfit:
    """Everyday clothes and hair: mostly trousers and short hair (CASIA-B's subjects are three
    quarters men), with loose trousers, jackets, skirts, long hair and buns among them."""
    loose = rng.random() < 0.35
    skirt = rng.random() < 0.1
    return Outfit(
        trouser_ease=float(rng.uniform(0.012, 0.04) if loose else rng.uniform(0.0, 0.012)),
        trouser_flare=float(rng.uniform(0.0, 0.02)),
        top_ease=float(rng.uniform(0.0, 0.04)),
        sleeve_ease=float(rng.uniform(0.0, 0.015)),
        skirt=float(rng.uniform(0.4, 1.0)) if skirt else 0.0,
        skirt_flare=float(rng.uniform(0.02, 0.08)),
        hair=str(rng.choice(["short", "medium", "long", "bun"], p=[0.55, 0.2, 0.15, 0.1])),
        shoe=float(rng.uniform(1.0, 1.3)),
    )


def walk_for(cfg: SyntheticConfig, key: SequenceKey) -> Walk:
    """The walk recorded as ``key`` (any view): subject identity plus this recording's jitter."""
    body, gait, coat, outfit = subject_identity(cfg, key.subject)
    body = _dress(body, outfit)
    rng = rng_for(cfg, "walk", key.subject, key.condition, key.seq)

    def scaled(x: float, sd: float) -> float:
        return x * _normal(rng, 1.0, sd, 1 - 3 * sd, 1 + 3 * sd)

    def shifted(x: float, sd_deg: float) -> float:
        return x + float(np.radians(rng.normal(0.0, sd_deg)))

    gait = replace(
        gait,
        cadence=scaled(gait.cadence, 0.035),
        hip_mean=shifted(gait.hip_mean, 1.0),
        hip_amp=scaled(gait.hip_amp, 0.04),
        knee_stance=scaled(gait.knee_stance, 0.08),
        knee_swing=scaled(gait.knee_swing, 0.04),
        arm_mean=shifted(gait.arm_mean, 2.0),
        arm_amp=scaled(gait.arm_amp, 0.12),
        elbow_mean=max(0.0, shifted(gait.elbow_mean, 3.0)),
        lean=shifted(gait.lean, 1.2),
        head_pitch=shifted(gait.head_pitch, 3.0),
        sway=scaled(gait.sway, 0.1),
        toe_out=shifted(gait.toe_out, 1.5),
    )
    clothes = _normal(rng, 1.0, 0.015, 0.95, 1.05)  # today's clothes fit a little differently
    body = replace(
        body,
        thigh_r=_times(body.thigh_r, clothes),
        shin_r=_times(body.shin_r, clothes),
        upper_arm_r=_times(body.upper_arm_r, clothes),
        waist=(body.waist[0] * clothes, body.waist[1], body.waist[2] * clothes),
    )
    heading = float(np.radians(rng.normal(0.0, 2.0)))
    worn: Coat | None = None
    bag: Bag | None = None
    if key.condition == "cl":
        worn = replace(coat, margin=scaled(coat.margin, 0.1), length=scaled(coat.length, 0.04))
        body = _wear_coat(body, worn)
        gait = replace(gait, arm_amp=gait.arm_amp * worn.damp, arm_out=gait.arm_out + np.radians(3))
    elif key.condition == "bg":
        bag = _draw_bag(rng)
    return Walk(body=body, gait=gait, heading=heading, coat=worn, bag=bag, outfit=outfit)


def _times(pair: Pair, f: float) -> Pair:
    return (pair[0] * f, pair[1] * f)


def _dress(body: Body, outfit: Outfit) -> Body:
    """The body's outline in the subject's everyday clothes (the skirt and hair are drawn by the walker)."""
    t, e, s = outfit.trouser_ease, outfit.top_ease, outfit.sleeve_ease
    return replace(
        body,
        thigh_r=(body.thigh_r[0] + t, body.thigh_r[1] + t),
        shin_r=(body.shin_r[0] + t, body.shin_r[1] + t + outfit.trouser_flare),
        pelvis=(body.pelvis[0] + 0.5 * e, body.pelvis[1], body.pelvis[2] + 0.5 * e),
        waist=(body.waist[0] + e, body.waist[1], body.waist[2] + e),
        chest=(body.chest[0] + e, body.chest[1], body.chest[2] + 0.7 * e),
        upper_arm_r=(body.upper_arm_r[0] + s, body.upper_arm_r[1] + s),
        forearm_r=(body.forearm_r[0] + s, body.forearm_r[1] + s),
        foot_r=_times(body.foot_r, outfit.shoe),
    )


def _wear_coat(body: Body, coat: Coat) -> Body:
    """Thicken the torso and the sleeves by the coat."""
    m, s = coat.margin, coat.sleeve
    return replace(
        body,
        pelvis=(body.pelvis[0] + m, body.pelvis[1] + 0.3 * m, body.pelvis[2] + m),
        waist=(body.waist[0] + m, body.waist[1] + 0.3 * m, body.waist[2] + m),
        chest=(body.chest[0] + m, body.chest[1] + 0.3 * m, body.chest[2] + 0.8 * m),
        upper_arm_r=(body.upper_arm_r[0] + s, body.upper_arm_r[1] + s),
        forearm_r=(body.forearm_r[0] + s, body.forearm_r[1] + s),
        neck_r=body.neck_r + 0.5 * s,
    )


def _draw_bag(rng: np.random.Generator) -> Bag:
    """A backpack, shoulder bag or hand bag of plausible size."""
    kind = str(rng.choice(["backpack", "shoulder", "hand"], p=[0.4, 0.35, 0.25]))
    side = int(rng.choice([-1, 1]))
    if kind == "backpack":
        size = (rng.uniform(0.07, 0.12), rng.uniform(0.17, 0.23), rng.uniform(0.13, 0.17))
        offset = 0.0
    elif kind == "shoulder":
        size = (rng.uniform(0.11, 0.17), rng.uniform(0.09, 0.14), rng.uniform(0.035, 0.06))
        offset = float(rng.uniform(-0.06, 0.08))
    else:
        size = (rng.uniform(0.10, 0.17), rng.uniform(0.08, 0.13), rng.uniform(0.035, 0.06))
        offset = 0.0
    return Bag(kind=kind, side=side, size=tuple(float(v) for v in size), offset=offset)


def casia_view_azimuth(key: SequenceKey) -> float:
    """Walking direction relative to the camera in the CASIA-B convention, radians.

    CASIA-B: the view itself (0 toward the camera, 90 across, 180 away). CASIA-A gives the angle of
    the walk to the image plane (paper Appendix A), so its 0 is CASIA-B's 90 and its 90 walks
    toward the camera.
    """
    degrees = 90 - key.view if key.dataset == CASIA_A else key.view
    return float(np.radians(degrees))


def shot_for(cfg: SyntheticConfig, key: SequenceKey) -> Shot:
    """How the camera of ``key.view`` films the walk; depends only on ``(cfg, key)``."""
    rng = rng_for(cfg, "shot", key.subject, key.condition, key.seq, key.view)
    return Shot(
        frames=int(rng.integers(cfg.frames_min, cfg.frames_max + 1)),
        phase=float(rng.uniform(0, 2 * np.pi)),
        azimuth=casia_view_azimuth(key),
        span=float(rng.uniform(*cfg.span)),
        along=float(rng.normal(0.0, 0.05)),
        across=float(rng.normal(0.0, 0.25)),
        aim=(float(rng.normal(0.0, 0.02)), float(rng.normal(0.0, 0.03))),
        aim_height=float(rng.normal(0.95, 0.08)),
    )
