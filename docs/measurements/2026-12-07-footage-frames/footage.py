"""What the length of the empty-scene footage does to each segmenter (issue 21): validation subjects'
clean videos through the default camera (noise sigma 4, JPEG 80), the segmenter learnt from the
view's plate filmed once (each frame the same capture, as the pipeline did before footage_frames) or
ten times (each frame its own noise, video_attack.camera.footage_frames: 10). Per segmenter and
footage: the person's area over the exact mask's and the mean IoU with the exact mask, over the
frames with at least 500 person pixels. Validation subjects 63..74, NM view 36, BG view 90, CL view
144 (sequence 1 each); the seed of each recording is (subject, view).
"""

import time

import cv2
import numpy as np

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.segment import iou
from gaitcore.data.sensor import SensorModel, SensorPath
from gaitcore.data.synthetic import SyntheticConfig, render_sequence_rgb
from gaitcore.data.synthetic.rgb import background

cv2.setNumThreads(1)
cfg = SyntheticConfig.for_dataset(CASIA_B)
print("segmenter | footage frames | area sensed / exact | mean IoU | seconds")
for method in ("median", "mog2", "knn"):
    for footage_frames in (1, 10):
        sensor = SensorPath(camera=SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=footage_frames),
                            segmenter=method)
        began = time.perf_counter()
        areas, ious = [], []
        for subject in range(63, 75):
            for condition, seq, view in (("nm", 1, 36), ("bg", 1, 90), ("cl", 1, 144)):
                key = SequenceKey(CASIA_B, f"{subject:03d}", condition, seq, view)
                rgb, exact = render_sequence_rgb(cfg, key)
                rng = np.random.default_rng([subject, view])
                segmenter = sensor.background(np.asarray(background(cfg, view))[None], rng)
                _, found = sensor.sense(rgb, segmenter, rng)
                person = [t for t in range(len(exact)) if (exact[t] > 0).sum() >= 500]
                areas += [((found[t] > 0).sum(), (exact[t] > 0).sum()) for t in person]
                ious += [iou(found[t], exact[t]) for t in person]
        ratio = sum(a for a, _ in areas) / sum(b for _, b in areas)
        print(f"{method} | {footage_frames} | {ratio:.3f} | {np.mean(ious):.3f} | {time.perf_counter() - began:.0f}",
              flush=True)
