"""The dataset tree fingerprint: any change inside the tree changes it, nothing else does."""

import os
import shutil

import pytest

from gaitcore.data.fingerprint import tree_fingerprint


def test_fingerprint_is_stable_and_follows_a_copy_that_keeps_mtimes(casia_b_tree, tmp_path):
    reference = tree_fingerprint(casia_b_tree)
    assert tree_fingerprint(casia_b_tree) == reference and len(reference) == 32
    shutil.copytree(casia_b_tree, tmp_path / "copy")  # copy2: sizes and mtimes kept
    assert tree_fingerprint(tmp_path / "copy") == reference


@pytest.mark.parametrize(
    "change",
    ["delete a frame", "delete a sequence folder", "add a stray file", "add an empty folder",
     "rewrite a frame", "touch a frame", "rename a frame"],
)
def test_any_change_deep_in_the_tree_changes_the_fingerprint(casia_b_tree, change):
    view = casia_b_tree / "001" / "nm-01" / "018"
    frame = view / "001-nm-01-018-002.png"
    before = tree_fingerprint(casia_b_tree)
    if change == "delete a frame":
        frame.unlink()
    elif change == "delete a sequence folder":
        shutil.rmtree(view)
    elif change == "add a stray file":
        (view / "Thumbs.db").write_bytes(b"x")
    elif change == "add an empty folder":
        (casia_b_tree / "001" / "bg-01" / "000").mkdir(parents=True)
    elif change == "rewrite a frame":
        frame.write_bytes(frame.read_bytes() + b"\0")
    elif change == "touch a frame":
        stat = frame.stat()
        os.utime(frame, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    else:
        frame.rename(view / "001-nm-01-018-009.png")
    assert tree_fingerprint(casia_b_tree) != before


def test_hidden_entries_are_left_out_like_the_readers_do(casia_b_tree):
    before = tree_fingerprint(casia_b_tree)
    (casia_b_tree / ".DS_Store").write_bytes(b"x")
    (casia_b_tree / "001" / "nm-01" / "000" / "._001-nm-01-000-001.png").write_bytes(b"x")
    (casia_b_tree / ".git" / "objects").mkdir(parents=True)
    assert tree_fingerprint(casia_b_tree) == before


def test_symbolic_links_are_followed_and_loops_end(casia_b_tree, tmp_path):
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "001").symlink_to(casia_b_tree / "001")
    assert tree_fingerprint(linked) == tree_fingerprint(casia_b_tree)
    (casia_b_tree / "001" / "nm-01" / "loop").symlink_to(casia_b_tree / "001")
    tree_fingerprint(casia_b_tree)  # returns
