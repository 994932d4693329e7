"""The vendor's request schemas, and the one layer that checks every API request against them.

``requests-v1.3.json`` is made from the vendor's OpenAPI document by
``tests/data/make_openapi_subset.py``; ``requests-v1.2.json`` holds the documented v1.2
fields, which have no OpenAPI document (docs/sandbox.md, "Strict requests"). Query strings and
form fields arrive as text: each value is read as the type its schema names (a whole number,
a number, true/false) before the JSON Schema check, and a value that does not read as that
type fails the check. Unknown fields are ``parameter_unknown``, missing required ones
``parameter_not_provided``, anything else ``parameter_invalid``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from jsonschema import (  # type: ignore[import-untyped]  # no stubs installed
    Draft202012Validator,
    ValidationError,
)
from jsonschema.validators import extend  # type: ignore[import-untyped]
from werkzeug.datastructures import MultiDict

from uploader_app.sandbox.errors import (
    parameter_invalid,
    parameter_not_provided,
    parameter_unknown,
)

logger = logging.getLogger(__name__)

SCHEMA_FILES = {"v1.3": "requests-v1.3.json", "v1.2": "requests-v1.2.json"}
# Set in the WSGI environ: the operation a form body is checked against once it is parsed,
# and what the check saw (the request log keeps it for the tests).
OPERATION_KEY = "sandbox.operation"
SEEN_KEY = "sandbox.seen"
JSON_TYPE = "application/json"

# [0-9], not \d: int() and float() also read the digits of other scripts ("\u0663" is 3).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DEEP_KEY = re.compile(r"([^\[\]]+)\[([^\[\]]+)\]")  # duration[gte], as the vendor's SDK sends
_TRUE, _FALSE = ("true", "1"), ("false", "0")


def _is_integer(checker: object, value: object) -> bool:
    # JSON Schema counts 1.0 as an integer and Python counts True as one; the vendor documents
    # a whole number, so neither is taken (the stricter reading, docs/sandbox.md).
    return isinstance(value, int) and not isinstance(value, bool)


_Validator = extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)

_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "string": "a string",
    "array": "a list",
    "object": "an object",
}


@dataclass(frozen=True)
class Operation:
    """What one operation accepts: its query (a JSON Schema object) and its body."""

    key: str  # "POST /indexes", as in the schema file
    query: dict[str, Any]
    body: dict[str, Any] | None = None
    media_type: str | None = None

    @property
    def free_form(self) -> str | None:
        """The query parameter that collects keys no other parameter names (the vendor's
        ``user_metadata`` filter: "?category=recentlyAdded")."""
        for name, schema in self.query["properties"].items():
            if schema.get("type") == "object" and isinstance(
                schema.get("additionalProperties"), dict
            ):
                return str(name)
        return None


def shape(path: str) -> str:
    """``/indexes/{index-id}`` and ``/indexes/<index_id>`` both become ``/indexes/{}``."""
    return re.sub(r"\{[^}]*\}|<[^>]*>", "{}", path)


class RequestSpec:
    """Every operation of both versions, found by version, method and path."""

    def __init__(self) -> None:
        self._operations: dict[tuple[str, str, str], Operation] = {}
        folder = resources.files("uploader_app.sandbox")
        for version, name in SCHEMA_FILES.items():
            table = json.loads(folder.joinpath(name).read_text(encoding="utf-8"))
            for key, entry in table.items():
                if key.startswith("x-"):
                    continue
                method, path = key.split(" ", 1)
                body = entry.get("body")
                self._operations[(version, method, shape(path))] = Operation(
                    key,
                    entry["query"],
                    body["schema"] if body else None,
                    body["media_type"] if body else None,
                )

    def operation(self, version: str, method: str, path: str) -> Operation:
        """The operation for a route; KeyError when the schema files lack it."""
        return self._operations[(version, method, shape(path))]


@dataclass
class _Problems:
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)

    def add(self, error: ValidationError) -> None:
        where = _name(error.absolute_path)
        if error.validator == "additionalProperties":
            named = error.schema.get("properties", {})
            self.unknown += [_join(where, k) for k in error.instance if k not in named]
        elif error.validator == "required":
            self.missing += [
                _join(where, k) for k in error.validator_value if k not in error.instance
            ]
        else:
            self.invalid.append((where, _detail(error)))

    def raise_first(self) -> None:
        """One answer, as the vendor gives one code: unknown, then missing, then invalid."""
        if self.unknown:
            raise parameter_unknown(*dict.fromkeys(self.unknown))
        if self.missing:
            raise parameter_not_provided(*dict.fromkeys(self.missing))
        if self.invalid:
            names = list(dict.fromkeys(n for n, _ in self.invalid))
            details = " ".join(dict.fromkeys(d for _, d in self.invalid if d))
            raise parameter_invalid(*names, detail=details)


def _name(path: Iterable[object]) -> str:
    parts = [str(p) for p in path]
    return parts[0] + "".join(f"[{p}]" for p in parts[1:]) if parts else ""


def _join(where: str, key: str) -> str:
    return f"{where}[{key}]" if where else key


def _detail(error: ValidationError) -> str:
    keyword, value = error.validator, error.validator_value
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        return f"Use {' or '.join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds)}."
    if keyword == "enum":
        return f"Use one of: {', '.join(str(v) for v in value)}."
    if keyword == "minimum":
        return f"The minimum is {value}."
    if keyword == "maximum":
        return f"The maximum is {value}."
    if keyword == "oneOf":
        return "Use a string, a number or true or false."
    return ""


def _check(schema: dict[str, Any], instance: object, problems: _Problems) -> None:
    for error in _Validator(schema).iter_errors(instance):
        problems.add(error)
    problems.raise_first()


def read_text(raw: str, schema: Mapping[str, Any]) -> object:
    """A query or form value as the type its schema names; left as text when it does not
    read as that type, so the schema check refuses it."""
    kind = schema.get("type")
    text = raw.strip()
    if kind == "integer" and _INTEGER.fullmatch(text):
        with contextlib.suppress(ValueError):  # int() refuses more than 4300 digits
            return int(text)
    if kind == "number" and _NUMBER.fullmatch(text) and math.isfinite(float(text)):
        return float(text)
    if kind == "boolean" and text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    return raw


def check_query(operation: Operation, args: MultiDict[str, str]) -> dict[str, Any]:
    """The query as typed values; raises the vendor's parameter error when it is not valid."""
    properties: dict[str, Any] = operation.query["properties"]
    free = operation.free_form
    problems = _Problems()
    query: dict[str, Any] = {}
    for key in dict.fromkeys(args.keys()):
        values = args.getlist(key)
        deep = _DEEP_KEY.fullmatch(key)
        name, sub = deep.groups() if deep else (key, None)
        schema = properties.get(name)
        if schema is None and free is not None and sub is None:
            # An undocumented key is a user_metadata filter on the routes that have one.
            name, sub, schema = free, key, properties[free]
        if schema is None or (sub is not None and schema.get("type") != "object"):
            problems.unknown.append(key)
            continue
        if len(values) > 1 and schema.get("type") != "array":
            problems.invalid.append((key, "Send it once."))
        if sub is not None:
            inner = schema.get("properties", {}).get(sub) or schema.get("additionalProperties")
            typed = read_text(values[0], inner if isinstance(inner, dict) else {})
            query.setdefault(name, {})[sub] = typed
        elif schema.get("type") == "array":
            query[name] = [read_text(v, schema.get("items", {})) for v in values]
        else:
            query[name] = read_text(values[0], schema)
    _check(operation.query, query, problems)
    return query


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for JSON")
    return value


def _not_json(word: str) -> object:
    raise ValueError(f"{word} is not JSON")


def loads(raw: str | bytes) -> Any:
    """Standard JSON only. Python also reads NaN and Infinity (and 1e400 as infinity): kept,
    they would come back in answers that are not JSON (docs/sandbox.md, "Strict requests").
    ValueError for anything else it cannot read, too deep a nesting included."""
    try:
        return json.loads(raw, parse_float=_finite, parse_constant=_not_json)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object body, or the vendor's ``parameter_invalid``."""
    try:
        body = loads(raw or b"{}")
    except ValueError:
        raise parameter_invalid(detail="The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise parameter_invalid(detail="The request body must be a JSON object.")
    return body


def check_json(operation: Operation, body: dict[str, Any]) -> None:
    """Raises the vendor's parameter error when the JSON body is not valid."""
    assert operation.body is not None
    _check(operation.body, body, _Problems())


def check_form(operation: Operation, fields: Mapping[str, str], files: Iterable[str]) -> None:
    """A parsed form: text fields read as their types, file parts only where a file goes."""
    assert operation.body is not None
    properties: dict[str, Any] = operation.body["properties"]
    problems = _Problems()
    form: dict[str, object] = {}
    for name, value in fields.items():
        schema = properties.get(name, {})
        if schema.get("format") == "binary":
            problems.invalid.append((name, "Send it as a file."))
        form[name] = read_text(value, schema)
    for name in files:
        schema = properties.get(name)
        if schema is not None and schema.get("format") != "binary":
            problems.invalid.append((name, "Send it as a text field, not a file."))
        form[name] = name  # a file part stands for a string (format "binary")
    _check(operation.body, form, problems)


def check_parsed_form(
    environ: Mapping[str, Any], fields: Mapping[str, str], files: Iterable[str]
) -> None:
    """``check_form`` for the operation the app put in the environ (API routes only)."""
    operation = environ.get(OPERATION_KEY)
    if isinstance(operation, Operation) and operation.body is not None:
        names = list(files)
        seen = environ.get(SEEN_KEY)
        if isinstance(seen, dict):
            # Logged before the check: a refused form is the client's to answer for too.
            seen["form"] = {"fields": dict(fields), "files": names}
        check_form(operation, fields, names)
