"""The sensor path of the video attack: background subtraction (no pretrained segmenter).

Every method learns the empty scene of a view from footage of it (CASIA-B ships such footage; the
synthetic source gives the view's static scene), marks the pixels that differ from it, and cleans
the raw mask the same way (:func:`clean`): a 3x3 morphological opening (isolated pixels) and closing
(pin holes), then the connected components of at least ``min_area`` pixels. The masks are raw 0/255
silhouettes, ready for GaitSet's preprocessing (:func:`gaitcore.data.preprocess.preprocess_sequence`),
like the released silhouettes. :func:`make_segmenter` builds one of :data:`SEGMENTERS` for a view:

* ``median``: a :class:`BackgroundModel`, the per-pixel median of the footage; :func:`segment`
  marks a pixel as person when any colour channel differs from it by more than ``threshold`` grey
  levels. The median of the walking sequences themselves is no substitute: at views 0 and 180 the
  walker stays near the image centre, and the median keeps parts of the person there.
* ``mog2``: OpenCV's per-pixel Gaussian mixture (Zivkovic 2004), which learns each pixel's noise:
  a pixel is person when it is farther than ``var_threshold`` (squared Mahalanobis distance) from
  every background mode.
* ``knn``: OpenCV's per-pixel sample set (Zivkovic and van der Heijden 2006): a pixel is person
  unless enough background samples lie within ``dist2_threshold`` (squared RGB distance) of it.

MOG2 and KNN see the footage in order, repeated until at least ``history`` frames went in (footage
may be a single frame), and are then frozen: the walker is never learnt as background, and a frame's
mask depends only on the frame and the footage, not on the frames segmented before it, so one trained
model segments every frame of a segmenter (and of each :meth:`~Segmenter.window`, kept for reuse).
MOG2 freezes at ``learningRate=0`` (no weight, mean or variance moves, no mode is added). OpenCV's KNN
does not: its update schedule divides by ``log(1 - rate)``, and at 0 it keeps writing segmented
pixels into its samples. At a vanishing rate (:data:`KNN_FROZEN_RATE`) its schedule is stretched
beyond any video, but the updates the training left pending still fire; the model spends them on
``history`` more footage frames (:data:`KNN_FROZEN_RATE` too), after which no sample moves
(``tests/data/test_segment.py``). KNN's sampling draws from OpenCV's random generator, reseeded
before each training (``cv2.setRNGSeed(0)``, a process-wide side effect).
The settings of :data:`DEFAULT_SETTINGS` were chosen on synthetic frames through a realistic camera
(:mod:`gaitcore.data.sensor`; ``tests/data/test_segment.py`` says what was measured).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

import cv2
import numpy as np

THRESHOLD = 25  # grey levels; the renderer keeps clothes at least 40 away from the background colours
MIN_AREA = 20  # pixels


@dataclass(frozen=True)
class BackgroundModel:
    """The per-pixel median of empty-scene footage of one view, uint8 ``[rows, cols, 3]``."""

    image: np.ndarray

    @classmethod
    def from_footage(cls, frames: np.ndarray) -> BackgroundModel:
        """The model of ``frames`` (uint8 ``[T, rows, cols, 3]``, at least one frame)."""
        _check_footage(frames)
        return cls(np.median(frames, axis=0).round().astype(np.uint8))


def _check_footage(frames: np.ndarray) -> None:
    """A ValueError unless ``frames`` is RGB footage ``[T, rows, cols, 3]`` with at least one frame."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"expected RGB footage [T, rows, cols, 3], got {frames.shape}")


def segment(frames: np.ndarray, model: BackgroundModel, threshold: int = THRESHOLD,
            min_area: int = MIN_AREA) -> np.ndarray:
    """Silhouettes of RGB ``frames`` (``[T, rows, cols, 3]`` or one frame) against ``model``: uint8 0/255."""
    single = frames.ndim == 3
    batch = frames[None] if single else frames
    if batch.shape[1:] != model.image.shape or batch.dtype != np.uint8:
        raise ValueError(f"frames {batch.dtype} {batch.shape[1:]} and background model uint8 {model.image.shape} "
                         f"differ in shape or type")
    out = np.stack([clean(_differs(frame, model.image, threshold), min_area) for frame in batch])
    return out[0] if single else out


def _differs(frame: np.ndarray, image: np.ndarray, threshold: int) -> np.ndarray:
    """Whether any colour channel of ``frame`` differs from ``image`` by more than ``threshold``: bool
    ``[rows, cols]`` (channel by channel: numpy reduces a last axis of 3 slowly)."""
    diff = cv2.absdiff(frame, image)
    return (diff[..., 0] > threshold) | (diff[..., 1] > threshold) | (diff[..., 2] > threshold)


def clean(raw: np.ndarray, min_area: int = MIN_AREA) -> np.ndarray:
    """One raw foreground mask (``[rows, cols]``, positive = person) cleaned as every method cleans it.

    A 3x3 opening (isolated pixels), a 3x3 closing (pin holes), then the connected components
    (8-connectivity) of at least ``min_area`` pixels: uint8 0/255.
    """
    kernel = np.ones((3, 3), np.uint8)
    binary = (raw > 0).astype(np.uint8)
    opened = cv2.morphologyEx(cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    kept = np.where(stats[:, cv2.CC_STAT_AREA] >= min_area, 255, 0).astype(np.uint8)
    kept[0] = 0  # the background component
    return kept[labels]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (positive = person); 1.0 when both are empty."""
    a, b = a > 0, b > 0
    union = int((a | b).sum())
    return 1.0 if union == 0 else float((a & b).sum()) / union


class Segmenter(Protocol):
    """A background-subtraction method bound to one view's empty-scene footage (see :func:`make_segmenter`)."""

    method: ClassVar[str]

    def segment(self, frames: np.ndarray) -> np.ndarray:
        """Silhouettes of RGB ``frames`` (``[T, rows, cols, 3]`` or one frame): uint8 0/255 of the same layout."""
        ...

    def window(self, y0: int, x0: int, y1: int, x1: int) -> Segmenter:
        """The same method on the same footage, restricted to rows ``y0:y1`` and columns ``x0:x1``.
        What each method learns is per pixel, so it segments as one learnt from the cropped footage
        (``tests/data/test_segment.py``): the median's model is cut, not taken again; MOG2 and KNN keep
        the cropped footage and learn from it on the window's first :meth:`segment`, and keep their
        last :data:`WINDOW_CACHE` windows, so a box met again is not learnt again."""
        ...


@dataclass(frozen=True)
class MedianSegmenter:
    """:func:`segment` against the :class:`BackgroundModel` of the footage."""

    method: ClassVar[str] = "median"
    model: BackgroundModel
    threshold: int = THRESHOLD
    min_area: int = MIN_AREA

    def segment(self, frames: np.ndarray) -> np.ndarray:
        return segment(frames, self.model, self.threshold, self.min_area)

    def window(self, y0: int, x0: int, y1: int, x1: int) -> MedianSegmenter:
        return replace(self, model=BackgroundModel(self.model.image[y0:y1, x0:x1]))


def _check_positive(name: str, value: object) -> None:
    """A ValueError naming the setting ``name`` unless ``value`` is a number > 0."""
    if not (isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool) and value > 0):
        raise ValueError(f"{name} must be a number > 0, got {value!r}")


WINDOW_CACHE = 256  # a segmenter's trained windows kept for reuse (a person's box recurs from frame to frame)
KNN_FROZEN_RATE = 1e-8  # KNN's learning rate once trained: no scheduled update within 10^6 frames


@dataclass(frozen=True, kw_only=True)
class _LearnedSegmenter:
    """An OpenCV background subtractor learnt from ``footage`` (uint8 ``[N, rows, cols, 3]``), then frozen.

    The footage goes in order, cycled until at least ``history`` frames went in; then ``settle`` more
    footage frames at the frozen ``rate`` (see the module docstring). The model is trained once, on
    the first :meth:`segment`, and segments every later frame at that rate.
    """

    rate: ClassVar[float]
    footage: np.ndarray
    history: int
    min_area: int = MIN_AREA
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_footage(self.footage)
        if self.footage.dtype != np.uint8:
            raise ValueError(f"expected uint8 footage, got {self.footage.dtype}")
        if not (isinstance(self.history, int | np.integer) and self.history >= 1):
            raise ValueError(f"history must be an integer >= 1 (frames), got {self.history!r}")

    @property
    def settle(self) -> int:
        """Footage frames shown at the frozen rate after the training (none where it freezes at once)."""
        return 0

    def _subtractor(self) -> cv2.BackgroundSubtractor:
        raise NotImplementedError

    def _model(self) -> cv2.BackgroundSubtractor:
        """The subtractor that has seen the footage and settled, trained on the first call."""
        if "model" not in self._memo:
            cv2.setRNGSeed(0)  # KNN schedules its model updates with OpenCV's global generator
            subtractor = self._subtractor()
            shots = [np.ascontiguousarray(shot) for shot in self.footage]
            for _ in range(math.ceil(self.history / len(shots))):
                for shot in shots:
                    subtractor.apply(shot)
            for n in range(self.settle):
                subtractor.apply(shots[n % len(shots)], learningRate=self.rate)
            self._memo["model"] = subtractor
        return self._memo["model"]

    def segment(self, frames: np.ndarray) -> np.ndarray:
        single = frames.ndim == 3
        batch = frames[None] if single else frames
        if batch.shape[1:] != self.footage.shape[1:] or batch.dtype != np.uint8:
            raise ValueError(f"frames {batch.dtype} {batch.shape[1:]} and background footage {self.footage.dtype} "
                             f"{self.footage.shape[1:]} differ in shape or type")
        model = self._model()
        out = np.stack([clean(model.apply(np.ascontiguousarray(frame), learningRate=self.rate), self.min_area)
                        for frame in batch])
        return out[0] if single else out

    def window(self, y0: int, x0: int, y1: int, x1: int) -> _LearnedSegmenter:
        windows = self._memo.setdefault("windows", OrderedDict())
        box = (y0, x0, y1, x1)
        if box in windows:
            windows.move_to_end(box)
        else:
            windows[box] = replace(self, footage=self.footage[:, y0:y1, x0:x1])
            if len(windows) > WINDOW_CACHE:
                windows.popitem(last=False)
        return windows[box]


@dataclass(frozen=True, kw_only=True)
class MOG2Segmenter(_LearnedSegmenter):
    """OpenCV's MOG2 (Zivkovic 2004): a per-pixel Gaussian mixture; ``var_threshold`` on the squared
    Mahalanobis distance to a background mode."""

    method: ClassVar[str] = "mog2"
    rate: ClassVar[float] = 0.0  # no weight, mean or variance moves and no mode is added
    var_threshold: float

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive("var_threshold", self.var_threshold)

    def _subtractor(self) -> cv2.BackgroundSubtractor:
        return cv2.createBackgroundSubtractorMOG2(history=self.history, varThreshold=self.var_threshold,
                                                  detectShadows=False)


@dataclass(frozen=True, kw_only=True)
class KNNSegmenter(_LearnedSegmenter):
    """OpenCV's KNN (Zivkovic and van der Heijden 2006): per-pixel samples; ``dist2_threshold`` on the
    squared RGB distance within which a sample counts as a neighbour."""

    method: ClassVar[str] = "knn"
    rate: ClassVar[float] = KNN_FROZEN_RATE  # at 0 it writes segmented pixels into its samples
    dist2_threshold: float

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive("dist2_threshold", self.dist2_threshold)

    @property
    def settle(self) -> int:
        """``history`` frames: the training's update periods (at rate ``1/history``) are all shorter."""
        return self.history

    def _subtractor(self) -> cv2.BackgroundSubtractor:
        return cv2.createBackgroundSubtractorKNN(history=self.history, dist2Threshold=self.dist2_threshold,
                                                 detectShadows=False)


SEGMENTERS = ("median", "mog2", "knn")
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "median": {"threshold": THRESHOLD},
    "mog2": {"history": 10, "var_threshold": 100.0},
    "knn": {"history": 10, "dist2_threshold": 1200.0},
}


def check_method(method: str, settings: Mapping[str, Any]) -> None:
    """A ValueError unless ``method`` is one of :data:`SEGMENTERS` and ``settings`` names only its settings."""
    if method not in SEGMENTERS:
        raise ValueError(f"unknown segmentation method {method!r}; the methods are {', '.join(SEGMENTERS)}")
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS[method]))
    if unknown:
        raise ValueError(f"{method} has no setting {', '.join(unknown)}; its settings are "
                         f"{', '.join(DEFAULT_SETTINGS[method])}")


def make_segmenter(method: str, footage: np.ndarray, *, min_area: int = MIN_AREA, **settings: Any) -> Segmenter:
    """The ``method`` segmenter (one of :data:`SEGMENTERS`) of a view's empty-scene ``footage``.

    ``settings`` override the method's :data:`DEFAULT_SETTINGS`: ``threshold`` (median), ``history``
    and ``var_threshold`` (mog2), ``history`` and ``dist2_threshold`` (knn).
    """
    check_method(method, settings)
    values = {**DEFAULT_SETTINGS[method], **settings}
    if method == "median":
        return MedianSegmenter(BackgroundModel.from_footage(footage), values["threshold"], min_area)
    kind = MOG2Segmenter if method == "mog2" else KNNSegmenter
    return kind(footage=footage, min_area=min_area, **values)
