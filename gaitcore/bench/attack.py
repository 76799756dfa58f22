"""Benchmark: the batched, cached attack engine against the plain one-by-one reference.

``python -m gaitcore.bench.attack`` attacks the same probes with the same seeds twice, with
:class:`gaitcore.attacks.TemporalSparseAttack` and :func:`gaitcore.attacks.reference_attack` (the
plain method done well: same models, dtype and threads, G and D built once, one sequence at a
time, a full GaitSet forward every iteration), and prints, as its last line::

    attack-speedup: <ratio>x max-abs-diff: <value> floor-multiple: <m>x

* ``attack-speedup``: engine throughput / reference throughput (sequence-iterations per second);
* ``max-abs-diff``: the largest difference between the two methods' final generated frames (float,
  in G's [-1, 1] range);
* ``floor-multiple``: the engine's time per sequence-iteration divided by the floor, the time of
  G and D forward+backward on the same generated frames alone (work neither method can skip).

``--victim GaitPart`` (or ``GaitGL``) attacks another victim (:mod:`gaitcore.models.victims`; full
forward every iteration); ``--compare-victims`` runs only the engine, once per victim on the same
probes, and prints each victim's time per sequence-iteration as a multiple of GaitSet's::

    victim-cost GaitPart: <ms> ms per sequence-iteration (<ratio>x GaitSet's)

Probes are synthetic CASIA-B sequences (rendered and preprocessed here), or a store's probes with
``--store``. Models are freshly initialised at the default config's widths unless weights are given
(speed does not depend on training). Defaults: 16 probes, S = 1/40, T = 100, one thread (as the
pipeline's attack jobs run; with several threads the two methods can part ways, see docs/attack.md).
Each ratio compares runs made in this one process.
"""

from __future__ import annotations

import argparse
import time
from fractions import Fraction

import numpy as np
import torch

from gaitcore.attacks.engine import (
    AttackItem,
    AttackSettings,
    TemporalSparseAttack,
    Victim,
    reference_attack,
)
from gaitcore.attacks.plan import plan_frames
from gaitcore.attacks.vocabulary import Sparsity
from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.preprocess import preprocess_sequence
from gaitcore.data.store import FrameStore
from gaitcore.data.synthetic import SyntheticConfig, render_sequence
from gaitcore.models.gaitset import silhouettes_to_input
from gaitcore.models.realism import RealismScore
from gaitcore.models.victims import ARCHITECTURES, architecture, load_victim
from gaitcore.models.wgan import build_critic, build_generator, load_wgan
from gaitcore.utils.autocast import DTYPES, precision


def probe_sequences(count: int, store: str | None) -> list[np.ndarray]:
    """``count`` probe sequences (uint8 ``[N, 64, 64]``): a store's first NM probes, or rendered ones."""
    if store is not None:
        frames = FrameStore(store)
        rows = frames.index[(frames.index["condition"] == "nm") & (frames.index["seq"] >= 5)].index[:count]
        return [np.asarray(frames.sequence(int(r))) for r in rows]
    cfg = SyntheticConfig.for_dataset(CASIA_B, subjects=124, seed=0)
    keys = [SequenceKey(CASIA_B, f"{75 + i // 11:03d}", "nm", 5, 18 * (i % 11)) for i in range(count)]
    return [preprocess_sequence(render_sequence(cfg, key))[0] for key in keys]


HIDDEN = {"GaitSet": 256, "GaitPart": 128}  # the default config's / OpenGait's feature widths (GaitGL: channels[2])


def build_model(name: str, args: argparse.Namespace, device: torch.device) -> torch.nn.Module:
    """A freshly initialised victim ``name`` at ``--gaitset-channels``, or the weights given."""
    if args.gaitset_weights:
        return load_victim(args.gaitset_weights, map_location=device)[0]
    spec = architecture(name)
    arguments = {"channels": args.gaitset_channels}
    if spec.name in HIDDEN:
        arguments["hidden_dim"] = HIDDEN[spec.name]
    return spec.build(**arguments).to(device).eval()


def build_victim(args: argparse.Namespace, device: torch.device, name: str | None = None) -> Victim:
    gaitset = build_model(name or args.victim, args, device)
    if args.wgan_weights:
        wgan = load_wgan(args.wgan_weights, map_location=device)
        generator, realism = wgan.generator, wgan.realism
    else:
        generator = build_generator(dim=args.wgan_dim).to(device).eval()
        realism = RealismScore(build_critic(dim=args.wgan_dim).to(device).eval(), 1.0, 0.0)
    victim = Victim(gaitset, generator, realism)
    return victim.to_channels_last() if args.channels_last else victim


def attack_items(victim: Victim, sequences: list[np.ndarray], sparsity: Fraction, device: torch.device
                 ) -> list[AttackItem]:
    """Nontargeted attack items of ``sequences`` (first-K plans at ``sparsity``, seed = position)."""
    items = []
    for i, frames in enumerate(sequences):
        with torch.no_grad():
            reference = victim.model(silhouettes_to_input(frames, device)[None])[0]
        items.append(AttackItem(frames, plan_frames(len(frames), sparsity), reference, seed=i))
    return items


def floor_seconds(victim: Victim, latents: torch.Tensor, iterations: int, dtype: str = "float32") -> float:
    """G and D forward+backward on ``latents`` (all generated frames of the chunk), ``iterations`` times,
    in the attack's precision (:func:`gaitcore.utils.autocast.precision`)."""
    began = time.perf_counter()
    for _ in range(iterations):
        z = latents.detach().requires_grad_(True)
        with precision(z.device, dtype):
            logits = victim.realism.logits(victim.generator(z))
        torch.autograd.grad(logits.float().sum(), z)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=int, default=16)
    parser.add_argument("--sparsity", default="1/40")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=DTYPES)
    parser.add_argument("--gaitset-channels", type=int, nargs=3, default=(16, 32, 64))
    parser.add_argument("--wgan-dim", type=int, default=16)
    parser.add_argument("--gaitset-weights")
    parser.add_argument("--wgan-weights")
    parser.add_argument("--store", help="a preprocessed CASIA-B store whose NM probes to attack")
    parser.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    parser.add_argument("--victim", default="GaitSet", choices=list(ARCHITECTURES))
    parser.add_argument("--compare-victims", action="store_true",
                        help="time the engine against every victim (no reference run)")
    args = parser.parse_args(argv)
    if args.compare_victims:
        compare_victims(args)
        return

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    victim = build_victim(args, device)
    sparsity: Fraction = Sparsity.parse(args.sparsity).value
    settings = AttackSettings(iterations=args.iterations, chunk_size=args.chunk_size, dtype=args.dtype)
    sequences = probe_sequences(args.probes, args.store)
    items = attack_items(victim, sequences, sparsity, device)
    lengths = [len(s) for s in sequences]
    print(f"{len(items)} probes of {min(lengths)}-{max(lengths)} frames, S={args.sparsity} "
          f"(K {min(i.plan.k for i in items)}-{max(i.plan.k for i in items)}), T={args.iterations}, "
          f"chunk {args.chunk_size}, {args.threads} threads, {device}, {args.dtype}", flush=True)

    engine = TemporalSparseAttack(victim, settings, device)
    engine.attack(items[:1])  # warm-up (allocator, kernels)
    began = time.perf_counter()
    outcomes = engine.attack(items)
    engine_s = time.perf_counter() - began
    print(f"engine:    {engine_s:8.2f} s  "
          f"({1e3 * engine_s / (len(items) * args.iterations):.1f} ms per sequence-iteration)")

    began = time.perf_counter()
    reference_latents = [reference_attack(victim, item, settings, device)[0] for item in items]
    reference_s = time.perf_counter() - began
    print(f"reference: {reference_s:8.2f} s  "
          f"({1e3 * reference_s / (len(items) * args.iterations):.1f} ms per sequence-iteration)")

    with torch.no_grad():
        diff = max(float((victim.generator(a.latents.to(device)) - victim.generator(b.to(device))).abs().max())
                   for a, b in zip(outcomes, reference_latents))
    floor_s = 0.0
    for first in range(0, len(items), args.chunk_size):
        chunk = outcomes[first : first + args.chunk_size]
        floor_s += floor_seconds(victim, torch.cat([o.latents for o in chunk]).to(device), args.iterations,
                                 args.dtype)
    print(f"floor (G+D fwd+bwd): {floor_s:8.2f} s")
    print(f"attack-speedup: {reference_s / engine_s:.2f}x max-abs-diff: {diff:.3g} "
          f"floor-multiple: {engine_s / floor_s:.2f}x")


def compare_victims(args: argparse.Namespace) -> None:
    """The engine's time per sequence-iteration against each victim, on the same probes and seeds."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    settings = AttackSettings(iterations=args.iterations, chunk_size=args.chunk_size, dtype=args.dtype,
                              early_stop=False)
    sequences = probe_sequences(args.probes, args.store)
    sparsity: Fraction = Sparsity.parse(args.sparsity).value
    per_iteration = {}
    for name in ARCHITECTURES:
        torch.manual_seed(0)
        victim = build_victim(args, device, name)
        items = attack_items(victim, sequences, sparsity, device)
        engine = TemporalSparseAttack(victim, settings, device)
        engine.attack(items[:1])  # warm-up
        began = time.perf_counter()
        engine.attack(items)
        per_iteration[name] = (time.perf_counter() - began) / (len(items) * args.iterations)
    print(f"{len(sequences)} probes, S={args.sparsity}, T={args.iterations}, chunk {args.chunk_size}, "
          f"{args.threads} threads, {device}, {args.dtype}, widths {tuple(args.gaitset_channels)}")
    for name, seconds in per_iteration.items():
        print(f"victim-cost {name}: {1e3 * seconds:.1f} ms per sequence-iteration "
              f"({seconds / per_iteration['GaitSet']:.2f}x GaitSet's)")


if __name__ == "__main__":
    main()
