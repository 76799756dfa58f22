"""The slurm profile (slurm/config.yaml): parsed by Snakemake everywhere, and run for real against a
single-node Slurm that tests/slurm/start_slurm.sh brings up on this machine.

The real run needs root (it installs Debian's Slurm packages when missing and starts munged,
slurmctld and slurmd). Without root, or without apt-get to install Slurm with, it is skipped, except
under CI (CI=true, as .ci/run sets), where not running it is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from gaitcore.data.store import FrameStore
from tests.slurm.ci_profile import CI_OVERRIDES, PROFILE, ci_profile, load_profile, write_ci_profile
from tests.snakemake_run import CI_CONFIG, REPO, job_stats, rule_names, snakemake

START = REPO / "tests" / "slurm" / "start_slurm.sh"
STOP = REPO / "tests" / "slurm" / "stop_slurm.sh"
PARTITION = "ci"
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
SLURM_TOOLS = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "munged")


# --- the profile, without Slurm ------------------------------------------------------------------


def _flatten(mapping: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_ci_profile_differs_from_the_real_one_only_where_the_test_cluster_needs_it():
    real = _flatten(load_profile())
    ci = _flatten(ci_profile(partition=PARTITION, cores=2, max_mem_mb=8000))
    changed = {key for key in real.keys() | ci.keys() if real.get(key) != ci.get(key)}
    allowed = set(CI_OVERRIDES) | {"cores"}
    allowed |= {key for key in real if key.endswith(".slurm_partition") or key.endswith(".mem_mb")}
    assert changed <= allowed, sorted(changed - allowed)
    assert ci["slurm-status-command"] == "squeue"
    assert all(ci[key] == PARTITION for key in ci if key.endswith(".slurm_partition"))


def test_profile_names_the_resources_a_cluster_needs():
    profile = load_profile()
    assert profile["executor"] == "slurm"
    assert {"slurm_partition", "slurm_account", "runtime", "mem_mb"} <= set(profile["default-resources"])
    assert profile["set-resources"]["train_gaitset"]["gpu"] == 1
    assert set(profile["groups"].values()) <= set(profile["group-components"])
    # Every setting a user changes carries a comment: on its line or in its paragraph.
    lines = PROFILE.read_text().splitlines()
    for key in ("jobs:", "cores:", "latency-wait:", "slurm_partition:", "slurm_account:", "group-components:"):
        index = next(i for i, line in enumerate(lines) if line.lstrip().startswith(key))
        start = max((i for i in range(index) if not lines[i].strip()), default=-1) + 1
        paragraph = lines[start : index + 1]
        assert "#" in lines[index] or any(line.lstrip().startswith("#") for line in paragraph), key


def test_profile_dry_run_gives_gpu_rules_their_gpu(tmp_path):
    """Snakemake accepts the profile (rules it names that do not exist yet are ignored)."""
    result = snakemake(
        tmp_path, "--profile", str(REPO / "slurm"), "--configfile", str(CI_CONFIG), "-n", "all", timeout=300
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert job_stats(result.stdout)["preprocess"] == 2
    if "train_gaitset" in job_stats(result.stdout):
        block = result.stdout.split("rule train_gaitset:", 1)[1].split("\n\n", 1)[0]
        assert re.search(r"resources: .*\bgpu=1\b", block), block


# --- the profile against a real Slurm -----------------------------------------------------------


def _why_slurm_cannot_start() -> str | None:
    if os.geteuid() != 0:
        return "bringing up Slurm needs root"
    if not all(shutil.which(tool) for tool in SLURM_TOOLS) and not shutil.which("apt-get"):
        return "Slurm is not installed and there is no apt-get to install it with"
    return None


def _free_port_pair() -> int:
    """A port p with p and p + 1 free (slurmctld, slurmd)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Cluster:
    """A Slurm started by start_slurm.sh in its own state folder; stop() stops what it started."""

    def __init__(self, state: Path):
        self.state = state
        self.env = {
            **os.environ,
            "GAITCORE_SLURM_DIR": str(state),
            "GAITCORE_SLURM_PARTITION": PARTITION,
            "GAITCORE_SLURM_PORT": str(_free_port_pair()),
            "GAITCORE_SLURM_TIMEOUT": "240",
        }
        self.pids: dict[str, int] = {}

    def start(self) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["bash", str(START)], env=self.env, capture_output=True, text=True, timeout=600
        )
        if result.returncode == 0:
            self.env["SLURM_CONF"] = str(self.state / "slurm.conf")
            for name in ("slurmctld", "slurmd", "munged"):
                pidfile = self.state / f"{name}.pid"
                if pidfile.exists():  # munged only if start_slurm.sh started it
                    self.pids[name] = int(pidfile.read_text())
        return result

    def stop(self) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(STOP)], env=self.env, capture_output=True, text=True, timeout=180)

    def query(self, *command: str) -> str:
        return subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=30, check=True
        ).stdout

    def node_memory_mb(self) -> int:
        return int(self.query("sinfo", "-h", "-o", "%m").split()[0].rstrip("+"))


def _leave_a_killed_start_behind(state: Path) -> Path | None:
    """What a start killed before its stop leaves: /etc/slurm/slurm.conf linked to a configuration
    start_slurm.sh wrote, whose slurmctld no longer runs (a CI run once failed on this). Made only
    where the machine has no /etc/slurm/slurm.conf of its own; returns the link's target."""
    etc_conf = Path("/etc/slurm/slurm.conf")
    if etc_conf.exists() or etc_conf.is_symlink():
        return None
    target = state / "slurm.conf"
    target.write_text("# Written by tests/slurm/start_slurm.sh: a cluster whose run was killed.\n")
    etc_conf.parent.mkdir(parents=True, exist_ok=True)
    etc_conf.symlink_to(target)
    return target


@pytest.fixture
def slurm_cluster(tmp_path_factory):
    why = _why_slurm_cannot_start()
    if why:
        if IN_CI:
            pytest.fail(f"CI is set, so the Slurm test must run, but {why}")
        pytest.skip(why)
    left_behind = _leave_a_killed_start_behind(tmp_path_factory.mktemp("killed"))
    cluster = Cluster(tmp_path_factory.mktemp("slurm"))
    try:
        started = cluster.start()
    except subprocess.TimeoutExpired as error:
        cluster.stop()
        pytest.fail(f"start_slurm.sh timed out:\n{error.stderr}")
    if started.returncode != 0:
        cluster.stop()  # whatever it had started before failing
        pytest.fail(f"start_slurm.sh failed (status {started.returncode}):\n{started.stderr[-5000:]}")
    if left_behind:
        assert f"a link to {left_behind}" in started.stderr, started.stderr
    try:
        yield cluster
    finally:
        cluster.stop()  # a no-op when the test stopped it already


def named_rules(comment: str, rules: set[str]) -> set[str]:
    """The rules a Slurm job's comment names (the plugin writes ``rule_<rule>``, or
    ``rule_<group>_<rules>`` for a job group). Longer names are matched first and taken out, so
    ``attack`` does not match inside ``video_attack``."""
    named, rest = set(), comment
    for rule in sorted(rules, key=len, reverse=True):
        pattern = rf"(^|_){rule}(?=_|$)"
        if re.search(pattern, rest):
            named.add(rule)
            rest = re.sub(pattern, "_", rest)
    return named


@pytest.mark.slurm
@pytest.mark.slow
def test_ci_config_runs_through_slurm(slurm_cluster, tmp_path):
    cluster = slurm_cluster
    profile = write_ci_profile(
        tmp_path / "profile", partition=PARTITION, max_mem_mb=cluster.node_memory_mb()
    )
    workdir = tmp_path / "run"
    args = ["--profile", str(profile), "--configfile", str(CI_CONFIG)]
    # ~50 jobs (every stage of the CI world; the attack jobs go 20 to a Slurm job as a group), each paying
    # submission and Python start-up. The timeout only stops a hung run: on a slow 2-core machine the
    # run took 19 to 20 minutes (2026-12-07).
    run = snakemake(workdir, "all", *args, env=cluster.env, timeout=2400)
    assert run.returncode == 0, run.stdout[-8000:]

    # (c) the outputs
    results = workdir / "results-ci"
    for dataset, subjects in (("casia_b", 12), ("casia_a", 4)):
        assert FrameStore(results / "data" / dataset).meta["subjects"] == subjects
    rules = rule_names(workdir, "--configfile", str(CI_CONFIG))
    if "natural_accuracy" in rules:
        assert (results / "tables" / "natural_accuracy.csv").stat().st_size > 0

    # ... and that every job went through Slurm: one Slurm job per submitted job (or job group),
    # each COMPLETED in slurmctld's records, covering every rule that ran (but the local `all`).
    planned = job_stats(run.stdout)
    remote_rules = set(planned) - {"all"}
    slurm_ids = re.findall(r"submitted with SLURM jobid (\d+)", run.stdout)
    assert slurm_ids, run.stdout[-5000:]
    records = {}
    for line in cluster.query("squeue", "--states=all", "-h", "-o", "%i|%T|%k").splitlines():
        job_id, state, comment = line.split("|", 2)
        records[job_id] = (state, comment)
    assert all(records.get(job_id, ("missing",))[0] == "COMPLETED" for job_id in slurm_ids), records
    comments = [records[job_id][1] for job_id in slurm_ids]
    for rule in remote_rules:
        assert any(rule in named_rules(comment, remote_rules) for comment in comments), (rule, comments)
    ctld_log = (cluster.state / "slurmctld.log").read_text()
    assert all(f"JobId={job_id} " in ctld_log for job_id in slurm_ids)

    # GPU rules got their GPU from Slurm (the test node has one fake GPU).
    gpu_rules = {
        rule
        for rule, resources in (yaml.safe_load((profile / "config.yaml").read_text())["set-resources"]).items()
        if resources.get("gpu") or "gpu" in str(resources.get("gres", ""))
    }
    for job_id, comment in zip(slurm_ids, comments):
        if named_rules(comment, remote_rules) & gpu_rules:
            shown = cluster.query("scontrol", "show", "job", job_id)
            assert re.search(r"Tres\w*=\S*gpu", shown), shown

    # Nothing is left to do afterwards.
    rerun = snakemake(workdir, "-n", "all", *args, env=cluster.env, timeout=300)
    assert rerun.returncode == 0 and "Nothing to be done" in rerun.stdout, rerun.stdout[-3000:]

    # (d) stop exactly the daemons start_slurm.sh started.
    assert {"slurmctld", "slurmd"} <= set(cluster.pids)
    stopped = cluster.stop()
    assert stopped.returncode == 0, stopped.stderr
    assert not [name for name, pid in cluster.pids.items() if _alive(pid)], stopped.stderr
