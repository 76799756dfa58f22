"""What filming the empty scene ten times costs a sensed store (issue 21): the median-sensed render of
the same training-subject keys with footage_frames 1 and 10, in one process, one thread, alternating
three rounds; milliseconds per raw frame and the ratio (speed differs between machines; the ratio
is what this run measures)."""

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
frames = sum(len(render_sequence(cfg, key)) for key in keys)
seconds = {1: 0.0, 10: 0.0}
for _ in range(3):
    for footage_frames in seconds:
        sensor = SensorPath(camera=SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=footage_frames))
        start = time.perf_counter()
        for key in keys:
            render_sequence(cfg, key, sensor)
        seconds[footage_frames] += time.perf_counter() - start
per_frame = {f: s / (3 * frames) * 1000 for f, s in seconds.items()}
print(f"{len(keys)} keys, {frames} frames, median segmenter")
for footage_frames, ms in per_frame.items():
    print(f"footage_frames {footage_frames}: {ms:.2f} ms/frame")
print(f"ratio: {per_frame[10] / per_frame[1]:.2f}x")
