"""Seconds per WGAN-GP generator iteration (5 critic steps with the gradient penalty + 1 generator
step) at the default's shapes (width 16, batch 32, 64x64, channels_last, one thread), float32 against
bfloat16 autocast, alternating repeats. A lever's speed only: no result of the default changes."""
import sys
import time

import torch

from gaitcore.models.wgan import Critic, Generator
from gaitcore.training.wgan import critic_step, generator_step
from gaitcore.utils.autocast import precision

torch.set_num_threads(1)
torch.manual_seed(0)
device = torch.device("cpu")
g, d = Generator(16, 128), Critic(16)
g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
og = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.0, 0.9))
od = torch.optim.Adam(d.parameters(), 1e-4, betas=(0.0, 0.9))
real = (torch.rand(32, 1, 64, 64) > 0.5).float() * 2 - 1


def iteration(dtype):
    with precision(device, dtype):
        for _ in range(5):
            critic_step(g, d, od, real, torch.randn(32, 128), torch.rand(32), 10.0)
        generator_step(g, d, og, torch.randn(32, 128))


repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
for dtype in ("float32", "bfloat16"):
    iteration(dtype)  # warm-up
times = {"float32": [], "bfloat16": []}
for _ in range(repeats):
    for dtype in ("float32", "bfloat16"):
        start = time.perf_counter()
        for _ in range(3):
            iteration(dtype)
        times[dtype].append((time.perf_counter() - start) / 3)
for dtype, ts in times.items():
    print(f"{dtype}: " + " ".join(f"{t:.3f}" for t in ts) + " s per generator iteration")
print(f"bfloat16 speed-up: {min(times['float32']) / min(times['bfloat16']):.2f}x (best of {repeats})")
