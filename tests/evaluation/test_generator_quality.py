"""Fréchet distance (known answers for Gaussians) and the generator-quality table."""

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.evaluation.frechet import (
    features_frechet_distance,
    frechet_distance,
    gaitset_frame_features,
    gaussian_statistics,
)
from gaitcore.experiments.generator_quality import CSV_COLUMNS, evaluate_generator_quality
from gaitcore.models.gaitset import build_gaitset, save_gaitset
from gaitcore.models.realism import fit_platt
from gaitcore.models.wgan import build_critic, build_generator, save_wgan
from gaitcore.utils.tables import write_table
from tests.training.test_wgan_training import build_store

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def rotation(angle):
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def test_one_dimensional_gaussians():
    # FD(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-2.0]), np.array([[9.0]])) == pytest.approx(
        9.0 + 1.0
    )


def test_identical_covariances_leave_the_mean_term():
    cov = rotation(0.3) @ np.diag([2.0, 0.5]) @ rotation(0.3).T
    assert frechet_distance(np.zeros(2), cov, np.array([3.0, 4.0]), cov) == pytest.approx(25.0, abs=1e-9)
    assert frechet_distance(np.ones(2), cov, np.ones(2), cov) == pytest.approx(0.0, abs=1e-9)


def test_non_commuting_covariances_match_the_closed_form_for_2x2():
    # For 2x2 PSD M: tr(sqrt(M)) = sqrt(tr M + 2 sqrt(det M)); with M ~ C1 C2 (same eigenvalues).
    c1 = rotation(0.4) @ np.diag([3.0, 0.2]) @ rotation(0.4).T
    c2 = rotation(-1.1) @ np.diag([0.5, 4.0]) @ rotation(-1.1).T
    mu1, mu2 = np.array([0.5, -1.0]), np.array([2.0, 1.0])
    cross = np.sqrt(np.trace(c1 @ c2) + 2 * np.sqrt(np.linalg.det(c1) * np.linalg.det(c2)))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2) - 2 * cross
    assert frechet_distance(mu1, c1, mu2, c2) == pytest.approx(expected, rel=1e-10)
    # identity vs R diag(4, 9) R^T: tr(I) + 13 - 2 (2 + 3) = 5
    s = rotation(0.7) @ np.diag([4.0, 9.0]) @ rotation(0.7).T
    assert frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), s) == pytest.approx(5.0, rel=1e-10)


def test_singular_covariances_and_samples():
    # rank-deficient covariances (fewer samples than dimensions) stay finite and non-negative
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 8)), rng.normal(size=(5, 8))
    assert np.isfinite(features_frechet_distance(a, b)) and features_frechet_distance(a, b) >= 0
    assert features_frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # samples of N(0, I) vs N(1, I) in 3-D: about 3, and about 0 for two samples of the same law
    x, y, z = rng.normal(size=(20000, 3)), rng.normal(size=(20000, 3)), rng.normal(1.0, 1.0, size=(20000, 3))
    assert features_frechet_distance(x, z) == pytest.approx(3.0, abs=0.1)
    assert features_frechet_distance(x, y) < 0.01
    mu, cov = gaussian_statistics(x)
    assert mu.shape == (3,) and cov.shape == (3, 3)
    with pytest.raises(ValueError, match="need features"):
        gaussian_statistics(x[:1])


def test_gaitset_frame_features_are_per_frame():
    torch.manual_seed(0)
    model = build_gaitset(channels=(2, 4, 6), hidden_dim=4).eval()
    frames = torch.rand(5, 64, 44)
    features = gaitset_frame_features(model, frames, batch=2)
    assert features.shape == (5, 6)
    np.testing.assert_allclose(gaitset_frame_features(model, frames[3:4]), features[3:4], rtol=1e-5, atol=1e-6)


def test_quality_table_has_the_floor_and_is_written_atomically(tmp_path):
    torch.manual_seed(0)
    store = build_store(tmp_path / "casia_b")
    save_gaitset(build_gaitset(channels=(2, 4, 6), hidden_dim=4), tmp_path / "gaitset.pt")
    save_wgan(build_generator(2, 8), build_critic(2), tmp_path / "wgan.pt", fit_platt([1.0], [0.0]))
    table = evaluate_generator_quality(
        tmp_path / "wgan.pt", tmp_path / "gaitset.pt", store, frames_per_set=40, train_subjects=(1, 3),
        heldout_subjects=(4, 5), seed=1,
    )
    assert tuple(table.columns) == CSV_COLUMNS
    assert list(table["comparison"]) == ["generated vs real", "generated binary vs real", "floor: real vs real",
                                         "held-out subjects vs real"]
    floor = table.loc[2, "frechet_distance"]
    assert floor > 0 and table.loc[2, "ratio_to_floor"] == pytest.approx(1.0)
    # an untrained generator is far from real silhouettes, grey or thresholded
    assert table.loc[0, "frechet_distance"] > floor and table.loc[1, "frechet_distance"] > floor
    assert table.loc[0, "frechet_distance"] != table.loc[1, "frechet_distance"]
    path = tmp_path / "tables" / "generator_quality.csv"
    write_table(table, path, float_format="%.6g")
    assert pd.read_csv(path).shape == (4, len(CSV_COLUMNS)) and not list((tmp_path / "tables").glob("*.tmp"))


def test_binary_generated_frames_are_the_grey_ones_thresholded():
    from gaitcore.experiments.generator_quality import generated_frames

    torch.manual_seed(0)
    generator = build_generator(2, 8).eval()
    grey, binary = generated_frames(generator, 7, seed=3, device=torch.device("cpu"), batch=3)
    assert grey.shape == binary.shape == (7, 64, 44)
    assert set(binary.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(binary, (grey >= 0.5).float())


def test_fig8_grid_is_written_atomically_from_generator_frames(tmp_path):
    from gaitcore.reporting.figures import fig8_wgan_samples

    generated = np.tanh(np.random.default_rng(0).normal(size=(10, 1, 64, 64))).astype(np.float32)
    real = np.zeros((4, 64, 64), dtype=np.uint8)
    real[:, 10:50, 28:36] = 255
    path = fig8_wgan_samples(generated, tmp_path / "figures" / "fig8.png", real=real, cols=5)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["fig8.png"]


def test_wgan_report_writes_the_figure_and_the_table(tmp_path):
    from gaitcore.experiments.generator_quality import write_wgan_report

    torch.manual_seed(0)
    store = build_store(tmp_path / "casia_b")
    save_gaitset(build_gaitset(channels=(2, 4, 6), hidden_dim=4), tmp_path / "gaitset.pt")
    save_wgan(build_generator(2, 8), build_critic(2), tmp_path / "wgan.pt", fit_platt([1.0], [0.0]),
              extra={"iterations": 5})
    table = write_wgan_report(
        tmp_path / "wgan.pt", tmp_path / "gaitset.pt", store, tmp_path / "fig8.png", tmp_path / "q.csv",
        samples=6, columns=3, real_samples=3, quality_frames=20, train_subjects=(1, 3), heldout_subjects=(4, 5),
    )
    assert (tmp_path / "fig8.png").stat().st_size > 0 and len(pd.read_csv(tmp_path / "q.csv")) == len(table) == 4
