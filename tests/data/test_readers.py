"""The real-layout readers: scanning, decoding, and every kind of bad input."""

import pickle

import cv2
import numpy as np
import pytest

from gaitcore.data.layout import CASIA_A, CASIA_B, SequenceKey
from gaitcore.data.readers import (
    NON_BINARY_SHARE,
    is_binary_silhouette,
    load_array_pickle,
    read_silhouette,
    require_root,
    scan_casia_a,
    scan_casia_b,
    scan_opengait,
)
from gaitcore.errors import DataError
from tests.data.silhouettes import person_frame, write_png


def test_scan_casia_b_finds_sequences_in_frame_order_and_reports_missing(casia_b_tree):
    scan = scan_casia_b(casia_b_tree)
    keys = [s.key for s in scan.sequences]
    assert keys == [SequenceKey(CASIA_B, "001", "nm", 1, 0), SequenceKey(CASIA_B, "001", "nm", 1, 18)]
    assert [p.rsplit("-", 1)[1] for p in scan.sequences[0].files] == ["001.png", "002.png", "003.png"]
    assert len(scan.missing) == 110 - 2
    assert "001-cl-02-180" in scan.missing and "001-nm-01-000" not in scan.missing


def test_scan_casia_a(casia_a_tree):
    for path in (casia_a_tree / "fyc" / "90_4").iterdir():
        path.unlink()
    (casia_a_tree / "fyc" / "90_4").rmdir()
    scan = scan_casia_a(casia_a_tree)
    keys = [s.key for s in scan.sequences]
    assert len(keys) == 11 and keys[0] == SequenceKey(CASIA_A, "fyc", "nm", 1, 0)
    assert SequenceKey(CASIA_A, "fyc", "nm", 2, 45) in keys
    assert scan.missing == ["fyc-nm-04-090"]


def test_missing_root_says_how_to_configure_data(tmp_path):
    with pytest.raises(DataError) as err:
        require_root(tmp_path / "nowhere", CASIA_B)
    message = str(err.value)
    assert "nowhere" in message and "datasets.casia_b.root" in message and "synthetic" in message


@pytest.mark.parametrize(
    ("scan", "dataset", "example"),
    [
        (scan_casia_b, CASIA_B, "001/nm-01/090/001-nm-01-090-001.png"),
        (scan_casia_a, CASIA_A, "fyc/45_2/fyc-45_2-001.png"),
        (scan_opengait, CASIA_B, "001/nm-01/090/<name>.pkl"),
    ],
)
def test_empty_root_says_to_point_root_at_the_subject_folders(tmp_path, scan, dataset, example):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / ".DS_Store").write_bytes(b"x")  # hidden: the root is still empty
    with pytest.raises(DataError) as err:
        scan(tmp_path / "root")
    message = str(err.value)
    assert str(tmp_path / "root") in message and f"`datasets.{dataset}.root`" in message
    assert "subject folders" in message and example in message
    assert "stray" not in message


def test_stray_files_are_skipped_and_counted(casia_b_tree):
    (casia_b_tree / "001" / "nm-01" / "000" / "Thumbs.db").write_bytes(b"x")
    (casia_b_tree / "001" / "nm-01" / "000" / "notes.txt").write_text("x")
    scan = scan_casia_b(casia_b_tree)
    assert scan.files_skipped == 2
    assert scan.sequences[0].files_skipped == 2 and len(scan.sequences[0].files) == 3


@pytest.mark.parametrize(
    ("stray", "problem"),
    [
        ("001/readme.txt", "a file where the layout expects only folders"),
        ("001/walk-01", "does not match"),
        ("001/nm-01/045", "not a CASIA-B view"),
        ("abc", "does not match"),
    ],
)
def test_unexpected_entries_in_the_tree_are_errors_naming_them(casia_b_tree, stray, problem):
    path = casia_b_tree / stray
    if path.suffix:
        path.write_text("x")
    else:
        path.mkdir(parents=True)
    with pytest.raises(DataError, match=problem) as err:
        scan_casia_b(casia_b_tree)
    assert str(path) in str(err.value) and "Fix:" in str(err.value)


def test_file_name_must_agree_with_folders(casia_b_tree):
    write_png(casia_b_tree / "001" / "nm-01" / "000" / "002-nm-01-000-004.png", person_frame())
    with pytest.raises(DataError, match="disagrees with its folders"):
        scan_casia_b(casia_b_tree)


def test_read_silhouette_roundtrips(tmp_path):
    frame = person_frame()
    write_png(tmp_path / "f.png", frame)
    assert np.array_equal(read_silhouette(tmp_path / "f.png", (240, 320)), frame)


def test_truncated_png_is_an_error_naming_the_file(tmp_path):
    write_png(tmp_path / "f.png", person_frame())
    data = (tmp_path / "f.png").read_bytes()
    (tmp_path / "f.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="not a readable PNG") as err:
        read_silhouette(tmp_path / "f.png", (240, 320))
    assert "f.png" in str(err.value) and "re-extract" in str(err.value)


def test_empty_file_is_an_error(tmp_path):
    (tmp_path / "f.png").write_bytes(b"")
    with pytest.raises(DataError, match="not a readable PNG"):
        read_silhouette(tmp_path / "f.png", (240, 320))


def test_rgb_png_is_an_error(tmp_path):
    write_png(tmp_path / "f.png", np.dstack([person_frame()] * 3))
    with pytest.raises(DataError, match="colour image with 3 channels"):
        read_silhouette(tmp_path / "f.png", (240, 320))


def test_wrong_size_png_is_an_error(tmp_path):
    write_png(tmp_path / "f.png", person_frame((120, 160)))
    with pytest.raises(DataError, match="frame of 120x160.*expected 240x320.*frame_shape"):
        read_silhouette(tmp_path / "f.png", (240, 320))


def write_pickle(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj))


def test_opengait_pickles_roundtrip(tmp_path):
    array = (np.random.default_rng(0).random((5, 64, 64)) > 0.5).astype(np.uint8) * 255
    write_pickle(tmp_path / "og" / "075" / "bg-02" / "126" / "126.pkl", array)
    scan = scan_opengait(tmp_path / "og")
    assert [s.key for s in scan.sequences] == [SequenceKey(CASIA_B, "075", "bg", 2, 126)]
    assert np.array_equal(load_array_pickle(scan.sequences[0].files[0]), array)


class Hostile:
    def __reduce__(self):
        return (eval, ("open('/tmp/gaitcore-pwned', 'w')",))


def test_hostile_pickle_is_refused_without_running_it(tmp_path):
    write_pickle(tmp_path / "evil.pkl", Hostile())
    with pytest.raises(DataError, match="refusing to load builtins.eval") as err:
        load_array_pickle(tmp_path / "evil.pkl")
    assert "evil.pkl" in str(err.value)
    assert not (tmp_path.parent / "gaitcore-pwned").exists()


def test_pickle_of_wrong_array_is_an_error(tmp_path):
    write_pickle(tmp_path / "f.pkl", np.zeros((3, 64, 44), dtype=np.uint8))
    with pytest.raises(DataError, match=r"uint8 \(3, 64, 44\), expected uint8 \[T, 64, 64\]"):
        load_array_pickle(tmp_path / "f.pkl")


def test_truncated_pickle_is_an_error(tmp_path):
    write_pickle(tmp_path / "f.pkl", np.zeros((3, 64, 64), dtype=np.uint8))
    (tmp_path / "f.pkl").write_bytes((tmp_path / "f.pkl").read_bytes()[:40])
    with pytest.raises(DataError, match="corrupt or truncated pickle"):
        load_array_pickle(tmp_path / "f.pkl")


def test_cv2_reads_what_the_fixture_wrote(casia_a_tree):
    # guards the fixture itself: grey, 240x352
    image = cv2.imread(str(next(casia_a_tree.rglob("*.png"))), cv2.IMREAD_UNCHANGED)
    assert image.shape == (240, 352)


def test_binary_silhouettes_tolerate_one_percent_of_other_pixels():
    frame = person_frame()
    assert is_binary_silhouette(frame)
    tolerated = int(NON_BINARY_SHARE * frame.size)
    frame.flat[:tolerated] = 128
    assert is_binary_silhouette(frame)
    frame.flat[tolerated] = 1
    assert not is_binary_silhouette(frame)
    assert not is_binary_silhouette(np.full((240, 320), 128, np.uint8))  # a grey image
    photo = np.random.default_rng(0).integers(0, 256, (240, 320), dtype=np.uint8)
    assert not is_binary_silhouette(photo)
