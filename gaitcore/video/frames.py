"""Frame geometry and compositing of the video attack (He et al. Sec. 3.3, Fig. 3).

**Person crops.** SPADE works on a square around the person: the rows the mask covers (height
``h``), centred on the mask's row middle and on the column GaitSet's preprocessing cuts around
(:func:`person_box`), side
``round(h (1 + 2 margin))``. :func:`crop_square` cuts it (zero padding outside the frame) and
resizes it to SPADE's size; :func:`paste_square` is its inverse.

**Inverse of the preprocessing crop** (:func:`place_silhouette`). GaitSet's preprocessing
(:mod:`gaitcore.data.preprocess`) cuts the person's rows ``top .. top + h - 1`` (all columns),
rescales them to 64 rows and ``int(64 W / h)`` columns (``s = W / int(64 W / h)`` frame columns per
rescaled column, about ``h / 64``) and keeps the 64 rescaled columns ``c - 32 .. c + 31`` around
its column-mass centre ``c``. A 64x64 frame in that geometry goes back into a video frame by
rescaling it to ``h`` rows and ``round(64 s)`` columns and placing it with its first row at ``top``
and its left edge at frame column ``round((c - 32) s)``, then thresholding at half intensity.
The box (:class:`PersonBox`) is that of the raw silhouette the replaced store frame came from
(alteration), or of the original frame the inserted one precedes (insertion).
:func:`place_silhouette` of a store frame at its own box gives back its silhouette up to
resampling, and it re-aligns to the same store frame (``tests/video/test_frames.py``).

**Compositing** (:func:`composite`): ``I_a = I_b * (1 - L_a) + G_p(L_a) * L_a`` with the binary
adversarial silhouette ``L_a`` at frame resolution, the background ``I_b`` and SPADE's output
``G_p(L_a)`` pasted back at frame resolution. The paper prints ``I_a = I_b x L_s + G_p(L_a)``
(Sec. 3.3), which keeps the background only where the *source* silhouette is and adds the generated
frame everywhere; the masked blend is what it describes in words ("we paste the generated image on
the background image").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gaitcore.data.preprocess import FRAME_SIZE


@dataclass(frozen=True)
class PersonBox:
    """Where a person is in a frame, in the geometry of GaitSet's preprocessing.

    Rows ``top .. top + height - 1``; ``centre`` is the frame column of the preprocessing's centre
    (the left edge of the column it cuts around, in the 64-row rescaled rows), ``column_scale`` the
    frame columns per column of those rescaled rows (about ``height / 64``).
    """

    top: int
    height: int
    centre: float
    column_scale: float

    def square(self, margin: float) -> tuple[int, int, int]:
        """``(y0, x0, side)`` of the square crop around the person with ``margin`` of the height on each side."""
        side = max(2, int(round(self.height * (1 + 2 * margin))))
        y0 = int(round(self.top + self.height / 2 - side / 2))
        x0 = int(round(self.centre - side / 2))
        return y0, x0, side


def person_box(mask: np.ndarray) -> PersonBox | None:
    """The :class:`PersonBox` of a 2-D 0/255 mask; ``None`` if empty.

    The centre is found as :func:`gaitcore.data.preprocess.preprocess_frame` finds it (rows cropped,
    rescaled to 64 rows with the same interpolation, first column where the cumulative column sum
    passes half the total), so a store frame maps back to exactly the columns it was cut from.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    top, height = int(rows[0]), int(rows[-1] - rows[0] + 1)
    width = int(FRAME_SIZE * mask.shape[1] / height)
    person = np.ascontiguousarray(mask[top : top + height], dtype=np.uint8)
    resized = cv2.resize(person, (width, FRAME_SIZE), interpolation=cv2.INTER_CUBIC)
    column_mass = resized.sum(axis=0, dtype=np.int64).cumsum()
    if column_mass[-1] == 0:  # a sliver the rescaling rounded away: the raw column-mass centre
        column_mass = person.sum(axis=0, dtype=np.int64).cumsum()
        return PersonBox(top, height, float(np.argmax(column_mass > column_mass[-1] / 2)), mask.shape[1] / width)
    scale = mask.shape[1] / width
    return PersonBox(top, height, float(np.argmax(column_mass > column_mass[-1] / 2)) * scale, scale)


def _window(y0: int, x0: int, side: int, shape: tuple[int, int]) -> tuple[slice, slice, slice, slice]:
    """Slices of the frame and of a ``side x side`` square at ``(y0, x0)`` that overlap."""
    fy0, fx0 = max(y0, 0), max(x0, 0)
    fy1, fx1 = min(y0 + side, shape[0]), min(x0 + side, shape[1])
    return slice(fy0, max(fy0, fy1)), slice(fx0, max(fx0, fx1)), slice(fy0 - y0, max(fy0, fy1) - y0), \
        slice(fx0 - x0, max(fx0, fx1) - x0)


def crop_square(image: np.ndarray, square: tuple[int, int, int], size: int, nearest: bool = False) -> np.ndarray:
    """The square ``(y0, x0, side)`` of ``image`` (zero outside the frame), resized to ``size x size``."""
    y0, x0, side = square
    canvas = np.zeros((side, side, *image.shape[2:]), dtype=image.dtype)
    fy, fx, cy, cx = _window(y0, x0, side, image.shape[:2])
    canvas[cy, cx] = image[fy, fx]
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(canvas, (size, size), interpolation=interpolation)


def paste_square(patch: np.ndarray, square: tuple[int, int, int], shape: tuple[int, ...]) -> np.ndarray:
    """A frame of ``shape`` (zeros) holding ``patch`` resized into the square ``(y0, x0, side)``."""
    y0, x0, side = square
    resized = cv2.resize(patch, (side, side), interpolation=cv2.INTER_LINEAR)
    out = np.zeros(shape, dtype=patch.dtype)
    fy, fx, cy, cx = _window(y0, x0, side, shape[:2])
    out[fy, fx] = resized[cy, cx]
    return out


def place_silhouette(frame64: np.ndarray, box: PersonBox, shape: tuple[int, int]) -> np.ndarray:
    """A 64x64 GaitSet-geometry silhouette put back into a frame of ``shape`` at ``box``: uint8 0/255.

    The inverse of GaitSet's preprocessing crop (see the module docstring): rows ``box.top ..
    box.top + box.height - 1``, columns from ``box.centre - 32 column_scale``, ``64 column_scale`` wide.
    """
    if frame64.shape != (FRAME_SIZE, FRAME_SIZE):
        raise ValueError(f"expected a {FRAME_SIZE}x{FRAME_SIZE} silhouette, got {frame64.shape}")
    h = box.height
    w = max(1, int(round(FRAME_SIZE * box.column_scale)))
    scaled = cv2.resize(frame64, (w, h), interpolation=cv2.INTER_LINEAR if h >= FRAME_SIZE else cv2.INTER_AREA)
    x0 = int(round(box.centre - FRAME_SIZE / 2 * box.column_scale))
    out = np.zeros(shape, dtype=np.uint8)
    fy0, fx0 = max(box.top, 0), max(x0, 0)
    fy1, fx1 = min(box.top + h, shape[0]), min(x0 + w, shape[1])
    if fy1 > fy0 and fx1 > fx0:
        patch = scaled[fy0 - box.top : fy1 - box.top, fx0 - x0 : fx1 - x0]
        out[fy0:fy1, fx0:fx1] = np.where(patch > 127, 255, 0).astype(np.uint8)
    return out


def composite(background: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``I_a = I_b * (1 - L_a) + G_p(L_a) * L_a`` (Sec. 3.3): uint8 RGB frames of the background's shape.

    ``background`` and ``generated`` are uint8 ``[rows, cols, 3]``; ``mask`` is ``[rows, cols]``, 0/255
    or 0/1 (any positive value is the person).
    """
    if background.shape != generated.shape or mask.shape != background.shape[:2]:
        raise ValueError(f"shapes differ: background {background.shape}, generated {generated.shape}, "
                         f"mask {mask.shape}")
    return np.where((mask > 0)[..., None], generated, background).astype(np.uint8)
