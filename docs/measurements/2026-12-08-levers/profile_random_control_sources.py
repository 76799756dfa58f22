"""Profile the random control's diagnostic on the NM 1/40 job (one thread) and compare its rows with the
default run's. RESULTS: the results folder of that run."""
import cProfile
import pstats
import time

import pandas as pd
import torch

from gaitcore.experiments.random_control_sources import random_control_sources

RESULTS = "/work/timed/results"
CELL = "casia_b/alteration_nontargeted_random/1-40/nm"
torch.set_num_threads(1)
began = time.perf_counter()
profile = cProfile.Profile()
profile.enable()
rows = random_control_sources(
    gaitset_weights=f"{RESULTS}/models/gaitset/weights.pt", store_root=f"{RESULTS}/data/casia_b",
    features_array=f"{RESULTS}/features/gaitset/casia_b.npy",
    features_index=f"{RESULTS}/features/gaitset/casia_b.parquet",
    attack_tables=[f"{RESULTS}/attacks/{CELL}.parquet"], attack_frames=[f"{RESULTS}/attacks/{CELL}.npz"],
    test_subjects=(75, 124), metric="euclidean", seed=0, device="cpu")
profile.disable()
print("s", time.perf_counter() - began)
pstats.Stats(profile).sort_stats("cumtime").print_stats(6)
theirs = pd.read_parquet(f"{RESULTS}/random_control_sources/{CELL}.parquet")
print(rows.shape, theirs.shape)
print("columns that differ:", [c for c in rows.columns
                               if not rows[c].reset_index(drop=True).equals(theirs[c].reset_index(drop=True))])
