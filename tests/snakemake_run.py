"""Helpers shared by the tests that run Snakemake: invoke it, read its job list."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile")]
CI_CONFIG = REPO / "config" / "ci.yaml"


def snakemake(
    workdir: Path, *args: str, env: dict | None = None, timeout: float = 1200
) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` (``--directory``); stdout and stderr together in ``.stdout``."""
    return subprocess.run(
        [*SNAKEMAKE, "--directory", str(workdir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        env={**(env if env is not None else os.environ), "PYTHONUNBUFFERED": "1"},
    )


def rule_names(workdir: Path, *args: str) -> set[str]:
    """The rules of the workflow (``--list-rules``)."""
    result = snakemake(workdir, "--list-rules", *args, timeout=300)
    assert result.returncode == 0, result.stdout
    return {line.strip() for line in result.stdout.splitlines() if re.fullmatch(r"\s*\w+\s*", line)}


def job_stats(output: str) -> Counter:
    """The "Job stats" table Snakemake prints before running (or dry-running): rule -> job count.

    Empty when there is nothing to be done.
    """
    match = re.search(r"^Job stats:\n.*\n-+\s+-+\n((?:.+\n?)*?)(?:^total\s+\d+)", output, re.M)
    if match is None:
        return Counter()
    stats = Counter()
    for line in match.group(1).splitlines():
        name, count = line.split()
        stats[name] = int(count)
    return stats


@dataclass
class Job:
    rule: str
    wildcards: dict = field(default_factory=dict)
    reason: str = ""


def scheduled_jobs(output: str) -> list[Job]:
    """The jobs of a (dry-)run, from the per-job blocks ("rule x:" ... "wildcards:", "reason:")."""
    jobs = []
    for block in re.split(r"^(?=(?:local)?(?:rule|checkpoint) \w+:$)", output, flags=re.M)[1:]:
        rule = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block).group(1)
        wildcards = {}
        found = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        if found:
            wildcards = dict(item.split("=", 1) for item in found.group(1).split(", "))
        reason = re.search(r"^\s+reason: (.*)$", block, re.M)
        jobs.append(Job(rule, wildcards, reason.group(1) if reason else ""))
    return jobs


@dataclass(frozen=True)
class CompletedRun:
    """A workdir where a Snakemake run finished."""

    workdir: Path

    def copy(self, destination: Path) -> Path:
        """A copy Snakemake takes for the same finished run: the outputs with their modification
        times (``shutil.copy2``) and the ``.snakemake`` records (params, code, input). Tests that
        run or change jobs work on a copy and leave the shared run as it was."""
        shutil.copytree(self.workdir, destination, symlinks=True)
        return destination
