"""Shared by the resume tests: run a training script in a subprocess and SIGKILL it mid-run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def kill_after_first_checkpoint(script: str, *args: str, checkpoint: Path, weights: Path) -> None:
    """Run ``python -c script args`` from the repository root and SIGKILL it as soon as ``checkpoint``
    exists; assert it died of the signal, leaving the checkpoint and no final weights."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()
    assert checkpoint.exists() and not weights.exists()
