"""Sensor-path fidelity on synthetic renders (docs/measurements/2026-12-06-sensor-path-fidelity.md)."""
import time

import numpy as np

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.synthetic import SyntheticConfig
from gaitcore.video.segment import iou
from gaitcore.video.sensor import SensorModel, SensorPath
from gaitcore.video.sources import SyntheticVideos

CFG = SyntheticConfig.for_dataset(CASIA_B, subjects=3, frames_min=16, frames_max=16)
source = SyntheticVideos(CFG)
CAMERAS = {"none": SensorModel(), "sigma 4, JPEG 80": SensorModel(noise_sigma=4.0, jpeg_quality=80)}
KEYS = [("001", "nm", 1, 0), ("002", "cl", 1, 90), ("003", "bg", 1, 180), ("002", "bg", 1, 108)]
print("key | camera | segmenter | segmenter's masks vs exact | sensed vs store | segmenter's masks vs store")
for k in KEYS:
    key = SequenceKey(CASIA_B, *k)
    rgb, exact = source.video(key)
    store = source.silhouettes(key)
    person = [t for t in range(len(store)) if (store[t] > 0).sum() >= 500]
    for name, camera in CAMERAS.items():
        for method in ("median", "mog2", "knn"):
            sensor = SensorPath(camera=camera, segmenter=method)
            segmenter = sensor.background(source.background_footage(key.view), np.random.default_rng(0))
            sensed, raw = sensor.sense(rgb, segmenter, np.random.default_rng(1), source.artifacts(key))
            mean = lambda a, b: np.mean([iou(a[t], b[t]) for t in person])  # noqa: E731
            print(f"{key.label} | {name} | {method} | {mean(raw, exact):.3f} | {mean(sensed, store):.3f} | "
                  f"{mean(raw, store):.3f}")
key = SequenceKey(CASIA_B, "001", "nm", 1, 90)
began = time.perf_counter()
for _ in range(3):
    rgb, _ = source.video(key)
render = (time.perf_counter() - began) / (3 * len(rgb))
for method in ("median", "mog2", "knn"):
    sensor = SensorPath(camera=CAMERAS["sigma 4, JPEG 80"], segmenter=method)
    segmenter = sensor.background(source.background_footage(90), np.random.default_rng(0))
    began = time.perf_counter()
    sensor.sense(rgb, segmenter, np.random.default_rng(1), source.artifacts(key))
    print(f"ms per frame: render {1000 * render:.1f}, camera + {method} + errors "
          f"{1000 * (time.perf_counter() - began) / len(rgb):.1f}")
