"""The video side of the attack (He et al. Sec. 3.3, Fig. 3 step 2): the videos behind the
silhouettes and the frames the attack composites.

* :mod:`gaitcore.video.sources`: the videos behind the silhouettes (synthetic RGB or CASIA-B AVIs);
* :mod:`gaitcore.video.frames`: person crops, the inverse of GaitSet's preprocessing crop, compositing.

The sensor path that turns videos into silhouettes (camera, background subtraction) is
:mod:`gaitcore.data.sensor` and :mod:`gaitcore.data.segment`: the synthetic store is made through it too.

The video attack itself (adversarial silhouettes -> SPADE -> composited frames -> segmentation ->
GaitSet) is :mod:`gaitcore.experiments.video_attack`.
"""
