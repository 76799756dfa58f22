"""The Parquet + packed-frames store: round trip, atomicity, and damaged stores."""

import json

import numpy as np
import pytest

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter, store_files
from gaitcore.errors import DataError


def frames(n, value):
    return np.full((n, 64, 64), value, dtype=np.uint8)


def write_store(root):
    with StoreWriter(root, CASIA_B, extra_meta={"note": "test"}) as writer:
        writer.add(SequenceKey(CASIA_B, "001", "nm", 1, 0), frames(3, 1), frames_dropped=2)
        writer.add(SequenceKey(CASIA_B, "002", "cl", 2, 180), frames(5, 2), files_skipped=1)
    return root


def test_roundtrip_index_and_memory_mapped_frames(tmp_path):
    store = FrameStore(write_store(tmp_path / "s"))
    assert len(store) == 2
    assert store.index["frame_start"].tolist() == [0, 3]
    assert store.index["frame_count"].tolist() == [3, 5]
    assert np.array_equal(store.sequence(1), frames(5, 2))
    assert isinstance(store.frames, np.memmap)
    assert store.key(1) == SequenceKey(CASIA_B, "002", "cl", 2, 180)
    assert store.meta["total_frames"] == 8 and store.meta["frames_dropped"] == 2
    assert store.meta["files_skipped"] == 1 and store.meta["note"] == "test"
    assert list(store.select(conditions=["cl"]).index) == [1]
    assert list(store.select(subjects=["001"], views=[180]).index) == []


def test_failure_inside_the_writer_leaves_nothing(tmp_path):
    root = tmp_path / "s"
    with pytest.raises(RuntimeError):
        with StoreWriter(root, CASIA_B) as writer:
            writer.add(SequenceKey(CASIA_B, "001", "nm", 1, 0), frames(3, 1))
            raise RuntimeError("boom")
    assert not root.exists()


def test_writer_rejects_bad_frames(tmp_path):
    with StoreWriter(tmp_path / "s", CASIA_B) as writer:
        with pytest.raises(ValueError, match="expected uint8 frames"):
            writer.add(SequenceKey(CASIA_B, "001", "nm", 1, 0), np.zeros((3, 64, 44), np.uint8))
        with pytest.raises(ValueError, match="at least one frame"):
            writer.add(SequenceKey(CASIA_B, "001", "nm", 1, 0), frames(0, 0))
        writer.add(SequenceKey(CASIA_B, "001", "nm", 1, 0), frames(1, 0))


def test_truncated_frame_file_is_an_error(tmp_path):
    root = write_store(tmp_path / "s")
    path = store_files(root)["frames"]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated") as err:
        FrameStore(root)
    assert "frames.u8" in str(err.value) and "rebuild" in str(err.value)


def test_missing_part_is_an_error(tmp_path):
    root = write_store(tmp_path / "s")
    store_files(root)["index"].unlink()
    with pytest.raises(DataError, match="index file is missing"):
        FrameStore(root)


def test_other_format_version_is_an_error(tmp_path):
    root = write_store(tmp_path / "s")
    meta = store_files(root)["meta"]
    meta.write_text(json.dumps(json.loads(meta.read_text()) | {"version": 99}))
    with pytest.raises(DataError, match="format version 99"):
        FrameStore(root)


def test_failure_inside_the_writer_keeps_a_folder_that_was_there(tmp_path):
    root = tmp_path / "s"
    root.mkdir()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError):
        with StoreWriter(root, CASIA_B) as writer:
            writer.add(SequenceKey(CASIA_B, "001", "nm", 1, 0), frames(3, 1))
            raise RuntimeError("boom")
    assert [p.name for p in root.iterdir()] == ["notes.txt"]


def test_empty_sequences_count_in_the_totals_but_not_in_the_index(tmp_path):
    with StoreWriter(tmp_path / "s", CASIA_B) as writer:
        writer.add(SequenceKey(CASIA_B, "001", "nm", 1, 0), frames(3, 1), frames_dropped=1)
        writer.add_empty(SequenceKey(CASIA_B, "001", "nm", 1, 18), frames_dropped=4, files_skipped=2)
    store = FrameStore(tmp_path / "s")
    assert len(store) == 1 and store.meta["empty_sequences"] == ["001-nm-01-018"]
    assert store.meta["frames_dropped"] == 5 and store.meta["files_skipped"] == 2


def test_recorded_content_hash_equals_the_one_computed_from_the_frames(tmp_path):
    root = write_store(tmp_path / "s")
    recorded = FrameStore(root).content_hash
    assert recorded == json.loads(store_files(root)["meta"].read_text())["content_hash"]
    meta = store_files(root)["meta"]  # a store written before store.json held the hash
    meta.write_text(json.dumps({k: v for k, v in json.loads(meta.read_text()).items() if k != "content_hash"}))
    assert FrameStore(root).content_hash == recorded
    assert len(recorded) == 32


def test_content_hash_changes_with_one_pixel_and_ignores_sources_and_folders(tmp_path):
    def store_hash(root, pixel=1, source=""):
        with StoreWriter(root, CASIA_B, extra_meta={"seconds": len(str(root))}) as writer:
            changed = frames(3, 1)
            changed[2, 40, 17] = pixel
            writer.add(SequenceKey(CASIA_B, "001", "nm", 1, 0), changed, source_path=source)
            writer.add(SequenceKey(CASIA_B, "002", "cl", 2, 180), frames(5, 2), source_path=source)
        return FrameStore(root).content_hash

    reference = store_hash(tmp_path / "a", source="/data/one")
    assert store_hash(tmp_path / "elsewhere" / "b", source="/data/two") == reference
    assert store_hash(tmp_path / "c", pixel=0) != reference


def test_content_hash_covers_labels_and_sequence_boundaries(tmp_path):
    def store_hash(root, split, subject="001"):
        with StoreWriter(root, CASIA_B) as writer:
            writer.add(SequenceKey(CASIA_B, subject, "nm", 1, 0), frames(split, 1))
            writer.add(SequenceKey(CASIA_B, "002", "nm", 1, 0), frames(4 - split, 1))
        return FrameStore(root).content_hash

    reference = store_hash(tmp_path / "a", 1)
    assert store_hash(tmp_path / "b", 2) != reference  # same bytes, other frame counts
    assert store_hash(tmp_path / "c", 1, subject="003") != reference
