"""Tests of the procedural synthetic gait datasets (issue 2, "Synthetic data")."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from gaitcore.data.layout import CASIA_A, CASIA_B, SequenceKey
from gaitcore.data.preprocess import preprocess_sequence
from gaitcore.data.synthetic import (
    SyntheticConfig,
    casia_a_subject_names,
    render_sequence,
    render_sequence_rgb,
    segmentation_artifacts,
    synthetic_keys,
    trees,
    write_casia_a_tree,
    write_casia_b_tree,
)
from gaitcore.data.synthetic import rgb as rgb_module
from gaitcore.data.synthetic.identity import shot_for, subject_identity, walk_for
from gaitcore.data.synthetic.raster import silhouettes
from gaitcore.data.synthetic.scene import project

SHORT = SyntheticConfig(subjects=3, frames_min=6, frames_max=9)


def key(subject: str = "001", condition: str = "nm", seq: int = 1, view: int = 90) -> SequenceKey:
    return SequenceKey(CASIA_B, subject, condition, seq, view)


def gei(cfg: SyntheticConfig, k: SequenceKey) -> np.ndarray:
    """Mean of the GaitSet-aligned frames (a gait energy image) in [0, 1]."""
    frames, _ = preprocess_sequence(render_sequence(cfg, k))
    return frames.mean(0) / 255.0


# ---------------------------------------------------------------- configuration and keys
def test_keys_of_both_datasets() -> None:
    keys = synthetic_keys(SHORT)
    assert len(keys) == 3 * 110 and len(set(keys)) == len(keys)
    assert keys[0] == key(view=0)
    assert {k.view for k in keys} == set(range(0, 181, 18))
    assert {(k.condition, k.seq) for k in keys} == {("nm", i) for i in range(1, 7)} | {
        (c, i) for c in ("bg", "cl") for i in (1, 2)}

    casia_a = SyntheticConfig.for_dataset(CASIA_A)
    keys = synthetic_keys(casia_a)
    assert len(keys) == 20 * 12
    assert casia_a_subject_names(3) == ["p01", "p02", "p03"]
    assert sorted({k.subject for k in keys}) == casia_a_subject_names(20)
    assert {(k.condition, k.seq, k.view) for k in keys} == {
        ("nm", n, v) for n in range(1, 5) for v in (0, 45, 90)}


def test_config_defaults_validation_and_hashing() -> None:
    a = SyntheticConfig.for_dataset(CASIA_A, seed=3)
    assert (a.subjects, a.frames_min, a.frames_max, a.frame_shape, a.seed) == (20, 37, 127, (240, 352), 3)
    b = SyntheticConfig.for_dataset(CASIA_B)
    assert b == SyntheticConfig() and (b.subjects, b.frame_shape) == (124, (240, 320))
    listed = SyntheticConfig(frame_shape=[240, 320])  # type: ignore[arg-type]
    assert listed.frame_shape == (240, 320) and hash(listed) == hash(b)
    assert pickle.loads(pickle.dumps(a)) == a
    for bad in ({"dataset": "casia_c"}, {"frames_min": 10, "frames_max": 5}, {"subjects": 0},
                {"edge_noise": 2.0}, {"seed": -1}):
        with pytest.raises(ValueError):
            SyntheticConfig(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SyntheticConfig.for_dataset("casia_c")
    with pytest.raises(ValueError, match="belongs to casia_a"):
        render_sequence(SHORT, SequenceKey(CASIA_A, "p01", "nm", 1, 0))


# ---------------------------------------------------------------- rendering
def test_frames_shapes_and_values() -> None:
    lengths = set()
    for k in synthetic_keys(SHORT)[::37]:
        frames = render_sequence(SHORT, k)
        assert frames.dtype == np.uint8 and frames.shape[1:] == (240, 320)
        assert SHORT.frames_min <= len(frames) <= SHORT.frames_max
        assert set(np.unique(frames)) <= {0, 255}
        lengths.add(len(frames))
    assert len(lengths) > 1  # the frame count varies between sequences
    cfg_a = SyntheticConfig.for_dataset(CASIA_A, subjects=1, frames_min=37, frames_max=40)
    frames = render_sequence(cfg_a, SequenceKey(CASIA_A, "p01", "nm", 2, 45))
    assert frames.shape[1:] == (240, 352) and 37 <= len(frames) <= 40


def test_person_is_casia_sized_and_walks_across() -> None:
    cfg = SyntheticConfig(frames_min=60, frames_max=90).clean
    frames = render_sequence(cfg, key(view=90))
    rows = np.flatnonzero(frames[len(frames) // 2].any(1))
    assert 100 <= rows[-1] - rows[0] <= 200
    cols = [np.flatnonzero(f.any(0)).mean() for f in frames if f.any()]
    assert cols[-1] - cols[0] > 150  # crosses most of the 320 columns


def test_deterministic_and_independent_of_call_order() -> None:
    a, b = key("002", "bg", 2, 36), key("003", "cl", 1, 144)
    first_a, first_b = render_sequence(SHORT, a), render_sequence(SHORT, b)
    again_b, again_a = render_sequence(SHORT, b), render_sequence(SHORT, a)
    assert np.array_equal(first_a, again_a) and np.array_equal(first_b, again_b)
    assert not np.array_equal(render_sequence(SHORT, a), render_sequence(SyntheticConfig(
        subjects=3, frames_min=6, frames_max=9, seed=1), a))


def test_subjects_differ_and_are_humanly_proportioned() -> None:
    cfg = SHORT.clean
    assert not np.array_equal(render_sequence(cfg, key("001")), render_sequence(cfg, key("002")))
    bodies = [subject_identity(SyntheticConfig(), f"{i:03d}")[0] for i in range(1, 60)]
    heights = np.array([b.height for b in bodies])
    assert 1.52 <= heights.min() and heights.max() <= 1.95 and heights.std() > 0.04
    leg_ratio = np.array([(b.thigh + b.shin + b.ankle) / b.height for b in bodies])
    assert 0.49 < leg_ratio.min() and leg_ratio.max() < 0.57  # subtle, not wildly different


def test_conditions_change_the_walker() -> None:
    cfg = SyntheticConfig()
    assert walk_for(cfg, key(condition="nm")).coat is None and walk_for(cfg, key(condition="nm")).bag is None
    assert walk_for(cfg, key(condition="bg")).bag is not None
    assert walk_for(cfg, key(condition="cl")).coat is not None
    # every view films the same walk of a recording
    assert walk_for(cfg, key(condition="bg", view=0)) == walk_for(cfg, key(condition="bg", view=180))


def test_each_subject_wears_one_outfit_and_it_changes_the_outline() -> None:
    cfg = SyntheticConfig()
    outfits = [subject_identity(cfg, f"{i:03d}")[3] for i in range(1, 125)]
    assert {o.hair for o in outfits} == {"short", "medium", "long", "bun"}
    assert 0.03 < np.mean([o.skirt > 0 for o in outfits]) < 0.2  # some skirts among mostly trousers
    assert len({o.trouser_ease for o in outfits}) == len(outfits)
    # CASIA-B films a subject in one session: the same clothes and hair in every recording.
    worn = {walk_for(cfg, key("001", condition, seq)).outfit for condition, seq in (("nm", 1), ("nm", 6), ("bg", 2))}
    assert worn == {outfits[0]}

    clean = SyntheticConfig(frames_min=30, frames_max=30).clean
    skirted = next(f"{i:03d}" for i, o in enumerate(outfits, 1) if o.skirt > 0.6)
    walk = walk_for(clean, key(skirted))
    shot = shot_for(clean, key(skirted))

    def area(changed) -> float:
        return float((silhouettes(project(clean, changed, shot), clean.frame_shape) > 0).sum())

    without_skirt = replace(walk, outfit=replace(walk.outfit, skirt=0.0))
    assert area(walk) > 1.05 * area(without_skirt)  # the skirt fills the gap between the legs
    for style in ("medium", "long", "bun"):
        assert area(replace(walk, outfit=replace(walk.outfit, hair=style))) > area(
            replace(walk, outfit=replace(walk.outfit, hair="short")))


def test_coat_makes_silhouettes_wider_at_90_degrees() -> None:
    cfg = SyntheticConfig(subjects=6, frames_min=30, frames_max=30).clean
    ratios = []
    for subject in ("001", "002", "003", "004", "005", "006"):
        nm = preprocess_sequence(render_sequence(cfg, key(subject, "nm", 1)))[0]
        cl = preprocess_sequence(render_sequence(cfg, key(subject, "cl", 1)))[0]
        ratios.append((cl > 0).sum((1, 2)).mean() / (nm > 0).sum((1, 2)).mean())
    assert np.mean(ratios) > 1.15 and min(ratios) > 1.0


def test_views_differ_and_tilt_breaks_the_front_back_symmetry() -> None:
    tilted = SyntheticConfig(frames_min=40, frames_max=40).clean
    level = SyntheticConfig(frames_min=40, frames_max=40, tilt_deg=0.0).clean
    side_vs_front = np.abs(gei(tilted, key(view=0)) - gei(tilted, key(view=90))).mean()
    assert side_vs_front > 0.06

    def front_back_gap(cfg: SyntheticConfig) -> float:
        return float(np.mean([np.abs(gei(cfg, key(s, view=v)) - gei(cfg, key(s, view=180 - v))).mean()
                              for s in ("001", "002", "003") for v in (18, 36)]))

    # Without tilt, views theta and 180 - theta show the same silhouettes up to the gait phase.
    assert front_back_gap(tilted) > 1.2 * front_back_gap(level)


def test_segmentation_noise() -> None:
    cfg = SyntheticConfig(subjects=3, frames_min=40, frames_max=40)
    noisy, clean = render_sequence(cfg, key()), render_sequence(cfg.clean, key())
    both = clean.any((1, 2)) & noisy.any((1, 2))
    inter = ((noisy > 0) & (clean > 0)).sum((1, 2))[both]
    union = ((noisy > 0) | (clean > 0)).sum((1, 2))[both]
    iou = inter / union
    assert 0.75 < iou.mean() < 0.99  # ragged edges, holes and shadows, but the same person
    empty = SyntheticConfig(subjects=3, frames_min=6, frames_max=9, empty_rate=1.0)
    assert not render_sequence(empty, key()).any()
    # A walk spanning more than the frame width starts and ends cut by the border.
    wide = SyntheticConfig(subjects=3, frames_min=90, frames_max=90, span=(1.6, 1.6)).clean
    frames = render_sequence(wide, key())
    assert frames[:3, :, 0].any() or not frames[:3].any()
    assert frames[-3:, :, -1].any() or not frames[-3:].any()
    assert frames[len(frames) // 2].any()


def test_rgb_frames_match_the_clean_silhouettes() -> None:
    cfg = SyntheticConfig(subjects=3, frames_min=40, frames_max=40)
    rgb, mask = render_sequence_rgb(cfg, key())
    assert rgb.dtype == np.uint8 and rgb.shape == (40, 240, 320, 3)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 255}
    assert np.array_equal(mask, render_sequence(cfg.clean, key()))
    # The background is static: off the person, every frame shows the same pixels, also for
    # another subject filmed from the same view.
    other, other_mask = render_sequence_rgb(cfg, key("002", "cl", 2))
    free = (mask == 0).all(0) & (other_mask == 0).all(0)
    assert free.mean() > 0.25  # the check below is not vacuous
    assert (rgb[:, free] == rgb[0, free]).all() and (other[:, free] == rgb[0, free]).all()
    # Background subtraction (median background, per-channel threshold) recovers the mask.
    background = np.median(rgb, axis=0)
    found = np.abs(rgb - background).max(-1) > 25
    iou = (found & (mask > 0)).sum() / (found | (mask > 0)).sum()
    assert iou > 0.95
    # The person is coloured and shaded, not a flat cut-out.
    person = rgb[mask > 0].astype(int)
    assert len(np.unique(person, axis=0)) > 50


def test_painting_frames_together_paints_each_as_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shading of several frames' pixels at once (rgb.SHADED_FRAMES) equals frame by frame."""
    cfg = SyntheticConfig(subjects=3, frames_min=19, frames_max=19)
    for k in (key("002", "cl", 1, 36), key("003", "bg", 2, 144)):  # a coat's skirt, a bag
        painted = render_sequence_rgb(cfg, k)
        for frames in (1, 5, 100):
            monkeypatch.setattr(rgb_module, "SHADED_FRAMES", frames)
            again = render_sequence_rgb(cfg, k)
            assert all(np.array_equal(a, b) for a, b in zip(painted, again))


# ---------------------------------------------------------------- PNG trees
def _tree(root: Path) -> dict[str, np.ndarray]:
    return {str(p.relative_to(root)): cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_casia_b_tree_layout_and_round_trip(tmp_path: Path) -> None:
    cfg = SyntheticConfig(subjects=1, frames_min=2, frames_max=3)
    root = tmp_path / "casia-b"
    write_casia_b_tree(cfg, root)
    written = _tree(root)
    expected = {}
    for k in synthetic_keys(cfg):
        frames = render_sequence(cfg, k)
        for i, frame in enumerate(frames, start=1):
            name = f"{k.subject}/{k.condition}-{k.seq:02d}/{k.view:03d}/{k.label}-{i:03d}.png"
            expected[name] = frame
    assert "001/nm-01/090/001-nm-01-090-001.png" in written
    assert written.keys() == expected.keys()
    for name, frame in expected.items():
        assert written[name].dtype == np.uint8 and written[name].shape == (240, 320)
        assert np.array_equal(written[name], frame), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["casia-b"]  # no temporary left


def test_casia_a_tree_layout_and_worker_independence(tmp_path: Path) -> None:
    cfg = SyntheticConfig.for_dataset(CASIA_A, subjects=2, frames_min=2, frames_max=4)
    write_casia_a_tree(cfg, tmp_path / "one", workers=1)
    write_casia_a_tree(cfg, tmp_path / "two", workers=2)
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert "p01/45_2/p01-45_2-001.png" in one and "p02/90_4/p02-90_4-001.png" in one
    assert {name.split("/")[1] for name in one} == {f"{v}_{n}" for v in ("00", "45", "90") for n in range(1, 5)}
    assert one.keys() == two.keys()
    for name in one:
        assert one[name].shape == (240, 352) and np.array_equal(one[name], two[name])
    frames = render_sequence(cfg, SequenceKey(CASIA_A, "p02", "nm", 3, 0))
    assert np.array_equal(np.stack([one[f"p02/00_3/p02-00_3-{i:03d}.png"] for i in range(1, len(frames) + 1)]),
                          frames)


def test_writing_refuses_non_empty_roots_and_wrong_datasets(tmp_path: Path) -> None:
    cfg = SyntheticConfig(subjects=1, frames_min=1, frames_max=1)
    root = tmp_path / "tree"
    root.mkdir()
    (root / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        write_casia_b_tree(cfg, root)
    assert [p.name for p in root.iterdir()] == ["keep.txt"]
    with pytest.raises(ValueError, match="casia_a"):
        write_casia_a_tree(cfg, tmp_path / "a")
    empty = tmp_path / "empty"
    empty.mkdir()
    write_casia_b_tree(cfg, empty)  # an existing empty folder is fine
    assert len(list(empty.rglob("*.png"))) == 110


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def failing(path: Path, frame: np.ndarray) -> None:
        calls.append(path)
        if len(calls) > 20:
            raise OSError("disk full")
        cv2.imwrite(str(path), frame)

    monkeypatch.setattr(trees, "write_png", failing)
    with pytest.raises(OSError, match="disk full"):
        write_casia_b_tree(SyntheticConfig(subjects=1, frames_min=2, frames_max=2), tmp_path / "tree")
    assert list(tmp_path.iterdir()) == []


def test_segmentation_artifacts_are_the_stores_noise_for_any_mask_of_the_same_frames() -> None:
    """The store's noisy masks are the exact masks with the recording's artifacts; the artifacts of
    frame t follow a mask wherever it lands (the video path inserts and replaces frames)."""
    cfg = SyntheticConfig(subjects=5, frames_min=20, frames_max=24, hole_rate=3.0, shadow_rate=0.5, empty_rate=0.1)
    recording = key("004", "cl", 1, 72)
    noisy = render_sequence(cfg, recording)
    exact = render_sequence(cfg.clean, recording)
    artifacts = segmentation_artifacts(cfg, recording)
    assert len(artifacts) == len(noisy)
    assert np.array_equal(artifacts.apply_all(exact), noisy)
    assert not np.array_equal(noisy, exact)
    assert np.array_equal(exact, render_sequence(cfg.clean, recording))  # apply_all leaves its input alone
    origin = np.array([0, 0, 3, 2, len(noisy) - 1])  # a duplicate (an inserted frame) and a swap
    assert np.array_equal(artifacts.apply_all(exact[origin], origin), noisy[origin])
    with pytest.raises(ValueError, match="origins in 0"):
        artifacts.apply_all(exact[:2], np.array([0, len(noisy)]))
