"""A/B of the sensed store's rendering: one code tree (argv[1]) and segmenter (argv[2]) per process.

Prints the milliseconds per sequence over every 150th CASIA-B key of the synthetic default (91 keys,
about 6,700 frames) and, per key, the sensed person's area against the exact mask and their IoU
(the same distribution before and after a lever that only changes the draws)."""

import sys
import time

root, method = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)

import numpy as np  # noqa: E402

import gaitcore  # noqa: E402
from gaitcore.data.sensor import SensorModel, SensorPath  # noqa: E402
from gaitcore.data.synthetic import synthetic_keys  # noqa: E402
from gaitcore.data.synthetic.config import SyntheticConfig  # noqa: E402
from gaitcore.data.synthetic.render import render_sequence  # noqa: E402

assert gaitcore.__file__.startswith(root), gaitcore.__file__
SETTINGS = {"median": (("threshold", 25),), "mog2": (("history", 10), ("var_threshold", 100.0)),
            "knn": (("dist2_threshold", 1200.0), ("history", 10))}
cfg = SyntheticConfig.for_dataset("casia_b", subjects=124, seed=0)
keys = sorted(synthetic_keys(cfg))[::150]
camera = SensorModel(noise_sigma=4.0, jpeg_quality=80, dilate=1, feather=1.0, footage_frames=10)
sensor = SensorPath(camera=camera, segmenter=method, settings=SETTINGS[method], min_area=20)
render_sequence(cfg, keys[0], sensor)  # imports and caches warm
began = time.perf_counter()
sensed = [render_sequence(cfg, key, sensor) for key in keys]
seconds = time.perf_counter() - began
frames = sum(len(s) for s in sensed)
growth, ious = [], []
for key, masks in zip(keys, sensed):
    raster = render_sequence(cfg, key)  # the exact masks with the same recording errors
    a, b = masks > 0, raster > 0
    growth.append(a.sum() / max(1, b.sum()) - 1)
    ious.append((a & b).sum() / max(1, (a | b).sum()))
print(f"{root} {method}: {len(keys)} sequences, {frames} frames, {1000 * seconds / len(keys):.1f} ms per sequence, "
      f"area vs raster {100 * np.mean(growth):+.2f} %, IoU with raster {np.mean(ious):.4f}")
