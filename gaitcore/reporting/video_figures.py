"""Figures of the video attack: Fig. 4 (generated video frames) and Fig. 9 (SPADE examples).

Drawn with matplotlib's Agg backend and written atomically (:mod:`gaitcore.reporting.figures`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gaitcore.reporting.figures import plt, save_figure


def fig9_spade_examples(silhouettes: np.ndarray, generated: np.ndarray, real: np.ndarray, path: str | Path, *,
                        title: str = "SPADE: silhouette to frame", dpi: int = 150) -> Path:
    """He et al. Fig. 9: per column a silhouette ``L`` (uint8 ``[n, S, S]``), SPADE's ``G_p(L)`` and the
    real person crop ``I_s x L_s`` (both uint8 ``[n, S, S, 3]``)."""
    n = len(silhouettes)
    rows = (("silhouette L", np.repeat(silhouettes[..., None], 3, axis=-1)), ("SPADE G_p(L)", generated),
            ("real I_s x L_s", real))
    fig, axes = plt.subplots(3, n, figsize=(1.1 * n + 0.6, 3.7), squeeze=False, layout="constrained")
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=7)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path, dpi)


def fig4_video_frames(examples: list[dict[str, np.ndarray]], path: str | Path, *, dpi: int = 150) -> Path:
    """He et al. Fig. 4: for each example, the source frames, the attacked video's frames (the
    generated one framed in red) and what background subtraction makes of them."""
    examples = [e for e in examples if e]
    if not examples:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.text(0.5, 0.5, "no attacked video with a generated frame", ha="center", va="center")
        ax.axis("off")
        return save_figure(fig, path, dpi)
    cols = max(len(e["attacked"]) for e in examples)
    fig, axes = plt.subplots(3 * len(examples), cols, figsize=(1.6 * cols, 1.35 * 3 * len(examples) + 0.4),
                             squeeze=False, layout="constrained")
    for i, example in enumerate(examples):
        for r, (label, images) in enumerate((("source video", example["source"]),
                                             ("attacked video", example["attacked"]),
                                             ("segmented", example["segmented"]))):
            for c in range(cols):
                ax = axes[3 * i + r, c]
                ax.set_xticks([])
                ax.set_yticks([])
                if c >= len(images):
                    ax.axis("off")
                    continue
                ax.imshow(images[c], cmap="gray" if images[c].ndim == 2 else None, interpolation="nearest")
                if r and bool(example["generated"][c]):
                    for spine in ax.spines.values():
                        spine.set_edgecolor("red")
                        spine.set_linewidth(2)
                if c == 0:
                    ax.set_ylabel(label, fontsize=7)
        axes[3 * i, 0].set_title(str(example["label"]), fontsize=7, loc="left")
    fig.suptitle("Adversarial video frames: SPADE on the adversarial silhouette, composited (He et al. Fig. 4)",
                 fontsize=9)
    return save_figure(fig, path, dpi)


