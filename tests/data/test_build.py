"""Building stores from every source; the PNG-tree path equals the direct synthetic path."""

import json
import pickle
import shutil

import cv2
import numpy as np
import pytest

from gaitcore.cli import main as cli
from gaitcore.data.build import SourceSpec, build_store
from gaitcore.data.fingerprint import tree_fingerprint
from gaitcore.data.layout import casia_b_keys
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError

TINY = {"subjects": 2, "frames_min": 12, "frames_max": 16}


def test_png_tree_store_counts_dropped_frames_and_missing(casia_b_tree, tmp_path):
    summary = build_store(SourceSpec("casia_b", "png", str(casia_b_tree)), tmp_path / "store")
    store = FrameStore(tmp_path / "store")
    assert store.index["frame_count"].tolist() == [3, 2]
    assert store.index["frames_dropped"].tolist() == [0, 1]
    assert len(store.meta["missing_sequences"]) == 108
    assert summary["sequences"] == 2


def test_strict_mode_refuses_missing_sequences(casia_b_tree, tmp_path):
    with pytest.raises(DataError, match="108 sequences are missing.*strict: false"):
        build_store(SourceSpec("casia_b", "png", str(casia_b_tree), strict=True), tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_undecodable_frame_is_an_error_and_leaves_nothing(casia_a_tree, tmp_path):
    for path in (casia_a_tree / "fyc" / "45_2").iterdir():
        np.zeros((240, 352), np.uint8).tofile(path)  # not a PNG any more: an error ...
    with pytest.raises(DataError, match="not a readable PNG"):
        build_store(SourceSpec("casia_a", "png", str(casia_a_tree)), tmp_path / "s")
    assert not (tmp_path / "s").exists()  # ... and nothing is left behind, not even the folder


def test_empty_sequence_is_left_out_and_listed(casia_a_tree, tmp_path):
    for path in (casia_a_tree / "fyc" / "45_2").iterdir():
        cv2.imwrite(str(path), np.zeros((240, 352), np.uint8))
    build_store(SourceSpec("casia_a", "png", str(casia_a_tree)), tmp_path / "s")
    store = FrameStore(tmp_path / "s")
    assert len(store) == 11 and store.meta["empty_sequences"] == ["fyc-nm-02-045"]
    with pytest.raises(DataError, match="1 sequences have no usable frame") as err:
        build_store(SourceSpec("casia_a", "png", str(casia_a_tree), strict=True), tmp_path / "t")
    assert err.value.path == casia_a_tree / "fyc" / "45_2" and "strict: false" in err.value.fix


def test_frames_dropped_counts_the_frames_of_empty_sequences(casia_a_tree, tmp_path):
    for path in (casia_a_tree / "fyc" / "45_2").iterdir():
        cv2.imwrite(str(path), np.zeros((240, 352), np.uint8))
    build_store(SourceSpec("casia_a", "png", str(casia_a_tree)), tmp_path / "s")
    assert FrameStore(tmp_path / "s").meta["frames_dropped"] == 2


def write_pickle(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(array))


def test_opengait_pickle_without_frames_is_a_sequence_without_usable_frame(tmp_path, caplog):
    array = np.zeros((3, 64, 64), np.uint8)
    array[:, 10:50, 20:40] = 255
    for key in casia_b_keys(1):  # a complete subject, so that strict mode finds nothing missing
        folder = tmp_path / "og" / "001" / f"{key.condition}-{key.seq:02d}" / f"{key.view:03d}"
        write_pickle(folder / "x.pkl", array)
    empty = tmp_path / "og" / "001" / "bg-02" / "036" / "x.pkl"
    write_pickle(empty, np.zeros((0, 64, 64), np.uint8))
    build_store(SourceSpec("casia_b", "opengait", str(tmp_path / "og")), tmp_path / "s")
    store = FrameStore(tmp_path / "s")
    assert len(store) == 109 and store.meta["empty_sequences"] == ["001-bg-02-036"]
    assert any(str(empty) in record.getMessage() for record in caplog.records)
    with pytest.raises(DataError, match="1 sequences have no usable frame") as err:
        build_store(SourceSpec("casia_b", "opengait", str(tmp_path / "og"), strict=True), tmp_path / "t")
    assert err.value.path == empty and "strict: false" in err.value.fix
    assert not (tmp_path / "t").exists()


def test_grey_and_photo_pngs_are_counted_and_refused_in_strict_mode(casia_a_tree, tmp_path, caplog):
    grey = casia_a_tree / "fyc" / "45_2" / "fyc-45_2-001.png"
    photo = casia_a_tree / "fyc" / "90_3" / "fyc-90_3-002.png"
    cv2.imwrite(str(grey), np.full((240, 352), 128, np.uint8))
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 256, (240, 352), dtype=np.uint8))
    build_store(SourceSpec("casia_a", "png", str(casia_a_tree)), tmp_path / "s")
    meta = FrameStore(tmp_path / "s").meta
    assert meta["frames_non_binary"] == 2
    assert meta["frames_non_binary_examples"] == [str(grey), str(photo)]
    assert any(str(grey) in record.getMessage() for record in caplog.records)
    with pytest.raises(DataError, match="not a 0/255 silhouette") as err:
        build_store(SourceSpec("casia_a", "png", str(casia_a_tree), strict=True), tmp_path / "t")
    assert err.value.path == grey and "binarise" in err.value.fix and "strict: false" in err.value.fix
    assert not (tmp_path / "t").exists()


def test_store_records_the_source_tree_fingerprint(casia_b_tree, tmp_path):
    build_store(SourceSpec("casia_b", "png", str(casia_b_tree)), tmp_path / "s")
    assert FrameStore(tmp_path / "s").meta["source_tree_fingerprint"] == tree_fingerprint(casia_b_tree)


def test_same_data_in_another_folder_gives_the_same_content_hash(casia_b_tree, tmp_path):
    moved = shutil.copytree(casia_b_tree, tmp_path / "elsewhere" / "tree")
    build_store(SourceSpec("casia_b", "png", str(casia_b_tree)), tmp_path / "a")
    build_store(SourceSpec("casia_b", "png", str(moved)), tmp_path / "b")
    a, b = FrameStore(tmp_path / "a"), FrameStore(tmp_path / "b")
    assert a.index["source_path"].tolist() != b.index["source_path"].tolist()
    assert a.content_hash == b.content_hash


def test_opengait_source_drops_empty_frames(tmp_path):
    array = np.zeros((4, 64, 64), np.uint8)
    array[1:, 10:50, 20:40] = 255
    path = tmp_path / "og" / "001" / "nm-01" / "000" / "000.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps(array))
    build_store(SourceSpec("casia_b", "opengait", str(tmp_path / "og")), tmp_path / "s")
    store = FrameStore(tmp_path / "s")
    assert np.array_equal(store.sequence(0), array[1:])
    assert store.index["frames_dropped"].tolist() == [1]
    assert store.meta["frames_non_binary"] is None  # resized by OpenGait: not checked


def test_png_source_without_root_is_a_config_error():
    with pytest.raises(DataError, match="datasets.casia_b.root"):
        SourceSpec("casia_b", "png")


@pytest.mark.parametrize("dataset", ["casia_b", "casia_a"])
def test_synthetic_png_tree_roundtrips_to_the_direct_store(dataset, tmp_path):
    """Writing the synthetic set as a real PNG tree and reading it back gives the same store."""
    spec = SourceSpec(dataset, "synthetic", synthetic=TINY)
    build_store(spec, tmp_path / "direct", workers=2)
    args = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
    assert cli(["synthesize", "--dataset", dataset, "--out", str(tmp_path / "tree"), *args]) == 0
    assert cli(["preprocess", "--dataset", dataset, "--source", "png", "--root", str(tmp_path / "tree"),
                "--out", str(tmp_path / "from_png")]) == 0
    direct, from_png = FrameStore(tmp_path / "direct"), FrameStore(tmp_path / "from_png")
    columns = ["subject", "condition", "seq", "view", "frame_start", "frame_count", "frames_dropped"]
    assert direct.index[columns].equals(from_png.index[columns])
    assert np.array_equal(np.asarray(direct.frames), np.asarray(from_png.frames))
    assert from_png.meta["missing_sequences"] == []
    assert direct.meta["frames_non_binary"] == from_png.meta["frames_non_binary"] == 0
    assert direct.content_hash == from_png.content_hash
    assert direct.meta["source_tree_fingerprint"] == ""


def test_synthetic_store_is_deterministic_whatever_the_worker_count(tmp_path):
    spec = SourceSpec("casia_b", "synthetic", synthetic={**TINY, "subjects": 1})
    build_store(spec, tmp_path / "one", workers=1)
    build_store(spec, tmp_path / "two", workers=2)
    one, two = FrameStore(tmp_path / "one"), FrameStore(tmp_path / "two")
    assert np.array_equal(np.asarray(one.frames), np.asarray(two.frames))
    assert json.loads((tmp_path / "one" / "store.json").read_text())["sequences"] == 110


def test_failed_cli_preprocess_leaves_no_output_folder(casia_a_tree, tmp_path):
    (casia_a_tree / "fyc" / "45_2" / "fyc-45_2-001.png").write_bytes(b"not a png")
    args = ["preprocess", "--dataset", "casia_a", "--source", "png", "--root", str(casia_a_tree)]
    assert cli([*args, "--out", str(tmp_path / "new" / "store")]) == 2
    assert not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("kept")
    assert cli([*args, "--out", str(tmp_path / "mine")]) == 2
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_cli_reports_errors_without_a_traceback(tmp_path, capsys):
    code = cli(["preprocess", "--source", "png", "--root", str(tmp_path / "none"), "--out", str(tmp_path / "s")])
    assert code == 2
    assert "datasets.casia_b.root" in capsys.readouterr().err


def test_store_written_as_opengait_pickles_reads_back_identically(tmp_path):
    """The OpenGait reader round-trips a synthetic store exported in OpenGait's layout."""
    build_store(SourceSpec("casia_b", "synthetic", synthetic={**TINY, "subjects": 1}), tmp_path / "direct")
    direct = FrameStore(tmp_path / "direct")
    for row in direct.index.itertuples():
        folder = tmp_path / "og" / row.subject / f"{row.condition}-{row.seq:02d}" / f"{row.view:03d}"
        folder.mkdir(parents=True)
        (folder / f"{row.view:03d}.pkl").write_bytes(pickle.dumps(np.asarray(direct.sequence(row.Index))))
    build_store(SourceSpec("casia_b", "opengait", str(tmp_path / "og")), tmp_path / "from_pkl")
    from_pkl = FrameStore(tmp_path / "from_pkl")
    columns = ["subject", "condition", "seq", "view", "frame_start", "frame_count"]
    assert direct.index[columns].equals(from_pkl.index[columns])
    assert np.array_equal(np.asarray(direct.frames), np.asarray(from_pkl.frames))


SENSOR = {"segmenter": "median", "settings": {"threshold": 25}, "min_area": 20,
          "camera": {"noise_sigma": 4.0, "jpeg_quality": 80}}


def test_a_sensed_synthetic_store_is_what_the_video_path_reads(tmp_path):
    """Issue 21 item 1: with `datasets.<name>.sensor` the store is rendered through the sensor path;
    the video source re-renders exactly its raw frames, and they stay close to the exact masks' store."""
    from gaitcore.data.preprocess import preprocess_sequence
    from gaitcore.data.segment import iou
    from gaitcore.data.synthetic import render_sequence
    from gaitcore.video.sources import video_source

    synthetic = {**TINY, "subjects": 1}
    sensed_spec = SourceSpec("casia_b", "synthetic", synthetic=synthetic, sensor=SENSOR)
    build_store(sensed_spec, tmp_path / "sensed")  # forked workers could hang on OpenCV threads of earlier tests
    build_store(SourceSpec("casia_b", "synthetic", synthetic=synthetic), tmp_path / "exact")
    sensed, exact = FrameStore(tmp_path / "sensed"), FrameStore(tmp_path / "exact")
    assert sensed.meta["source"]["sensor"] == SENSOR and sensed.meta["frames_non_binary"] == 0
    assert sensed.content_hash != exact.content_hash
    source = video_source({"source": "synthetic", "synthetic": synthetic, "sensor": SENSOR})
    cfg = sensed_spec.synthetic_config()
    for row in range(0, len(sensed), 37):
        key = sensed.key(row)
        raw = source.silhouettes(key)
        frames, _ = preprocess_sequence(iter(raw))
        assert np.array_equal(frames, sensed.sequence(row))
        rgb, _ = source.video(key)  # the video job paints once: silhouettes then senses these frames
        assert not rgb.flags.writeable and np.array_equal(source.silhouettes(key), raw)
        plain = render_sequence(cfg, key)
        person = [t for t in range(len(raw)) if (plain[t] > 0).sum() >= 500]
        assert np.mean([iou(raw[t], plain[t]) for t in person]) > 0.9


def test_only_a_synthetic_store_is_sensed():
    with pytest.raises(DataError, match="datasets.casia_b.sensor"):
        SourceSpec("casia_b", "png", root="/data/casia_b", sensor=SENSOR)
    with pytest.raises(ValueError, match="unknown segmentation method"):
        SourceSpec("casia_b", "synthetic", sensor={**SENSOR, "segmenter": "grabcut"})
