"""GaitSet's preprocessing on hand-built frames with known answers."""

import numpy as np
import pytest

from gaitcore.data.preprocess import MIN_PIXEL_SUM, preprocess_frame, preprocess_sequence


def blank(rows=240, cols=320):
    return np.zeros((rows, cols), dtype=np.uint8)


def test_drops_frames_at_or_below_the_pixel_sum_threshold():
    frame = blank()
    frame.flat[:39] = 255  # 9945 <= 10000
    assert 39 * 255 <= MIN_PIXEL_SUM
    assert preprocess_frame(frame) is None
    frame.flat[39] = 255  # 40 pixels: 10200 > 10000
    assert preprocess_frame(frame) is not None


@pytest.mark.parametrize(
    ("first_col", "expected_cols"),
    [
        (100, (30, 33)),  # inside the image: no padding
        (30, (30, 33)),  # centre at 32: the original's `left <= 0` pads
        (316, (30, 33)),  # at the right border: padded, cut from the pad
        (0, (30, 33)),  # at the left border: centre 2, padded by 32
    ],
)
def test_a_64_row_person_is_centred_on_its_column_median(first_col, expected_cols):
    # A 64-row tall, 4-column wide block: the resize is the identity, so the answer is exact.
    frame = blank()
    frame[100:164, first_col : first_col + 4] = 255
    out = preprocess_frame(frame)
    assert out.shape == (64, 64) and out.dtype == np.uint8
    cols = np.flatnonzero(out.sum(axis=0))
    assert (cols[0], cols[-1]) == expected_cols
    assert (out[:, cols[0] : cols[-1] + 1] == 255).all()
    assert out.sum() == frame.sum()


def test_a_taller_person_is_scaled_to_64_rows_and_centred():
    frame = blank()
    frame[20:220, 150:210] = 255  # 200 rows x 60 columns
    out = preprocess_frame(frame)
    rows = np.flatnonzero(out.sum(axis=1))
    assert (rows[0], rows[-1]) == (0, 63)
    cols = np.flatnonzero(out.sum(axis=0) > 64 * 128)
    # 60 columns scaled by 64/200 = 19.2 columns, centred at 32
    assert 18 <= len(cols) <= 21
    assert abs((cols[0] + cols[-1]) / 2 - 31.5) <= 1.0


def test_rows_outside_the_person_are_cropped_whatever_the_position():
    a, b = blank(), blank()
    a[10:74, 100:104] = 255
    b[170:234, 200:204] = 255
    assert np.array_equal(preprocess_frame(a), preprocess_frame(b))


def test_sequence_counts_dropped_frames_and_keeps_order():
    first, second = blank(), blank()
    first[0:64, 100:104] = 255
    second[0:64, 100:108] = 255
    frames, dropped = preprocess_sequence([blank(), first, blank(), second])
    assert dropped == 2
    assert frames.shape == (2, 64, 64)
    assert frames[0].sum() < frames[1].sum()


def test_sequence_without_usable_frame_is_empty():
    frames, dropped = preprocess_sequence([blank(), blank()])
    assert frames.shape == (0, 64, 64) and dropped == 2


def test_rejects_colour_frames():
    with pytest.raises(ValueError, match="2-D"):
        preprocess_frame(np.zeros((240, 320, 3), dtype=np.uint8))
