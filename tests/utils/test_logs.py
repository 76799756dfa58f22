"""Rule logs hold what a job said: progress, warnings, an uncaught error with its traceback, and
the log of the interrupted run a training resumes."""

import subprocess
import sys
import textwrap

from tests.training.sigkill import REPO, kill_after_first_checkpoint
from tests.training.test_gaitset_training import build_store


def run_python(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_an_uncaught_error_and_warnings_land_in_the_log_file(tmp_path):
    log = tmp_path / "logs" / "job.log"
    result = run_python(
        """
        import sys, warnings
        from gaitcore.errors import DataError
        from gaitcore.utils.logs import setup_logging
        setup_logging(sys.argv[1])
        warnings.warn("a deprecated knob")
        raise DataError("/data/x.png", "not a silhouette", "replace the file")
        """,
        str(log),
    )
    assert result.returncode == 1
    text = log.read_text()
    assert "a deprecated knob" in text
    assert "CRITICAL gaitcore: failed: /data/x.png: not a silhouette. Fix: replace the file" in text
    assert "Traceback (most recent call last)" in text and "DataError" in text
    assert "Fix: replace the file" in result.stderr  # the console still shows it, once
    assert result.stderr.count("Traceback") == 1


TRAIN = """
import sys, torch
from dataclasses import replace
from gaitcore.training import train_gaitset
from gaitcore.utils.logs import setup_logging
from tests.training.test_gaitset_training import TINY
setup_logging(sys.argv[4])
torch.set_num_threads(1)
train_gaitset(sys.argv[1], sys.argv[2], sys.argv[3], replace(TINY, iterations=40, checkpoint_every=5, log_every=1))
"""


def test_a_resumed_training_log_starts_with_the_interrupted_runs_log(tmp_path):
    store = build_store(tmp_path / "casia_b")
    weights, checkpoint = tmp_path / "weights.pt", tmp_path / "resume.pt"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    kill_after_first_checkpoint(TRAIN, str(store), str(weights), str(checkpoint), str(first_log),
                                checkpoint=checkpoint, weights=weights)
    assert "iteration 5/40 loss" in first_log.read_text()

    result = run_python(TRAIN, str(store), str(weights), str(checkpoint), str(second_log))
    assert result.returncode == 0, result.stderr
    text = second_log.read_text()
    earlier, _, this_run = text.partition("---- this run ----")
    assert f"---- log of the earlier run(s), kept in {checkpoint} ----" in earlier
    assert "iteration 1/40 loss" in earlier and "iteration 5/40 loss" in earlier
    assert "resumed from" in this_run and "iteration 40/40 loss" in this_run
    assert "iteration 1/40 loss" not in this_run
