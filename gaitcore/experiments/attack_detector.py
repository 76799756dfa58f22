"""The second frame judge (beyond He et al.; issue 23): a detector trained against the attack's own frames.

The first judge (rule ``train_frame_detector``) learns real silhouettes against the generator's
unoptimised frames ``G(z)``; a defender who has seen the attack would train on its *optimised*
frames instead. Rule ``train_attack_detector`` does that with the plain attack's frames on the
**validation** probes (rule ``attack_validation``, never a test subject): trained on half of the
validation subjects' attack frames, read on the other half's
(:func:`gaitcore.training.detector.train_attack_detector`); the imperceptibility table scores every
setting's test frames with it (``attack_detector_auc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gaitcore.attacks.records import load_attacks, read_attack_frames
from gaitcore.training.detector import DetectorTrainConfig, DetectorTrainResult, train_attack_detector


def attack_frames(paths: Sequence[str | Path]) -> tuple[np.ndarray, np.ndarray]:
    """The generated frames of the attack jobs ``paths`` (their tables; the ``.npz`` beside each)
    ``[R, 64, 64]`` and each frame's probe subject ``[R]``."""
    rows, _ = load_attacks(paths)
    frames, subjects = [], []
    for path, of_file in rows.groupby("_file", sort=False):
        stored, offsets, _ = read_attack_frames(Path(path).with_suffix(".npz"))
        for row, subject in zip(of_file["_row"].astype(int), of_file["subject"].astype(str), strict=True):
            frames.append(stored[offsets[row] : offsets[row + 1]])
            subjects += [subject] * (offsets[row + 1] - offsets[row])
    return np.concatenate(frames), np.asarray(subjects, dtype=object)


def train_attack_frame_detector(store_root: str | Path, table_paths: Sequence[str | Path], weights_path: str | Path,
                                config: DetectorTrainConfig, *, device: str = "cpu") -> DetectorTrainResult:
    """Train the second judge on the frames of the validation attack jobs ``table_paths``."""
    frames, subjects = attack_frames(table_paths)
    return train_attack_detector(store_root, frames, subjects, weights_path, config, device=device,
                                 sources=[str(p) for p in table_paths])


__all__ = ["attack_frames", "train_attack_frame_detector"]
