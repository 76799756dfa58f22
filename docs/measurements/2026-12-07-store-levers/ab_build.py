"""A/B of the sensed store as the pipeline builds it: `build_store` with 2 worker processes (OpenCV
and torch single-threaded in each, as rule `preprocess` runs them) over the first 8 subjects of the
synthetic CASIA-B (880 sequences), one code tree (argv[1]) per process. Prints the wall seconds."""

import sys
import tempfile
import time

root = sys.argv[1]
sys.path.insert(0, root)

import gaitcore  # noqa: E402
from gaitcore.data.build import SourceSpec, build_store  # noqa: E402

assert gaitcore.__file__.startswith(root), gaitcore.__file__
sensor = {"segmenter": "median", "settings": {"threshold": 25}, "min_area": 20,
          "camera": {"noise_sigma": 4.0, "jpeg_quality": 80, "footage_frames": 10}}
spec = SourceSpec(dataset="casia_b", synthetic={"subjects": 8, "seed": 0}, sensor=sensor)
began = time.perf_counter()
summary = build_store(spec, tempfile.mkdtemp() + "/casia_b", workers=2)
seconds = time.perf_counter() - began
print(f"{root}: {summary.get('sequences', '?')} sequences in {seconds:.1f} s with 2 workers", flush=True)
