"""The trainings' thread layout on 2 cores: GaitSet (bfloat16, the victim's recipe), the WGAN-GP and
SPADE (the default's settings), each run by its real training function (GaitSet and WGAN on the
CASIA-B store at argv[1], SPADE on the synthetic RGB source) for a few iterations, alone with 2
threads and alone with 1 thread, then GaitSet and the WGAN side by side with 1 thread each. A job
holds as many cores as threads for its wall time, so the core-seconds of a layout are what it takes
from a compute-bound run (freed core-seconds go to other jobs)."""

import subprocess
import sys
from pathlib import Path

STORE = sys.argv[1]
CHILD = """
import sys, tempfile, time, torch
from pathlib import Path
torch.set_num_threads(int(sys.argv[2]))
out = Path(tempfile.mkdtemp())
began = time.perf_counter()
if sys.argv[1] == "gaitset":
    from gaitcore.training import GaitSetTrainConfig, train_gaitset
    config = GaitSetTrainConfig(channels=(16, 32, 64), hidden_dim=256, subjects_per_batch=8, sequences_per_subject=8,
                                frames_per_sequence=10, learning_rate=1e-3, iterations=40, checkpoint_every=1000,
                                log_every=1000, channels_last=True, frame_chunk=256, train_subjects=(1, 62),
                                dtype="bfloat16", device="cpu")
    train_gaitset(sys.argv[3], out / "w.pt", out / "c.pt", config)
elif sys.argv[1] == "wgan":
    from gaitcore.training.wgan import WGANTrainConfig, train_wgan
    config = WGANTrainConfig(dim=16, batch_size=32, iterations=12, checkpoint_every=1000, log_every=1000,
                             channels_last=True, train_subjects=(1, 62), calibration_subjects=(63, 74),
                             calibration_real=200, calibration_fake=200, device="cpu")
    train_wgan(sys.argv[3], out / "w.pt", out / "c.pt", config)
else:
    from gaitcore.data.synthetic import SyntheticConfig
    from gaitcore.training.spade import SpadeTrainConfig, train_spade
    from gaitcore.video.sources import SyntheticVideos
    config = SpadeTrainConfig(size=64, ngf=8, ndf=16, nhidden=16, num_d=2, n_layers_d=4, batch_size=8,
                              iterations=80, pair_sequences=40, frames_per_sequence=8, checkpoint_every=1000,
                              log_every=1000, channels_last=True, device="cpu")
    train_spade(SyntheticVideos(SyntheticConfig.for_dataset("casia_b", subjects=124, seed=0)), out / "w.pt",
                out / "c.pt", config)
print(round(time.perf_counter() - began, 1), flush=True)
"""


def run(*jobs: tuple[str, int]) -> list[float]:
    """Each job's wall seconds, the jobs started together."""
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, name, str(threads), STORE], stdout=subprocess.PIPE,
                              text=True) for name, threads in jobs]
    outs = [p.communicate()[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    return [float(out.split()[-1]) for out in outs]


print(f"store {Path(STORE).resolve()}; GaitSet 40 iterations (bfloat16), WGAN 12, SPADE 80 (40 pair sequences)")
for name in ("gaitset", "wgan", "spade"):
    (two,), (one,) = run((name, 2)), run((name, 1))
    print(f"{name}: 2 threads {two:.1f} s ({2 * two:.0f} core-s), 1 thread {one:.1f} s ({one:.0f} core-s): "
          f"{2 * two / one:.2f}x the core-seconds at 2 threads", flush=True)
g1, w1 = run(("gaitset", 1), ("wgan", 1))
print(f"GaitSet and WGAN side by side, 1 thread each: {g1:.1f} s and {w1:.1f} s", flush=True)
