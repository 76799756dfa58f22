"""Where the videos behind the silhouettes come from (He et al. Sec. 3.3, Fig. 3 step 2).

The paper trains SPADE on CASIA-B's videos and their silhouettes, and feeds attacked videos to the
sensor path; neither the real videos nor their frames ship with the silhouettes. A
:class:`VideoSource` gives, per sequence key:

* :meth:`~VideoSource.video`: the RGB frames ``uint8 [T, rows, cols, 3]`` and the best mask of the
  person in each, ``uint8 [T, rows, cols]`` 0/255 (SPADE's training pairs ``(I_s x L_s, L_s)``);
* :meth:`~VideoSource.silhouettes`: the raw silhouettes the store was built from, frame for frame
  with the video (store frame ``j`` is the ``j``-th of them that GaitSet's preprocessing keeps);
* :meth:`~VideoSource.background_footage`: frames of the empty scene of a view, for the per-view
  background model (CASIA-B ships such footage, ``<subject>-bkgrd-<view>.avi``);
* :meth:`~VideoSource.artifacts`: the segmentation errors the store's silhouettes of a recording
  carry beyond what a segmenter finds in its video (the synthetic renderer's; None for real videos,
  whose silhouettes come from real segmentation), for :class:`gaitcore.data.sensor.SensorPath`.

Two sources exist: :class:`SyntheticVideos` (the renderer's RGB mode, the default) and
:class:`CasiaBVideos` (the released CASIA-B videos, ``<root>/<subject>-<cond>-<seq>-<view>.avi``,
paired with the released silhouette tree). A missing video is a :class:`gaitcore.errors.DataError`
naming the file and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from gaitcore.data.build import SourceSpec
from gaitcore.data.layout import CASIA_B, CASIA_B_FRAME_SHAPE, CASIA_B_SUBJECTS, SequenceKey
from gaitcore.data.readers import read_silhouette
from gaitcore.data.sensor import SensorPath
from gaitcore.data.synthetic import (
    SegmentationArtifacts,
    SyntheticConfig,
    render_sequence,
    render_sequence_rgb,
    segmentation_artifacts,
)
from gaitcore.data.synthetic.rgb import background
from gaitcore.errors import DataError

VIDEO_FIX = (
    "put the CASIA-B videos at spade.videos_root as <subject>-<cond>-<seq>-<view>.avi (e.g. "
    "001-nm-01-090.avi, with the empty-scene footage 001-bkgrd-090.avi), or use the synthetic dataset "
    "(datasets.casia_b.source: synthetic, spade.videos_root: null)"
)


class VideoSource(Protocol):
    """RGB videos, their masks and the raw silhouettes of one dataset (see the module docstring)."""

    dataset: str
    subjects: int  # CASIA-B subjects 1..subjects exist
    exact_masks: bool  # video()'s masks are exactly where a frame differs from the empty scene

    def video(self, key: SequenceKey) -> tuple[np.ndarray, np.ndarray]: ...

    def silhouettes(self, key: SequenceKey) -> np.ndarray: ...

    def background_footage(self, view: int) -> np.ndarray: ...

    def artifacts(self, key: SequenceKey) -> SegmentationArtifacts | None: ...


class SyntheticVideos:
    """The synthetic renderer's RGB mode: the walker in colour with its exact mask on the view's scene.

    ``silhouettes`` re-renders the noisy masks the store was built from, through the store's
    ``sensor`` when it was sensed (bit-identical to the preprocess rule's input; the colour frames of
    the last ``video`` call are sensed again, not painted again, when they are the same key's);
    ``background_footage`` is the view's empty scene. ``video`` returns read-only arrays.
    """

    def __init__(self, cfg: SyntheticConfig, sensor: SensorPath | None = None) -> None:
        self.cfg = cfg
        self.sensor = sensor
        self.dataset = cfg.dataset
        self.subjects = cfg.subjects
        self.exact_masks = True  # the renderer paints the person onto the static scene, nothing else
        self._last: tuple[SequenceKey, tuple[np.ndarray, np.ndarray]] | None = None

    def video(self, key: SequenceKey) -> tuple[np.ndarray, np.ndarray]:
        painted = render_sequence_rgb(self.cfg, key)
        for frames in painted:
            frames.flags.writeable = False
        self._last = (key, painted)
        return painted

    def silhouettes(self, key: SequenceKey) -> np.ndarray:
        painted = self._last[1] if self._last is not None and self._last[0] == key else None
        return render_sequence(self.cfg, key, self.sensor, painted)

    def background_footage(self, view: int) -> np.ndarray:
        return np.asarray(background(self.cfg, view))[None]

    def artifacts(self, key: SequenceKey) -> SegmentationArtifacts:
        return segmentation_artifacts(self.cfg, key)


def _read_avi(path: Path) -> np.ndarray:
    """Every frame of a video file as RGB ``uint8 [T, rows, cols, 3]``."""
    if not path.is_file():
        raise DataError(path, "the video is missing", VIDEO_FIX)
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise DataError(path, "no frame could be decoded (corrupt file or missing codec)", VIDEO_FIX)
    return np.stack(frames)


class CasiaBVideos:
    """The released CASIA-B videos at ``root`` with the silhouette PNG tree at ``silhouette_root``.

    Frame ``t`` (0-based) of ``<root>/001-nm-01-090.avi`` pairs with the silhouette
    ``<silhouette_root>/001/nm-01/090/001-nm-01-090-<t+1:03d>.png``; a frame without its PNG has an
    empty mask (the release drops frames where segmentation found nobody).
    """

    def __init__(self, root: str | Path, silhouette_root: str | Path,
                 frame_shape: tuple[int, int] = CASIA_B_FRAME_SHAPE) -> None:
        self.root = Path(root)
        self.silhouette_root = Path(silhouette_root)
        self.frame_shape = tuple(frame_shape)
        self.dataset = CASIA_B
        self.subjects = CASIA_B_SUBJECTS
        self.exact_masks = False  # the released silhouettes are segmentations; a camera sees more
        if not self.root.is_dir():
            raise DataError(self.root, "the CASIA-B video folder does not exist", VIDEO_FIX)

    def _masks(self, key: SequenceKey, frames: int) -> np.ndarray:
        folder = self.silhouette_root / key.subject / f"{key.condition}-{key.seq:02d}" / f"{key.view:03d}"
        masks = np.zeros((frames, *self.frame_shape), dtype=np.uint8)
        for t in range(frames):
            png = folder / f"{key.label}-{t + 1:03d}.png"
            if png.is_file():
                masks[t] = read_silhouette(png, self.frame_shape)
        return masks

    def video(self, key: SequenceKey) -> tuple[np.ndarray, np.ndarray]:
        frames = _read_avi(self.root / f"{key.label}.avi")
        if frames.shape[1:3] != self.frame_shape:
            raise DataError(self.root / f"{key.label}.avi",
                            f"frames of {frames.shape[1:3]}, expected {self.frame_shape}",
                            "use the released videos, or set datasets.casia_b.frame_shape to their size")
        return frames, self._masks(key, len(frames))

    def silhouettes(self, key: SequenceKey) -> np.ndarray:
        return self.video(key)[1]

    def background_footage(self, view: int) -> np.ndarray:
        found = sorted(self.root.glob(f"*-bkgrd-{view:03d}.avi"))
        if not found:
            raise DataError(self.root / f"001-bkgrd-{view:03d}.avi", f"no empty-scene footage of view {view}",
                            VIDEO_FIX)
        clips = []
        for path in found[:4]:
            frames = _read_avi(path)
            if frames.shape[1:3] != self.frame_shape:
                raise DataError(path, f"empty-scene frames of {frames.shape[1:3]}, not the videos' {self.frame_shape}",
                                f"supply empty-scene footage of the videos' size {self.frame_shape} (CASIA-B's "
                                "<subject>-bkgrd-<view>.avi, recorded with the videos)")
            clips.append(frames)
        return np.concatenate(clips)

    def artifacts(self, key: SequenceKey) -> None:
        return None  # the released silhouettes' errors are the real segmentation's


def video_source(dataset: dict[str, Any], videos_root: str | None = None) -> VideoSource:
    """The videos of CASIA-B configured as ``dataset`` (the ``datasets.casia_b`` config block):
    the synthetic renderer's RGB mode, or the real videos at ``videos_root`` (``spade.videos_root``)
    beside the released silhouette tree."""
    spec = SourceSpec(dataset=CASIA_B, **dataset)
    if videos_root is None:
        if spec.source != "synthetic":
            raise DataError("spade.videos_root", f"the {spec.source!r} source of datasets.casia_b has no videos and "
                            "spade.videos_root is not set", VIDEO_FIX)
        return SyntheticVideos(spec.synthetic_config(), spec.sensor_path())
    if spec.source != "png":
        raise DataError(videos_root, f"videos pair with the released PNG silhouettes (source png), not with "
                        f"source {spec.source!r}", VIDEO_FIX)
    return CasiaBVideos(videos_root, spec.root, spec.shape)
