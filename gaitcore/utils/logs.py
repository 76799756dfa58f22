"""Logging set-up shared by the pipeline's scripts and the command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(path: str | Path | None = None, level: int = logging.INFO) -> None:
    """Log to ``path`` (and stderr), replacing handlers a previous call installed."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
