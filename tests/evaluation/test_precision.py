"""Variance components and projected half-widths against known answers, a simulation and the
subject-level bootstrap they plan for."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from gaitcore.evaluation.precision import VarianceComponents, even_spread, half_width, subjects_for, variance_components
from gaitcore.evaluation.uncertainty import subject_bootstrap

Z = norm.ppf(0.975)


def test_components_known_answer():
    # Three subjects, two probes each: means 1, 5, 9; within mean square 2; between mean square 32;
    # sigma_b^2 = (32 - 2) / 2 = 15.
    components = variance_components([0, 2, 4, 6, 8, 10], ["a", "a", "b", "b", "c", "c"])
    assert components.within == pytest.approx(math.sqrt(2))
    assert components.between == pytest.approx(math.sqrt(15))


def test_unbalanced_known_answer():
    # a: [0, 2] (mean 1), b: [4, 6, 8] (mean 6); N = 5, grand 4. Within SS 2 + 8 = 10 over 3 df;
    # between SS 2 * 9 + 3 * 4 = 30 over 1 df; n0 = (5 - 13 / 5) / 1 = 2.4.
    components = variance_components([0, 2, 4, 6, 8], ["a", "a", "b", "b", "b"])
    assert components.within ** 2 == pytest.approx(10 / 3)
    assert components.between ** 2 == pytest.approx((30 - 10 / 3) / 2.4)


def test_between_is_clipped_at_zero_and_nans_are_left_out():
    # Subject means equal, probes spread: no between-subject variance.
    components = variance_components([0, 10, 0, 10, np.nan], ["a", "a", "b", "b", "b"])
    assert components.between == 0.0 and components.within > 0


def test_one_probe_per_subject_counts_all_variance_as_between():
    scores = [0.0, 100.0, 50.0, 25.0]
    components = variance_components(scores, ["a", "b", "c", "d"])
    assert components.between == pytest.approx(np.std(scores, ddof=1)) and components.within == 0.0


def test_needs_two_subjects():
    with pytest.raises(ValueError, match="two subjects"):
        variance_components([1.0, 2.0], ["a", "a"])


def test_components_recover_a_simulated_truth():
    rng = np.random.default_rng(0)
    subjects = np.repeat(np.arange(400), 4)
    scores = 50 + rng.normal(0, 30, 400)[subjects] + rng.normal(0, 20, subjects.size)
    components = variance_components(scores, subjects)
    assert components.between == pytest.approx(30, rel=0.1) and components.within == pytest.approx(20, rel=0.05)


def test_half_width_formula_and_what_more_probes_cannot_do():
    components = VarianceComponents(between=30.0, within=20.0)
    assert half_width(components, [2] * 50) == pytest.approx(Z * math.sqrt(30 ** 2 / 50 + 20 ** 2 / 100))
    # Without within-subject spread, more probes of the same subjects do not narrow the interval.
    only_between = VarianceComponents(between=30.0, within=0.0)
    assert half_width(only_between, [1] * 50) == pytest.approx(half_width(only_between, [11] * 50))
    # An uneven layout is wider than an even one with the same probes.
    assert half_width(components, [3] * 25 + [1] * 25) > half_width(components, [2] * 50)


def test_the_model_matches_the_bootstrap_it_plans_for():
    rng = np.random.default_rng(1)
    subjects = np.repeat(np.arange(50), 3)
    scores = np.clip(50 + rng.normal(0, 25, 50)[subjects] + rng.normal(0, 15, subjects.size), 0, 100)
    interval = subject_bootstrap(scores, subjects.astype(str))
    bootstrap = (interval.high - interval.low) / 2
    model = half_width(variance_components(scores, subjects), [3] * 50)
    assert model == pytest.approx(bootstrap, rel=0.15)


@pytest.mark.parametrize("probes, subjects", [(110, 50), (50, 50), (7, 50), (551, 50), (1, 1)])
def test_even_spread(probes, subjects):
    spread = even_spread(probes, subjects)
    assert spread.sum() == probes and len(spread) == min(probes, subjects) and spread.max() - spread.min() <= 1


def test_subjects_for_is_the_fewest_that_reach_the_target():
    components = VarianceComponents(between=30.0, within=20.0)
    needed = subjects_for(components, 11, 8.0)
    assert half_width(components, [11] * needed) <= 8.0 < half_width(components, [11] * (needed - 1))
    assert subjects_for(VarianceComponents(0.0, 0.0), 11, 8.0) == 1
