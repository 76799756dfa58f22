"""docs/paper-map.md names only what exists: its code references, rules and outputs, checked against
the tree (pure Python, no imports of gaitcore: files are parsed with :mod:`ast`).

* ``gaitcore/<path>.py:name`` must be a top-level function, class or assignment of that file, and
  ``gaitcore/<path>.py:Class.member`` a method (or class-level assignment) of that class; a bare
  ``gaitcore/<path>.py`` or ``gaitcore/<dir>/`` must exist.
* Every rule named in a table's "rule" column (or in prose as "rule `name`") must be defined in one
  of ``workflow/rules/*.smk`` (``rule name:``, ``checkpoint name:`` or ``use rule ... as name``);
  the rule files are globbed, never named, since rules move between them.
* Every table or figure under ``results/tables/`` or ``results/figures/`` in an "output" column
  must be named by some rule file.
* Eq. 1-7, Algorithm 1, Table 1-6 and Fig. 1-10 each head a row of the map.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "paper-map.md"

PAPER_ITEMS = (
    [f"Eq. {n}" for n in range(1, 8)]
    + ["Algorithm 1"]
    + [f"Table {n}" for n in range(1, 7)]
    + [f"Fig. {n}" for n in range(1, 11)]
)

CODE_REF = re.compile(r"gaitcore/[\w/]*\w\.py(?::[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?")
DIR_REF = re.compile(r"`(gaitcore/(?:[\w]+/)*)`")
BACKTICKED = re.compile(r"`([^`]+)`")
PROSE_RULE = re.compile(r"\brules?\s+`(\w+)`")
RULE_DEF = re.compile(r"^\s*(?:rule|checkpoint)\s+(\w+)\s*:", re.MULTILINE)
USE_RULE = re.compile(r"^\s*use\s+rule\s+.+?\s+as\s+(\w+)", re.MULTILINE)
CELL_SPLIT = re.compile(r"(?<!\\)\|")


# ------------------------------------------------------------------------------------- the tree
def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements of a module or class body, looking into ``if``/``try`` blocks at that level."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If):
            out += _top_level(node.body) + _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            out += _top_level(node.body) + _top_level(node.orelse) + _top_level(node.finalbody)
            for handler in node.handlers:
                out += _top_level(handler.body)
    return out


def _names(node: ast.stmt) -> list[str]:
    """The names a statement defines (function, class, assignment targets)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    names = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


@cache
def _module(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def missing_definition(path: Path, dotted: str) -> str | None:
    """Why ``dotted`` (``name`` or ``Class.member``) is not defined in ``path``; None when it is."""
    parts = dotted.split(".")
    body = _module(path).body
    where = path.relative_to(ROOT).as_posix()
    for depth, part in enumerate(parts):
        found = next((node for node in _top_level(body) if part in _names(node)), None)
        if found is None:
            scope = "top-level name" if depth == 0 else f"member of class {'.'.join(parts[:depth])}"
            return f"{where} has no {scope} {part!r}"
        if depth < len(parts) - 1:
            if not isinstance(found, ast.ClassDef):
                return f"{'.'.join(parts[: depth + 1])} in {where} is not a class, so it has no {parts[depth + 1]!r}"
            body = found.body
    return None


@cache
def rule_names() -> frozenset[str]:
    """Every rule defined in ``workflow/rules/*.smk`` (whichever file holds it) and the Snakefile."""
    names: set[str] = set()
    for path in rule_files():
        text = path.read_text(encoding="utf-8")
        names.update(RULE_DEF.findall(text))
        names.update(USE_RULE.findall(text))
    return frozenset(names)


def rule_files() -> list[Path]:
    return sorted((ROOT / "workflow" / "rules").glob("*.smk")) + [ROOT / "workflow" / "Snakefile"]


@cache
def rules_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in rule_files())


# ------------------------------------------------------------------------------------- the map
def table_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """``(line number, {header: cell})`` for every body row of every Markdown table in ``text``."""
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in CELL_SPLIT.split(stripped.strip("|"))]
        if header is None:
            header = [cell.lower() for cell in cells]
        elif all(re.fullmatch(r":?-+:?", cell) for cell in cells if cell):
            continue
        else:
            rows.append((number, dict(zip(header, cells))))
    return rows


def _column(row: dict[str, str], prefix: str) -> str:
    return " ".join(cell for name, cell in row.items() if name.startswith(prefix))


def stale_code_references(text: str, source: str = "docs/paper-map.md") -> tuple[list[str], int]:
    """(problems, number of references checked) for the ``gaitcore/...`` references of ``text``."""
    problems: list[str] = []
    checked = 0
    for number, line in enumerate(text.splitlines(), 1):
        for match in CODE_REF.finditer(line):
            checked += 1
            reference = match.group(0)
            file_part, _, dotted = reference.partition(":")
            path = ROOT / file_part
            if not path.is_file():
                problems.append(f"{source}:{number}: `{reference}`: no file {file_part}")
                continue
            if dotted:
                why = missing_definition(path, dotted)
                if why:
                    problems.append(f"{source}:{number}: `{reference}`: {why}")
        for match in DIR_REF.finditer(line):
            checked += 1
            if not (ROOT / match.group(1)).is_dir():
                problems.append(f"{source}:{number}: `{match.group(1)}`: no such folder")
    return problems, checked


def mentioned_rules(text: str) -> list[tuple[int, str]]:
    """``(line, rule)`` for the rules of "rule" columns and of prose "rule `name`"."""
    found: list[tuple[int, str]] = []
    for number, row in table_rows(text):
        found += [(number, name) for name in BACKTICKED.findall(_column(row, "rule"))]
    for number, line in enumerate(text.splitlines(), 1):
        found += [(number, name) for name in PROSE_RULE.findall(line)]
    return found


def stale_rules(text: str, source: str = "docs/paper-map.md") -> tuple[list[str], int]:
    mentioned = mentioned_rules(text)
    defined = rule_names()
    problems = [
        f"{source}:{number}: rule `{name}` is defined in no workflow/rules/*.smk"
        for number, name in mentioned
        if name not in defined
    ]
    return problems, len(mentioned)


def stale_outputs(text: str, source: str = "docs/paper-map.md") -> tuple[list[str], int]:
    """Tables and figures of "output" columns that no rule file names."""
    problems: list[str] = []
    checked = 0
    workflow = rules_text()
    for number, row in table_rows(text):
        for token in BACKTICKED.findall(_column(row, "output")):
            match = re.match(r"results/((?:tables|figures)/[\w]+)", token)
            if not match or "<" in token:
                continue
            checked += 1
            if f"/{match.group(1)}." not in workflow:
                problems.append(f"{source}:{number}: `{token}`: "
                                f"no rule in workflow/rules/*.smk writes {match.group(1)}.*")
    return problems, checked


def unmapped_paper_items(text: str) -> list[str]:
    """Paper items that head no table row (the row's first cell)."""
    first_cells = [next(iter(row.values()), "") for _, row in table_rows(text)]
    missing = []
    for item in PAPER_ITEMS:
        pattern = re.compile(re.escape(item) + r"(?!\d)")
        if not any(pattern.search(cell) for cell in first_cells):
            missing.append(item)
    return missing


# ------------------------------------------------------------------------------------- tests
def map_text() -> str:
    assert MAP.is_file(), "docs/paper-map.md is missing"
    return MAP.read_text(encoding="utf-8")


def test_code_references_exist():
    problems, checked = stale_code_references(map_text())
    assert checked >= 50, f"only {checked} gaitcore references found in docs/paper-map.md: is the parser broken?"
    assert not problems, "stale code references in docs/paper-map.md:\n" + "\n".join(problems)


def test_rules_exist():
    assert rule_names(), "no rules found in workflow/rules/*.smk"
    problems, checked = stale_rules(map_text())
    assert checked >= 15, f"only {checked} rule names found in docs/paper-map.md: is the parser broken?"
    assert not problems, "stale rule names in docs/paper-map.md:\n" + "\n".join(problems)


def test_outputs_are_written_by_rules():
    problems, checked = stale_outputs(map_text())
    assert checked >= 10, f"only {checked} results/tables or results/figures outputs found: is the parser broken?"
    assert not problems, "stale outputs in docs/paper-map.md:\n" + "\n".join(problems)


def test_every_equation_table_and_figure_is_mapped():
    missing = unmapped_paper_items(map_text())
    assert not missing, f"docs/paper-map.md has no row for: {', '.join(missing)}"


def test_checks_name_the_stale_reference():
    """The checks catch a moved module, a renamed function, a missing method, a moved rule and a
    dropped paper item, and say which."""
    stale = "\n".join([
        "| paper | code | rule | output |",
        "| --- | --- | --- | --- |",
        "| Eq. 1 | `gaitcore/attacks/job.py:run_attack_job` | `attack` | — |",
        ("| Eq. 2 | `gaitcore/attacks/engine.py:no_such_function` | `no_such_rule` "
         "| `results/tables/no_such_table.csv` |"),
        "| Eq. 3 | `gaitcore/attacks/engine.py:TemporalSparseAttack.no_such_method` | — | — |",
        "| Eq. 4 | `gaitcore/attacks/engine.py:TemporalSparseAttack.attack` | — | — |",
    ])
    code, _ = stale_code_references(stale, "fake.md")
    assert len(code) == 3, code
    assert "gaitcore/attacks/job.py:run_attack_job" in code[0] and "no file" in code[0]
    assert "no_such_function" in code[1]
    assert "no_such_method" in code[2] and "TemporalSparseAttack" in code[2]
    rules, checked = stale_rules(stale, "fake.md")
    assert checked == 2 and len(rules) == 1 and "no_such_rule" in rules[0]
    outputs, _ = stale_outputs(stale, "fake.md")
    assert len(outputs) == 1 and "no_such_table" in outputs[0]
    missing = unmapped_paper_items(stale)
    assert "Eq. 5" in missing and "Eq. 1" not in missing and "Fig. 1" in missing and "Fig. 10" in missing
