"""Cost of a sensed synthetic store (issue 21 item 1) against the rasterised one, per raw frame.

Renders the same CASIA-B keys of training subjects both ways in one process, one thread, and prints
milliseconds per frame for the raster path (`render_sequence(cfg, key)`) and the sensed path
(`render_sequence(cfg, key, sensor)`, painting and sensing), with the ratio, for each segmenter.
"""

import time

import cv2
import numpy as np

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.sensor import SensorModel, SensorPath
from gaitcore.data.synthetic import SyntheticConfig, render_sequence

cv2.setNumThreads(1)
cfg = SyntheticConfig.for_dataset(CASIA_B)
rng = np.random.default_rng(0)
conditions = [("nm", 1), ("nm", 4), ("bg", 1), ("cl", 2)]
keys = [SequenceKey(CASIA_B, f"{int(s):03d}", *conditions[i % 4], int(v))
        for i, (s, v) in enumerate(zip(rng.integers(1, 63, 12), rng.choice(range(0, 181, 18), 12)))]
camera = SensorModel(noise_sigma=4.0, jpeg_quality=80)
frames = sum(len(render_sequence(cfg, key)) for key in keys)
start = time.perf_counter()
for key in keys:
    render_sequence(cfg, key)
raster = (time.perf_counter() - start) / frames * 1000
print(f"{len(keys)} keys, {frames} frames; raster {raster:.2f} ms/frame")
for method in ("median", "mog2", "knn"):
    sensor = SensorPath(camera=camera, segmenter=method)
    start = time.perf_counter()
    for key in keys:
        render_sequence(cfg, key, sensor)
    sensed = (time.perf_counter() - start) / frames * 1000
    print(f"sensed ({method}) {sensed:.2f} ms/frame, {sensed / raster:.1f}x the raster; "
          f"1,008,455 frames (the default's CASIA-B store): {sensed * 1008455 / 60000:.0f} CPU-minutes")
