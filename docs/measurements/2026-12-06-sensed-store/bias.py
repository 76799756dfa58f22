"""What the camera and segmenter do to a validation subject's silhouettes (issue 21): per subject, the
area of the sensed raw masks over the rasterised store's masks, and their mean IoU, for each segmenter.

A subject-dependent area ratio is a change of apparent body shape, which an identity model reads; a
uniform one is not. Validation subjects 63..74, one NM, BG and CL sequence each at views 36, 90, 144.
"""

import cv2
import numpy as np

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.segment import iou
from gaitcore.data.sensor import SensorModel, SensorPath
from gaitcore.data.synthetic import SyntheticConfig, render_sequence

cv2.setNumThreads(1)
cfg = SyntheticConfig.for_dataset(CASIA_B)
camera = SensorModel(noise_sigma=4.0, jpeg_quality=80)
print("segmenter | subject | area sensed / raster | mean IoU")
for method in ("median", "mog2", "knn"):
    sensor = SensorPath(camera=camera, segmenter=method)
    ratios = []
    for subject in range(63, 75):
        areas, ious = [], []
        for condition, seq in (("nm", 1), ("bg", 1), ("cl", 1)):
            for view in (36, 90, 144):
                key = SequenceKey(CASIA_B, f"{subject:03d}", condition, seq, view)
                raster, sensed = render_sequence(cfg, key), render_sequence(cfg, key, sensor)
                person = [t for t in range(len(raster)) if (raster[t] > 0).sum() >= 500]
                areas += [((sensed[t] > 0).sum(), (raster[t] > 0).sum()) for t in person]
                ious += [iou(sensed[t], raster[t]) for t in person]
        ratio = sum(a for a, _ in areas) / sum(b for _, b in areas)
        ratios.append(ratio)
        print(f"{method} | {subject:03d} | {ratio:.3f} | {np.mean(ious):.3f}")
    print(f"{method} | all | mean {np.mean(ratios):.3f}, spread across subjects (sd) {np.std(ratios):.3f}")
