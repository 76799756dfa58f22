"""Training the frame detector (:mod:`gaitcore.models.detector`), the defender's judge of the attack's frames.

The detector learns to tell real silhouettes from the frames the attack's generator makes before any
attack step (``G(z)``, ``z ~ N(0, I)``, stored as the attack stores frames:
:func:`gaitcore.models.wgan.to_store_frames`; thresholded to binary frames when the attack emits
them, ``binary_frames``). Each iteration draws ``batch_size`` real frames
(uniformly, with replacement, from every frame of the **training** subjects' sequences) and
``batch_size`` generated ones, and takes one Adam step on the binary cross-entropy of the logits
(label 1: generated). Nothing of the validation or test subjects is trained on.

After training the detector is read on held-out frames: ``validation_frames`` real frames of the
**validation** subjects against as many fresh generated frames; their ROC AUC (the chance that a
generated frame scores above a real one) is logged and stored with the weights. The test subjects'
frames are only scored, by the imperceptibility table (:mod:`gaitcore.experiments.imperceptibility`).

A second judge (:func:`train_attack_detector`, issue 23) learns against the attack's **own** frames
from validation probes instead of ``G(z)``: trained on half of the validation subjects' attack
frames, read on the other half's.

Deterministic under ``seed`` on one device and thread count: the real draws come from seeded NumPy
generators, the latents from a seeded torch CPU generator. A run takes a minute or two on two CPU
cores at the default size, so it writes no resume checkpoint; the weights carry the training
settings and the identity of the store and of the generator they were trained against.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gaitcore.data.store import FrameStore
from gaitcore.models.detector import FrameDetector, build_detector, detection_auc, frames_to_input, save_detector
from gaitcore.models.wgan import Generator, binarize, gaussian_latents, load_wgan, to_store_frames
from gaitcore.training.checkpoint import store_identity
from gaitcore.training.sampler import subject_range
from gaitcore.training.wgan import FrameSampler, subject_rows
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectorTrainConfig:
    """The frame detector's training settings (config ``attack.imperceptibility.detector``)."""

    train_subjects: tuple[int, int]
    validation_subjects: tuple[int, int]
    width: int = 16
    batch_size: int = 64  # real frames per step, and as many generated ones
    iterations: int = 300
    learning_rate: float = 2e-4
    validation_frames: int = 1000  # held-out real frames of the validation subjects, and as many generated
    log_every: int = 50
    seed: int = 0
    binary_frames: bool = False  # the attack's attack.binary_frames: generated frames thresholded as it stores them

    def __post_init__(self) -> None:
        for name in ("width", "batch_size", "iterations", "validation_frames", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"detector training: {name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"detector training: learning_rate must be positive, got {self.learning_rate}")

    def as_dict(self) -> dict[str, Any]:
        """Plain values (lists for tuples), as stored with the weights; ``log_every`` left out (it
        cannot change the weights)."""
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        values.pop("log_every")
        return values


@dataclass(frozen=True)
class DetectorTrainResult:
    """What :func:`train_detector` did."""

    validation_auc: float  # held-out validation real frames against fresh generated frames
    final_loss: float  # mean loss of the last ``log_every`` steps
    seconds: float


def file_digest(path: str | Path) -> str:
    """Hex blake2b digest of a file's bytes: the identity of the generator weights trained against."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@torch.no_grad()
def generated_frames(generator: Generator, n: int, noise: torch.Generator, device: torch.device, *,
                     binary: bool = False, batch: int = 256) -> np.ndarray:
    """``n`` uint8 frames ``G(z)`` of an eval-mode generator, ``z ~ N(0, I)`` drawn from ``noise``
    (``binary``: thresholded as the attack's binary frames)."""
    out = []
    for i in range(0, n, batch):
        x = generator(gaussian_latents(min(batch, n - i), generator.latent_dim, generator=noise, device=device))
        out.append(to_store_frames(binarize(x) if binary else x))
    return np.concatenate(out) if out else np.empty((0, 64, 64), np.uint8)


class FrameBank:
    """Fixed frames drawn uniformly with replacement from a seeded generator: the attack's own
    frames as a detector's "generated" side (:func:`train_attack_detector`)."""

    def __init__(self, frames: np.ndarray, seed: int) -> None:
        if not len(frames):
            raise ValueError("a frame bank needs at least one frame")
        self.frames = np.asarray(frames)
        self.rng = np.random.default_rng(seed)

    def sample(self, n: int) -> np.ndarray:
        return self.frames[self.rng.integers(0, len(self.frames), size=n)]


def fit_detector(real: FrameSampler, fakes: Callable[[int], np.ndarray], config: DetectorTrainConfig,
                 device: torch.device, what: str) -> tuple[FrameDetector, float]:
    """Train a fresh detector (seeded) for ``config.iterations`` Adam steps on ``batch_size`` real
    frames (``real``) against as many generated ones (``fakes(n)``); returns it in eval mode and the
    mean loss of the last ``log_every`` steps. ``what`` names the generated side in the log."""
    torch.manual_seed(config.seed)
    detector = build_detector(config.width).to(device).train()
    optimizer = torch.optim.Adam(detector.parameters(), lr=config.learning_rate, betas=(0.5, 0.999))
    labels = torch.cat([torch.zeros(config.batch_size), torch.ones(config.batch_size)]).to(device)
    log.info("training a frame detector (width %d, %d parameters) on %d real frames against %s; batch %d + %d, "
             "Adam lr %g, %d iterations, device %s", config.width, sum(p.numel() for p in detector.parameters()),
             real.total, what, config.batch_size, config.batch_size, config.learning_rate, config.iterations, device)
    window: list[float] = []
    final_loss = float("nan")
    for iteration in range(1, config.iterations + 1):
        frames = np.concatenate([real.sample(config.batch_size), fakes(config.batch_size)])
        loss = F.binary_cross_entropy_with_logits(detector(frames_to_input(frames, device)), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        window.append(loss.item())
        if iteration % config.log_every == 0 or iteration == config.iterations:
            log.info("iteration %d/%d loss %.4f", iteration, config.iterations, float(np.mean(window)))
            final_loss, window = float(np.mean(window)), []
    return detector.eval(), final_loss


def train_detector(store_root: str | Path, wgan_weights: str | Path, weights_path: str | Path,
                   config: DetectorTrainConfig, *, device: str = "cpu") -> DetectorTrainResult:
    """Train the detector on the training subjects' frames of ``store_root`` against the generator of
    ``wgan_weights``, read it on the validation subjects' frames, write ``weights_path`` (atomically)."""
    dev = resolve_device(device)
    store = FrameStore(store_root)
    train_rows = subject_rows(store, subject_range(*config.train_subjects), "training", "subjects.casia_b.train")
    validation_rows = subject_rows(store, subject_range(*config.validation_subjects), "validation",
                                   "subjects.casia_b.validation")
    generator = load_wgan(wgan_weights, map_location=dev).generator
    noise = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()

    def fakes(n: int) -> np.ndarray:
        return generated_frames(generator, n, noise, dev, binary=config.binary_frames)

    detector, final_loss = fit_detector(FrameSampler(store, train_rows, seed=config.seed), fakes, config, dev,
                                        "the generator's unoptimised frames")
    held_out = FrameSampler(store, validation_rows, seed=config.seed + 1).sample(config.validation_frames)
    auc = detection_auc(detector.score(held_out, dev), detector.score(fakes(config.validation_frames), dev))
    seconds = time.perf_counter() - start
    log.info("validation ROC AUC %.4f (%d real frames of %d validation subjects against %d generated); %.1f s",
             auc, len(held_out), validation_rows["subject"].nunique(), config.validation_frames, seconds)
    save_detector(detector, weights_path, extra={
        "train_config": config.as_dict(), "data": store_identity(store),
        "generator_weights": file_digest(wgan_weights), "validation_auc": auc})
    return DetectorTrainResult(validation_auc=auc, final_loss=final_loss, seconds=seconds)


def split_subjects(subjects: Sequence[str]) -> tuple[list[str], list[str]]:
    """The validation subjects' two halves (sorted, alternating): the attack judge trains on the
    first's attack frames and is read on the second's."""
    ordered = sorted(set(map(str, subjects)))
    if len(ordered) < 2:
        raise ValueError(f"the attack judge needs attack frames of at least 2 validation subjects, got {ordered}")
    return ordered[0::2], ordered[1::2]


def train_attack_detector(store_root: str | Path, attack_frames: np.ndarray, frame_subjects: Sequence[str],
                          weights_path: str | Path, config: DetectorTrainConfig, *, device: str = "cpu",
                          sources: Sequence[str] = ()) -> DetectorTrainResult:
    """The second judge (issue 23): a detector trained on real frames of the training subjects
    against the attack's **own** frames from validation probes (``attack_frames``, each frame's
    probe subject in ``frame_subjects``), of one half of the validation subjects
    (:func:`split_subjects`); its ROC AUC is read on the other half: their real frames against their
    attack frames. No test subject is read. ``sources`` (the attack jobs' files) are kept with the
    weights."""
    dev = resolve_device(device)
    store = FrameStore(store_root)
    subjects = np.asarray(frame_subjects, dtype=object).astype(str)
    if len(subjects) != len(attack_frames):
        raise ValueError(f"{len(attack_frames)} attack frames but {len(subjects)} subjects")
    fitted, held = split_subjects(subjects)
    train_rows = subject_rows(store, subject_range(*config.train_subjects), "training", "subjects.casia_b.train")
    held_rows = store.index[store.index["subject"].astype(str).isin(held)]
    start = time.perf_counter()
    bank = FrameBank(attack_frames[np.isin(subjects, fitted)], seed=config.seed)
    detector, final_loss = fit_detector(FrameSampler(store, train_rows, seed=config.seed), bank.sample, config, dev,
                                        f"{len(bank.frames)} attack frames of validation subjects {fitted}")
    held_fakes = attack_frames[np.isin(subjects, held)]
    held_real = FrameSampler(store, held_rows, seed=config.seed + 1).sample(config.validation_frames)
    auc = detection_auc(detector.score(held_real, dev), detector.score(held_fakes, dev))
    seconds = time.perf_counter() - start
    log.info("held-out ROC AUC %.4f (%d real frames against %d attack frames of validation subjects %s); %.1f s",
             auc, len(held_real), len(held_fakes), held, seconds)
    save_detector(detector, weights_path, extra={
        "train_config": config.as_dict(), "data": store_identity(store), "attack_frames": int(len(attack_frames)),
        "fitted_subjects": fitted, "held_out_subjects": held, "sources": [str(p) for p in sources],
        "validation_auc": auc})
    return DetectorTrainResult(validation_auc=auc, final_loss=final_loss, seconds=seconds)


__all__ = ["DetectorTrainConfig", "DetectorTrainResult", "FrameBank", "fit_detector", "generated_frames",
           "split_subjects", "train_attack_detector", "train_detector"]
