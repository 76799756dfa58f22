"""The resampling lever (gaitcore.models._resample): the WGAN-GP blocks with plain upsample/pool
compositions against the stride-2 convolutions at the lower resolution, same weights, interleaved
in one process (so a busy machine slows both alike).

Prints, per workload, the milliseconds of each and their ratio:
* ``attack floor``: G and D forward + backward to the latents on 40 frames in eval mode (the attack
  engine's floor at S = 1/40 with 16 probes, gaitcore.bench.attack), float32 and bfloat16 autocast;
* ``attack engine``: the engine of gaitcore.bench.attack on its 16 rendered NM probes at S = 1/40
  with T = 20, float32 and bfloat16 (fresh weights at the default's widths, one thread);
* ``wgan iteration``: one training iteration at the default's settings (5 critic steps with the
  gradient penalty, one generator step, batch 32), float32, Adam.
Also the largest difference of G's frames and D's scores between the two (float32, eval mode).
"""

import argparse
import time
from contextlib import nullcontext
from fractions import Fraction

import torch
import torch.nn.functional as F

from gaitcore.attacks.engine import AttackSettings, TemporalSparseAttack
from gaitcore.bench import attack as bench
from gaitcore.models import wgan
from gaitcore.training.wgan import critic_step, generator_step

torch.set_num_threads(1)
CHANNELS_LAST = torch.channels_last


def plain_up(self, x):
    skip = self.shortcut(F.interpolate(x, scale_factor=2.0, mode="nearest"))
    h = self.conv1(F.interpolate(F.relu(self.norm1(x)), scale_factor=2.0, mode="nearest"))
    return skip + self.conv2(F.relu(self.norm2(h)))


def plain_down(self, x):
    skip = self.shortcut(F.avg_pool2d(x, 2))
    h = self.conv1(F.relu(self.norm1(x)))
    return skip + F.avg_pool2d(self.conv2(F.relu(self.norm2(h))), 2)


FAST = {"up": wgan.UpBlock.forward, "down": wgan.DownBlock.forward}


def use(plain: bool) -> None:
    wgan.UpBlock.forward = plain_up if plain else FAST["up"]
    wgan.DownBlock.forward = plain_down if plain else FAST["down"]


def timed(fn, reps):
    began = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - began) / reps * 1e3


def compare(name, fn, reps, rounds=5):
    times = {True: [], False: []}
    for plain in (True, False):  # warm-up
        use(plain)
        fn()
    for _ in range(rounds):
        for plain in (True, False):
            use(plain)
            times[plain].append(timed(fn, reps))
    plain_ms, fast_ms = min(times[True]), min(times[False])
    print(f"{name}: plain {plain_ms:.1f} ms, resampled {fast_ms:.1f} ms, {plain_ms / fast_ms:.2f}x")


torch.manual_seed(0)
g = wgan.build_generator(dim=16).eval().requires_grad_(False).to(memory_format=CHANNELS_LAST)
d = wgan.build_critic(dim=16).eval().requires_grad_(False).to(memory_format=CHANNELS_LAST)
z0 = torch.randn(40, 128)
outputs = {}
for plain in (True, False):
    use(plain)
    with torch.no_grad():
        x = g(z0)
        outputs[plain] = (x, d(x))
print(f"max |G plain - G resampled| {float((outputs[True][0] - outputs[False][0]).abs().max()):.2g}, "
      f"max |D plain - D resampled| {float((outputs[True][1] - outputs[False][1]).abs().max()):.2g} "
      f"(scores up to {float(outputs[True][1].abs().max()):.2g})")

for dtype in ("float32", "bfloat16"):
    context = nullcontext if dtype == "float32" else lambda: torch.autocast("cpu", dtype=torch.bfloat16)

    def floor():
        z = z0.clone().requires_grad_(True)
        with context():
            logits = d(g(z))
        torch.autograd.grad(logits.float().sum(), z)

    compare(f"attack floor ({dtype}, 40 frames)", floor, reps=5)

args = argparse.Namespace(gaitset_weights=None, wgan_weights=None, gaitset_channels=(16, 32, 64), wgan_dim=16,
                          victim="GaitSet", channels_last=True)
torch.manual_seed(0)
victim = bench.build_victim(args, torch.device("cpu"))
items = bench.attack_items(victim, bench.probe_sequences(16, None), Fraction(1, 40), torch.device("cpu"))
for dtype in ("float32", "bfloat16"):
    engine = TemporalSparseAttack(victim, AttackSettings(iterations=20, dtype=dtype))
    compare(f"attack engine ({dtype}, 16 probes, T = 20)", lambda engine=engine: engine.attack(items), reps=1)

torch.manual_seed(0)
g = wgan.build_generator(dim=16).train().to(memory_format=CHANNELS_LAST)
d = wgan.build_critic(dim=16).train().to(memory_format=CHANNELS_LAST)
opt_g = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.0, 0.9))
opt_d = torch.optim.Adam(d.parameters(), 1e-4, betas=(0.0, 0.9))
real = (torch.rand(32, 1, 64, 64) < 0.3).float() * 2 - 1


def iteration():
    for _ in range(5):
        critic_step(g, d, opt_d, real, torch.randn(32, 128), torch.rand(32), 10.0)
    generator_step(g, d, opt_g, torch.randn(32, 128))


compare("wgan iteration (float32, batch 32, 5 critic steps)", iteration, reps=2)
