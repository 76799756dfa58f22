"""Checks of the pipeline's config that run when Snakemake parses the workflow, before any job.

``workflow/rules/common.smk`` calls :func:`check_config` on the config as given (before
Snakemake's own ``validate``, which fills in the schema's defaults) and :func:`check_sparsities`
again after it, on the completed config. Both raise one :class:`ConfigError` whose message is a
few lines: each offending key by its dotted path (``gaitset.train.iteratons``,
``attack.sparsities[2]``), the bad value, and the fix (for a misspelt key, the closest valid name).
Snakemake's own validation error would print the whole schema and config instead (thousands of
lines).

Pure Python: usable without Snakemake (and it never imports it).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from gaitcore.attacks.vocabulary import Mode, Sparsity
from gaitcore.errors import GaitcoreError

SCHEMA_NAME = "workflow/schemas/config.schema.yaml"  # named in the messages
MAX_PROBLEMS = 10  # problems listed in one error; the rest are counted
MAX_MESSAGE = 300  # characters of one validator message (some repeat a whole block of the config)
MAX_VALUE = 80  # characters of a value quoted in a message
ROLES = ("train", "validation", "test")  # the subjects' roles (config key subjects.casia_b)
MIN_VALIDATION_SUBJECTS = 2  # a rank-1 gallery of one subject cannot be wrong; a calibration needs variety
CASIA_A_SUBJECTS = 20  # the release's subjects (a real CASIA-A store has every one as a test subject)
# Keys that moved: the old dotted key and where its value lives now.
MOVED_KEYS = {
    "gaitset.train.train_subjects": "subjects.casia_b.train",
    "gaitset.evaluation.test_subjects": "subjects.casia_b.test",
    "wgan.train.train_subjects": "subjects.casia_b.train",
    "wgan.calibration.subjects": "subjects.casia_b.validation (calibrations read validation subjects only)",
    "gaitgan.train.train_subjects": "subjects.casia_b.train",
    "spade.train.train_subjects": "subjects.casia_b.train",
    "attack.probe_subjects": "attack.subjects_per_view.headline / .other (one probe per subject and view)",
    "attack.dataset_probe_subjects": "attack.subjects_per_view.casia_a",
}


class ConfigError(GaitcoreError, ValueError):
    """A config that the pipeline cannot run; the message names each offending key and the fix."""

    def __init__(self, problems: Sequence[str], heading: str = "Invalid config") -> None:
        self.problems = list(problems)
        shown = [f"  {problem}" for problem in self.problems[:MAX_PROBLEMS]]
        if len(self.problems) > MAX_PROBLEMS:
            shown.append(f"  ... and {len(self.problems) - MAX_PROBLEMS} more")
        super().__init__("\n".join([f"{heading}:", *shown]))

    def __reduce__(self):
        return (type(self), (self.problems,))


# ------------------------------------------------------------------------------------------ sparsity
def parse_sparsity(text: Any) -> Fraction:
    """``"1/40"`` -> ``Fraction(1, 40)``: config sparsities are text ``K/N`` of whole numbers with
    ``0 < K <= N`` (:class:`gaitcore.attacks.vocabulary.Sparsity`); anything else raises a
    ``ValueError`` that names the value and the fix."""
    if not isinstance(text, str):
        raise ValueError(f"sparsity {text!r} is not text; write it as a fraction K/N of whole numbers such as "
                         "'1/40' (quoted in YAML)")
    return Sparsity.parse(text).value


def _is_sparsity_list(name: str) -> bool:
    return name == "sparsities" or name.endswith("_sparsities")


def _is_sparsity(name: str) -> bool:
    return name == "sparsity" or name.endswith("_sparsity")


def sparsity_values(config: Mapping, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, value)`` of every sparsity in ``config``, in order.

    A sparsity is the value of a key named ``sparsity`` or ``*_sparsity``, or an item of a list
    under ``sparsities`` or ``*_sparsities``, at any depth (``attack.sparsities[0]``,
    ``attack.baselines.figure_sparsity``). Tolerates a config not yet validated: what is not a
    mapping or list where one is expected is skipped (the schema check reports it).
    """
    for key, value in config.items():
        dotted = f"{path}.{key}" if path else str(key)
        if _is_sparsity_list(str(key)):
            if isinstance(value, list):
                yield from ((f"{dotted}[{index}]", item) for index, item in enumerate(value))
        elif _is_sparsity(str(key)):
            yield dotted, value
        elif isinstance(value, Mapping):
            yield from sparsity_values(value, dotted)


def sparsity_problems(config: Mapping) -> list[str]:
    """One line per sparsity of ``config`` that :func:`parse_sparsity` refuses (empty: all fine)."""
    problems = []
    for key, value in sparsity_values(config):
        try:
            parse_sparsity(value)
        except ValueError as err:
            problems.append(f"{key}: {err}")
    return problems


def check_sparsities(config: Mapping) -> None:
    """Raise :class:`ConfigError` naming every sparsity of ``config`` outside (0, 1] or not ``"K/N"``."""
    problems = sparsity_problems(config)
    if problems:
        raise ConfigError(problems, "Invalid sparsity in the config (a sparsity is K/N with 0 < K <= N)")


# ------------------------------------------------------------------------------------------ schema
def load_schema(path: str | Path) -> dict:
    """The config schema (YAML) at ``path``."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def dotted_path(parts: Sequence[Any]) -> str:
    """``["attack", "sparsities", 2]`` -> ``"attack.sparsities[2]"``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _resolve(schema: Mapping, root: Mapping) -> Mapping:
    """``schema`` with a local ``$ref`` (``#/$defs/...``) followed; other schemas unchanged."""
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target[part]
        schema, seen = target, seen + 1
        if seen > 20:
            break
    return schema


def schema_keys(schema: Mapping, root: Mapping | None = None, path: str = "") -> Iterator[str]:
    """The dotted path of every key the schema declares (``<name>`` stands for a free name)."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if not isinstance(schema, Mapping):
        return
    for name, sub in (schema.get("properties") or {}).items():
        dotted = f"{path}.{name}" if path else name
        yield dotted
        yield from schema_keys(sub, root, dotted)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        yield from schema_keys(extra, root, f"{path}.<name>" if path else "<name>")


def suggest_key(name: str, valid: Sequence[str]) -> str | None:
    """The valid name closest to the unknown ``name`` (``difflib``), or None if none is close."""
    matches = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _unknown_key(name: str, parent: str, valid: Sequence[str], schema: Mapping) -> str:
    dotted = f"{parent}.{name}" if parent else name
    if dotted in MOVED_KEYS:
        return f"{dotted}: this key moved; set {MOVED_KEYS[dotted]} instead"
    closest = suggest_key(name, valid)
    if closest is not None:
        return f"{dotted}: unknown key; did you mean {f'{parent}.' if parent else ''}{closest}?"
    line = f"{dotted}: unknown key; the keys at {parent or 'the top level'} are {', '.join(sorted(valid)) or 'none'}"
    elsewhere = [key for key in schema_keys(schema) if suggest_key(name, [key.rsplit(".", 1)[-1]])]
    if elsewhere:
        line += f"; a similar key elsewhere: {', '.join(elsewhere[:3])}"
    return line


def _short(text: str, limit: int = MAX_MESSAGE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(error: jsonschema.ValidationError, schema: Mapping) -> list[str]:
    """One line per problem of a jsonschema error: dotted path, value and the fix or the validator's message."""
    parent = dotted_path(list(error.absolute_path))
    if (error.validator == "additionalProperties" and error.validator_value is False
            and isinstance(error.instance, Mapping)):
        declared = list(error.schema.get("properties") or {})
        patterns = list(error.schema.get("patternProperties") or {})
        extras = [key for key in error.instance
                  if key not in declared and not any(re.search(p, str(key)) for p in patterns)]
        if extras:
            return [_unknown_key(str(key), parent, declared, schema) for key in extras]
    full = repr(error.instance)
    value = _short(full, MAX_VALUE)
    message = error.message.replace(full, value) if full != value else error.message
    message = _short(message)
    where = parent or "the config's top level"
    if value in message:
        return [f"{where}: {message}"]
    return [f"{where} = {value}: {message}"]


def schema_problems(config: Mapping, schema: Mapping) -> list[str]:
    """One short line per violation of ``schema`` by ``config`` (empty: valid)."""
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: ([str(p) for p in e.absolute_path], str(e.validator)))
    return [line for error in errors for line in _describe(error, schema)]


def check_schema(config: Mapping, schema: Mapping | str | Path) -> None:
    """Raise one short :class:`ConfigError` if ``config`` violates ``schema`` (a dict or a YAML file)."""
    if not isinstance(schema, Mapping):
        schema = load_schema(schema)
    problems = schema_problems(config, schema)
    if problems:
        raise ConfigError(problems, f"Invalid config (every key, its type and default: {SCHEMA_NAME})")


# ------------------------------------------------------------------------------------------ roles
def _size(span: Sequence[int]) -> int:
    return max(0, span[1] - span[0] + 1)


def role_problems(config: Mapping) -> list[str]:
    """One line per problem of the subjects' roles and the probe budgets of a validated config.

    Each role of ``subjects.casia_b`` is a non-empty range, the three are disjoint and (synthetic
    source) within the dataset's subjects; training needs a batch's subjects, a validation fit at least
    :data:`MIN_VALIDATION_SUBJECTS`; every ``attack.subjects_per_view`` budget fits its test set and
    ``other`` is at most ``headline`` (its probes are the headline's first).
    """
    roles = config["subjects"]["casia_b"]
    problems = []
    for role in ROLES:
        first, last = roles[role]
        if first > last:
            problems.append(f"subjects.casia_b.{role} = [{first}, {last}] is empty: write [first, last] with "
                            "first <= last")
    for i, one in enumerate(ROLES):
        for other in ROLES[i + 1:]:
            (a, b), (c, d) = roles[one], roles[other]
            if max(a, c) <= min(b, d):
                problems.append(f"subjects.casia_b.{one} = [{a}, {b}] and subjects.casia_b.{other} = [{c}, {d}] "
                                f"overlap on subjects {max(a, c)}..{min(b, d)}: a subject has one role; make the "
                                "ranges disjoint")
    dataset = config["datasets"]["casia_b"]
    if dataset.get("source", "synthetic") == "synthetic":
        available = dataset.get("synthetic", {}).get("subjects", 124)
        problems += [f"subjects.casia_b.{role} = {roles[role]} goes beyond the {available} subjects of "
                     f"datasets.casia_b.synthetic.subjects: lower the range or raise the subjects"
                     for role in ROLES if roles[role][1] > available]
    batch = config["gaitset"]["train"]["subjects_per_batch"]
    if 0 < _size(roles["train"]) < batch:
        problems.append(f"subjects.casia_b.train = {roles['train']} holds {_size(roles['train'])} subjects but "
                        f"gaitset.train.subjects_per_batch is {batch}: widen the training subjects or lower the batch")
    if 0 < _size(roles["validation"]) < MIN_VALIDATION_SUBJECTS:
        problems.append(f"subjects.casia_b.validation = {roles['validation']} holds {_size(roles['validation'])} "
                        f"subject; the critics' calibration and the validation runs need at least "
                        f"{MIN_VALIDATION_SUBJECTS}: widen it")
    budget = config["attack"]["subjects_per_view"]
    tests = _size(roles["test"])
    for key in ("headline", "other"):
        if budget[key] is not None and tests and budget[key] > tests:
            problems.append(f"attack.subjects_per_view.{key} = {budget[key]} is more than the {tests} test subjects "
                            f"of subjects.casia_b.test = {roles['test']}: at most {tests} (null: every probe)")
    checked = config["attack"]["validation"]["subjects_per_view"]
    validations = _size(roles["validation"])
    if checked is not None and validations and checked > validations:
        problems.append(f"attack.validation.subjects_per_view = {checked} is more than the {validations} validation "
                        f"subjects of subjects.casia_b.validation = {roles['validation']}: at most {validations}")
    if budget["other"] is not None and (budget["headline"] is not None and budget["other"] > budget["headline"]):
        problems.append(f"attack.subjects_per_view.other = {budget['other']} exceeds headline = {budget['headline']}: "
                        "the other cells' probes are the headline's first per view; lower other")
    video = config["video_attack"]
    smallest = smallest_budget(video["modes"], budget)
    if video["subjects_per_view"] is not None and smallest is not None and video["subjects_per_view"] > smallest:
        problems.append(f"video_attack.subjects_per_view = {video['subjects_per_view']} is above the attack jobs' "
                        f"budget {smallest} for video_attack.modes (attack.subjects_per_view): the videos are made "
                        "of those jobs' probes; lower it")
    casia_a = config["datasets"]["casia_a"]
    a_subjects = (casia_a.get("synthetic", {}).get("subjects", CASIA_A_SUBJECTS)
                  if casia_a.get("source", "synthetic") == "synthetic" else CASIA_A_SUBJECTS)
    if budget["casia_a"] is not None and budget["casia_a"] > a_subjects:
        problems.append(f"attack.subjects_per_view.casia_a = {budget['casia_a']} is more than CASIA-A's {a_subjects} "
                        f"subjects: at most {a_subjects} (null: every probe)")
    return problems


def check_roles(config: Mapping) -> None:
    """Raise :class:`ConfigError` naming every problem of :func:`role_problems` (a validated config)."""
    problems = role_problems(config)
    if problems:
        raise ConfigError(problems, "Invalid subject roles or probe budget in the config")


def smallest_budget(modes: list[str], budget: Mapping) -> int | None:
    """The smallest probe budget (``attack.subjects_per_view``) of the attack jobs of ``modes``
    (a mode or mode+variant each); None when every one takes every probe."""
    values = [budget["headline"] if Mode.parse(mode).is_headline else budget["other"] for mode in modes]
    bounded = [value for value in values if value is not None]
    return min(bounded) if bounded else None


def victim_problems(config: Mapping) -> list[str]:
    """One line per problem of the victims (a validated config): a candidate victim of
    ``attack.validation.victims`` that names no recipe of ``gaitset.recipes``; a ``victims`` cell the
    reference GaitSet's attack jobs do not cover (the victims table reads GaitSet's rows from rule
    ``attack``: ``victims.modes``, ``sparsities`` and ``conditions`` must be among ``attack``'s, and
    ``victims.subjects_per_view`` at most the budget of those modes, so that its probes are among
    GaitSet's); ``victims.transfer_sparsity`` not among ``victims.sparsities``; an OpenGait checkpoint
    that does not exist."""
    problems = []
    recipes = list(config["gaitset"]["recipes"])
    unknown = [victim for victim in config["attack"]["validation"]["victims"] if victim not in recipes]
    if unknown:
        problems.append(f"attack.validation.victims {unknown} are not among gaitset.recipes {recipes}: each "
                        "candidate victim is a GaitSet recipe; define it under gaitset.recipes or drop it from "
                        "attack.validation.victims")
    victims, attack = config.get("victims", {}), config["attack"]
    if not victims.get("models"):
        return problems
    for key, allowed in (("modes", attack["modes"]), ("sparsities", attack["sparsities"]),
                         ("conditions", attack["conditions"])):
        outside = [value for value in victims[key] if value not in allowed]
        if outside:
            problems.append(f"victims.{key} {outside} are not among attack.{key} {list(allowed)}: the victims table "
                            f"compares with GaitSet's own attack jobs; add them to attack.{key} or drop them")
    smallest = smallest_budget(victims["modes"], attack["subjects_per_view"])
    if smallest is not None and victims["subjects_per_view"] > smallest:
        problems.append(f"victims.subjects_per_view {victims['subjects_per_view']} is above GaitSet's budget "
                        f"{smallest} for victims.modes (attack.subjects_per_view): lower it so that every victim's "
                        "probes are among GaitSet's")
    if "alteration_nontargeted_adversary" not in victims["modes"]:
        problems.append(f"victims.modes {victims['modes']} lack alteration_nontargeted_adversary: the transfer "
                        "matrix scores those sequences on every victim; add it")
    if victims["transfer_sparsity"] not in victims["sparsities"]:
        problems.append(f"victims.transfer_sparsity {victims['transfer_sparsity']!r} is not among victims.sparsities "
                        f"{victims['sparsities']}: the transfer matrix reads those attacks; add it")
    for name, spec in victims["models"].items():
        if spec.get("opengait") and not Path(spec["opengait"]).is_file():
            problems.append(f"victims.models.{name}.opengait: {spec['opengait']} does not exist; point it to an "
                            f"OpenGait {spec['architecture']} checkpoint, or drop the key to train the victim")
    return problems


def check_victims(config: Mapping) -> None:
    """Raise :class:`ConfigError` naming every problem of :func:`victim_problems` (a validated config)."""
    problems = victim_problems(config)
    if problems:
        raise ConfigError(problems, "Invalid candidate victims in the config")


def check_config(config: Mapping, schema: Mapping | str | Path) -> None:
    """The checks before Snakemake's ``validate``: the sparsities as given, then the schema."""
    check_sparsities(config)
    check_schema(config, schema)
