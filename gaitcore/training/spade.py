"""Training SPADE, the silhouette-to-frame generator G_p (He et al. Sec. 3.3, Appendix A "SPADE").

The recipe of NVlabs/SPADE's pix2pix model, which the paper uses: hinge GAN loss, discriminator
feature matching with weight ``lambda_feat = 10``, TTUR (Adam, G learning rate 1e-4, D 4e-4, betas
(0, 0.9)), one D step per G step (G first, as NVlabs/SPADE's trainer). The VGG loss is off unless
``vgg_weights`` names a VGG19 weight file (:class:`gaitcore.models.spade.VGG19Loss`). The paper
trains 670000 iterations at 256x256; :class:`SpadeTrainConfig`'s defaults are NVlabs/SPADE's
networks, the CPU configs shrink size, widths and iterations.

**Training pairs** ``(I_s x L_s, L_s)`` (Sec. 3.3): ``pair_sequences`` sequences drawn (seeded) from
the training subjects' CASIA-B grid (every condition and view), ``frames_per_sequence`` frames
drawn from each among those where the whole person is inside the frame and at least 32 rows tall.
Each pair is the square person crop of :mod:`gaitcore.video.frames` (``crop_margin`` of the height
on each side), resized to ``size``: the mask (nearest) and the frame times the mask (area
averaging), i.e. the person on black. The source is a :class:`gaitcore.video.sources.VideoSource`:
the synthetic renderer's RGB mode with its exact masks, or real videos with their silhouettes.

**Randomness and checkpoints** as :mod:`gaitcore.training.wgan`: batches are drawn by a seeded NumPy
generator; every ``checkpoint_every`` iterations one file is written atomically (G, D, both
optimisers, the iteration, the config, a hash of the training pairs, the history, the random
states, the run's log so far) and a rerun resumes from it; on CPU with the same thread count a
resumed run ends with exactly the weights of an
uninterrupted one. Files are read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from gaitcore.data.layout import CASIA_B_SUBJECTS, TRAIN_SUBJECTS, SequenceKey, casia_b_keys
from gaitcore.models.spade import (
    PAPER_NDF,
    PAPER_NGF,
    PAPER_NHIDDEN,
    PAPER_SIZE,
    MultiscaleDiscriminator,
    SpadeArch,
    SPADEGenerator,
    VGG19Loss,
    build_spade_discriminator,
    build_spade_generator,
    feature_matching_loss,
    hinge_d_loss,
    hinge_g_loss,
    parameter_count,
    save_spade,
)
from gaitcore.training.checkpoint import arrays_identity, resume_from, write_checkpoint
from gaitcore.training.config import Checkpointing, TrainConfigMixin
from gaitcore.utils.device import resolve_device
from gaitcore.video.frames import crop_square, person_box
from gaitcore.video.sources import VideoSource

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "gaitcore.spade.checkpoint.v1"
CHECKPOINT_KEYS = frozenset(
    {"format", "iteration", "config", "generator", "discriminator", "opt_generator", "opt_discriminator", "rng",
     "history", "seconds"}
)
RESUMABLE_CHANGES = frozenset({"iterations", "checkpoint_every", "log_every", "device", "channels_last"})
# Fields that choose where and how fast it runs, not what it trains (no pipeline rerun).
RUNTIME_SETTINGS = frozenset({"checkpoint_every", "log_every", "device", "channels_last"})
MIN_PERSON_ROWS = 32


@dataclass(frozen=True)
class SpadeTrainConfig(TrainConfigMixin):
    """Every value that determines a SPADE training run; defaults are NVlabs/SPADE's and the paper's."""

    label: ClassVar[str] = "spade training"
    model_name: ClassVar[str] = "SPADE"
    config_block: ClassVar[str] = "spade.train"
    checkpointing: ClassVar[Checkpointing] = Checkpointing(CHECKPOINT_FORMAT, CHECKPOINT_KEYS, RESUMABLE_CHANGES,
                                                         RUNTIME_SETTINGS)

    size: int = PAPER_SIZE
    ngf: int = PAPER_NGF
    ndf: int = PAPER_NDF
    nhidden: int = PAPER_NHIDDEN
    num_d: int = 2
    n_layers_d: int = 4
    batch_size: int = 1  # NVlabs/SPADE's default batchSize
    iterations: int = 670_000  # paper Sec. 4.1
    lr_generator: float = 1e-4  # TTUR: lr / 2 with NVlabs/SPADE's lr 2e-4
    lr_discriminator: float = 4e-4  # TTUR: lr * 2
    betas: tuple[float, float] = (0.0, 0.9)
    feature_matching_weight: float = 10.0  # lambda_feat
    vgg_weight: float = 10.0  # lambda_vgg; used only with vgg_weights
    vgg_weights: str | None = None  # a VGG19 state dict (torchvision layout); None: no VGG loss
    pair_sequences: int = 2000
    frames_per_sequence: int = 8
    crop_margin: float = 0.05
    checkpoint_every: int = 5000
    log_every: int = 100
    seed: int = 0
    device: str = "auto"
    channels_last: bool = False
    train_subjects: tuple[int, int] = TRAIN_SUBJECTS
    exclude_subjects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        object.__setattr__(self, "train_subjects", tuple(int(s) for s in self.train_subjects))
        object.__setattr__(self, "exclude_subjects", tuple(str(s) for s in self.exclude_subjects))
        self.arch  # validates size and widths
        for name in ("batch_size", "iterations", "pair_sequences", "frames_per_sequence", "checkpoint_every",
                     "log_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"spade training: {name} must be at least 1, got {getattr(self, name)}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"spade training: betas must be two numbers in [0, 1), got {self.betas}")
        if not (self.lr_generator > 0 and self.lr_discriminator > 0):
            raise ValueError("spade training: learning rates must be positive")
        if self.feature_matching_weight < 0 or self.vgg_weight < 0 or not 0 <= self.crop_margin <= 1:
            raise ValueError("spade training: loss weights must be >= 0 and crop_margin in [0, 1]")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"spade training: device must be cpu, cuda or auto, got {self.device!r}")

    @property
    def arch(self) -> SpadeArch:
        return SpadeArch(self.size, self.ngf, self.ndf, self.nhidden, self.num_d, self.n_layers_d)


@dataclass(frozen=True)
class SpadeTrainResult:
    """What a call of :func:`train_spade` did."""

    iterations: int
    resumed_from: int
    seconds: float
    seconds_per_iteration: float
    discriminator_loss: float
    generator_loss: float
    feature_matching: float


# ---------------------------------------------------------------------------------------- pairs
def training_keys(config: SpadeTrainConfig, subjects: int = CASIA_B_SUBJECTS) -> list[SequenceKey]:
    """The training subjects' CASIA-B sequences (every condition and view), canonical order."""
    chosen = set(config.subjects())
    return [k for k in casia_b_keys(subjects) if k.subject in chosen]


def person_pairs(rgb: np.ndarray, masks: np.ndarray, frames: np.ndarray, size: int,
                 margin: float) -> tuple[np.ndarray, np.ndarray]:
    """SPADE pairs of the given frames: masks uint8 ``[n, size, size]`` 0/255 and person-on-black
    crops uint8 ``[n, size, size, 3]`` (see the module docstring)."""
    out_masks = np.zeros((len(frames), size, size), dtype=np.uint8)
    out_images = np.zeros((len(frames), size, size, 3), dtype=np.uint8)
    for i, t in enumerate(frames):
        box = person_box(masks[t])
        square = box.square(margin)
        out_masks[i] = np.where(crop_square(masks[t], square, size, nearest=True) > 127, 255, 0)
        person = rgb[t] * (masks[t] > 0)[..., None]
        out_images[i] = crop_square(person, square, size) * (out_masks[i] > 0)[..., None]
    return out_masks, out_images


def usable_frames(masks: np.ndarray) -> np.ndarray:
    """Frames whose person is whole (off every border) and at least 32 rows tall."""
    keep = []
    for t, mask in enumerate(masks):
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        if rows.size and rows[-1] - rows[0] + 1 >= MIN_PERSON_ROWS and rows[0] > 0 and cols[0] > 0 \
                and rows[-1] < mask.shape[0] - 1 and cols[-1] < mask.shape[1] - 1:
            keep.append(t)
    return np.asarray(keep, dtype=np.int64)


def build_pairs(source: VideoSource, keys: list[SequenceKey], sequences: int, frames_per_sequence: int, size: int,
                margin: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``sequences`` of ``keys`` and ``frames_per_sequence`` usable frames of each (seeded): SPADE pairs."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(keys), size=min(sequences, len(keys)), replace=False)
    masks, images = [], []
    began = time.perf_counter()
    for done, i in enumerate(sorted(chosen), 1):
        rgb, mask = source.video(keys[i])
        usable = usable_frames(mask)
        if usable.size:
            picked = np.sort(rng.choice(usable, size=min(frames_per_sequence, usable.size), replace=False))
            m, im = person_pairs(rgb, mask, picked, size, margin)
            masks.append(m)
            images.append(im)
        if done % max(1, len(chosen) // 10) == 0:
            log.info("training pairs: %d/%d sequences (%.1f s)", done, len(chosen), time.perf_counter() - began)
    if not masks:
        raise ValueError("no usable training frame (a whole person at least 32 rows tall) in the drawn sequences")
    return np.concatenate(masks), np.concatenate(images)


def pairs_to_tensors(masks: np.ndarray, images: np.ndarray, device: torch.device) -> tuple[Tensor, Tensor]:
    """uint8 pairs -> (silhouettes ``[n, 1, S, S]`` in {0, 1}, frames ``[n, 3, S, S]`` in [-1, 1])."""
    seg = torch.from_numpy(np.ascontiguousarray(masks)).to(device=device, dtype=torch.float32).div_(255.0)[:, None]
    img = torch.from_numpy(np.ascontiguousarray(images)).to(device=device, dtype=torch.float32)
    return seg, img.permute(0, 3, 1, 2).div(127.5).sub(1.0)


# ---------------------------------------------------------------------------------------- steps
def generator_step(g: SPADEGenerator, d: MultiscaleDiscriminator, opt: torch.optim.Optimizer, seg: Tensor, real: Tensor,
                   fm_weight: float, vgg: VGG19Loss | None, vgg_weight: float) -> tuple[float, float]:
    """One G update: hinge + ``fm_weight`` x feature matching (+ VGG); returns (total, feature matching)."""
    for p in d.parameters():
        p.requires_grad_(False)
    try:
        fake = g(seg)
        pred_fake = d(seg, fake)
        with torch.no_grad():
            pred_real = d(seg, real)
        fm = feature_matching_loss(pred_real, pred_fake)
        loss = hinge_g_loss(pred_fake) + fm_weight * fm
        if vgg is not None:
            loss = loss + vgg_weight * vgg(fake, real)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    finally:
        for p in d.parameters():
            p.requires_grad_(True)
    return float(loss.detach()), float(fm.detach())


def discriminator_step(g: SPADEGenerator, d: MultiscaleDiscriminator, opt: torch.optim.Optimizer, seg: Tensor,
                       real: Tensor) -> float:
    """One D update on the hinge loss of real pairs and pairs generated from the same silhouettes."""
    with torch.no_grad():
        fake = g(seg)
    loss = hinge_d_loss(d(seg, real), d(seg, fake))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


# ---------------------------------------------------------------------------------------- training
def train_spade(source: VideoSource, weights_path: str | Path, checkpoint_path: str | Path,
                config: SpadeTrainConfig, *, set_aside_stale: bool = False) -> SpadeTrainResult:
    """Train SPADE on pairs from ``source`` up to ``config.iterations``, resuming from ``checkpoint_path``
    (a checkpoint of other training pairs or settings raises, or with ``set_aside_stale`` is set
    aside: :func:`~gaitcore.training.checkpoint.resume_from`).

    Keys are drawn from the training subjects among the source's ``subjects``. Writes the resume
    checkpoint every ``checkpoint_every`` iterations and at
    the end, then the final weights (:func:`gaitcore.models.spade.save_spade`). Logs the losses and
    the speed every ``log_every`` iterations.
    """
    device = resolve_device(config.device)
    keys = training_keys(config, source.subjects)
    if not keys:
        raise ValueError(f"spade training: no training subject {config.train_subjects} among the source's "
                         f"{source.subjects} subjects; "
                         "check subjects.casia_b.train")
    masks, images = build_pairs(source, keys, config.pair_sequences, config.frames_per_sequence, config.size,
                                config.crop_margin, config.seed)
    data = arrays_identity(pairs_masks=masks, pairs_images=images)
    seg_all, real_all = pairs_to_tensors(masks, images, device)
    torch.manual_seed(config.seed)
    arch = config.arch
    g = build_spade_generator(arch).to(device)
    d = build_spade_discriminator(arch).to(device)
    if config.channels_last:
        g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
    vgg = VGG19Loss(config.vgg_weights).to(device) if config.vgg_weights else None
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr_generator, betas=config.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=config.lr_discriminator, betas=config.betas)
    rng = np.random.default_rng(config.seed + 1)
    start, seconds_before, history = 0, 0.0, []
    payload = resume_from(config, checkpoint_path, data, set_aside_stale=set_aside_stale)
    if payload is not None:
        g.load_state_dict(payload["generator"])
        d.load_state_dict(payload["discriminator"])
        opt_g.load_state_dict(payload["opt_generator"])
        opt_d.load_state_dict(payload["opt_discriminator"])
        torch.set_rng_state(payload["rng"]["torch"])
        rng.bit_generator.state = payload["rng"]["batches"]
        start, seconds_before, history = int(payload["iteration"]), float(payload["seconds"]), list(payload["history"])
    log.info("training SPADE %dx%d ngf %d ndf %d nhidden %d (G %d, D %d parameters) on %d pairs, device %s; batch %d, "
             "TTUR lr G %g D %g betas %s, feature matching %g, VGG %s, iterations %d..%d",
             config.size, config.size, config.ngf, config.ndf, config.nhidden, parameter_count(g), parameter_count(d),
             len(masks), device, config.batch_size, config.lr_generator, config.lr_discriminator, config.betas,
             config.feature_matching_weight, "on" if vgg else "off", start, config.iterations)
    g.train()
    d.train()
    run_start = window_start = time.perf_counter()
    window: list[tuple[float, float, float]] = []
    d_loss = g_loss = fm = float("nan")
    iteration = start
    for iteration in range(start + 1, config.iterations + 1):
        batch = torch.from_numpy(rng.integers(0, len(seg_all), size=config.batch_size)).to(device)
        seg, real = seg_all[batch], real_all[batch]
        g_loss, fm = generator_step(g, d, opt_g, seg, real, config.feature_matching_weight, vgg, config.vgg_weight)
        d_loss = discriminator_step(g, d, opt_d, seg, real)
        window.append((d_loss, g_loss, fm))
        if iteration % config.log_every == 0 or iteration == config.iterations:
            elapsed = time.perf_counter() - window_start
            dm, gm, fmm = (float(x) for x in np.mean(window, axis=0))
            history.append({"iteration": iteration, "discriminator_loss": dm, "generator_loss": gm,
                            "feature_matching": fmm, "seconds_per_iteration": elapsed / len(window)})
            log.info("iteration %d/%d D hinge %.4f G loss %.4f feature matching %.4f | %.3f s/it",
                     iteration, config.iterations, dm, gm, fmm, elapsed / len(window))
            window, window_start = [], time.perf_counter()
        if iteration % config.checkpoint_every == 0 or iteration == config.iterations:
            spent = seconds_before + time.perf_counter() - run_start
            write_checkpoint(config, checkpoint_path, iteration, spent, data, generator=g.state_dict(),
                             discriminator=d.state_dict(), opt_generator=opt_g.state_dict(),
                             opt_discriminator=opt_d.state_dict(),
                             rng={"torch": torch.get_rng_state(), "batches": rng.bit_generator.state}, history=history)
    seconds = time.perf_counter() - run_start
    ran = iteration - start
    log.info("trained %d iterations in %.1f s (%.0f s in all runs)", ran, seconds, seconds_before + seconds)
    save_spade(g, d, arch, weights_path, extra={"iterations": iteration, "train_config": config.as_dict(),
                                                 "history": history, "pairs": len(masks),
                                                 "seconds": seconds_before + seconds})
    log.info("wrote weights %s", weights_path)
    return SpadeTrainResult(iteration, start, seconds, seconds / ran if ran else 0.0, d_loss, g_loss, fm)


def training_pairs_for_report(source: VideoSource, config: SpadeTrainConfig, subjects: tuple[str, ...], n: int,
                              seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pairs of ``subjects`` (e.g. held-out ones) for Fig. 9, one frame per drawn sequence."""
    keys = [k for k in casia_b_keys(max(int(s) for s in subjects)) if k.subject in set(subjects)]
    return build_pairs(source, keys, n, 1, config.size, config.crop_margin, seed)

