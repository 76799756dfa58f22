"""Adversarial videos (He et al. Sec. 3.3, Fig. 3 step 2) and the sensor path that scores them.

* :mod:`gaitcore.video.sources`: the videos behind the silhouettes (synthetic RGB or CASIA-B AVIs);
* :mod:`gaitcore.video.frames`: person crops, the inverse of GaitSet's preprocessing crop, compositing;
* :mod:`gaitcore.video.segment`: per-view background models and background subtraction;
* :mod:`gaitcore.video.attack`: adversarial silhouettes -> SPADE -> composited frames -> the attacked
  video -> segmentation -> preprocessing -> GaitSet, per attack job, and the aggregated table.
"""
