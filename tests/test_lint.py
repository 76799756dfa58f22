"""Static checks CI runs: the layer contract (import-linter), ruff, and no import cycle anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.snakemake_run import REPO

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_layers_point_one_way():
    """pyproject.toml's [tool.importlinter] contract: a module imports only from the layers below it."""
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycle_between_modules():
    graph = grimp.build_graph("gaitcore", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} <-> {imported}")
    assert not cycles, cycles


def test_ruff_is_clean():
    result = run(str(BIN / "ruff"), "check", "gaitcore", "tests", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr
