"""Person crops, the inverse of GaitSet's preprocessing crop, and compositing (He et al. Sec. 3.3)."""

import numpy as np
import pytest

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.preprocess import preprocess_frame
from gaitcore.data.segment import iou
from gaitcore.data.synthetic import SyntheticConfig, render_sequence
from gaitcore.video.frames import composite, crop_square, paste_square, person_box, place_silhouette


def test_person_box_known_answer():
    mask = np.zeros((20, 32), dtype=np.uint8)
    mask[4:12, 10:16] = 255  # 8 rows: rescaled by 8 to 64 rows and 256 columns, columns 80..127
    box = person_box(mask)
    assert (box.top, box.height, box.column_scale) == (4, 8, 0.125)
    assert box.centre == pytest.approx(104 * 0.125)  # half the mass lies left of rescaled column 104
    assert box.square(0.25) == (2, 7, 12)  # side 12 around row 8 and column 13
    assert person_box(np.zeros((5, 5), dtype=np.uint8)) is None


def test_crop_square_pads_outside_the_frame_and_paste_square_puts_it_back():
    image = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    crop = crop_square(image, (-2, 8, 6), 6)  # side == size: no resampling
    assert (crop[:2] == 0).all() and (crop[:, 4:] == 0).all()
    assert np.array_equal(crop[2:, :4], image[:4, 8:12])
    back = paste_square(crop, (-2, 8, 6), image.shape)
    assert np.array_equal(back[:4, 8:], image[:4, 8:]) and (back[4:] == 0).all() and (back[:, :8] == 0).all()


@pytest.mark.parametrize("view", [0, 90, 144])
def test_placing_a_store_frame_at_its_own_box_inverts_the_preprocessing_crop(view):
    cfg = SyntheticConfig.for_dataset(CASIA_B, subjects=2, frames_min=12, frames_max=12).clean
    raw = render_sequence(cfg, SequenceKey(CASIA_B, "001", "nm", 1, view))
    checked = 0
    for frame in raw:
        aligned = preprocess_frame(frame)
        if aligned is None or person_box(frame).height < 64:
            continue
        placed = place_silhouette(aligned, person_box(frame), frame.shape)
        assert set(np.unique(placed)) <= {0, 255}
        assert iou(placed, frame) > 0.85  # the frame back, up to resampling of a thin figure
        again = person_box(placed)
        assert (again.top, again.height) == (person_box(frame).top, person_box(frame).height)
        # It aligns to the same store frame, up to the preprocessing's centre column, which may
        # move by one where the cumulative column mass passes one half near a column boundary.
        realigned = preprocess_frame(placed)
        assert max(iou(np.roll(realigned, shift, axis=1), aligned) for shift in (-1, 0, 1)) > 0.9
        checked += 1
    assert checked >= 6


def test_composite_is_the_masked_blend_of_background_and_generated_frame():
    background = np.full((4, 5, 3), 10, dtype=np.uint8)
    generated = np.full((4, 5, 3), 200, dtype=np.uint8)
    mask = np.zeros((4, 5), dtype=np.uint8)
    mask[1:3, 2] = 255
    out = composite(background, generated, mask)
    # I_a = I_b * (1 - L_a) + G_p(L_a) * L_a
    expected = background * (1 - (mask > 0))[..., None] + generated * (mask > 0)[..., None]
    assert np.array_equal(out, expected) and out.dtype == np.uint8
    with pytest.raises(ValueError, match="shapes differ"):
        composite(background, generated[:3], mask)
