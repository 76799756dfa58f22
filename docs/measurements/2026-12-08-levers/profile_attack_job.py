import cProfile, pstats, time, torch
torch.set_num_threads(1)
from gaitcore.experiments.attack_job import AttackJob, run_attack_job, settings_for
R="/work/timed/results"
job=AttackJob(dataset="casia_b", condition="nm", views=tuple(range(0,181,18)), sparsity="1/40", mode="alteration_nontargeted_adversary", subjects_per_view=10, subjects=(75,124))
st=settings_for(job.mode, dict(goal="nontargeted", setting="adversary", iterations=20, decay=1.0, step_size=0.1, realism_weight=0.01, temporal_weight=0.0, early_stop=True, binary_frames=True, chunk_size=16, dtype="bfloat16"))
t=time.perf_counter()
pr=cProfile.Profile(); pr.enable()
run_attack_job(victim_weights=f"{R}/models/gaitset/weights.pt", wgan_weights=f"{R}/models/wgan/weights.pt" , store_root=f"{R}/data/casia_b",
  features_array=f"{R}/features/gaitset/casia_b.npy", features_index=f"{R}/features/gaitset/casia_b.parquet", job=job, settings=st,
  out_table="/tmp/a.parquet", out_frames="/tmp/a.npz", device="cpu", channels_last=True)
pr.disable()
print("s", time.perf_counter()-t)
pstats.Stats(pr).sort_stats("tottime").print_stats(8)

import pandas as pd
a=pd.read_parquet("/tmp/a.parquet"); b=pd.read_parquet(f"{R}/attacks/casia_b/alteration_nontargeted_adversary/1-40/nm.parquet")
print(a.shape, b.shape, list(a.columns)==list(b.columns))
for c in a.columns:
    try:
        same = a[c].equals(b[c])
    except Exception as e: same = str(e)
    if same is not True: print("DIFF", c)
