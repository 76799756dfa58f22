"""Profile one attack job (the NM 1/40 nontargeted adversary, the default's settings, one thread) and
compare its table with the default run's. RESULTS: the results folder of that run."""
import cProfile
import pstats
import time

import pandas as pd
import torch

from gaitcore.experiments.attack_job import AttackJob, run_attack_job, settings_for

RESULTS = "/work/timed/results"
CELL = "casia_b/alteration_nontargeted_adversary/1-40/nm"
torch.set_num_threads(1)
job = AttackJob(dataset="casia_b", condition="nm", views=tuple(range(0, 181, 18)), sparsity="1/40",
                mode="alteration_nontargeted_adversary", subjects_per_view=10, subjects=(75, 124))
settings = settings_for(job.mode, dict(goal="nontargeted", setting="adversary", iterations=20, decay=1.0,
                                       step_size=0.1, realism_weight=0.01, temporal_weight=0.0, early_stop=True,
                                       binary_frames=True, chunk_size=16, dtype="bfloat16"))
began = time.perf_counter()
profile = cProfile.Profile()
profile.enable()
run_attack_job(victim_weights=f"{RESULTS}/models/gaitset/weights.pt", wgan_weights=f"{RESULTS}/models/wgan/weights.pt",
               store_root=f"{RESULTS}/data/casia_b", features_array=f"{RESULTS}/features/gaitset/casia_b.npy",
               features_index=f"{RESULTS}/features/gaitset/casia_b.parquet", job=job, settings=settings,
               out_table="/tmp/a.parquet", out_frames="/tmp/a.npz", device="cpu", channels_last=True)
profile.disable()
print("s", time.perf_counter() - began)
pstats.Stats(profile).sort_stats("tottime").print_stats(8)
ours, theirs = pd.read_parquet("/tmp/a.parquet"), pd.read_parquet(f"{RESULTS}/attacks/{CELL}.parquet")
print(ours.shape, theirs.shape, list(ours.columns) == list(theirs.columns))
print("columns that differ:", [c for c in ours.columns if not ours[c].equals(theirs[c])])
