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

Deterministic under ``seed`` on one device and thread count: the real draws come from seeded NumPy
generators, the latents from a seeded torch CPU generator. A run takes a minute or two on two CPU
cores at the default size, so it writes no resume checkpoint; the weights carry the training
settings and the identity of the store and of the generator they were trained against.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gaitcore.data.store import FrameStore
from gaitcore.models.detector import build_detector, detection_auc, frames_to_input, save_detector
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
    torch.manual_seed(config.seed)
    detector = build_detector(config.width).to(dev).train()
    optimizer = torch.optim.Adam(detector.parameters(), lr=config.learning_rate, betas=(0.5, 0.999))
    real = FrameSampler(store, train_rows, seed=config.seed)
    noise = torch.Generator().manual_seed(config.seed)
    labels = torch.cat([torch.zeros(config.batch_size), torch.ones(config.batch_size)]).to(dev)
    log.info("training the frame detector (width %d, %d parameters) on %d frames of %d training subjects against "
             "generated frames; batch %d + %d, Adam lr %g, %d iterations, device %s", config.width,
             sum(p.numel() for p in detector.parameters()), real.total, train_rows["subject"].nunique(),
             config.batch_size, config.batch_size, config.learning_rate, config.iterations, dev)
    start, window = time.perf_counter(), []
    for iteration in range(1, config.iterations + 1):
        frames = np.concatenate([real.sample(config.batch_size),
                                 generated_frames(generator, config.batch_size, noise, dev,
                                                  binary=config.binary_frames)])
        loss = F.binary_cross_entropy_with_logits(detector(frames_to_input(frames, dev)), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        window.append(loss.item())
        if iteration % config.log_every == 0 or iteration == config.iterations:
            log.info("iteration %d/%d loss %.4f", iteration, config.iterations, float(np.mean(window)))
            final_loss, window = float(np.mean(window)), []
    detector.eval()
    held_out = FrameSampler(store, validation_rows, seed=config.seed + 1).sample(config.validation_frames)
    fakes = generated_frames(generator, config.validation_frames, noise, dev, binary=config.binary_frames)
    auc = detection_auc(detector.score(held_out, dev), detector.score(fakes, dev))
    seconds = time.perf_counter() - start
    log.info("validation ROC AUC %.4f (%d real frames of %d validation subjects against %d generated); %.1f s",
             auc, len(held_out), validation_rows["subject"].nunique(), len(fakes), seconds)
    save_detector(detector, weights_path, extra={
        "train_config": config.as_dict(), "data": store_identity(store),
        "generator_weights": file_digest(wgan_weights), "validation_auc": auc})
    return DetectorTrainResult(validation_auc=auc, final_loss=final_loss, seconds=seconds)


__all__ = ["DetectorTrainConfig", "DetectorTrainResult", "generated_frames", "train_detector"]
