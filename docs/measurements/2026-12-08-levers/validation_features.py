"""The validation sequences' features under the final weights: extracted as gaitset_validation does,
against those rule extract_features stored (one thread). RESULTS: the results folder of a default run."""
import time

import numpy as np
import torch

from gaitcore.experiments.gaitset_validation import _ValidationSet, validation_curve

RESULTS = "/work/timed/results"
WEIGHTS = f"{RESULTS}/models/gaitset/weights.pt"
STORED = (f"{RESULTS}/features/gaitset/casia_b.npy", f"{RESULTS}/features/gaitset/casia_b.parquet")
torch.set_num_threads(1)
validation = _ValidationSet(f"{RESULTS}/data/casia_b", (63, 74), "cpu", 64)
began = time.perf_counter()
extracted, _ = validation.features(WEIGHTS)
extract_s = time.perf_counter() - began
began = time.perf_counter()
stored, _ = validation.stored_features(WEIGHTS, *STORED)
stored_s = time.perf_counter() - began
gap = np.abs(extracted - stored).max()
print("extract s", extract_s, "stored s", stored_s, "equal", np.array_equal(extracted, stored), "maxabs", gap,
      "rel", gap / np.abs(extracted).max())
print(validation_curve([WEIGHTS], f"{RESULTS}/data/casia_b", validation_subjects=(63, 74), device="cpu",
                       frame_chunk=256, final_features=STORED))
