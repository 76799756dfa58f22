"""Temporal sparsity plans: K per sparsity, masks, insertion lengths, assembly and neighbours."""

from fractions import Fraction

import numpy as np
import pytest

from gaitcore.attacks.plan import FramePlan, num_generated, plan_frames
from gaitcore.attacks.vocabulary import Sparsity


@pytest.mark.parametrize(
    ("frames", "sparsity", "floor_plus_one", "ceil"),
    [
        (80, "1/40", 3, 2),  # the paper's code: floor(80 / 40) + 1
        (80, "1/20", 5, 4),
        (80, "1/10", 9, 8),
        (39, "1/40", 1, 1),
        (41, "1/40", 2, 2),
        (100, "1/10", 11, 10),
        (1, "1/40", 1, 1),
    ],
)
def test_k_for_every_sparsity_and_rounding(frames, sparsity, floor_plus_one, ceil):
    s = Sparsity.parse(sparsity).value
    assert num_generated(frames, s, "floor_plus_one") == floor_plus_one
    assert num_generated(frames, s, "ceil") == ceil


def test_an_unknown_k_rule_is_refused():
    with pytest.raises(ValueError, match="rounding"):
        num_generated(10, Fraction(1, 10), "round")


def test_alteration_first_k_replaces_the_first_frames():
    plan = plan_frames(80, Fraction(1, 20), kind="alteration", placement="first")
    assert plan.k == 5 and plan.length == 80
    assert plan.generated.tolist() == [0, 1, 2, 3, 4]
    assert plan.kept.tolist() == list(range(5, 80)) and plan.kept_source.tolist() == list(range(5, 80))
    original = np.arange(80)[:, None, None] * np.ones((1, 2, 2), dtype=np.int64)
    generated = -np.ones((5, 2, 2), dtype=np.int64)
    out = plan.assemble(original, generated)
    assert (out[:5] == -1).all() and (out[5:] == original[5:]).all()


def test_insertion_adds_k_frames_and_keeps_every_original_in_order():
    rng = np.random.default_rng(3)
    plan = plan_frames(50, Fraction(1, 10), kind="insertion", placement="random", rng=rng)
    assert plan.k == 6 and plan.length == 56
    assert sorted(plan.generated.tolist() + plan.kept.tolist()) == list(range(56))
    assert plan.kept_source.tolist() == list(range(50))
    out = plan.assemble(np.arange(50), -np.ones(6, dtype=np.int64))
    assert out[out >= 0].tolist() == list(range(50))
    assert np.flatnonzero(out < 0).tolist() == plan.generated.tolist()


def test_random_placement_is_a_sorted_subset_drawn_by_the_generator():
    a = plan_frames(60, Fraction(1, 10), placement="random", rng=np.random.default_rng(1))
    b = plan_frames(60, Fraction(1, 10), placement="random", rng=np.random.default_rng(1))
    c = plan_frames(60, Fraction(1, 10), placement="random", rng=np.random.default_rng(2))
    assert a.generated.tolist() == b.generated.tolist() != c.generated.tolist()
    assert (np.diff(a.generated) > 0).all() and len(set(a.generated) & set(a.kept)) == 0
    with pytest.raises(ValueError, match="random generator"):
        plan_frames(60, Fraction(1, 10), placement="random")


def test_neighbours_are_the_nearest_original_frames_around_each_generated_place():
    plan = plan_frames(10, Fraction(1, 5), kind="alteration", placement="first")  # K = 3: places 0, 1, 2
    assert plan.neighbours().tolist() == [[-1, 3], [-1, 3], [-1, 3]]
    rng = np.random.default_rng(0)
    plan = plan_frames(6, Fraction(1, 3), kind="insertion", placement="random", rng=rng)
    for place, (before, after) in zip(plan.generated, plan.neighbours()):
        sequence = plan.assemble(np.arange(6), -np.ones(plan.k, dtype=np.int64))
        left = [v for v in sequence[:place] if v >= 0]
        right = [v for v in sequence[place + 1 :] if v >= 0]
        assert before == (left[-1] if left else -1) and after == (right[0] if right else -1)


def test_alteration_must_keep_an_original_frame():
    with pytest.raises(ValueError, match="at least one original frame"):
        plan_frames(1, Fraction(1, 40))
    assert plan_frames(1, Fraction(1, 40), kind="insertion").length == 2


@pytest.mark.parametrize("kind", ["alteration", "insertion"])
def test_a_plan_is_rebuilt_from_its_recorded_places(kind):
    rng = np.random.default_rng(4)
    plan = plan_frames(37, Fraction(1, 10), kind=kind, placement="random", rng=rng)
    again = FramePlan.from_positions(kind, 37, plan.generated[::-1])
    for field in ("generated", "kept", "kept_source"):
        assert np.array_equal(getattr(again, field), getattr(plan, field))
    with pytest.raises(ValueError, match="do not fit"):
        FramePlan.from_positions(kind, 37, [0, 0, 1])


def test_start_frames_are_the_replaced_frames_or_the_next_original_neighbour():
    original = np.arange(6)[:, None, None] * np.ones((1, 2, 2), dtype=np.uint8)
    altered = FramePlan.from_positions("alteration", 6, [1, 4])
    assert altered.start_frames(original)[:, 0, 0].tolist() == [1, 4]
    inserted = FramePlan.from_positions("insertion", 6, [0, 3, 7])  # sequence: g 0 1 g 2 3 4 g
    assert inserted.start_frames(original)[:, 0, 0].tolist() == [0, 2, 5]  # the frame after; the last has none after
