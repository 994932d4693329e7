"""What every endpoint handler gets and returns: the call context, routes, JSON answers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from uploader_app.sandbox.errors import parameter_invalid
from uploader_app.sandbox.service import Sandbox
from uploader_app.sandbox.spec import json_object, loads

logger = logging.getLogger(__name__)

V12 = "v1.2"
V13 = "v1.3"
BOTH = frozenset({V12, V13})
ONLY_V12 = frozenset({V12})
ONLY_V13 = frozenset({V13})


@dataclass
class Call:
    sandbox: Sandbox
    request: Request
    version: str
    query: dict[str, Any] = field(default_factory=dict)  # typed by the schema check (spec.py)

    def json(self) -> dict[str, Any]:
        """The JSON object body, or 400 ``parameter_invalid``."""
        return json_object(self.request.get_data(cache=True))


Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    path: str  # werkzeug rule, after /v1.x for API routes
    method: str
    endpoint: str
    handler: Handler
    versions: frozenset[str] = BOTH
    api: bool = True  # False: outside /v1.x, no API key (presigned chunk URLs, files)


def json_response(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def empty_response(status: int = 200) -> Response:
    return Response(b"", status=status)


def bool_field(value: object, name: str, default: bool) -> bool:
    """A form/JSON boolean: true/false (any case), 1/0; anything else is 400.

    Never ``bool(value)``: the string "false" would be True.
    """
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise parameter_invalid(name, detail="Use true or false.")
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise parameter_invalid(name, detail="Use true or false.")


def metadata_field(value: object, name: str = "user_metadata") -> dict[str, Any] | None:
    """``user_metadata``: a JSON object (sent as a JSON-encoded string on multipart forms)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = loads(value)
        except ValueError:
            raise parameter_invalid(name, detail="Send a JSON-encoded object.") from None
    if not isinstance(value, dict):
        raise parameter_invalid(name, detail="Send a JSON object of keys and values.")
    for key, item in value.items():
        if not isinstance(item, (str, int, float, bool)):
            raise parameter_invalid(
                name, detail=f"The value of {key} must be a string, a number or a boolean."
            )
    return value
