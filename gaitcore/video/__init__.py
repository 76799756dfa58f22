"""The video side of the attack (He et al. Sec. 3.3, Fig. 3 step 2): the sensor path that turns
videos into silhouettes.

* :mod:`gaitcore.video.sources`: the videos behind the silhouettes (synthetic RGB or CASIA-B AVIs);
* :mod:`gaitcore.video.frames`: person crops, the inverse of GaitSet's preprocessing crop, compositing;
* :mod:`gaitcore.video.segment`: per-view background models and background subtraction.

The video attack itself (adversarial silhouettes -> SPADE -> composited frames -> segmentation ->
GaitSet) is :mod:`gaitcore.experiments.video_attack`.
"""
