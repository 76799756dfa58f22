"""Fixtures shared by the whole suite."""

import pytest
import torch

from tests.attacks.world import build_world
from tests.snakemake_run import CI_CONFIG, CompletedRun, snakemake


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread: tiny convolutions are faster so (far faster when another job holds
    a core), and bit-identical CPU results need the same thread count in every run compared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tiny attack world (store, GaitSet, WGAN, stored features) of :func:`tests.attacks.world.build_world`."""
    return build_world(tmp_path_factory.mktemp("attack-world"))


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory) -> CompletedRun:
    """`snakemake --cores 2 all` of config/ci.yaml from an empty workdir, run once per session: the
    end-to-end test reads it and the rerun tests start from a copy (each run of the CI world costs
    minutes; the Slurm test runs its own, through Slurm).
    Read it in place; run or change jobs only on :meth:`CompletedRun.copy`."""
    workdir = tmp_path_factory.mktemp("ci-run")
    result = snakemake(workdir, "--cores", "2", "all", "--configfile", str(CI_CONFIG))
    assert result.returncode == 0, result.stdout[-5000:]
    return CompletedRun(workdir)
