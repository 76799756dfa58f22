"""Changes deep inside a real dataset's tree rerun preprocessing: rule `preprocess` gets the tree's
fingerprint (gaitcore.data.fingerprint) as a param, so deleting one frame or one sequence folder
schedules it again, while the root folder's own mtime would not change."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.snakemake_run import CI_CONFIG, REPO, job_stats, scheduled_jobs, snakemake

pytestmark = pytest.mark.slow

PARAMS_CHANGED = "Params have changed since last execution"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A tiny synthetic CASIA-B PNG tree, and a workdir where its store alone has been built.

    Yields (workdir, tree, config path, store target).
    """
    workdir = tmp_path_factory.mktemp("source-reruns")
    tree = workdir / "casia-b-png"
    synthesize = [sys.executable, "-m", "gaitcore.cli", "synthesize", "--dataset", "casia_b", "--subjects", "1",
                  "--frames-min", "3", "--frames-max", "4", "--out", str(tree)]
    result = subprocess.run(synthesize, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["datasets"]["casia_b"] = {"source": "png", "root": str(tree)}
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    target = f"{config['results']}/data/casia_b/store.json"
    result = snakemake(workdir, "--cores", "1", target, "--configfile", str(config_path), timeout=300)
    assert result.returncode == 0, result.stdout[-5000:]
    return workdir, tree, config_path, target


def scheduled(built) -> list:
    workdir, _, config_path, target = built
    result = snakemake(workdir, "-n", target, "--configfile", str(config_path), timeout=300)
    assert result.returncode == 0, result.stdout[-5000:]
    jobs = scheduled_jobs(result.stdout)
    assert sum(job_stats(result.stdout).values()) == len(jobs)
    return jobs


def assert_preprocess_rerun(jobs: list) -> None:
    assert [(job.rule, job.wildcards) for job in jobs] == [("preprocess", {"dataset": "casia_b"})]
    assert PARAMS_CHANGED in jobs[0].reason


def test_source_tree_changes_rerun_preprocessing(built):
    _, tree, _, _ = built
    assert scheduled(built) == []

    frame = tree / "001" / "bg-02" / "162" / "001-bg-02-162-002.png"
    data, stat = frame.read_bytes(), frame.stat()
    frame.unlink()  # one frame deep in the tree: the root folder's mtime stays
    assert_preprocess_rerun(scheduled(built))

    frame.write_bytes(data)  # the same frame back, with its mtime: the tree is as it was
    os.utime(frame, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert scheduled(built) == []

    shutil.rmtree(tree / "001" / "cl-01" / "054")  # a whole sequence folder
    assert_preprocess_rerun(scheduled(built))
