"""DiffAugment of the critic's inputs (gaitcore.training.augment): known answers against a naive
pixel-by-pixel reference, determinism, gradients."""

import numpy as np
import pytest
import torch

from gaitcore.training.augment import BACKGROUND, cutout, diff_augment, translate


def frames(n=6, seed=0):
    return torch.rand(n, 1, 64, 64, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def naive_shift(frame: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``frame`` moved down ``dy`` and right ``dx`` pixels onto background (slicing, no indexing tricks)."""
    out = np.full_like(frame, BACKGROUND)
    h, w = frame.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = frame[max(-dy, 0) : h - max(dy, 0),
                                                                         max(-dx, 0) : w - max(dx, 0)]
    return out


def test_translation_is_a_shift_of_at_most_an_eighth_with_background_border():
    x = frames(120)
    y = translate(x, torch.Generator().manual_seed(1))
    found = []
    for a, b in zip(x[:, 0].numpy(), y[:, 0].numpy(), strict=True):
        matches = [(dy, dx) for dy in range(-10, 11) for dx in range(-10, 11)
                   if np.array_equal(naive_shift(a, dy, dx), b)]
        assert len(matches) == 1  # exactly one shift explains the output
        found.append(matches[0])
    found = np.array(found)
    assert np.abs(found).max() == 8 and {0, 8, -8} <= set(found[:, 0]) | set(found[:, 1])


def test_cutout_sets_one_half_side_square_to_background():
    x = frames()
    y = cutout(x, torch.Generator().manual_seed(2))
    for a, b in zip(x[:, 0].numpy(), y[:, 0].numpy(), strict=True):
        changed = a != b
        rows, cols = np.flatnonzero(changed.any(1)), np.flatnonzero(changed.any(0))
        assert (b[changed] == BACKGROUND).all() and 0 < len(rows) <= 32 and 0 < len(cols) <= 32
        assert changed[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].all()  # a solid rectangle
        assert changed.sum() == len(rows) * len(cols)
        # the square is 32 x 32 unless the border clips it
        assert len(rows) == 32 or rows[0] == 0 or rows[-1] == 63
        assert len(cols) == 32 or cols[0] == 0 or cols[-1] == 63


def test_policies_are_deterministic_keep_gradients_and_none_is_the_identity():
    x = frames().requires_grad_(True)
    assert diff_augment(x, "none", torch.Generator()) is x
    a = diff_augment(x, "translation_cutout", torch.Generator().manual_seed(5))
    b = diff_augment(x, "translation_cutout", torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert not torch.equal(a, diff_augment(x, "translation_cutout", torch.Generator().manual_seed(6)))
    a.sum().backward()
    kept = x.grad != 0
    assert kept.any() and (x.grad[kept] == 1).all()  # each input pixel shown at most once
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        diff_augment(x, "flip", torch.Generator())


def test_channels_last_frames_give_the_same_result():
    x = frames()
    a = diff_augment(x, "translation_cutout", torch.Generator().manual_seed(7))
    b = diff_augment(x.to(memory_format=torch.channels_last), "translation_cutout", torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
