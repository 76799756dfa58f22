import cProfile, pstats, time, torch
torch.set_num_threads(1)
from gaitcore.experiments.random_control_sources import random_control_sources
R="/work/timed/results"
a=f"{R}/attacks/casia_b/alteration_nontargeted_random/1-40/nm"
t=time.perf_counter()
pr=cProfile.Profile(); pr.enable()
long=random_control_sources(gaitset_weights=f"{R}/models/gaitset/weights.pt", store_root=f"{R}/data/casia_b",
  features_array=f"{R}/features/gaitset/casia_b.npy", features_index=f"{R}/features/gaitset/casia_b.parquet",
  attack_tables=[a+".parquet"], attack_frames=[a+".npz"], test_subjects=(75,124), metric="euclidean", seed=0, device="cpu")
pr.disable()
print("s", time.perf_counter()-t)
pstats.Stats(pr).sort_stats("cumtime").print_stats(6)
import pandas as pd, glob
f=glob.glob(f"{R}/random_control_sources/casia_b/alteration_nontargeted_random/1-40/nm.*")[0]
b=pd.read_parquet(f) if f.endswith("parquet") else pd.read_csv(f)
print(long.shape, b.shape)
for c in long.columns:
    x,y=long[c].reset_index(drop=True),b[c].reset_index(drop=True)
    print(c, x.equals(y) or (x.astype(str)==y.astype(str)).all())
