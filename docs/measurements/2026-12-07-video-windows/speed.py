"""The video job's sensing, on whole frames against windows around where the frames differ from the scene.

For clean videos of six test-subject probes (NM, one per probe view of the default), each segmenter
learnt once per view from ten filmed frames of the empty scene, the default camera (noise sigma 4,
JPEG 80): CPU milliseconds per frame of ``SensorPath.sense`` on whole frames and with ``people`` (the
source's exact masks), their ratio, and the mean IoU between the two paths' masks over frames with a
person of at least 500 pixels (the two draw the camera's noise differently). One thread.
"""

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from gaitcore.data.layout import CASIA_B, SequenceKey  # noqa: E402
from gaitcore.data.segment import SEGMENTERS, iou  # noqa: E402
from gaitcore.data.sensor import SensorModel, SensorPath  # noqa: E402
from gaitcore.data.synthetic import SyntheticConfig  # noqa: E402
from gaitcore.video.sources import SyntheticVideos  # noqa: E402

cv2.setNumThreads(1)
source = SyntheticVideos(SyntheticConfig.for_dataset(CASIA_B))
keys = [SequenceKey(CASIA_B, f"{75 + 8 * i:03d}", "nm", 5, view) for i, view in enumerate(range(0, 181, 36))]
videos = [source.video(key) for key in keys]
frames = sum(len(rgb) for rgb, _ in videos)
camera = SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=10)
print(f"{len(keys)} probes, {frames} frames")
for method in SEGMENTERS:
    path = SensorPath(camera=camera, segmenter=method)
    seconds, masks = {}, {}
    for mode in ("whole", "windows"):
        start, found = time.process_time(), []
        for key, (rgb, exact) in zip(keys, videos):
            segmenter = path.background(source.background_footage(key.view), np.random.default_rng(key.view))
            people = exact if mode == "windows" else None
            found.append(path.sense(rgb, segmenter, np.random.default_rng(1), people=people)[1])
        seconds[mode], masks[mode] = time.process_time() - start, found
    agree = [iou(a, b) for whole, around, (_, exact) in zip(masks["whole"], masks["windows"], videos)
             for a, b, m in zip(whole, around, exact) if (m > 0).sum() >= 500]
    print(f"{method}: whole {seconds['whole'] / frames * 1000:.2f} ms/frame, windows "
          f"{seconds['windows'] / frames * 1000:.2f} ms/frame, {seconds['whole'] / seconds['windows']:.1f}x; "
          f"mean IoU whole vs windows {np.mean(agree):.3f} over {len(agree)} frames")
