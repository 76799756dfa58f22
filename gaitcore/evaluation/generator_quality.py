"""How close the WGAN-GP's frames are to real silhouettes: Fréchet distance in GaitSet's frame features.

He et al. show generated examples (Appendix A, Fig. 8) but no number. This module measures one:
the Fréchet distance (the FID formula, Heusel et al. 2017) between Gaussian fits of real and
generated frames' features,

    FD = ||mu_1 - mu_2||^2 + tr(C_1 + C_2 - 2 (C_1 C_2)^{1/2}),

in the feature space of the *trained victim*, GaitSet: each frame passes through GaitSet's
frame-level CNN on its own (:meth:`gaitcore.models.gaitset.GaitSet.frame_maps`, the last stage,
``[c3, 16, 11]``) and is pooled spatially as GaitSet's coarsest HPM strip pools (mean + max over the
whole map), giving ``c3`` numbers per frame (64 at the default config's width, 128 at the paper's).
Generated 64x64 frames enter GaitSet as :func:`gaitcore.models.wgan.to_gaitset_frames` maps them,
real store frames as :func:`gaitcore.models.gaitset.silhouettes_to_input` does (the same crop and scale).

The distance has a positive bias that shrinks with the number of frames, so it is only meaningful
next to a **floor**: the same distance, with the same number of frames per side, between two
disjoint random halves of the real frames. A generator whose frames were indistinguishable from
real ones would score at the floor.

The matrix square root term uses no SciPy: ``tr((C_1 C_2)^{1/2})`` equals the sum of the square roots
of the eigenvalues of the symmetric positive semi-definite ``C_1^{1/2} C_2 C_1^{1/2}``, computed with
two symmetric eigendecompositions (``numpy.linalg.eigh``) in float64.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gaitcore.data.store import FrameStore
from gaitcore.models.gaitset import GaitSet, load_gaitset, silhouettes_to_input
from gaitcore.utils.device import resolve_device
from gaitcore.models.wgan import load_wgan, to_gaitset_frames
from gaitcore.training.sampler import subject_range
from gaitcore.training.wgan import FrameSampler, subject_rows
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

CSV_COLUMNS = ("comparison", "set_a", "set_b", "frames_per_set", "feature", "feature_dim", "frechet_distance",
               "ratio_to_floor")


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of ``features`` ``[N, d]``, float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need features [N >= 2, d], got shape {x.shape}")
    return x.mean(0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2) (see the module docstring)."""
    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    cov1, cov2 = np.asarray(cov1, dtype=np.float64), np.asarray(cov2, dtype=np.float64)
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"shapes do not match: {mu1.shape}, {cov1.shape}, {mu2.shape}, {cov2.shape}")
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    value = float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2.0 * cross)
    return max(value, 0.0)


def features_frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two feature sets ``[N, d]`` and ``[M, d]``."""
    return frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))


@torch.no_grad()
def gaitset_frame_features(model: GaitSet, frames: torch.Tensor, batch: int = 256) -> np.ndarray:
    """Per-frame GaitSet features ``[N, c3]``: the frame CNN's last map, mean + max over space.

    ``frames``: GaitSet input ``[N, 64, 44]`` in [0, 1] on the model's device.
    """
    out = []
    for chunk in frames.split(batch):
        stage3 = model.frame_maps(chunk)[2].flatten(2)  # [n, c3, 16 * 11]
        out.append((stage3.mean(2) + stage3.amax(2)).float().cpu())
    return torch.cat(out).numpy()


def _generated_frames(generator: torch.nn.Module, n: int, seed: int, device: torch.device,
                      batch: int) -> torch.Tensor:
    noise = torch.Generator().manual_seed(seed)
    out = []
    with torch.no_grad():
        for start in range(0, n, batch):
            z = torch.randn(min(batch, n - start), generator.latent_dim, generator=noise).to(device)
            out.append(to_gaitset_frames(generator(z)))
    return torch.cat(out)


def evaluate_generator_quality(
    wgan_weights: str | Path,
    gaitset_weights: str | Path,
    store_root: str | Path,
    *,
    frames_per_set: int = 2000,
    train_subjects: tuple[int, int] = (1, 74),
    heldout_subjects: tuple[int, int] | None = (75, 124),
    seed: int = 0,
    device: str = "cpu",
    batch: int = 256,
) -> pd.DataFrame:
    """The Fréchet distances of the generator's frames, the floor and (optionally) held-out subjects.

    Rows: generated vs real training-subject frames; two disjoint halves of real training-subject
    frames (the floor); real held-out-subject frames vs real training-subject frames (how far
    another set of walkers is, for scale). Every set has ``frames_per_set`` frames; the real sets
    are drawn uniformly from all frames of the subjects' sequences.
    """
    dev = resolve_device(device)
    gaitset, _ = load_gaitset(gaitset_weights, map_location=dev)
    models = load_wgan(wgan_weights, map_location=dev)
    store = FrameStore(store_root)
    rows = subject_rows(store, subject_range(*train_subjects), "training", "train_subjects")
    real = FrameSampler(store, rows, seed=seed).sample(2 * frames_per_set)
    real_a = gaitset_frame_features(gaitset, silhouettes_to_input(real[:frames_per_set], dev), batch)
    real_b = gaitset_frame_features(gaitset, silhouettes_to_input(real[frames_per_set:], dev), batch)
    fake = gaitset_frame_features(gaitset, _generated_frames(models.generator, frames_per_set, seed, dev, batch), batch)
    feature = "GaitSet frame CNN, last map, mean+max over space"
    dim = real_a.shape[1]
    floor = features_frechet_distance(real_a, real_b)
    records = [
        ("generated vs real", "generated (z ~ N(0, I), G in eval mode)", "real, training subjects", fake, real_a),
        ("floor: real vs real", "real, training subjects (half B)", "real, training subjects (half A)", real_b, real_a),
    ]
    if heldout_subjects is not None:
        held_rows = subject_rows(store, subject_range(*heldout_subjects), "held-out", "heldout_subjects")
        held = FrameSampler(store, held_rows, seed=seed + 1).sample(frames_per_set)
        held_f = gaitset_frame_features(gaitset, silhouettes_to_input(held, dev), batch)
        records.append(
            ("held-out subjects vs real", "real, held-out subjects", "real, training subjects", held_f, real_a)
        )
    table = []
    for comparison, set_a, set_b, a, b in records:
        fd = floor if b is real_a and a is real_b else features_frechet_distance(a, b)
        table.append({"comparison": comparison, "set_a": set_a, "set_b": set_b, "frames_per_set": frames_per_set,
                      "feature": feature, "feature_dim": dim, "frechet_distance": fd,
                      "ratio_to_floor": fd / floor if floor > 0 else float("inf")})
        log.info("Frechet distance %s: %.4f (%.1fx the floor)", comparison, fd, table[-1]["ratio_to_floor"])
    return pd.DataFrame(table, columns=list(CSV_COLUMNS))


def write_wgan_report(
    wgan_weights: str | Path,
    gaitset_weights: str | Path,
    store_root: str | Path,
    figure_path: str | Path,
    csv_path: str | Path,
    *,
    samples: int = 32,
    columns: int = 8,
    real_samples: int = 8,
    quality_frames: int = 2000,
    train_subjects: tuple[int, int] = (1, 74),
    heldout_subjects: tuple[int, int] | None = (75, 124),
    seed: int = 0,
    device: str = "cpu",
) -> pd.DataFrame:
    """Fig. 8 (``samples`` generated frames, G in eval mode, above ``real_samples`` real ones) and the quality CSV."""
    from gaitcore.reporting.figures import fig8_wgan_samples  # matplotlib only where a figure is drawn

    dev = resolve_device(device)
    models = load_wgan(wgan_weights, map_location=dev)
    noise = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = torch.randn(samples, models.generator.latent_dim, generator=noise).to(dev)
        generated = models.generator(z).cpu().numpy()
    real = None
    if real_samples:
        store = FrameStore(store_root)
        rows = subject_rows(store, subject_range(*train_subjects), "training", "train_subjects")
        real = FrameSampler(store, rows, seed=seed).sample(real_samples)
    title = (f"WGAN-GP samples (dim {models.generator.dim}, "
             f"{models.extra.get('iterations', '?')} generator iterations)")
    fig8_wgan_samples(generated, figure_path, real=real, cols=columns, title=title)
    log.info("wrote %s", figure_path)
    table = evaluate_generator_quality(
        wgan_weights, gaitset_weights, store_root, frames_per_set=quality_frames, train_subjects=train_subjects,
        heldout_subjects=heldout_subjects, seed=seed, device=device,
    )
    write_table(table, csv_path, float_format="%.6g")
    log.info("wrote %s", csv_path)
    return table
