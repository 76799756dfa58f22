"""Fig. 9 (He et al. Sec. 3.3, Appendix A): trained SPADE turning held-out subjects' silhouettes into
frames, beside the real frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gaitcore.models.spade import load_spade
from gaitcore.reporting.video_figures import fig9_spade_examples
from gaitcore.training.spade import SpadeTrainConfig, pairs_to_tensors, training_pairs_for_report
from gaitcore.utils.device import resolve_device


def write_spade_report(spade_weights: str | Path, source, subjects: tuple[int, int], path: str | Path, *,
                       samples: int = 8, seed: int = 0, device: str = "cpu") -> Path:
    """Fig. 9 from trained SPADE weights: ``samples`` pairs of the subjects ``first..last`` (held out
    from training), one frame per drawn sequence of ``source`` (a :class:`gaitcore.video.sources.VideoSource`)."""
    model = load_spade(spade_weights, map_location=resolve_device(device))
    config = SpadeTrainConfig.from_mapping(model.extra["train_config"])
    labels = tuple(f"{s:03d}" for s in range(subjects[0], subjects[1] + 1))
    masks, real = training_pairs_for_report(source, config, labels, samples, seed)
    seg, _ = pairs_to_tensors(masks, real, torch.device("cpu"))
    out = model.translate(seg).permute(0, 2, 3, 1).numpy()
    generated = np.clip(np.round((out + 1.0) * 127.5), 0, 255).astype(np.uint8)
    title = (f"SPADE {config.size}x{config.size}, ngf {config.ngf}, {model.extra.get('iterations')} iterations: "
             "held-out silhouettes to frames (He et al. Fig. 9)")
    return fig9_spade_examples(masks, generated, real, path, title=title)
