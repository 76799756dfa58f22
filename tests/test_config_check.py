"""gaitcore.config_check: the config checks Snakemake runs before any job (pure Python, fast)."""

import copy
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from gaitcore.config_check import (
    ConfigError,
    check_config,
    check_schema,
    check_sparsities,
    check_victims,
    dotted_path,
    parse_sparsity,
    schema_keys,
    schema_problems,
    sparsity_values,
    suggest_key,
)

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
CI = yaml.safe_load((REPO / "config" / "ci.yaml").read_text())


def ci_config(**changes) -> dict:
    """config/ci.yaml with ``changes`` (dotted key -> value) applied."""
    config = copy.deepcopy(CI)
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return config


@pytest.mark.parametrize(
    "text, value", [("1/40", Fraction(1, 40)), ("1/1", Fraction(1)), ("2/80", Fraction(1, 40)), ("3/4", Fraction(3, 4))]
)
def test_parse_sparsity_reads_fractions_in_0_1(text, value):
    assert parse_sparsity(text) == value


@pytest.mark.parametrize(
    "text, words",
    [
        ("3/2", ["'3/2'", "1.5", "above 1", "K <= N"]),
        ("2/1", ["'2/1'", "is 2", "above 1"]),
        ("0/40", ["'0/40'", "is 0", "at least 1"]),
        ("1/0", ["'1/0'", "divides by zero", "at least 1"]),
        ("0/0", ["'0/0'", "divides by zero"]),
        ("-1/40", ["'-1/40'", "K/N of whole numbers"]),
        ("1.5/40", ["'1.5/40'", "K/N of whole numbers"]),
        ("1/40 ", ["'1/40 '", "K/N of whole numbers"]),
        ("0.025", ["'0.025'", "K/N of whole numbers"]),
        ("", ["''", "K/N of whole numbers"]),
        (0.025, ["0.025", "not text", "quoted"]),
        (1, ["1", "not text"]),
        (None, ["None", "not text"]),
    ],
)
def test_parse_sparsity_refuses_with_the_value_and_the_fix(text, words):
    with pytest.raises(ValueError) as err:
        parse_sparsity(text)
    message = str(err.value)
    assert not isinstance(err.value, ZeroDivisionError)
    for word in words:
        assert word in message, message


def test_every_sparsity_key_of_the_schema_is_found():
    # the defaults of every block hold a value (or list) under each sparsity-valued key
    config = {"attack": {"sparsities": ["1/40"],
                         "baselines": {"sparsities": ["1/40", "1/20"], "figure_sparsity": "1/40"}},
              "video_attack": {"sparsities": ["1/10"]},
              "victims": {"sparsities": ["1/10"], "transfer_sparsity": "1/10"}}
    assert [key for key, _ in sparsity_values(config)] == [
        "attack.sparsities[0]", "attack.baselines.sparsities[0]", "attack.baselines.sparsities[1]",
        "attack.baselines.figure_sparsity", "video_attack.sparsities[0]", "victims.sparsities[0]",
        "victims.transfer_sparsity"]
    declared = {key for key in schema_keys(SCHEMA) if "sparsit" in key.rsplit(".", 1)[-1]}
    assert declared == {"attack.sparsities", "attack.baselines.sparsities", "attack.baselines.figure_sparsity",
                        "attack.validation.sparsities", "video_attack.sparsities", "victims.sparsities",
                        "victims.transfer_sparsity"}


def test_sparsity_walk_tolerates_an_unvalidated_config():
    # wrong shapes are left to the schema check
    assert list(sparsity_values({"attack": {"sparsities": "1/40"}, "video_attack": 3})) == []


@pytest.mark.parametrize(
    "key, value, named, words",
    [
        ("attack.sparsities", ["1/40", "1/10", "3/2"], "attack.sparsities[2]", ["'3/2'", "above 1"]),
        ("attack.sparsities", ["2/1"], "attack.sparsities[0]", ["'2/1'", "above 1"]),
        ("attack.sparsities", ["0/40"], "attack.sparsities[0]", ["'0/40'", "is 0"]),
        ("attack.sparsities", ["1/0"], "attack.sparsities[0]", ["'1/0'", "divides by zero"]),
        ("attack.baselines.sparsities", ["1/40", "1/0"], "attack.baselines.sparsities[1]", ["divides by zero"]),
        ("attack.baselines.figure_sparsity", "3/2", "attack.baselines.figure_sparsity", ["above 1"]),
        ("video_attack.sparsities", ["0/10"], "video_attack.sparsities[0]", ["is 0"]),
        ("video_attack.sparsities", [0.1], "video_attack.sparsities[0]", ["not text"]),
    ],
)
def test_check_sparsities_names_the_key_the_value_and_the_fix(key, value, named, words):
    with pytest.raises(ConfigError) as err:
        check_sparsities(ci_config(**{key: value}))
    message = str(err.value)
    assert f"  {named}: sparsity " in message
    for word in words:
        assert word in message
    assert len(message.splitlines()) == 2  # the heading and the one bad value


def test_check_sparsities_lists_every_bad_value_and_passes_good_configs():
    check_sparsities(CI)
    with pytest.raises(ConfigError) as err:
        check_sparsities(ci_config(**{"attack.sparsities": ["3/2", "1/40", "1/0"], "video_attack.sparsities": ["0/1"]}))
    assert [line.split(":")[0].strip() for line in str(err.value).splitlines()[1:]] == [
        "attack.sparsities[0]", "attack.sparsities[2]", "video_attack.sparsities[0]"]


def test_suggest_key_finds_the_closest_name_or_none():
    assert suggest_key("iteratons", ["batch_size", "iterations", "log_every"]) == "iterations"
    assert suggest_key("runtme", ["mem_mb", "runtime"]) == "runtime"
    assert suggest_key("sparsitee", ["attack", "seed", "wgan"]) is None


def test_dotted_path():
    assert dotted_path(["attack", "sparsities", 2]) == "attack.sparsities[2]"
    assert dotted_path(["gaitset", "train", "iteratons"]) == "gaitset.train.iteratons"
    assert dotted_path([]) == ""


def test_the_shipped_configs_pass():
    for name in ("config.yaml", "casia.yaml", "ci.yaml"):
        check_config(yaml.safe_load((REPO / "config" / name).read_text()), SCHEMA)


def test_a_misspelt_key_names_its_path_and_the_closest_name():
    config = ci_config(**{"gaitset.train.iteratons": 3})
    assert schema_problems(config, SCHEMA) == [
        "gaitset.train.iteratons: unknown key; did you mean gaitset.train.iterations?"]
    with pytest.raises(ConfigError) as err:
        check_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert len(str(err.value).splitlines()) == 2


def test_an_unknown_top_level_key_lists_the_keys_there_and_similar_ones_elsewhere():
    [problem] = schema_problems(ci_config(sparsitee=["1/40"]), SCHEMA)
    assert problem.startswith("sparsitee: unknown key; the keys at the top level are attack, datasets, device,")
    assert "a similar key elsewhere: attack.sparsities, attack.baselines.sparsities" in problem


def test_a_misspelt_resource_names_the_closest_name():
    config = ci_config(**{"attack.resources": {"attack": {"runtme": 90}}})
    assert schema_problems(config, SCHEMA) == [
        "attack.resources.attack.runtme: unknown key; did you mean attack.resources.attack.runtime?"]


def test_a_partial_resource_block_is_valid_and_every_resource_has_a_default():
    check_schema(ci_config(**{"attack.resources": {"attack": {"mem_mb": 8000}}}), SCHEMA)

    def resource_blocks(schema, path=""):
        for name, sub in (schema.get("properties") or {}).items():
            dotted = f"{path}.{name}" if path else name
            if name == "resources":
                yield dotted, sub
            else:
                yield from resource_blocks(sub, dotted)

    blocks = dict(resource_blocks(SCHEMA))
    assert len(blocks) == 6  # gaitset, wgan, gaitgan, attack, spade, video_attack
    for path, block in blocks.items():
        assert block["additionalProperties"] is False and block["default"] == {}, path
        for job, sub in block["properties"].items():
            assert sub["additionalProperties"] is False and sub["default"] == {}, f"{path}.{job}"
            assert set(sub["properties"]) == {"mem_mb", "runtime"}, f"{path}.{job}"
            assert all("default" in value for value in sub["properties"].values()), f"{path}.{job}"


@pytest.mark.parametrize(
    "changes, line",
    [
        ({"seed": "zero"}, "seed: 'zero' is not of type 'integer'"),
        ({"gaitset.train.iterations": 0}, "gaitset.train.iterations: 0 is less than the minimum of 1"),
        ({"device": "gpu"}, "device: 'gpu' is not one of ['cpu', 'cuda', 'auto']"),
        ({"attack.views": [0, 200]}, "attack.views[1]: 200 is greater than the maximum of 180"),
    ],
)
def test_other_violations_give_the_path_the_value_and_the_message(changes, line):
    assert schema_problems(ci_config(**changes), SCHEMA) == [line]


def test_every_violation_is_listed_in_one_short_error():
    config = ci_config(**{"seed": "zero", "device": "gpu", "spade.resources": {"train": {"mem": 1}}})
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    lines = str(err.value).splitlines()
    assert lines[0].startswith("Invalid config") and "config.schema.yaml" in lines[0]
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["device", "seed", "spade.resources.train.mem"]
    assert "did you mean spade.resources.train.mem_mb?" in lines[3]


def test_a_long_value_is_shortened():
    [problem] = schema_problems(ci_config(datasets={"casia_b": list(range(500))}), SCHEMA)
    assert problem.startswith("datasets.casia_b: [0, 1, 2") and problem.endswith("... is not of type 'object'")
    assert len(problem) < 150


def test_the_library_never_imports_snakemake():
    code = "import sys, gaitcore.config_check; assert not any(m.startswith('snakemake') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_a_candidate_victim_must_name_a_gaitset_recipe():
    config = {"gaitset": {"recipes": {"longer": {"iterations": 30}}},
              "attack": {"validation": {"victims": ["longer"]}}}
    check_victims(config)
    config["attack"]["validation"]["victims"] = ["longer", "missing"]
    with pytest.raises(ConfigError) as raised:
        check_victims(config)
    message = str(raised.value)
    assert "attack.validation.victims ['missing'] are not among gaitset.recipes ['longer']" in message
    assert "define it under gaitset.recipes or drop it" in message


def test_further_victims_must_lie_inside_gaitsets_attack_jobs(tmp_path):
    """The victims table reads GaitSet's own attack jobs: victims' cells, budget and transfer sparsity
    must be among them; an OpenGait checkpoint must exist."""
    attack = {"modes": ["alteration_nontargeted_adversary", "alteration_nontargeted_random"],
              "sparsities": ["1/40", "1/10"], "conditions": ["nm", "bg"],
              "subjects_per_view": {"headline": 10, "other": 4, "casia_a": 20}, "validation": {"victims": []}}
    victims = {"models": {"part": {"architecture": "GaitPart"}},
               "modes": ["alteration_nontargeted_adversary"], "sparsities": ["1/10"], "conditions": ["nm"],
               "subjects_per_view": 4, "transfer_sparsity": "1/10"}
    config = {"gaitset": {"recipes": {}}, "attack": attack, "victims": victims}
    check_victims(config)
    check_victims({**config, "victims": {**victims, "models": {}, "sparsities": ["1/7"]}})  # no victims: no check
    zoo = {"architecture": "GaitGL", "opengait": str(tmp_path / "no.pt")}
    bad = {**victims, "sparsities": ["1/20"], "conditions": ["cl"], "subjects_per_view": 12,
           "transfer_sparsity": "1/40", "models": {"zoo": zoo}}
    with pytest.raises(ConfigError) as raised:
        check_victims({**config, "victims": bad})
    message = str(raised.value)
    assert "victims.sparsities ['1/20'] are not among attack.sparsities ['1/40', '1/10']" in message
    assert "victims.conditions ['cl'] are not among attack.conditions ['nm', 'bg']" in message
    assert "victims.subjects_per_view 12 is above GaitSet's budget 10" in message
    assert "victims.transfer_sparsity '1/40' is not among victims.sparsities ['1/20']" in message
    assert f"victims.models.zoo.opengait: {tmp_path / 'no.pt'} does not exist" in message
    with pytest.raises(ConfigError, match="lack alteration_nontargeted_adversary"):
        check_victims({**config, "victims": {**victims, "modes": ["alteration_nontargeted_random"]}})
