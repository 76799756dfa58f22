"""CPU milliseconds per raw frame of the rasterised and the sensed synthetic store, two checkouts compared.

Usage: ``python compare.py OLD_CHECKOUT NEW_CHECKOUT [ROUNDS]``. Each round runs each checkout in a
fresh process (one thread for numpy, BLAS and OpenCV), alternating, on the same 12 CASIA-B keys of
training subjects as ``2026-12-06-sensed-store/cost.py``, with the default camera (noise sigma 4,
JPEG 80, ten frames of empty-scene footage). Each line: the checkout, raster ms/frame, then per
segmenter ms/frame and its multiple of the raster, and whether the sensed masks' hash matches the
other checkout's.
"""

import os
import subprocess
import sys

CHILD = r'''
import hashlib, sys, time
sys.path.insert(0, sys.argv[1])
import cv2, numpy as np
import gaitcore
assert gaitcore.__file__.startswith(sys.argv[1]), gaitcore.__file__
from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.sensor import SensorModel, SensorPath
from gaitcore.data.synthetic import SyntheticConfig, render_sequence
cv2.setNumThreads(1)
cfg = SyntheticConfig.for_dataset(CASIA_B)
rng = np.random.default_rng(0)
conditions = [("nm", 1), ("nm", 4), ("bg", 1), ("cl", 2)]
keys = [SequenceKey(CASIA_B, f"{int(s):03d}", *conditions[i % 4], int(v))
        for i, (s, v) in enumerate(zip(rng.integers(1, 63, 12), rng.choice(range(0, 181, 18), 12)))]
camera = SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=10)
frames = sum(len(render_sequence(cfg, key)) for key in keys)
def run(sensor):
    digest = hashlib.sha256()
    start = time.process_time()
    for key in keys:
        digest.update(render_sequence(cfg, key, sensor).tobytes())
    return (time.process_time() - start) / frames * 1000, digest.hexdigest()[:12]
raster, _ = run(None)
out = [f"raster {raster:.2f}"]
for method in ("median", "mog2", "knn"):
    ms, digest = run(SensorPath(camera=camera, segmenter=method))
    out.append(f"{method} {ms:.2f} ({ms / raster:.1f}x) {digest}")
print(f"{len(keys)} keys, {frames} frames | " + " | ".join(out))
'''

old, new = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
for round_ in range(rounds):
    for name, tree in (("old", old), ("new", new)):
        line = subprocess.run([sys.executable, "-c", CHILD, os.path.abspath(tree)], env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
        print(f"round {round_ + 1} {name}: {line}", flush=True)
