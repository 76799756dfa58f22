"""A frame detector: the defender's view of the attack's frames (beyond He et al.).

He et al. argue that their frames are imperceptible ("adversarial high-quality gait silhouettes",
Sec. 1, Sec. 4.5, Fig. 7) but measure it by eye. A defender would rather train a classifier to tell
the frames a generator makes from real silhouettes and ask how well it separates them (its ROC AUC).
:class:`FrameDetector` is that classifier: a small convolutional network scoring one uint8 64x64
silhouette frame; its logit is positive for "generated". It is trained on training subjects only
(:mod:`gaitcore.training.detector`) and reads every frame on its own (no batch statistics), so a
frame's score does not depend on the other frames of its batch.

Architecture (``width`` w): four stride-2 4x4 convolutions ``1 -> w -> 2w -> 4w -> 8w`` (64 -> 32 ->
16 -> 8 -> 4 pixels), each followed by a leaky ReLU (slope 0.2), then a linear map of the 8w x 4 x 4
maps to one logit: the critic layout of DCGAN (Radford et al. 2016) without batch norm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gaitcore.models._api import load_model_weights, save_model_weights
from gaitcore.models._utils import batch_invariant
from gaitcore.models.realism import roc_auc

FRAME_SIZE = 64
WEIGHTS_FORMAT = "gaitcore.detector.weights.v1"


def frames_to_input(frames: np.ndarray | Tensor, device: torch.device | str | None = None) -> Tensor:
    """Store frames (uint8 ``[n, 64, 64]``) -> the detector's input, float32 ``[n, 1, 64, 64]`` in [0, 1]."""
    if frames.dtype not in (np.uint8, torch.uint8) or tuple(frames.shape[1:]) != (FRAME_SIZE, FRAME_SIZE):
        raise ValueError(f"expected uint8 frames [n, 64, 64], got {frames.dtype} {tuple(frames.shape)}")
    if isinstance(frames, np.ndarray):  # read-only memory maps are copied (torch needs writeable memory)
        frames = torch.from_numpy(np.require(frames, requirements=["C", "W"]))
    return frames.to(device=device, dtype=torch.float32).div_(255.0).unsqueeze(1)


class FrameDetector(nn.Module):
    """Scores silhouette frames ``[n, 1, 64, 64]`` in [0, 1]: one logit each, positive = generated."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be positive, got {width}")
        self.width = int(width)
        widths = [1, width, 2 * width, 4 * width, 8 * width]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 4, stride=2, padding=1) for a, b in zip(widths, widths[1:]))
        self.head = nn.Linear(8 * width * 4 * 4, 1)

    def config(self) -> dict[str, Any]:
        """The constructor arguments, as plain values (stored with the weights)."""
        return {"width": self.width}

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[n]``; in eval mode each frame's logit is bit-identical whatever its batch."""
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, FRAME_SIZE, FRAME_SIZE):
            raise ValueError(f"expected frames [n, 1, 64, 64], got shape {tuple(x.shape)}")
        return batch_invariant(self._logits, x) if not self.training else self._logits(x)

    def _logits(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        # the linear map as a per-row product and sum: a batched matrix product's blocking (and so
        # its last bits) would depend on the batch size
        return (x.flatten(1) * self.head.weight[0]).sum(1) + self.head.bias

    @torch.no_grad()
    def score(self, frames: np.ndarray, device: torch.device | str = "cpu", batch: int = 512) -> np.ndarray:
        """Logits (float64 ``[n]``) of uint8 frames ``[n, 64, 64]``, ``batch`` frames at a time."""
        out = [self(frames_to_input(frames[i : i + batch], device)).double().cpu()
               for i in range(0, len(frames), batch)]
        return torch.cat(out).numpy() if out else np.empty(0)


def detection_auc(real_logits: np.ndarray, generated_logits: np.ndarray) -> float:
    """The detector's ROC AUC: the chance that a generated frame's logit exceeds a real frame's, ties
    counting 1/2 (0.5: chance; 1: every generated frame above every real one)."""
    return roc_auc(generated_logits, real_logits)


def build_detector(width: int = 16) -> FrameDetector:
    """A freshly initialised detector (PyTorch's default initialisation)."""
    return FrameDetector(width=width)


def save_detector(model: FrameDetector, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the detector (architecture, state dict and ``extra`` plain values) atomically."""
    return save_model_weights(model, model.config(), WEIGHTS_FORMAT, path, extra)


def load_detector(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[FrameDetector, dict[str, Any]]:
    """The detector saved by :func:`save_detector` (in eval mode) and the ``extra`` values saved with it."""
    fix = "rerun the rule `train_frame_detector` (delete the file first) or point to weights written by gaitcore"
    return load_model_weights(path, WEIGHTS_FORMAT, "frame detector", build_detector, fix, map_location)


__all__ = ["FrameDetector", "build_detector", "detection_auc", "frames_to_input", "load_detector", "save_detector"]
