"""Walker-like test silhouettes shared by the victim models' tests."""

import torch


def silhouettes(frames: int, seed: int, noise: float = 0.0) -> torch.Tensor:
    """Walker-like binary blobs, ``[frames, 64, 44]``, on a blank background (or, with ``noise``, on
    uniform grey noise up to that level)."""
    gen = torch.Generator().manual_seed(seed)
    out = noise * torch.rand(frames, 64, 44, generator=gen) if noise else torch.zeros(frames, 64, 44)
    for t in range(frames):
        top, left = int(torch.randint(4, 12, (1,), generator=gen)), int(torch.randint(12, 20, (1,), generator=gen))
        out[t, top : top + 40, left : left + 10] = 1.0
        stride = int(torch.randint(-4, 5, (1,), generator=gen))
        out[t, top + 40 : top + 52, left + 3 + stride : left + 7 + stride] = 1.0
    return out
