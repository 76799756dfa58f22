"""Rule K6's table (gaitcore.experiments.wgan_recipes): Fréchet ratios with a paired bootstrap over
the validation subjects (naive reference of a resample, known answers), the verdict, the roles of
subjects, and the recipe check."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from gaitcore.evaluation.frechet import features_frechet_distance, frechet_ratios
from gaitcore.experiments.wgan_recipes import (
    REFERENCE,
    chosen_recipe,
    recipe_comparison,
    recipe_markdown,
    training_compute,
    verdict,
)
from gaitcore.models.gaitset import build_gaitset, save_gaitset
from gaitcore.training.checkpoint import snapshot_path
from gaitcore.training.wgan import train_wgan
from tests.training.test_wgan_training import TINY
from tests.training.test_wgan_training import build_store as build_wgan_store

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_ratios_are_distances_over_the_floor_and_a_resample_matches_a_naive_one():
    rng = np.random.default_rng(0)
    n, subjects = 40, np.tile(["063", "064", "065", "066"], 20)  # every subject in both halves
    real = rng.normal(size=(2 * n, 3)) + (np.arange(2 * n) % 4)[:, None] * 0.1
    generated = {"near": real[n:] + 0.01 * rng.normal(size=(n, 3)), "far": rng.normal(2.0, 1.0, size=(n, 3))}
    out = frechet_ratios(real, subjects, generated, n_resamples=50, seed=7)
    floor = features_frechet_distance(real[:n], real[n:])
    for name, g in generated.items():
        assert out.estimates[name] == pytest.approx(features_frechet_distance(g, real[:n]) / floor, rel=1e-12)
    assert out.frames == n and out.subjects == 4
    # the first resample, drawn by hand: subjects with replacement (all their frames of each half),
    # then generated rows with replacement
    draw = np.random.default_rng(7)
    walkers = draw.integers(0, 4, 4)
    chosen = np.concatenate([np.flatnonzero(subjects == ["063", "064", "065", "066"][w]) for w in walkers])
    rows = draw.integers(0, n, n)
    a, b = chosen[chosen < n], chosen[chosen >= n]
    naive = features_frechet_distance(generated["far"][rows], real[a]) / features_frechet_distance(real[a], real[b])
    assert out.draws["far"][0] == pytest.approx(naive, rel=1e-10)
    far, near = out.interval("far"), out.interval("near")
    assert near.high < far.low and far.low <= far.estimate <= far.high
    paired = out.interval("far", minus="near")
    assert paired.estimate == pytest.approx(far.estimate - near.estimate) and paired.low > 0


def test_half_b_scores_one_and_a_set_against_itself_has_a_zero_paired_interval():
    rng = np.random.default_rng(1)
    real, subjects = rng.normal(size=(60, 2)), np.tile(["a", "b", "c"], 20)
    out = frechet_ratios(real, subjects, {"b": real[30:], "copy": real[30:].copy()}, n_resamples=30)
    assert out.estimates["b"] == pytest.approx(1.0, rel=1e-12)
    same = out.interval("b", minus="copy")
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="every generated set needs 30 frames"):
        frechet_ratios(real, subjects, {"short": real[:10]})
    with pytest.raises(ValueError, match="even number"):
        frechet_ratios(real[:59], subjects[:59], {})


def test_rule_k6_verdicts_and_choice():
    # the default's time before the resampling lever plus 10 %: 1.5x the compute fits, 1.6x does not
    assert verdict(1.6, -5.0) == "over budget"
    assert verdict(1.5, -0.01) == "better"
    assert verdict(1.0, 0.0) == "not better"
    assert training_compute({"iterations": 280, "batch_size": 32, "critic_steps": 5, "dim": 16}) == 280 * 32 * 17 * 256
    # equal compute at another width: iterations scaled by the square of the width ratio
    assert training_compute({"iterations": 124, "batch_size": 32, "critic_steps": 5, "dim": 24}) == pytest.approx(
        training_compute({"iterations": 280, "batch_size": 32, "critic_steps": 5, "dim": 16}), rel=0.01)


def build_store(root, test_value=255):
    """Training subjects 001-003, validation 004-005 and a test subject 006 whose frames are ``test_value``."""
    return build_wgan_store(root, subjects=6, values={6: test_value})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipes")
    store = build_store(root / "casia_b")
    torch.manual_seed(0)
    save_gaitset(build_gaitset(channels=(2, 4, 8), hidden_dim=8), root / "gaitset.pt")
    train_wgan(store, root / "default.pt", root / "default_resume.pt", TINY)
    for name, lever in {"same": {}, "cutout": {"augment": "translation_cutout"}}.items():
        train_wgan(store, root / f"{name}.pt", root / f"{name}_resume.pt", replace(TINY, snapshots=(3,), **lever),
                   snapshot_dir=root / name)
    recipes = {name: [snapshot_path(root / name, 3), root / f"{name}.pt"] for name in ("same", "cutout")}
    return root, store, recipes


def comparison(root, store, recipes, **kwargs):
    return recipe_comparison(root / "default.pt", recipes, store, root / "gaitset.pt",
                             overrides={"same": {}, "cutout": {"augment": "translation_cutout"}},
                             validation_subjects=(4, 5), frames=32, n_resamples=40, **kwargs)


def test_the_default_retrained_with_snapshots_scores_exactly_the_default(trained):
    root, store, recipes = trained
    table = comparison(root, store, recipes)
    assert table["recipe"].tolist() == [REFERENCE, "same", "same", "cutout", "cutout"]
    assert table["iteration"].tolist() == [6, 3, 6, 3, 6] and table["final"].tolist() == [True, False, True, False,
                                                                                          True]
    assert table["compute"].tolist() == [1.0, 0.5, 1.0, 0.5, 1.0]
    same = table[(table["recipe"] == "same") & table["final"]].iloc[0]
    assert (same["binary_difference"], same["binary_difference_low"], same["binary_difference_high"]) == (0, 0, 0)
    assert same["verdict"] == "not better" and same["subjects"] == 2 and same["frames"] == 32
    assert np.isfinite(table[["grey_ratio", "grey_ratio_low", "binary_ratio_high"]].to_numpy()).all()
    markdown = recipe_markdown(table)
    assert "| same | (wgan.train) | 3 (snapshot) | 0.50 |" in markdown
    assert ("no candidate is better" in markdown) == (chosen_recipe(table) is None)


def test_test_subjects_never_matter(trained, tmp_path):
    root, store, recipes = trained
    other = build_store(tmp_path / "casia_b", test_value=128)  # subject 006's frames differ
    a, b = comparison(root, store, recipes), comparison(root, other, recipes)
    assert a.equals(b)


def test_weights_of_another_recipe_are_refused(trained):
    root, store, recipes = trained
    swapped = {"same": recipes["cutout"], "cutout": recipes["same"]}
    with pytest.raises(ValueError, match=r"trained with \{'augment': 'none'\}, not recipe 'cutout'"):
        comparison(root, store, swapped)
