"""docs/cli.md says what the CLI does: its argument tables are the parser's, its flags are the
ones ``--help`` shows, and its JSON field lists are the code's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests import cli_reference
from uploader_app import cli
from uploader_app.jobs import export

PACKAGE = Path(cli.__file__).resolve().parent
JSON_BLOCK = re.compile(
    r"<!-- json: (?P<name>[a-z ]+) -->\n(?P<fields>.*?)<!-- /json -->", re.DOTALL
)
# Where each documented JSON object is made: (module file, function, the dict literal's place).
JSON_SOURCES = {
    "check": ("jobs/check.py", "as_json"),
    "indexes": ("jobs/account.py", "index_json"),
    "jobs": ("jobs/sending.py", "job_json"),
    "manifest check": ("jobs/manifests.py", "run_manifest_check"),
    "manifest problem": ("manifest/checks.py", "as_dict"),
}
COMMANDS = [" ".join(words) for words, _ in cli_reference.commands()]


def _doc() -> str:
    return cli_reference.DOC.read_text(encoding="utf-8")


def _documented_tables() -> dict[str, str]:
    return {m["command"]: m["table"] for m in cli_reference.BLOCK.finditer(_doc())}


def test_the_tables_are_made_from_the_parser() -> None:
    assert cli_reference.render(_doc()) == _doc(), "run: python -m tests.cli_reference"


def test_every_command_has_its_section() -> None:
    expected = {command or "uploader-app" for command in COMMANDS}
    assert set(_documented_tables()) == expected


def _flags(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", text))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c or "uploader-app")
def test_the_flags_are_those_help_shows(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*command.split(), "--help"]) == 0
    help_text = capsys.readouterr().out
    options = help_text.partition("\noptions:\n")[2]
    # An option's line starts with its flags; its help text may wrap onto lines of their own.
    shown = set()
    for line in options.splitlines():
        if re.match(r"\s{2}-", line):
            invocation = re.split(r"\s{2,}", line.strip())[0]
            shown |= _flags(invocation)
    shown -= {"-h", "--help"}
    table = _documented_tables()[command or "uploader-app"]
    documented = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            documented |= _flags(row.split("|")[1])
    assert documented == shown


def _dict_keys(module: str, function: str) -> set[str]:
    """The keys of the outermost dict literal in ``function``; a computed key (``job_json``'s
    ``path`` or ``url``) counts as both names it can take."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    [node] = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
    literal = next(n for n in ast.walk(node) if isinstance(n, ast.Dict))
    keys = set()
    for key in literal.keys:
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
        else:
            keys |= {"path", "url"}
    return keys


def test_the_json_fields_are_the_code_s() -> None:
    documented = {
        m["name"]: set(re.findall(r"`([a-z_]+)`", m["fields"])) for m in JSON_BLOCK.finditer(_doc())
    }
    made = {name: _dict_keys(*where) for name, where in JSON_SOURCES.items()}
    made["export"] = set(export.COLUMNS)
    assert documented == made


def test_a_positional_that_may_be_left_out_is_not_called_required() -> None:
    """``retry`` takes no job number with ``--all``: argparse marks a ``*`` positional
    required internally, but its usage line shows ``[JOB ...]``, and so must the table."""
    retry = dict(cli_reference.commands())[("retry",)]
    assert "[JOB ...]" in retry.format_usage()
    [jobs] = [a for a in retry._actions if a.dest == "ids"]
    assert cli_reference._takes(jobs) == "any number"
    assert "| `JOB...` | any number |" in _documented_tables()["retry"]
