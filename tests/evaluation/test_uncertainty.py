"""The subject-level bootstrap: known answers, what is resampled, degenerate inputs, reproducibility."""

import warnings

import numpy as np
import pytest
from scipy import stats

from gaitcore.evaluation.uncertainty import (
    CONFIDENCE,
    N_RESAMPLES,
    SEED,
    Interval,
    auc_interval,
    block_columns,
    paired_difference,
    subject_bootstrap,
    subject_totals,
    view_columns,
)


def test_defaults_are_the_documented_ones():
    assert (CONFIDENCE, N_RESAMPLES, SEED) == (0.95, 2000, 0)


@pytest.mark.parametrize("n", [300, 1000])
def test_one_probe_per_subject_is_close_to_the_exact_clopper_pearson_interval(n):
    k = int(0.3 * n)
    hits = np.random.default_rng(1).permutation(np.r_[np.ones(k), np.zeros(n - k)])
    interval = subject_bootstrap(hits, np.arange(n))
    exact = stats.binomtest(k, n).proportion_ci(confidence_level=0.95)
    assert interval.estimate == pytest.approx(0.3)
    assert interval.low == pytest.approx(exact.low, abs=0.01)
    assert interval.high == pytest.approx(exact.high, abs=0.01)
    assert (interval.n_probes, interval.n_subjects) == (n, n)


def test_subjects_are_resampled_not_probes():
    # two subjects, 100 probes each: one always right, one always wrong
    hits = np.r_[np.ones(100), np.zeros(100)]
    subjects = np.repeat(["A", "B"], 100)
    clustered = subject_bootstrap(hits, subjects)
    assert clustered.estimate == 0.5 and (clustered.n_probes, clustered.n_subjects) == (200, 2)
    assert clustered.low <= 0.05 and clustered.high >= 0.95  # two subjects say little
    per_probe = subject_bootstrap(hits, np.arange(200))  # what a probe-level bootstrap would claim
    assert per_probe.width < 0.2


def test_a_constant_input_gives_a_zero_width_interval_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in (0.0, 0.4, 1.0):
            interval = subject_bootstrap(np.full(30, value), np.arange(30) % 5)
            assert (interval.low, interval.estimate, interval.high) == (value, value, value)


def test_fewer_than_two_subjects_give_no_interval():
    interval = subject_bootstrap([1.0, 0.0, 1.0], ["A", "A", "A"])
    assert interval.estimate == pytest.approx(2 / 3) and np.isnan(interval.low) and np.isnan(interval.high)
    empty = subject_bootstrap([np.nan], ["A"])
    assert empty.n_probes == 0 and empty.n_subjects == 0 and np.isnan(empty.estimate)


def test_paired_difference_of_identical_and_shifted_inputs():
    rng = np.random.default_rng(2)
    a = rng.random((40, 3))
    subjects = np.arange(40) // 4
    same = paired_difference(a, a, subjects)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    shifted = paired_difference(a + 0.25, a, subjects)
    assert shifted.estimate == pytest.approx(0.25)
    assert shifted.low == pytest.approx(0.25) and shifted.high == pytest.approx(0.25)
    assert (shifted.n_probes, shifted.n_subjects) == (40, 10)


def test_paired_difference_is_narrower_than_the_two_intervals_when_probes_share_their_difficulty():
    rng = np.random.default_rng(3)
    difficulty = np.repeat(rng.random(20), 5)  # per subject
    subjects = np.repeat(np.arange(20), 5)
    before = (rng.random(100) < difficulty).astype(float)
    after = before * (rng.random(100) < 0.7)  # the attack fools about 30 % of the hits
    difference = paired_difference(after, before, subjects)
    assert difference.estimate == pytest.approx(after.mean() - before.mean())
    assert difference.high < 0
    assert difference.width < subject_bootstrap(after, subjects).width


def test_the_same_seed_gives_the_same_interval_another_seed_another():
    rng = np.random.default_rng(4)
    hits, subjects = (rng.random(60) < 0.5).astype(float), rng.integers(0, 12, 60)
    first, again = subject_bootstrap(hits, subjects), subject_bootstrap(hits, subjects, seed=SEED)
    assert first == again and isinstance(first, Interval)
    assert subject_bootstrap(hits, subjects, seed=1) != first


def table_value(hits, probe_views, used):
    """The attack tables' estimator: per probe view the mean over used gallery views of the per-view
    accuracy (NaN entries left out), then the mean over probe views."""
    per_view = [np.mean(np.nanmean(hits[probe_views == view][:, used[view]], axis=0))
                for view in dict.fromkeys(probe_views.tolist())]
    return float(np.mean(per_view))


def test_the_view_averaged_estimator_equals_the_tables_value():
    rng = np.random.default_rng(5)
    hits = (rng.random((300, 6)) < 0.6).astype(float)
    hits[rng.random(hits.shape) < 0.1] = np.nan  # probes left out of a gallery view
    probe_views = rng.integers(0, 4, 300)
    subjects = rng.integers(0, 30, 300)
    used = {view: np.arange(6) != view for view in range(4)}  # the identical view excluded
    values, weights = view_columns(hits, probe_views, used)
    assert values.shape == (300, 24) and weights.sum() == pytest.approx(1.0)
    for weighting in ("fixed", "resampled"):
        interval = subject_bootstrap(values, subjects, weights=weights, weighting=weighting)
        assert interval.estimate == pytest.approx(table_value(hits, probe_views, used), abs=1e-12)
        assert interval.low < interval.estimate < interval.high and interval.n_subjects == 30
    # one probe view's cell: the mean over its used gallery views
    view = probe_views == 2
    cell = subject_bootstrap(hits[view][:, used[2]], subjects[view])
    assert cell.estimate == pytest.approx(np.mean(np.nanmean(hits[view][:, used[2]], axis=0)), abs=1e-12)


def test_blocks_side_by_side_estimate_the_mean_of_the_blocks_estimates():
    rng = np.random.default_rng(6)
    blocks, estimates, subjects = [], [], []
    for n_probes, n_views in ((120, 3), (80, 2), (60, 4)):  # e.g. three conditions' probes
        hits = (rng.random((n_probes, 5)) < rng.uniform(0.2, 0.9)).astype(float)
        probe_views = rng.integers(0, n_views, n_probes)
        blocks.append(view_columns(hits, probe_views))
        estimates.append(table_value(hits, probe_views, {view: np.ones(5, bool) for view in range(n_views)}))
        subjects.append(rng.integers(0, 20, n_probes))
    values, weights = block_columns(blocks)
    assert values.shape == (260, 5 * (3 + 2 + 4)) and weights.sum() == pytest.approx(1.0)
    assert np.isnan(values[:120, 15:]).all() and np.isnan(values[120:200, :15]).all()  # off the diagonal
    interval = subject_bootstrap(values, np.concatenate(subjects), weights=weights)
    assert interval.estimate == pytest.approx(np.mean(estimates), abs=1e-12)


def test_weightings_agree_when_every_subject_is_at_every_view_and_differ_when_views_have_their_own():
    rng = np.random.default_rng(7)
    ability = rng.random(11)
    # crossed: 11 subjects, 2 probes at each of 11 views (natural accuracy's layout)
    subjects, views = np.repeat(np.arange(11), 22), np.tile(np.repeat(np.arange(11), 2), 11)
    hits = (rng.random((len(subjects), 10)) < ability[subjects, None]).astype(float)
    values, weights = view_columns(hits, views)
    fixed, resampled = (subject_bootstrap(values, subjects, weights=weights, weighting=w)
                        for w in ("fixed", "resampled"))
    # the same resamples to rounding (which can tip BCa's count of resamples at the estimate)
    assert (fixed.low, fixed.high) == pytest.approx((resampled.low, resampled.high), abs=1e-3)
    # confounded: one subject per view (the default attack config). "fixed" is the bootstrap of the mean
    # of the subjects' values; "resampled" sees only the distinct subjects drawn and comes out narrower.
    subjects = views = np.repeat(np.arange(11), 2)
    hits = (rng.random((22, 10)) < ability[subjects, None]).astype(float)
    values, weights = view_columns(hits, views)
    fixed, resampled = (subject_bootstrap(values, subjects, weights=weights, weighting=w)
                        for w in ("fixed", "resampled"))
    per_subject = subject_bootstrap(hits.mean(axis=1), subjects)
    assert fixed.estimate == pytest.approx(resampled.estimate) == pytest.approx(per_subject.estimate)
    assert (fixed.low, fixed.high) == pytest.approx((per_subject.low, per_subject.high), abs=2e-3)
    assert resampled.width < 0.9 * fixed.width
    with pytest.raises(ValueError, match="unknown weighting"):
        subject_bootstrap(values, subjects, weighting="probes")


def test_resampled_estimates_are_the_estimator_on_the_drawn_subjects():
    # The per-subject sums and counts reproduce the estimator on any multiset of subjects.
    rng = np.random.default_rng(6)
    hits = (rng.random((50, 3)) < 0.5).astype(float)
    hits[rng.random(hits.shape) < 0.2] = np.nan
    subjects = rng.integers(0, 8, 50).astype(str)
    labels, sums, counts, n_probes = subject_totals(hits, subjects)
    assert n_probes == int((~np.isnan(hits)).any(axis=1).sum()) and list(labels) == sorted(set(subjects))
    drawn = rng.integers(0, len(labels), len(labels))
    probes = np.concatenate([np.flatnonzero(subjects == labels[i]) for i in drawn])
    expected = np.mean(np.nanmean(hits[probes], axis=0))
    assert np.mean(sums[drawn].sum(0) / counts[drawn].sum(0)) == pytest.approx(expected)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="subjects for"):
        subject_bootstrap([1.0, 0.0], ["A"])
    with pytest.raises(ValueError, match="weights for"):
        subject_bootstrap(np.ones((4, 2)), np.arange(4), weights=[1.0])
    with pytest.raises(ValueError, match="same shape"):
        paired_difference(np.ones(4), np.ones(5), np.arange(4))


def _frames(seed=0, subjects=8):
    """Per subject 20 real and 6 generated detector scores; a subject's own level shifts both."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0.0, 1.0, subjects)
    real_subjects, generated_subjects = np.repeat(np.arange(subjects), 20), np.repeat(np.arange(subjects), 6)
    real = np.round(rng.normal(0.0, 1.0, len(real_subjects)) + level[real_subjects], 1)  # rounded: ties
    generated = np.round(rng.normal(0.7, 1.0, len(generated_subjects)) + level[generated_subjects], 1)
    return real, real_subjects.astype(str), generated, generated_subjects.astype(str)


def test_auc_interval_estimate_is_the_pairwise_auc_with_half_ties():
    real, real_subjects, generated, generated_subjects = _frames()
    pairs = generated[:, None] - real[None, :]
    naive = float(((pairs > 0) + 0.5 * (pairs == 0)).mean())
    interval = auc_interval(real, real_subjects, generated, generated_subjects)
    assert interval.estimate == pytest.approx(naive)
    assert interval.low < interval.estimate < interval.high
    assert (interval.n_probes, interval.n_subjects) == (len(generated), 8)


def test_auc_interval_resamples_subjects_as_a_naive_bootstrap_does():
    """The vectorised quadratic form equals recomputing the AUC on the frames of the drawn subjects."""
    real, real_subjects, generated, generated_subjects = _frames(seed=1)
    labels = np.unique(real_subjects)

    def naive(drawn):
        pick_real = np.concatenate([real[real_subjects == labels[i]] for i in drawn])
        pick_generated = np.concatenate([generated[generated_subjects == labels[i]] for i in drawn])
        pairs = pick_generated[:, None] - pick_real[None, :]
        return float(((pairs > 0) + 0.5 * (pairs == 0)).mean())

    reference = stats.bootstrap((np.arange(len(labels)),), naive, vectorized=False, paired=True, n_resamples=400,
                                method="BCa", rng=np.random.default_rng(3), batch=400)
    interval = auc_interval(real, real_subjects, generated, generated_subjects, n_resamples=400, seed=3)
    assert (interval.low, interval.high) == pytest.approx(tuple(reference.confidence_interval), abs=1e-9)


def test_auc_interval_of_identical_scores_is_chance_without_width():
    real, real_subjects, _, _ = _frames()
    interval = auc_interval(real, real_subjects, real, real_subjects)
    assert (interval.estimate, interval.low, interval.high) == (0.5, 0.5, 0.5)
