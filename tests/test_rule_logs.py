"""Every rule's log file holds its job's errors: Snakemake only says "check log file(s) for error
details", and on a cluster the log is what a user opens."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.snakemake_run import CI_CONFIG, REPO, snakemake


def test_every_script_logs_to_its_rule_log_before_doing_anything_else():
    """setup_logging(snakemake.log[0]) (which also logs uncaught errors) is each script's first statement."""
    offenders = []
    for script in sorted((REPO / "scripts").glob("*.py")):
        body = [node for node in ast.parse(script.read_text()).body
                if not isinstance(node, (ast.Import, ast.ImportFrom))
                and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
        if not body or ast.unparse(body[0]) != "setup_logging(snakemake.log[0])":
            offenders.append(script.name)
    assert not offenders, offenders


def write_config(tmp_path: Path, change) -> Path:
    config = yaml.safe_load(CI_CONFIG.read_text())
    change(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_a_failing_preprocess_job_writes_its_error_to_the_log(tmp_path):
    empty = tmp_path / "empty-root"
    empty.mkdir()
    # The CI world senses its synthetic store; a released tree comes with its own silhouettes.
    config = write_config(tmp_path, lambda c: c["datasets"]["casia_b"].update(source="png", root=str(empty),
                                                                              sensor=None))
    result = snakemake(tmp_path, "--cores", "1", "results-ci/data/casia_b/store.json", "--configfile", str(config))
    assert result.returncode != 0
    log = (tmp_path / "results-ci" / "logs" / "preprocess" / "casia_b.log").read_text()
    assert f"{empty}: holds no subject folder" in log and "Traceback" in log
    assert not (tmp_path / "results-ci" / "data" / "casia_b" / "store.json").exists()


@pytest.mark.slow
def test_a_damaged_resume_checkpoint_is_named_in_the_training_log(tmp_path):
    checkpoint = tmp_path / "results-ci" / "models" / "gaitset" / "resume.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"not a checkpoint")
    result = snakemake(tmp_path, "--cores", "2", "results-ci/models/gaitset/weights.pt", "--configfile", str(CI_CONFIG))
    assert result.returncode != 0
    log = (tmp_path / "results-ci" / "logs" / "gaitset" / "train.log").read_text()
    assert f"{checkpoint.relative_to(tmp_path)}: cannot read the GaitSet training checkpoint" in log
    assert "Fix: delete it" in log
