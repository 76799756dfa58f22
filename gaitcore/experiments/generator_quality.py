"""How close the WGAN-GP's frames are to real silhouettes (beyond the paper; He et al. show
generated examples in Appendix A, Fig. 8, but no number): Fig. 8 and the generator-quality table.

The Fréchet distance (:mod:`gaitcore.evaluation.frechet`) between generated frames and real frames
of the training subjects, next to its floor (two disjoint halves of the real frames) and to
held-out subjects' frames.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import torch

from gaitcore.data.layout import TRAIN_SUBJECTS, VALIDATION_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.evaluation.frechet import features_frechet_distance, gaitset_frame_features
from gaitcore.models.gaitset import load_gaitset, silhouettes_to_input
from gaitcore.models.wgan import binarize, load_wgan, to_gaitset_frames
from gaitcore.reporting.figures import fig8_wgan_samples
from gaitcore.training.sampler import subject_range
from gaitcore.training.wgan import FrameSampler, subject_rows
from gaitcore.utils.device import resolve_device
from gaitcore.utils.tables import write_table

log = logging.getLogger(__name__)

CSV_COLUMNS = ("comparison", "set_a", "set_b", "frames_per_set", "feature", "feature_dim", "frechet_distance",
               "ratio_to_floor")


def generated_frames(generator: torch.nn.Module, n: int, seed: int, device: torch.device,
                      batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` generated frames as GaitSet input, grey-level and thresholded (:func:`binarize`, what
    the attack emits with ``attack.binary_frames``), from the same latent codes."""
    noise = torch.Generator().manual_seed(seed)
    grey, binary = [], []
    with torch.no_grad():
        for start in range(0, n, batch):
            z = torch.randn(min(batch, n - start), generator.latent_dim, generator=noise).to(device)
            frames = generator(z)
            grey.append(to_gaitset_frames(frames))
            binary.append(to_gaitset_frames(binarize(frames)))
    return torch.cat(grey), torch.cat(binary)


def evaluate_generator_quality(
    wgan_weights: str | Path,
    gaitset_weights: str | Path,
    store_root: str | Path,
    *,
    frames_per_set: int = 2000,
    train_subjects: tuple[int, int] = TRAIN_SUBJECTS,
    heldout_subjects: tuple[int, int] | None = VALIDATION_SUBJECTS,
    seed: int = 0,
    device: str = "cpu",
    batch: int = 256,
) -> pd.DataFrame:
    """The Fréchet distances of the generator's frames, the floor and (optionally) held-out subjects.

    Rows: generated vs real training-subject frames, grey-level and thresholded to 0/255 (the
    frames the attack emits with ``attack.binary_frames``); two disjoint halves of real training-subject
    frames (the floor); real held-out-subject frames vs real training-subject frames (how far
    another set of walkers is, for scale). Every set has ``frames_per_set`` frames; the real sets
    are drawn uniformly from all frames of the subjects' sequences.
    """
    dev = resolve_device(device)
    gaitset, _ = load_gaitset(gaitset_weights, map_location=dev)
    models = load_wgan(wgan_weights, map_location=dev)
    store = FrameStore(store_root)
    rows = subject_rows(store, subject_range(*train_subjects), "training", "subjects.casia_b.train")
    real = FrameSampler(store, rows, seed=seed).sample(2 * frames_per_set)
    real_a = gaitset_frame_features(gaitset, silhouettes_to_input(real[:frames_per_set], dev), batch)
    real_b = gaitset_frame_features(gaitset, silhouettes_to_input(real[frames_per_set:], dev), batch)
    grey, binary = generated_frames(models.generator, frames_per_set, seed, dev, batch)
    fake = gaitset_frame_features(gaitset, grey, batch)
    fake_binary = gaitset_frame_features(gaitset, binary, batch)
    feature = "GaitSet frame CNN, last map, mean+max over space"
    dim = real_a.shape[1]
    floor = features_frechet_distance(real_a, real_b)
    records = [
        ("generated vs real", "generated (z ~ N(0, I), G in eval mode)", "real, training subjects", fake, real_a),
        ("generated binary vs real", "generated, thresholded to 0/255 (attack.binary_frames)",
         "real, training subjects", fake_binary, real_a),
        ("floor: real vs real", "real, training subjects (half B)", "real, training subjects (half A)", real_b, real_a),
    ]
    if heldout_subjects is not None:
        held_rows = subject_rows(store, subject_range(*heldout_subjects), "held-out", "subjects.casia_b.validation")
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
    train_subjects: tuple[int, int] = TRAIN_SUBJECTS,
    heldout_subjects: tuple[int, int] | None = VALIDATION_SUBJECTS,
    seed: int = 0,
    device: str = "cpu",
) -> pd.DataFrame:
    """Fig. 8 (``samples`` generated frames, G in eval mode, above the same thresholded to 0/255 and
    ``real_samples`` real ones) and the quality CSV."""
    dev = resolve_device(device)
    models = load_wgan(wgan_weights, map_location=dev)
    noise = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = torch.randn(samples, models.generator.latent_dim, generator=noise).to(dev)
        generated = models.generator(z)
    binary = binarize(generated).cpu().numpy()
    generated = generated.cpu().numpy()
    real = None
    if real_samples:
        store = FrameStore(store_root)
        rows = subject_rows(store, subject_range(*train_subjects), "training", "subjects.casia_b.train")
        real = FrameSampler(store, rows, seed=seed).sample(real_samples)
    title = (f"WGAN-GP samples (dim {models.generator.dim}, "
             f"{models.extra.get('iterations', '?')} generator iterations)")
    fig8_wgan_samples(generated, figure_path, real=real, binary=binary, cols=columns, title=title)
    log.info("wrote %s", figure_path)
    table = evaluate_generator_quality(
        wgan_weights, gaitset_weights, store_root, frames_per_set=quality_frames, train_subjects=train_subjects,
        heldout_subjects=heldout_subjects, seed=seed, device=device,
    )
    write_table(table, csv_path, float_format="%.6g")
    log.info("wrote %s", csv_path)
    return table
