"""Worker-process set-up shared by the parallel data stages."""

from __future__ import annotations

import sys

import cv2


def single_threaded() -> None:
    """Pool initializer: one thread per worker process for OpenCV (and torch, if loaded)."""
    cv2.setNumThreads(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
