"""The pixel-space baselines (FGSM, PGD, MI-FGSM): known answers, torchattacks agreement, budget, batching."""

from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gaitcore.attacks.engine import AttackItem
from gaitcore.attacks.perturbation import (
    PerturbationAttack,
    PerturbationSettings,
    perturb,
    project,
    to_store,
)
from gaitcore.attacks.plan import plan_frames
from gaitcore.models.gaitgl import build_gaitgl
from gaitcore.models.gaitpart import build_gaitpart
from gaitcore.models.gaitset import CROP, INPUT_WIDTH, build_gaitset, silhouettes_to_input
from tests.attacks.test_engine import walking_frames

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------------------- known answers
def test_fgsm_on_a_linear_objective_steps_the_budget_along_the_weights_sign():
    """J(x) = <w, x>: the gradient is w everywhere, so FGSM gives clip(x + eps sign(w), 0, 1)."""
    w = torch.tensor([[0.5, -2.0, 0.0], [1.0, 1.0, -0.1]])
    x = torch.tensor([[0.2, 0.9, 0.5], [0.95, 0.0, 0.05]])
    settings = PerturbationSettings(method="fgsm", budget=0.1)
    out = perturb(lambda v: (v * w).sum(1), x, settings)
    expected = torch.tensor([[0.3, 0.8, 0.5], [1.0, 0.1, 0.0]])  # sign(0) = 0: unchanged; 1.05 and -0.05 clipped
    torch.testing.assert_close(out, expected)
    # The paper's budget 1 on [0, 1] pixels: every pixel goes to 0 or 1 wherever the gradient is nonzero.
    unbounded = perturb(lambda v: (v * w).sum(1), x, PerturbationSettings(method="fgsm", budget=1.0))
    torch.testing.assert_close(unbounded, torch.tensor([[1.0, 0.0, 0.5], [1.0, 1.0, 0.0]]))


def test_iterative_methods_on_a_linear_objective_walk_to_the_budget():
    """With a constant gradient, PGD and MI-FGSM move every pixel by min(T alpha, eps) along sign(w)."""
    w = torch.tensor([[1.0, -1.0, 2.0, -3.0]])
    x = torch.full((1, 4), 0.5)
    for method in ("pgd", "mifgsm"):
        settings = PerturbationSettings(method=method, budget=0.2, step_size=0.03, iterations=5, random_start=False)
        torch.testing.assert_close(perturb(lambda v: (v * w).sum(1), x, settings),
                                   torch.tensor([[0.65, 0.35, 0.65, 0.35]]))
        settings = PerturbationSettings(method=method, budget=0.2, step_size=0.03, iterations=20, random_start=False)
        torch.testing.assert_close(perturb(lambda v: (v * w).sum(1), x, settings),
                                   torch.tensor([[0.7, 0.3, 0.7, 0.3]]))


def test_project_clips_to_the_budget_and_the_pixel_range():
    clean = torch.tensor([0.0, 0.5, 1.0, 0.5])
    x = torch.tensor([-0.5, 0.9, 0.7, 0.45])
    torch.testing.assert_close(project(x, clean, 0.25), torch.tensor([0.0, 0.75, 0.75, 0.45]))


# ------------------------------------------------------------------------------- torchattacks
class TinyClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 8 * 8, 5)

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).flatten(1))


@pytest.mark.parametrize("method", ["fgsm", "pgd", "mifgsm"])
def test_agrees_with_torchattacks_on_a_cross_entropy_classifier(method):
    import torchattacks  # the test extra installs it; a missing reference must fail, not skip

    torch.manual_seed(0)
    model = TinyClassifier().eval()
    images = torch.rand(6, 1, 8, 8)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    eps, alpha, steps = 8 / 255, 2 / 255, 10
    reference = {
        "fgsm": lambda: torchattacks.FGSM(model, eps=eps),
        "pgd": lambda: torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=False),
        "mifgsm": lambda: torchattacks.MIFGSM(model, eps=eps, alpha=alpha, steps=steps, decay=1.0),
    }[method]()(images, labels)
    settings = PerturbationSettings(method=method, budget=eps, step_size=alpha, iterations=steps, decay=1.0,
                                    random_start=False)
    ours = perturb(lambda x: F.cross_entropy(model(x), labels, reduction="none"), images, settings)
    assert not torch.equal(ours, images)
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)


# ------------------------------------------------------------------------------- on GaitSet
@pytest.fixture(scope="module")
def gaitset():
    torch.manual_seed(0)
    return build_gaitset(channels=(4, 8, 16), hidden_dim=16).eval()


def items(gaitset, kind="alteration", lengths=(23, 41, 30), goal="nontargeted"):
    rng = np.random.default_rng(1)
    out = []
    for i, n in enumerate(lengths):
        frames = walking_frames(rng, n)
        plan = plan_frames(n, Fraction(1, 10), kind=kind, placement="random", rng=rng)
        other = frames if goal == "nontargeted" else walking_frames(rng, 20)[:, :, ::-1].copy()
        with torch.no_grad():
            reference = gaitset(silhouettes_to_input(other)[None])[0]
        out.append(AttackItem(frames, plan, reference, seed=10 + i))
    return out


@pytest.mark.parametrize("kind", ["alteration", "insertion"])
def test_pgd_changes_only_the_planned_frames_inside_the_crop_and_the_budget(gaitset, kind):
    settings = PerturbationSettings(method="pgd", budget=0.1, step_size=0.03, iterations=4, random_start=True)
    batch = items(gaitset, kind)
    outcomes = PerturbationAttack(gaitset, settings).attack(batch)
    for item, outcome in zip(batch, outcomes):
        start = item.plan.start_frames(item.frames)
        assert outcome.generated.shape == start.shape and outcome.generated.dtype == np.uint8
        change = outcome.generated.astype(int) - start.astype(int)
        assert np.abs(change).max() <= round(0.1 * 255) and np.abs(change).max() > 0  # the budget, in uint8 steps
        outside = np.ones(64, dtype=bool)
        outside[CROP : CROP + INPUT_WIDTH] = False
        assert not change[:, :, outside].any()  # columns GaitSet never sees stay as they were
        assert outcome.iterations == 4 and np.isnan(outcome.realism)
    # The stored features are those of the stored frames put back into the sequence.
    item, outcome = batch[0], outcomes[0]
    with torch.no_grad():
        full = gaitset(silhouettes_to_input(item.plan.assemble(item.frames, outcome.generated))[None])[0]
    torch.testing.assert_close(outcome.features, full, rtol=1e-5, atol=1e-5)


def test_insertion_starts_from_the_neighbouring_frame(gaitset):
    rng = np.random.default_rng(0)
    frames = walking_frames(rng, 20)
    plan = plan_frames(20, Fraction(1, 10), kind="insertion", placement="first")
    assert plan.k == 3 and np.array_equal(plan.generated, [0, 1, 2])
    assert np.array_equal(plan.start_frames(frames), frames[[0, 0, 0]])  # each copies original frame 0, just after


@pytest.mark.parametrize("method", ["fgsm", "pgd", "mifgsm"])
@pytest.mark.parametrize("goal", ["nontargeted", "targeted"])
def test_batched_equals_one_by_one_and_moves_the_cosine_the_right_way(gaitset, method, goal):
    batch = items(gaitset, goal=goal)
    # a small budget: one first-order step must move the cosine the right way (a budget of 1 may overshoot)
    settings = PerturbationSettings(goal=goal, method=method, budget=0.02, step_size=0.005, iterations=5, chunk_size=3)
    together = PerturbationAttack(gaitset, settings).attack(batch)
    alone = PerturbationAttack(gaitset, PerturbationSettings(**{**settings.__dict__, "chunk_size": 1})).attack(batch)
    for a, b, item in zip(together, alone, batch):
        assert np.array_equal(a.generated, b.generated)
        assert torch.equal(a.features, b.features)
        with torch.no_grad():
            start = gaitset(
                silhouettes_to_input(item.plan.assemble(item.frames, item.plan.start_frames(item.frames)))[None])
        before = float(F.cosine_similarity(start.flatten(1), item.reference.flatten()[None]))
        assert (a.cosine < before) if goal == "nontargeted" else (a.cosine > before)


@pytest.mark.parametrize("build", [lambda: build_gaitpart(channels=(2, 4, 8), hidden_dim=8),
                                   lambda: build_gaitgl(channels=(2, 4, 8), class_num=5)], ids=["GaitPart", "GaitGL"])
def test_baselines_attack_order_dependent_victims_by_their_full_forward(build):
    """PGD against GaitPart / GaitGL: batched equals one by one, and the stored features are those of
    the assembled sequence (the full-forward incremental pair)."""
    torch.manual_seed(2)
    model = build().eval()
    batch = items(model, "alteration")
    settings = PerturbationSettings(method="pgd", budget=0.1, step_size=0.03, iterations=3, chunk_size=3)
    together = PerturbationAttack(model, settings).attack(batch)
    alone = PerturbationAttack(model, PerturbationSettings(**{**settings.__dict__, "chunk_size": 1})).attack(batch)
    for a, b, item in zip(together, alone, batch):
        assert np.array_equal(a.generated, b.generated) and torch.equal(a.features, b.features)
        with torch.no_grad():
            full = model(silhouettes_to_input(item.plan.assemble(item.frames, a.generated))[None])[0]
        torch.testing.assert_close(a.features, full, rtol=1e-5, atol=1e-5)


def test_to_store_keeps_the_cut_columns_and_rounds():
    start = np.full((1, 64, 64), 7, dtype=np.uint8)
    x = torch.full((1, 64, INPUT_WIDTH), 0.5)
    out = to_store(start, x)
    assert (out[:, :, :CROP] == 7).all() and (out[:, :, CROP + INPUT_WIDTH :] == 7).all()
    assert (out[:, :, CROP : CROP + INPUT_WIDTH] == 128).all()


def test_settings_are_checked():
    with pytest.raises(ValueError, match="unknown perturbation method"):
        PerturbationSettings(method="cw")
    with pytest.raises(ValueError, match="unknown attack goal"):
        PerturbationSettings(goal="evasive")
    assert PerturbationSettings(method="fgsm").steps == 1 and PerturbationSettings(method="pgd").steps == 20
