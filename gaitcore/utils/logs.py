"""Logging set-up shared by the pipeline's scripts and the command line.

A rule's log file is where a cluster user looks first, so :func:`setup_logging` sends to it
everything the process says: progress through :mod:`logging`, Python warnings, and an uncaught
exception with its traceback (Snakemake itself only says "check log file(s) for error details").

Snakemake deletes a rule's log before it reruns the job. A training job that resumes an interrupted
run keeps the earlier run's log inside its resume checkpoint (:func:`run_log_text`) and writes it
back at the top of the new log (:func:`continue_run_log`), so the log reads as one history.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
log = logging.getLogger(__name__)


class _RunLog(logging.Handler):
    """Keeps the formatted lines of this run (and of the runs it continues)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


_run_log = _RunLog()


def _log_uncaught(exc_type, exc, tb) -> None:
    """``sys.excepthook``: an uncaught exception goes to the log (file and stderr) with its traceback."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logging.getLogger("gaitcore").critical("failed: %s", exc, exc_info=(exc_type, exc, tb))


def setup_logging(path: str | Path | None = None, level: int = logging.INFO) -> None:
    """Log to ``path`` (and stderr), replacing handlers a previous call installed.

    Warnings and an uncaught exception (with its traceback) are logged too.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr), _run_log]
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    _run_log.lines.clear()
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


def run_log_text() -> str:
    """Every line logged since :func:`setup_logging` (empty when it was not called), with the
    earlier runs' lines :func:`continue_run_log` put before them."""
    return "\n".join(_run_log.lines)


def continue_run_log(earlier: str, source: str | Path) -> None:
    """Write an interrupted run's log (kept in ``source``, its checkpoint) into this run's log file,
    and keep it for the next checkpoint, so the log of a resumed training reads as one history."""
    if not earlier:
        return
    text = f"---- log of the earlier run(s), kept in {source} ----\n{earlier}\n---- this run ----\n"
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.acquire()
            try:
                handler.stream.write(text)
                handler.flush()
            finally:
                handler.release()
    if _run_log in logging.getLogger().handlers:
        _run_log.lines[:0] = earlier.split("\n")
