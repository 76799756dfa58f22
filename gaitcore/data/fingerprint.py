"""A cheap fingerprint of a dataset tree, so that any change inside it reruns preprocessing.

:func:`tree_fingerprint` hashes the relative path of every folder and file under the root, and each
file's size and modification time (nanoseconds), in a fixed order (each folder's entries sorted by
name); no file is opened. Deleting, adding, replacing or touching a frame anywhere in the tree
changes it; so does copying the tree without its modification times (``cp -r`` rather than
``cp -a`` or ``rsync -a``). Entries whose name starts with ``.`` are left out with everything below
them, as the readers (``gaitcore.data.readers``) leave them out. Symbolic links are followed, as
the readers follow them; a folder reached twice (a link loop) is hashed once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from gaitcore.errors import DataError


def tree_fingerprint(root: str | Path) -> str:
    """Hex digest of the non-hidden folders and files under ``root``: paths, sizes, mtimes."""
    digest = hashlib.blake2b(digest_size=16)
    seen: set[tuple[int, int]] = set()

    def walk(folder: str, prefix: str) -> None:
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:
            return
        seen.add((info.st_dev, info.st_ino))
        with os.scandir(folder) as found:
            entries = sorted((e for e in found if not e.name.startswith(".")), key=lambda e: e.name)
        records, folders = [], []
        for entry in entries:
            if entry.is_dir():
                folders.append(entry)
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:  # a broken symbolic link (the readers report it)
                records.append(f"x {prefix}{entry.name}\0")
            else:
                records.append(f"f {prefix}{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0")
        digest.update("".join(records).encode("utf-8", "surrogateescape"))
        for entry in folders:
            digest.update(f"d {prefix}{entry.name}\0".encode("utf-8", "surrogateescape"))
            walk(entry.path, f"{prefix}{entry.name}/")

    try:
        walk(os.fspath(root), "")
    except OSError as err:
        raise DataError(
            err.filename or root,
            f"cannot be read while fingerprinting the dataset tree ({err.strerror})",
            "make the dataset tree readable by this user, or point the config at a readable copy",
        ) from err
    return digest.hexdigest()
