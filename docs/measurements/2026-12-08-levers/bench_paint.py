"""Milliseconds per sequence of the store's colour painting (gaitcore.data.synthetic.rgb.paint) on 30
CASIA-B sequences, best of three; run once as the code is and once with `_shade` in float32 (not
kept), saving the first five sequences' frames to compare (argv[1]). STORE_JSON: a default run's."""
import json
import sys
import time

import numpy as np

from gaitcore.data.build import SourceSpec
from gaitcore.data.synthetic import synthetic_keys
from gaitcore.data.synthetic.render import _film
from gaitcore.data.synthetic.rgb import paint

STORE_JSON = "/work/timed/results/data/casia_b/store.json"
source = json.load(open(STORE_JSON))["source"]
source["frame_shape"] = tuple(source["frame_shape"])
cfg = SourceSpec(**source).synthetic_config()
keys = synthetic_keys(cfg)
films = [(key, *_film(cfg, key)) for key in keys[:: len(keys) // 30][:30]]
paint(cfg, *films[0])
seconds = []
for _ in range(3):
    began = time.perf_counter()
    for key, walk, scene in films:
        paint(cfg, key, walk, scene)
    seconds.append(time.perf_counter() - began)
best = min(seconds)
out = [paint(cfg, k, w, s) for k, w, s in films[:5]]
print("paint ms/seq", best / len(films) * 1000)
np.save(sys.argv[1], np.concatenate([rgb.reshape(-1) for rgb, _ in out]))
