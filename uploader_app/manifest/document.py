"""A transfer manifest as a document: load, edit with undo, save (see docs/manifests.md).

The vendor's format is a JSON array of objects ``{index_id, language, object, transcription?}``
that people edit by hand. A document keeps the rows in order, keeps every field it does not
know, and writes the original bytes back when nothing changed. After an edit it writes the
rows in the layout the file already used (indent, line endings, byte order mark, escaping),
so a one-value edit is a one-line change in a file laid out by ``json.dumps(indent=…)``.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from uploader_app.files import write_atomically

logger = logging.getLogger(__name__)

KNOWN_FIELDS = ("index_id", "language", "object", "transcription")
REQUIRED_FIELDS = ("index_id", "language", "object")
BOM = "\ufeff"

Row = dict[str, Any]
"""One entry as read: a dict keeping key order (or whatever JSON value stood there)."""


@dataclass(frozen=True)
class SyntaxProblem:
    """The file could not be read as JSON at all; line and column are 1-based."""

    message: str
    hint: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Layout:
    """How the file was written, so a save after an edit looks like the original."""

    indent: str | None = "  "  # None: everything on one line
    newline: str = "\n"
    bom: bool = False
    final_newline: bool = True
    ensure_ascii: bool = False

    def dumps(self, rows: Sequence[Any]) -> str:
        if self.indent is None:
            text = json.dumps(list(rows), ensure_ascii=self.ensure_ascii)
        else:
            text = json.dumps(list(rows), indent=self.indent, ensure_ascii=self.ensure_ascii)
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        if self.final_newline:
            text += self.newline
        return (BOM if self.bom else "") + text


@dataclass(frozen=True)
class _Edit:
    """One undoable step: the rows before and after, kept whole (manifests are small)."""

    label: str
    before: tuple[Any, ...]
    after: tuple[Any, ...]


@dataclass
class Parsed:
    """What reading the text found: rows (when it is a JSON array) and where each starts."""

    value: Any = None
    syntax: SyntaxProblem | None = None
    row_lines: list[int] = field(default_factory=list)
    # Keys written more than once in a row: JSON keeps the last one silently.
    repeated_keys: dict[int, list[str]] = field(default_factory=dict)


class ManifestDocument:
    """The rows of one manifest, an edit history and the original bytes."""

    def __init__(self, raw: bytes = b"[]\n", path: Path | None = None) -> None:
        self.path = path
        self._raw = raw
        self.parsed = parse(raw)
        self.layout = detect_layout(raw)
        rows = self.parsed.value if isinstance(self.parsed.value, list) else []
        self._saved: tuple[Any, ...] = _freeze_rows(rows)
        self._loaded: tuple[Any, ...] = self._saved
        self._rows: list[Any] = copy.deepcopy(rows)
        self._frozen: tuple[Any, ...] = self._saved
        self._unchanged_prefix: int | None = None
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []

    @classmethod
    def load(cls, path: Path) -> ManifestDocument:
        return cls(path.read_bytes(), path)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]], layout: Layout | None = None) -> Self:
        document = cls()
        document.layout = layout or Layout()
        document._rows = [dict(r) for r in rows]
        document._raw = document.layout.dumps(document._rows).encode("utf-8")
        document.parsed = parse(document._raw)
        document._saved = document._loaded = _freeze_rows(document._rows)
        document._set_frozen(document._saved)
        return document

    # ---- reading -------------------------------------------------------------------------

    @property
    def rows(self) -> list[Any]:
        """The current rows; treat them as read-only and change them through the edits."""
        return self._rows

    @property
    def readable(self) -> bool:
        """False when the file is not a JSON array: there are no rows to edit."""
        return self.parsed.syntax is None and isinstance(self.parsed.value, list)

    @property
    def modified(self) -> bool:
        """True when the rows differ from the last save (or load)."""
        return self._frozen != self._saved

    def row_line(self, row: int) -> int | None:
        """The line where row ``row`` (0-based) starts in the loaded file, when unchanged."""
        # Line numbers describe the file on disk; after rows are added or removed above
        # ``row`` they would point at the wrong place, so they are only given while the
        # rows up to it are still as loaded.
        if self._unchanged_prefix is None:
            same = 0
            for now, then in zip(self._frozen, self._loaded, strict=False):
                if now != then:
                    break
                same += 1
            self._unchanged_prefix = same
        if row < self._unchanged_prefix and row < len(self.parsed.row_lines):
            return self.parsed.row_lines[row]
        return None

    def _set_frozen(self, frozen: tuple[Any, ...]) -> None:
        """Record the rows' frozen form: every question about changes compares it, and a
        check asks once per row, so it is kept, not recomputed."""
        self._frozen = frozen
        self._unchanged_prefix = None

    def to_bytes(self) -> bytes:
        """The original bytes when the rows are as loaded, else the rows in the file's layout."""
        if self._frozen == self._loaded:
            return self._raw
        return self.layout.dumps(self._rows).encode("utf-8")

    # ---- editing -------------------------------------------------------------------------

    def set_field(self, rows: Iterable[int], name: str, value: str | None) -> None:
        """Set (or with None remove) ``name`` on the given rows; rows that are not objects
        are left alone, since there is no field to set on them."""
        targets = sorted(set(rows))

        def change(current: list[Any]) -> None:
            for number in targets:
                entry = current[number]
                if not isinstance(entry, dict):
                    continue
                if value is None:
                    entry.pop(name, None)
                else:
                    entry[name] = value

        label = f"Set {name}" if value is not None else f"Remove {name}"
        self._apply(label, change)

    def add_rows(self, new_rows: Sequence[Mapping[str, Any]], at: int | None = None) -> None:
        position = len(self._rows) if at is None else at

        def change(current: list[Any]) -> None:
            current[position:position] = [dict(r) for r in new_rows]

        self._apply("Add rows" if len(new_rows) > 1 else "Add row", change)

    def remove_rows(self, rows: Iterable[int]) -> None:
        doomed = set(rows)

        def change(current: list[Any]) -> None:
            current[:] = [r for n, r in enumerate(current) if n not in doomed]

        self._apply("Remove rows" if len(doomed) > 1 else "Remove row", change)

    def _apply(self, label: str, change: Any) -> None:
        before = self._frozen
        change(self._rows)
        after = _freeze_rows(self._rows)
        if after == before:
            return
        self._set_frozen(after)
        self._undo.append(_Edit(label, before, after))
        self._redo.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        return self._undo[-1].label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return self._redo[-1].label if self._redo else None

    def undo(self) -> None:
        if self._undo:
            edit = self._undo.pop()
            self._rows = [_thaw(r) for r in edit.before]
            self._set_frozen(edit.before)
            self._redo.append(edit)

    def redo(self) -> None:
        if self._redo:
            edit = self._redo.pop()
            self._rows = [_thaw(r) for r in edit.after]
            self._set_frozen(edit.after)
            self._undo.append(edit)

    # ---- saving --------------------------------------------------------------------------

    def save(self, path: Path | None = None) -> Path:
        """Write atomically (a crash leaves the old file whole) and mark the rows saved."""
        target = path or self.path
        if target is None:
            raise ValueError("no file name to save to")
        data = self.to_bytes()
        write_atomically(target, data)
        self.path = target
        self._raw = data
        self.parsed = parse(data)
        self._saved = self._loaded = self._frozen
        self._unchanged_prefix = None
        return target


def parse(raw: bytes) -> Parsed:
    """Read the JSON, noting where each row starts and keys written twice. Never raises."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return Parsed(
            syntax=SyntaxProblem(
                "The file is not UTF-8 text.",
                "Save it as UTF-8 in your text editor (or download the list again).",
                line,
                column,
            )
        )
    text = text.removeprefix(BOM)
    repeated: dict[int, list[str]] = {}
    row_number = [0]

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            repeated.setdefault(row_number[0], []).extend(twice)
        return dict(pairs)

    constants: list[str] = []

    def constant_hook(name: str) -> float:
        constants.append(name)
        return float(name)

    decoder = json.JSONDecoder(object_pairs_hook=pairs_hook, parse_constant=constant_hook)
    try:
        value, lines = _decode_tracking_rows(decoder, text, row_number)
        _refuse_what_json_forbids(text, bool(constants))
    except json.JSONDecodeError as exc:
        return Parsed(syntax=_syntax_problem(exc))
    return Parsed(value=value, row_lines=lines, repeated_keys=repeated)


def _decode_tracking_rows(
    decoder: json.JSONDecoder, text: str, row_number: list[int]
) -> tuple[Any, list[int]]:
    """Decode ``text``; when it is an array, decode row by row to learn each row's line."""
    start = _skip_space(text, 0)
    if start >= len(text):
        raise json.JSONDecodeError("Expecting value", text, start)
    if text[start] != "[":
        value, end = _raw_decode(decoder, text, start)
        _expect_end(text, end)
        return value, []
    rows: list[Any] = []
    lines: list[int] = []
    line, counted = 1, 0
    position = _skip_space(text, start + 1)
    if position < len(text) and text[position] == "]":
        _expect_end(text, position + 1)
        return rows, lines
    while True:
        row_number[0] = len(rows)
        if position >= len(text):
            raise json.JSONDecodeError("Expecting value", text, position)
        line += text.count("\n", counted, position)  # counted on from the last row: linear
        counted = position
        lines.append(line)
        value, position = _raw_decode(decoder, text, position)
        rows.append(value)
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position = _skip_space(text, position + 1)
            continue
        if position < len(text) and text[position] == "]":
            _expect_end(text, position + 1)
            return rows, lines
        raise json.JSONDecodeError("Expecting ',' delimiter", text, position)


def _raw_decode(decoder: json.JSONDecoder, text: str, position: int) -> tuple[Any, int]:
    try:
        return decoder.raw_decode(text, position)
    except RecursionError:
        # json recurses once per nesting level: thousands of [ would end in a traceback.
        raise json.JSONDecodeError("Nested too deeply", text, position) from None


# A string token, or one of the constants Python's json reads although JSON has no such value.
_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_what_json_forbids(text: str, constants_seen: bool) -> None:
    """Python's json accepts NaN and Infinity, and a \\ud800 escape standing alone (half a
    character); the service's JSON reader does not, and the half character cannot even be
    written back or stored, so both are syntax errors at their place in the text."""
    if not constants_seen and not _SURROGATE_ESCAPE.search(text):
        return
    for match in _STRING_OR_CONSTANT.finditer(text):
        if match.group(1):
            raise json.JSONDecodeError("Not a JSON value", text, match.start())
        token = match.group(0)
        if _SURROGATE_ESCAPE.search(token):
            try:
                json.loads(token).encode("utf-8")
            except UnicodeEncodeError:
                raise json.JSONDecodeError("Half a character", text, match.start()) from None


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _expect_end(text: str, position: int) -> None:
    end = _skip_space(text, position)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)


# json's own messages, in plain words with what to do.
_SYNTAX_WORDS = (
    ("Expecting ',' delimiter", "A comma is missing", "Put a comma between the two entries."),
    (
        "Expecting property name enclosed in double quotes",
        "A field name is not in double quotes, or there is a comma before a closing brace",
        'Write field names in double quotes ("index_id") and remove a comma before } or ].',
    ),
    (
        "Expecting ':' delimiter",
        "A colon is missing after a field name",
        'Write each field as "name": "value".',
    ),
    (
        "Expecting value",
        "A value is missing or not valid JSON (text needs double quotes)",
        'Write text in double quotes ("en") and remove a comma before } or ].',
    ),
    ("Extra data", "There is text after the end of the list", "Remove what follows the last ]."),
    ("Unterminated string", "A quote is not closed", 'Close the text with a double quote (").'),
    (
        "Invalid control character",
        "A line break or tab stands inside quotes",
        "Keep each value on one line.",
    ),
    ("Invalid \\escape", "A backslash is not followed by a valid escape", "Write \\\\ for a \\."),
    (
        "Nested too deeply",
        "Lists or entries are nested inside each other too deeply to read",
        "A manifest is one list of entries with text fields; download the list again.",
    ),
    (
        "Not a JSON value",
        "NaN or Infinity is not a value JSON allows",
        "Write a number or text in double quotes instead, or remove the field.",
    ),
    (
        "Half a character",
        "A \\u escape in this text stands for half a character",
        "Write the character itself, or both halves of its escape (such as \\ud83c\\udfac).",
    ),
)


def _syntax_problem(exc: json.JSONDecodeError) -> SyntaxProblem:
    for prefix, message, hint in _SYNTAX_WORDS:
        if exc.msg.startswith(prefix):
            return SyntaxProblem(f"{message}.", hint, exc.lineno, exc.colno)
    return SyntaxProblem(
        "The file is not valid JSON.",
        "Open it in a text editor and fix the place named, or download the list again.",
        exc.lineno,
        exc.colno,
    )


_INDENTED = re.compile(r"\n([ \t]+)\S")


def detect_layout(raw: bytes) -> Layout:
    """The indent, line ending, BOM and escaping the file uses (defaults when unsure)."""
    text = raw.decode("utf-8", errors="replace")
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    newline = "\r\n" if "\r\n" in text else "\n"
    body = text.rstrip()
    if "\n" not in body:
        indent: str | None = None if body else "  "
    else:
        widths = [m.group(1) for m in _INDENTED.finditer(text.replace("\r\n", "\n"))]
        indent = min(widths, key=len) if widths else "  "
    escaped = bool(re.search(r"\\u[0-9a-fA-F]{4}", text))
    raw_non_ascii = any(ord(ch) > 127 for ch in text)
    return Layout(
        indent=indent,
        newline=newline,
        bom=bom,
        final_newline=text.endswith(("\n", "\r\n")) or not text,
        ensure_ascii=escaped and not raw_non_ascii,
    )


def _freeze_rows(rows: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_freeze(r) for r in rows)


def _freeze(value: Any) -> Any:
    """A hashable, comparable copy that keeps key order (order is part of the file)."""
    if isinstance(value, dict):
        return ("{", tuple((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("[", tuple(_freeze(v) for v in value))
    if isinstance(value, bool):
        return ("b", value)  # True == 1 in Python, but not in the file
    if isinstance(value, float) and value.is_integer():
        return ("f", value)  # 1.0 and 1 compare equal but are written differently
    return value


def _thaw(frozen: Any) -> Any:
    if isinstance(frozen, tuple) and frozen and frozen[0] == "{":
        return {k: _thaw(v) for k, v in frozen[1]}
    if isinstance(frozen, tuple) and frozen and frozen[0] == "[":
        return [_thaw(v) for v in frozen[1]]
    if isinstance(frozen, tuple) and frozen and frozen[0] in ("f", "b"):
        return frozen[1]
    return frozen
