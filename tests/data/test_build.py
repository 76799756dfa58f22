"""Building stores from every source; the PNG-tree path equals the direct synthetic path."""

import json
import pickle

import numpy as np
import pytest

from gaitcore.cli import main as cli
from gaitcore.data.build import SourceSpec, build_store
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
    assert not any((tmp_path / "s").iterdir())  # ... and nothing is left behind


def test_empty_sequence_is_left_out_and_listed(casia_a_tree, tmp_path):
    import cv2

    for path in (casia_a_tree / "fyc" / "45_2").iterdir():
        cv2.imwrite(str(path), np.zeros((240, 352), np.uint8))
    build_store(SourceSpec("casia_a", "png", str(casia_a_tree)), tmp_path / "s")
    store = FrameStore(tmp_path / "s")
    assert len(store) == 11 and store.meta["empty_sequences"] == ["fyc-nm-02-045"]
    with pytest.raises(DataError, match="1 sequences have no usable frame"):
        build_store(SourceSpec("casia_a", "png", str(casia_a_tree), strict=True), tmp_path / "t")


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


def test_synthetic_store_is_deterministic_whatever_the_worker_count(tmp_path):
    spec = SourceSpec("casia_b", "synthetic", synthetic={**TINY, "subjects": 1})
    build_store(spec, tmp_path / "one", workers=1)
    build_store(spec, tmp_path / "two", workers=2)
    one, two = FrameStore(tmp_path / "one"), FrameStore(tmp_path / "two")
    assert np.array_equal(np.asarray(one.frames), np.asarray(two.frames))
    assert json.loads((tmp_path / "one" / "store.json").read_text())["sequences"] == 110


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
