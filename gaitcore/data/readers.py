"""Readers for the released silhouette layouts (documented in ``docs/datasets.md``).

* CASIA-B: ``<root>/<sid>/<cond>-<nn>/<view>/<sid>-<cond>-<nn>-<view>-<frame>.png``, e.g.
  ``001/nm-01/090/001-nm-01-090-001.png``; 8-bit grey 0/255 PNGs of 240x320 (rows x columns).
* CASIA-A: ``<root>/<name>/<vv>_<n>/<name>-<vv>_<n>-<frame>.png``, e.g. ``fyc/45_2/fyc-45_2-001.png``
  with ``vv`` in 00, 45, 90 (degrees to the image plane) and ``n`` in 1..4; 8-bit grey PNGs, 240x352
  by default (``frame_shape`` in the config changes it).
* OpenGait's preprocessed pickles: ``<root>/<sid>/<cond>-<nn>/<view>/<anything>.pkl``, one uint8
  array ``[T, 64, 64]`` per sequence, loaded with :func:`load_array_pickle`, which admits numpy
  arrays only and refuses every other object a pickle could name.

Scanning checks the whole tree before any frame is decoded: an unexpected folder is an error that
names it; a file that is not a PNG (or pkl) is skipped and counted; sequences missing from the
dataset's grid are reported. Entries whose name starts with ``.`` are ignored. Decoding then checks
each frame (readable, grey, right size); :func:`is_binary_silhouette` tells silhouettes from grey
images and photos.
"""

from __future__ import annotations

import io
import logging
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from gaitcore.data.layout import (
    CASIA_A,
    CASIA_A_RUNS,
    CASIA_A_VIEWS,
    CASIA_B,
    CASIA_B_CONDITIONS,
    CASIA_B_VIEWS,
    SequenceKey,
)
from gaitcore.errors import DataError

log = logging.getLogger(__name__)

CASIA_B_FRAME = re.compile(r"^(\d{3})-(nm|bg|cl)-(\d{2})-(\d{3})-(\d{3,})\.png$")
CASIA_A_FRAME = re.compile(r"^([a-z0-9]+)-(\d{2})_(\d)-(\d{3,})\.png$")
SEQUENCE_FOLDER_B = re.compile(r"^(nm|bg|cl)-(\d{2})$")
SEQUENCE_FOLDER_A = re.compile(r"^(\d{2})_(\d)$")

FIX_LAYOUT_B = (
    "CASIA-B silhouettes must be laid out as <root>/<sid>/<cond>-<nn>/<view>/"
    "<sid>-<cond>-<nn>-<view>-<frame>.png (e.g. 001/nm-01/090/001-nm-01-090-001.png); "
    "move the stray entry out of the dataset root"
)
FIX_LAYOUT_A = (
    "CASIA-A silhouettes must be laid out as <root>/<name>/<vv>_<n>/<name>-<vv>_<n>-<frame>.png "
    "(e.g. fyc/45_2/fyc-45_2-001.png, vv in 00/45/90, n in 1..4); move the stray entry out of "
    "the dataset root"
)
# A silhouette is a 0/255 mask: a frame with more than this share of other pixel values is a grey
# image or a photo. The margin admits a little noise, such as a few anti-aliased edge pixels.
NON_BINARY_SHARE = 0.01


def _fix_empty_root(dataset: str, example: str) -> str:
    return (
        f"point `datasets.{dataset}.root` at the folder that holds the subject folders, laid out as "
        f"{example}"
    )


@dataclass(frozen=True)
class SourceSequence:
    """A sequence found on disk: its key, its frame files in order and what was skipped."""

    key: SequenceKey
    folder: str
    files: tuple[str, ...]
    kind: str  # "png" or "pkl"
    files_skipped: int = 0


@dataclass
class ScanResult:
    """Everything a scan found, plus the grid positions it expected but did not find."""

    sequences: list[SourceSequence] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # labels of absent sequences
    files_skipped: int = 0


def require_root(root: str | Path, dataset: str) -> Path:
    """The dataset root as a Path, or a DataError telling how to configure one."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(
            root,
            f"the {dataset} dataset root does not exist or is not a folder",
            f"set `datasets.{dataset}.root` in your config to the folder that holds the "
            f"silhouettes, or set `datasets.{dataset}.source: synthetic` to use the built-in "
            "synthetic dataset",
        )
    return root


def _subfolders(folder: Path, fix: str, pattern: re.Pattern[str] | None = None) -> list[Path]:
    """Sorted subfolders of ``folder``; a stray file or a badly named folder is an error."""
    children = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if not child.is_dir():
            raise DataError(child, "a file where the layout expects only folders", fix)
        if pattern is not None and not pattern.match(child.name):
            raise DataError(child, f"folder name does not match {pattern.pattern}", fix)
        children.append(child)
    return children


def _frame_files(folder: Path, pattern: re.Pattern[str], suffix: str) -> tuple[list[Path], int]:
    """Frame files of one sequence folder in frame order, and the number of stray files skipped."""
    frames, skipped = [], 0
    for child in folder.iterdir():
        if child.is_file() and child.suffix.lower() == suffix and pattern.match(child.name):
            frames.append(child)
        elif not child.name.startswith("."):
            skipped += 1
            log.warning("skipping %s: not a frame of this layout", child)
    return sorted(frames), skipped


def scan_casia_b(root: str | Path) -> ScanResult:
    """Find every CASIA-B sequence under ``root`` (layout in the module docstring)."""
    root = require_root(root, CASIA_B)
    result = ScanResult()
    subjects = _subfolders(root, FIX_LAYOUT_B, re.compile(r"^\d{3}$"))
    if not subjects:
        raise DataError(
            root,
            "holds no subject folder (001, 002, ...)",
            _fix_empty_root(CASIA_B, "<root>/001/nm-01/090/001-nm-01-090-001.png"),
        )
    for subject_dir in subjects:
        sid = subject_dir.name
        found = set()
        for seq_dir in _subfolders(subject_dir, FIX_LAYOUT_B, SEQUENCE_FOLDER_B):
            cond, nn = SEQUENCE_FOLDER_B.match(seq_dir.name).groups()
            for view_dir in _subfolders(seq_dir, FIX_LAYOUT_B, re.compile(r"^\d{3}$")):
                view = int(view_dir.name)
                if view not in CASIA_B_VIEWS:
                    raise DataError(view_dir, f"view {view} is not a CASIA-B view", FIX_LAYOUT_B)
                files, skipped = _frame_files(view_dir, CASIA_B_FRAME, ".png")
                for path in files:
                    s, c, n, v, _ = CASIA_B_FRAME.match(path.name).groups()
                    if (s, c, n, v) != (sid, cond, nn, view_dir.name):
                        raise DataError(path, "file name disagrees with its folders", FIX_LAYOUT_B)
                key = SequenceKey(CASIA_B, sid, cond, int(nn), view)
                found.add(key)
                result.files_skipped += skipped
                result.sequences.append(
                    SourceSequence(key, str(view_dir), tuple(map(str, files)), "png", skipped)
                )
        result.missing += _missing(found, _casia_b_grid(sid))
    return result


def _casia_b_grid(sid: str) -> list[SequenceKey]:
    return [
        SequenceKey(CASIA_B, sid, cond, seq, view)
        for cond, runs in CASIA_B_CONDITIONS.items()
        for seq in range(1, runs + 1)
        for view in CASIA_B_VIEWS
    ]


def _missing(found: set[SequenceKey], grid: list[SequenceKey]) -> list[str]:
    missing = [key.label for key in grid if key not in found]
    for label in missing:
        log.warning("sequence %s is missing from the dataset", label)
    return missing


def scan_casia_a(root: str | Path) -> ScanResult:
    """Find every CASIA-A sequence under ``root`` (layout in the module docstring)."""
    root = require_root(root, CASIA_A)
    result = ScanResult()
    subjects = _subfolders(root, FIX_LAYOUT_A, re.compile(r"^[a-z0-9]+$"))
    if not subjects:
        raise DataError(
            root, "holds no subject folder", _fix_empty_root(CASIA_A, "<root>/fyc/45_2/fyc-45_2-001.png")
        )
    for subject_dir in subjects:
        name = subject_dir.name
        found = set()
        for seq_dir in _subfolders(subject_dir, FIX_LAYOUT_A, SEQUENCE_FOLDER_A):
            vv, n = SEQUENCE_FOLDER_A.match(seq_dir.name).groups()
            view, run = int(vv), int(n)
            if view not in CASIA_A_VIEWS or not 1 <= run <= CASIA_A_RUNS:
                raise DataError(seq_dir, "not a CASIA-A sequence (00/45/90 x 1..4)", FIX_LAYOUT_A)
            files, skipped = _frame_files(seq_dir, CASIA_A_FRAME, ".png")
            for path in files:
                s, v, r, _ = CASIA_A_FRAME.match(path.name).groups()
                if (s, v, r) != (name, vv, n):
                    raise DataError(path, "file name disagrees with its folders", FIX_LAYOUT_A)
            key = SequenceKey(CASIA_A, name, "nm", run, view)
            found.add(key)
            result.files_skipped += skipped
            result.sequences.append(
                SourceSequence(key, str(seq_dir), tuple(map(str, files)), "png", skipped)
            )
        grid = [
            SequenceKey(CASIA_A, name, "nm", run, view)
            for view in CASIA_A_VIEWS
            for run in range(1, CASIA_A_RUNS + 1)
        ]
        result.missing += _missing(found, grid)
    return result


def scan_opengait(root: str | Path, dataset: str = CASIA_B) -> ScanResult:
    """Find OpenGait-style pickles ``<root>/<sid>/<cond>-<nn>/<view>/*.pkl`` (CASIA-B naming)."""
    root = require_root(root, dataset)
    fix = (
        "OpenGait pickles must be laid out as <root>/<sid>/<cond>-<nn>/<view>/<name>.pkl "
        "(one uint8 [T, 64, 64] array per sequence); move the stray entry out of the root"
    )
    result = ScanResult()
    for subject_dir in _subfolders(root, fix, re.compile(r"^\d{3}$")):
        found = set()
        for seq_dir in _subfolders(subject_dir, fix, SEQUENCE_FOLDER_B):
            cond, nn = SEQUENCE_FOLDER_B.match(seq_dir.name).groups()
            for view_dir in _subfolders(seq_dir, fix, re.compile(r"^\d{3}$")):
                pickles, skipped = _frame_files(view_dir, re.compile(r".+\.pkl$"), ".pkl")
                if len(pickles) != 1:
                    raise DataError(view_dir, f"expected one .pkl file, found {len(pickles)}", fix)
                key = SequenceKey(dataset, subject_dir.name, cond, int(nn), int(view_dir.name))
                found.add(key)
                result.files_skipped += skipped
                result.sequences.append(
                    SourceSequence(key, str(view_dir), (str(pickles[0]),), "pkl", skipped)
                )
        result.missing += _missing(found, _casia_b_grid(subject_dir.name))
    if not result.sequences:
        raise DataError(
            root,
            "holds no OpenGait .pkl sequence",
            _fix_empty_root(dataset, "<root>/001/nm-01/090/<name>.pkl (one uint8 [T, 64, 64] array each)"),
        )
    return result


def read_silhouette(path: str | Path, frame_shape: tuple[int, int]) -> np.ndarray:
    """Decode one silhouette PNG as uint8 ``frame_shape``; bad files raise DataError."""
    path = Path(path)
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise DataError(
            path,
            "not a readable PNG (corrupt, truncated or empty file)",
            "re-extract this file from the dataset archive, or delete it to drop the frame",
        )
    if image.ndim == 3:
        raise DataError(
            path,
            f"colour image with {image.shape[2]} channels where a grey silhouette is expected",
            "use the released silhouettes, or convert to 8-bit greyscale (e.g. "
            "`python -c \"import cv2; cv2.imwrite(P, cv2.imread(P, 0))\"`)",
        )
    if image.dtype != np.uint8:
        raise DataError(path, f"{image.dtype} pixels where 8-bit ones are expected", "save as 8-bit")
    if image.shape != tuple(frame_shape):
        raise DataError(
            path,
            f"frame of {image.shape[0]}x{image.shape[1]} (rows x columns), expected "
            f"{frame_shape[0]}x{frame_shape[1]}",
            "use the released silhouettes, or set `frame_shape` of this dataset in the config "
            "if your copy was resized consistently",
        )
    return image


def is_binary_silhouette(frame: np.ndarray) -> bool:
    """Whether at most :data:`NON_BINARY_SHARE` of the frame's pixels are neither 0 nor 255."""
    other = frame.size - np.count_nonzero(frame == 0) - np.count_nonzero(frame == 255)
    return other <= NON_BINARY_SHARE * frame.size


_NUMPY_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class RefusedPickle(pickle.UnpicklingError):
    """A pickle that names something other than a numpy array."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits the few globals a pickled numpy array needs; anything else is refused."""

    def find_class(self, module: str, name: str):
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise RefusedPickle(f"refusing to load {module}.{name}: only numpy arrays")


def load_array_pickle(path: str | Path) -> np.ndarray:
    """Load an OpenGait ``.pkl`` sequence (uint8 ``[T, 64, 64]``) without running pickled code."""
    path = Path(path)
    try:
        obj = _NumpyOnlyUnpickler(io.BytesIO(path.read_bytes())).load()
    except RefusedPickle as err:
        raise DataError(
            path,
            f"the pickle is not a plain numpy array ({err})",
            "only OpenGait-style pickles of one uint8 array are read; regenerate the file with "
            "OpenGait's pretreatment or remove it",
        ) from err
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise DataError(path, f"corrupt or truncated pickle ({err})", "regenerate the file") from err
    if not isinstance(obj, np.ndarray) or obj.dtype != np.uint8 or obj.ndim != 3 or obj.shape[1:] != (64, 64):
        desc = f"{obj.dtype} {obj.shape}" if isinstance(obj, np.ndarray) else type(obj).__name__
        raise DataError(path, f"holds {desc}, expected uint8 [T, 64, 64]", "regenerate the file")
    return obj
