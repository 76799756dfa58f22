import torch, time, numpy as np
torch.set_num_threads(1)
from gaitcore.experiments.gaitset_validation import validation_curve, _ValidationSet
R="/work/timed/results"
v=_ValidationSet(f"{R}/data/casia_b", (63,74), "cpu", 64)
t=time.perf_counter(); a,_=v.features(f"{R}/models/gaitset/weights.pt"); t1=time.perf_counter()-t
t=time.perf_counter(); b,_=v.stored_features(f"{R}/models/gaitset/weights.pt", f"{R}/features/gaitset/casia_b.npy", f"{R}/features/gaitset/casia_b.parquet"); t2=time.perf_counter()-t
print("extract s", t1, "stored s", t2, "equal", np.array_equal(a,b), "maxabs", np.abs(a-b).max(), "rel", np.abs(a-b).max()/np.abs(a).max())
x=validation_curve([f"{R}/models/gaitset/weights.pt"], f"{R}/data/casia_b", validation_subjects=(63,74), device="cpu", frame_chunk=256, final_features=(f"{R}/features/gaitset/casia_b.npy", f"{R}/features/gaitset/casia_b.parquet"))
print(x)
