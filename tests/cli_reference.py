"""The argument tables of docs/cli.md, made from the real parser.

    python -m tests.cli_reference        rewrite the tables in docs/cli.md

Each command's table sits between ``<!-- arguments: COMMAND -->`` and ``<!-- /arguments -->``;
the prose around the tables is written by hand. tests/unit/test_cli_reference.py fails when a
table differs from what this makes, or when ``uploader-app COMMAND --help`` names other flags.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from uploader_app.cli import build_parser

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
BLOCK = re.compile(
    r"(<!-- arguments: (?P<command>[a-z -]+) -->\n)(?P<table>.*?)(<!-- /arguments -->)", re.DOTALL
)


def commands(
    parser: argparse.ArgumentParser | None = None, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command (``()`` for the program itself, ``("indexes", "create")``…) and its parser."""
    parser = parser or build_parser()
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*words, name))


def table(parser: argparse.ArgumentParser) -> str:
    """One row per argument the parser takes (help and subcommand choosers left out)."""
    rows = [
        f"| `{_shown(action)}` | {_takes(action)} | {_help(action)} |"
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
    ]
    if not rows:
        return "No arguments of its own (only `--help`).\n"
    return "\n".join(["| Argument | Takes | What it does |", "|---|---|---|", *rows]) + "\n"


def _shown(action: argparse.Action) -> str:
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    if isinstance(metavar, tuple):  # not used by this CLI; keeps the type exact
        metavar = " ".join(metavar)
    if action.choices is not None and action.metavar is None:
        metavar = "{" + ",".join(str(c) for c in action.choices) + "}"
    if not action.option_strings:
        return f"{metavar}..." if action.nargs in ("+", "*") else metavar
    names = ", ".join(action.option_strings)
    return names if action.nargs == 0 else f"{names} {metavar}"


def _takes(action: argparse.Action) -> str:
    words = []
    # argparse marks a "*" positional required (it is always set, if only to []), but it
    # may be left out: its usage line shows it in brackets, as "?" does.
    required = action.required if action.option_strings else action.nargs not in ("*", "?")
    if required:
        words.append("required")
    if action.nargs == "+":
        words.append("one or more")
    elif action.nargs == "*":
        words.append("any number")
    if isinstance(action, argparse._AppendAction):
        words.append("repeatable")
    if action.nargs == 0:
        words.append("switch")
    elif action.default not in (None, argparse.SUPPRESS) and action.option_strings:
        words.append(f"default `{action.default}`")
    return ", ".join(words) or "optional"


def _help(action: argparse.Action) -> str:
    text = (action.help or "").replace("%(prog)s", "uploader-app").replace("|", "\\|")
    return text[:1].upper() + text[1:]


def render(text: str) -> str:
    """``text`` (docs/cli.md) with every table made again from the parser."""
    parsers = {" ".join(words): parser for words, parser in commands()}

    def made(match: re.Match[str]) -> str:
        command = match["command"].strip()
        key = "" if command == "uploader-app" else command
        return f"{match[1]}{table(parsers[key])}{match[4]}"

    return BLOCK.sub(made, text)


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(render(text), encoding="utf-8")
    print(f"wrote the argument tables of {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
