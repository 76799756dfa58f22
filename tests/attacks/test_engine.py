"""The attack engine against the plain one-by-one reference, and the pieces of Algorithm 1."""

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gaitcore.attacks.engine import (
    AttackItem,
    AttackSettings,
    TemporalSparseAttack,
    Victim,
    attack_objective,
    initial_latents,
    momentum_step,
    on_sphere,
    reference_attack,
    soft_iou,
)
from gaitcore.attacks.plan import plan_frames
from gaitcore.models.gaitgl import build_gaitgl
from gaitcore.models.gaitpart import build_gaitpart
from gaitcore.models.gaitset import build_gaitset, silhouettes_to_input
from gaitcore.models.realism import RealismScore
from gaitcore.models.wgan import binarize, build_critic, build_generator

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def victim():
    torch.manual_seed(0)
    gaitset = build_gaitset(channels=(4, 8, 16), hidden_dim=16)
    generator, critic = build_generator(dim=4), build_critic(dim=4)
    generator.train()
    with torch.no_grad():  # give batch norm non-trivial running statistics, then freeze them
        for _ in range(3):
            generator(torch.randn(16, generator.latent_dim))
    return Victim(gaitset.eval(), generator.eval(), RealismScore(critic.eval(), 0.5, -1.0))


def walking_frames(rng, n):
    """Bars that move across the frame: sequences GaitSet sees as silhouettes."""
    frames = np.zeros((n, 64, 64), dtype=np.uint8)
    for t in range(n):
        left = 16 + (3 * t) % 24
        frames[t, 6:60, left : left + 10 + int(rng.integers(0, 4))] = 255
    return frames


def make_items(victim, settings, *, kinds=("alteration", "insertion"), placement="random", seed=0,
               lengths=(23, 41, 30, 12)):
    rng = np.random.default_rng(seed)
    items = []
    for i, n in enumerate(lengths):
        frames = walking_frames(rng, n)
        plan = plan_frames(n, Fraction(1, 10), kind=kinds[i % len(kinds)], placement=placement, rng=rng)
        with torch.no_grad():
            if settings.goal == "nontargeted":
                reference = victim.model(silhouettes_to_input(frames)[None])[0]
            else:
                reference = victim.model(silhouettes_to_input(walking_frames(rng, 20)[:, :, ::-1].copy())[None])[0]
        items.append(AttackItem(frames, plan, reference, seed=100 + i))
    return items


@pytest.mark.parametrize("goal, binary", [("nontargeted", False), ("targeted", False), ("nontargeted", True)])
def test_batched_engine_equals_the_plain_one_by_one_reference(victim, goal, binary):
    """Bit for bit: sign steps turn any last-bit difference into a different trajectory."""
    settings = AttackSettings(goal=goal, iterations=20, chunk_size=3, binary_frames=binary)
    items = make_items(victim, settings, lengths=(23, 41, 30, 12, 9))  # chunks of 3 and 2
    outcomes = TemporalSparseAttack(victim, settings).attack(items)
    for item, outcome in zip(items, outcomes):
        latents, frames = reference_attack(victim, item, settings)
        assert outcome.latents.shape == (item.plan.k, victim.latent_dim)
        assert torch.equal(outcome.latents, latents)
        assert np.array_equal(outcome.generated, frames)
        assert outcome.iterations == 20


@pytest.mark.parametrize("build", [lambda: build_gaitpart(channels=(2, 4, 8), hidden_dim=8),
                                   lambda: build_gaitgl(channels=(2, 4, 8), class_num=5)], ids=["GaitPart", "GaitGL"])
def test_order_dependent_victims_run_the_full_forward_and_equal_the_reference(victim, build):
    """GaitPart and GaitGL through the engine's incremental pair (full forward on the assembled
    sequences, channels-last where it applies): bit for bit the plain one-by-one reference, and the
    stored features are those of the assembled uint8 sequence."""
    torch.manual_seed(1)
    other = Victim(build().eval(), victim.generator, victim.realism).to_channels_last()
    settings = AttackSettings(iterations=6, chunk_size=2)
    items = make_items(other, settings, lengths=(23, 17, 12))
    outcomes = TemporalSparseAttack(other, settings).attack(items)
    for item, outcome in zip(items, outcomes):
        latents, frames = reference_attack(other, item, settings)
        assert torch.equal(outcome.latents, latents) and np.array_equal(outcome.generated, frames)
        with torch.no_grad():
            full = other.model(silhouettes_to_input(item.plan.assemble(item.frames, outcome.generated))[None])[0]
        torch.testing.assert_close(outcome.features, full, rtol=1e-4, atol=1e-5)


def test_results_do_not_depend_on_the_chunk_size(victim):
    one = AttackSettings(iterations=6, chunk_size=1)
    items = make_items(victim, one, placement="first")
    by_one = TemporalSparseAttack(victim, one).attack(items)
    by_three = TemporalSparseAttack(victim, AttackSettings(iterations=6, chunk_size=3)).attack(items)
    for a, b in zip(by_one, by_three):
        assert torch.equal(a.latents, b.latents) and torch.equal(a.features, b.features)
        assert a.cosine == b.cosine


def test_stored_features_are_those_of_the_assembled_uint8_sequence(victim):
    settings = AttackSettings(iterations=3)
    items = make_items(victim, settings)
    for item, outcome in zip(items, TemporalSparseAttack(victim, settings).attack(items)):
        sequence = item.plan.assemble(item.frames, outcome.generated)
        assert len(sequence) == item.plan.length
        with torch.no_grad():
            full = victim.model(silhouettes_to_input(sequence)[None])[0]
        torch.testing.assert_close(outcome.features, full, rtol=1e-4, atol=1e-5)
        expected = F.cosine_similarity(full.flatten(), item.reference.flatten(), dim=0)
        assert outcome.cosine == pytest.approx(float(expected), abs=1e-5)


def test_nontargeted_cosine_falls_and_targeted_cosine_rises(victim):
    for goal, direction in (("nontargeted", -1), ("targeted", 1)):
        settings = AttackSettings(goal=goal, iterations=15, realism_weight=0.0)
        items = make_items(victim, settings, kinds=("alteration",), lengths=(10, 12))
        for outcome in TemporalSparseAttack(victim, settings).attack(items):
            first, last = outcome.cosine_history[0], outcome.cosine_history[-1]
            assert direction * (last - first) > 1e-4, (goal, outcome.cosine_history)


def test_random_control_draws_gaussian_latents_and_does_not_optimise(victim):
    settings = AttackSettings(setting="random", iterations=50)
    items = make_items(victim, settings)
    for item, outcome in zip(items, TemporalSparseAttack(victim, settings).attack(items)):
        expected = torch.randn(item.plan.k, victim.latent_dim, generator=torch.Generator().manual_seed(item.seed))
        torch.testing.assert_close(outcome.latents, expected)
        assert outcome.iterations == 0 and np.isnan(outcome.cosine_history).all()


def test_binarize_is_a_threshold_forward_and_the_identity_backward():
    x = torch.tensor([-0.7, -0.0001, 0.0, 0.4], requires_grad=True)
    y = binarize(x)
    assert y.tolist() == [-1.0, -1.0, 1.0, 1.0]
    (y * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("setting", ["adversary", "random"])
def test_binary_frames_are_stored_and_scored_as_0_or_255(victim, setting):
    settings = AttackSettings(setting=setting, iterations=4, binary_frames=True)
    items = make_items(victim, settings)
    grey = TemporalSparseAttack(victim, replace(settings, binary_frames=False)).attack(items)
    for item, outcome, before in zip(items, TemporalSparseAttack(victim, settings).attack(items), grey):
        assert set(np.unique(outcome.generated)) <= {0, 255}
        sequence = item.plan.assemble(item.frames, outcome.generated)
        with torch.no_grad():
            full = victim.model(silhouettes_to_input(sequence)[None])[0]
        torch.testing.assert_close(outcome.features, full, rtol=1e-4, atol=1e-5)
        if setting == "random":  # the same draws, thresholded at the store's foreground value 128
            np.testing.assert_array_equal(outcome.generated, np.where(before.generated >= 128, 255, 0))


def test_latents_stay_on_the_sphere_of_radius_sqrt_v():
    z = initial_latents(500, 128, seed=0)
    assert torch.allclose(z.norm(dim=1), torch.full((500,), math.sqrt(128)), atol=1e-4)
    assert abs(float(z.mean())) < 0.02  # uniform on the sphere: no preferred direction
    w = torch.randn(3, 128) * 7 + 2
    assert torch.allclose(on_sphere(w).norm(dim=1), torch.full((3,), math.sqrt(128)), atol=1e-4)


def test_objective_known_answers():
    features = torch.tensor([[[1.0, 0.0]], [[1.0, 0.0]]])
    reference = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])  # cos 1 and cos 0
    logits = torch.tensor([0.0, 2.0, -1.0])  # sequence 0 has two frames, sequence 1 one
    segments = torch.tensor([0, 0, 1])
    bce = [(F.softplus(torch.tensor(0.0)) + F.softplus(torch.tensor(-2.0))) / 2, F.softplus(torch.tensor(1.0))]
    nontargeted, cosine = attack_objective(features, reference, logits, segments, AttackSettings(realism_weight=3.0))
    assert cosine.tolist() == pytest.approx([1.0, 0.0])
    assert nontargeted.tolist() == pytest.approx([0.0 - 3 * float(bce[0]), 1.0 - 3 * float(bce[1])])
    targeted, _ = attack_objective(features, reference, logits, segments,
                                   AttackSettings(goal="targeted", realism_weight=3.0))
    assert targeted.tolist() == pytest.approx([0.0 - 3 * float(bce[0]), -1.0 - 3 * float(bce[1])])
    gap = torch.tensor([0.5, 0.1, 0.2])
    with_gap, _ = attack_objective(features, reference, logits, segments,
                                   AttackSettings(realism_weight=3.0, temporal_weight=2.0), gap)
    assert (nontargeted - with_gap).tolist() == pytest.approx([2 * 0.3, 2 * 0.2])


def test_momentum_step_normalises_each_sequence_by_its_own_l1_norm():
    settings = AttackSettings(decay=0.5, step_size=0.1)
    w = torch.zeros(3, 2)
    grad = torch.tensor([[1.0, -3.0], [0.0, 4.0], [-2.0, 2.0]])
    momentum = torch.tensor([[0.0, 0.0], [1.0, 1.0], [-1.0, 1.0]])
    segments = torch.tensor([0, 0, 1])
    new_w, new_m = momentum_step(w, grad, momentum, segments, 2, settings)
    expected_m = 0.5 * momentum + torch.tensor([[1 / 8, -3 / 8], [0.0, 4 / 8], [-2 / 4, 2 / 4]])
    torch.testing.assert_close(new_m, expected_m)
    torch.testing.assert_close(new_w, 0.1 * expected_m.sign())


def test_soft_iou_known_answers():
    a = torch.zeros(4, 4)
    a[:2] = 1.0
    b = torch.zeros(4, 4)
    b[1:3] = 1.0
    assert float(soft_iou(a, b)) == pytest.approx(4 / 12)
    assert float(soft_iou(a, a)) == pytest.approx(1.0)


def test_early_stop_freezes_sequences_that_already_succeeded(victim):
    settings = AttackSettings(iterations=5, early_stop=True, chunk_size=4)
    items = make_items(victim, settings)
    calls = []

    def succeeded(features, sequences):
        calls.append(list(sequences))
        return torch.tensor([s == 1 and len(calls) >= 3 for s in sequences])  # sequence 1 after 2 updates

    outcomes = TemporalSparseAttack(victim, settings).attack(items, succeeded=succeeded)
    assert [o.iterations for o in outcomes] == [5, 2, 5, 5]
    assert 1 not in calls[-1]
    plain = TemporalSparseAttack(victim, AttackSettings(iterations=5)).attack(items)
    for i in (0, 2, 3):  # the others are unaffected by a neighbour leaving the chunk
        assert torch.equal(outcomes[i].latents, plain[i].latents)
    off = TemporalSparseAttack(victim, AttackSettings(iterations=5)).attack(items, succeeded=succeeded)
    assert [o.iterations for o in off] == [5, 5, 5, 5]  # early_stop off: the check is ignored


def test_temporal_term_pulls_generated_frames_toward_their_neighbours(victim):
    plain = AttackSettings(iterations=20, realism_weight=0.0)
    smooth = AttackSettings(iterations=20, realism_weight=0.0, temporal_weight=50.0)
    items = make_items(victim, plain, kinds=("alteration",), lengths=(20, 24))

    def mean_iou(outcomes):
        values = []
        for item, outcome in zip(items, outcomes):
            index = item.plan.neighbours()
            for frame, (before, after) in zip(outcome.generated, index):
                neighbour = item.frames[after if after >= 0 else before]
                values.append(float(soft_iou(torch.tensor(frame / 255.0), torch.tensor(neighbour / 255.0))))
        return np.mean(values)

    assert (mean_iou(TemporalSparseAttack(victim, smooth).attack(items))
            > mean_iou(TemporalSparseAttack(victim, plain).attack(items)) + 0.02)


def test_bfloat16_autocast_runs_and_stays_close_in_cosine(victim):
    items = make_items(victim, AttackSettings())
    half = TemporalSparseAttack(victim, AttackSettings(iterations=2, dtype="bfloat16")).attack(items)
    full = TemporalSparseAttack(victim, AttackSettings(iterations=2)).attack(items)
    for a, b in zip(half, full):
        assert a.generated.shape == b.generated.shape
        assert abs(a.cosine - b.cosine) < 0.05


def test_a_bfloat16_attack_is_scored_in_float32_on_its_stored_frames(victim):
    """Autocast speeds the attack up; the victim still scores the stored frames at full precision, as
    the clean features it is compared with."""
    items = make_items(victim, AttackSettings())
    for item, outcome in zip(items, TemporalSparseAttack(victim, AttackSettings(iterations=2, dtype="bfloat16")
                                                         ).attack(items)):
        sequence = item.plan.assemble(item.frames, outcome.generated)
        with torch.no_grad():
            full = victim.model(silhouettes_to_input(sequence)[None])[0]
        assert outcome.features.dtype == torch.float32
        torch.testing.assert_close(outcome.features, full, rtol=1e-4, atol=1e-5)


def test_settings_are_validated():
    with pytest.raises(ValueError, match="goal"):
        AttackSettings(goal="evasive")
    with pytest.raises(ValueError, match="dtype"):
        AttackSettings(dtype="float16")
    with pytest.raises(ValueError, match="temporal_weight 0"):
        reference_attack(None, None, AttackSettings(temporal_weight=1.0))
