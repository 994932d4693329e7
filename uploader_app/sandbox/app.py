"""The WSGI application: routing (werkzeug ``Map``), API key check, rate-limit headers,
fault injection and the log of every request received."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import LimitedStream

from uploader_app.sandbox import assets, files, indexed, indexes, multipart, tasks, transfers
from uploader_app.sandbox.errors import (
    ApiError,
    api_key_invalid,
    api_upgrade_required,
    endpoint_not_found,
    method_not_allowed,
    server_error,
    too_many_requests,
    too_many_requests_bare,
    usage_limit_exceeded,
)
from uploader_app.sandbox.faults import FaultPlan, FaultRule
from uploader_app.sandbox.ratelimit import RateLimiter
from uploader_app.sandbox.routing import V13, Call, Route
from uploader_app.sandbox.service import Sandbox
from uploader_app.sandbox.spec import (
    JSON_TYPE,
    OPERATION_KEY,
    SEEN_KEY,
    Operation,
    RequestSpec,
    check_json,
    check_query,
    json_object,
)

logger = logging.getLogger(__name__)

ROUTES: list[Route] = [
    *indexes.ROUTES,
    *tasks.ROUTES,
    *transfers.ROUTES,
    *assets.ROUTES,
    *multipart.ROUTES,
    *indexed.ROUTES,
    *files.ROUTES,
]
VERSION_PREFIX = "/<any('v1.2', 'v1.3'):version>"
# Set in the WSGI environ when a fault asks the server to drop the connection with a reset.
DROP_KEY = "sandbox.drop_connection"
# Set in the WSGI environ when the whole request body was read, so the server may keep the
# connection for the next request (server.py).
KEEP_ALIVE_KEY = "sandbox.keep_alive"
# An unread rest of a body up to this size is read and dropped to keep the connection; a
# larger one (an upload refused early) closes it instead, as werkzeug always did.
DRAIN_LIMIT = 1024 * 1024
# Faults after which the connection is still good: the answer is whole.
WHOLE_ANSWER_FAULTS = frozenset({"slow", "status", "rate_limit", "non_json"})
RESET_READ_LIMIT = 64 * 1024  # "reset" reads at most this much of the body first
HTML_ERROR = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server is not answering.</p></body></html>"
)


class ReceivedRequest(NamedTuple):
    """One request as the sandbox saw it; compares equal to ``("POST", "/v1.3/tasks")``."""

    method: str
    path: str


class RequestRecord(NamedTuple):
    """One request in detail: what the tests check against the vendor's request schemas."""

    method: str
    path: str
    version: str | None  # None outside /v1.x
    query: list[tuple[str, str]]
    user_agent: str
    remote_port: int
    body: dict[str, Any] | None  # {"json": …} or {"form": {"fields": …, "files": […]}}
    status: int
    answer: Any  # the JSON answer; None for any other answer and when a fault changed it


class DroppedConnectionError(ConnectionResetError):
    """Raised to make the server hang up instead of answering."""


class RequestLog:
    def __init__(self, keep: bool = True) -> None:
        # Not kept by a sandbox that runs for days (the CLI): a record holds the whole answer.
        self.keep = keep
        self._lock = threading.Lock()
        self._items: list[ReceivedRequest] = []
        self._records: list[RequestRecord] = []

    def add(self, method: str, path: str) -> None:
        if not self.keep:
            return
        with self._lock:
            self._items.append(ReceivedRequest(method, path))

    def add_record(self, record: RequestRecord) -> None:
        if not self.keep:
            return
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._items)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._records.clear()


class SandboxApp:
    def __init__(
        self, sandbox: Sandbox, faults: FaultPlan, limiter: RateLimiter, keep_log: bool = True
    ) -> None:
        self.sandbox = sandbox
        self.faults = faults
        self.limiter = limiter
        self.log = RequestLog(keep_log)
        self._routes = {r.endpoint: r for r in ROUTES}
        spec = RequestSpec()
        # Every API route has its schema, or the sandbox does not start: nothing goes unchecked.
        self._operations = {
            (r.endpoint, version): spec.operation(version, r.method, r.path)
            for r in ROUTES
            if r.api
            for version in r.versions
        }
        self._map = Map(
            [
                Rule(
                    (VERSION_PREFIX if r.api else "") + r.path,
                    endpoint=r.endpoint,
                    methods=[r.method],
                )
                for r in ROUTES
            ],
            strict_slashes=False,
        )

    def __call__(self, environ: dict[str, object], start_response: object) -> Iterable[bytes]:
        request = Request(environ)
        self.log.add(request.method, request.path)
        environ[SEEN_KEY] = {}
        rule = self.faults.pick(request.method, request.path)
        response = self._faulty(rule, request) if rule is not None else self._respond(request)
        if self.log.keep:
            self._record(request, response, faulty=rule is not None and rule.fault != "slow")
        if (rule is None or rule.fault in WHOLE_ANSWER_FAULTS) and _body_read(request):
            environ[KEEP_ALIVE_KEY] = True
        return response(environ, start_response)  # type: ignore[arg-type]

    def _record(self, request: Request, response: Response, *, faulty: bool) -> None:
        environ = request.environ
        seen = environ.get(SEEN_KEY)
        answer = None
        if response.mimetype == JSON_TYPE and not response.is_streamed and not faulty:
            answer = json.loads(response.get_data() or b"null")
        self.log.add_record(
            RequestRecord(
                request.method,
                request.path,
                environ.get("sandbox.version"),
                list(request.args.items(multi=True)),
                request.headers.get("User-Agent", ""),
                int(environ.get("REMOTE_PORT") or 0),
                seen or None,
                response.status_code,
                answer,
            )
        )

    def _respond(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except ApiError as error:
            return error.response()
        except HTTPException as error:  # werkzeug's own, e.g. a client that went away
            return ApiError(
                error.code or 400, "parameter_invalid", error.description or ""
            ).response()
        except Exception:
            logger.exception("sandbox error on %s %s", request.method, request.path)
            return server_error(500).response()

    def _dispatch(self, request: Request) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except (NotFound, RequestRedirect):
            raise endpoint_not_found(request.path) from None
        except MethodNotAllowed:
            raise method_not_allowed(request.method, request.path) from None
        route = self._routes[str(endpoint)]
        if not route.api:
            return route.handler(Call(self.sandbox, request, V13), **args)
        args = dict(args)
        version = args.pop("version")
        if request.headers.get("x-api-key") != self.sandbox.api_key:
            raise api_key_invalid()
        quota = self.limiter.count(route.endpoint, time.time())
        try:
            if quota.used > quota.limit:
                retry = quota.retry_after(time.time())
                error = too_many_requests(quota.limit, "minute", retry)
                error.headers["Retry-After"] = str(retry)
                raise error
            if version not in route.versions:
                if version < min(route.versions):
                    raise api_upgrade_required(min(route.versions), version)
                raise endpoint_not_found(request.path)
            request.environ["sandbox.version"] = version
            query = self._check(self._operations[(route.endpoint, version)], request)
            response = route.handler(Call(self.sandbox, request, version, query), **args)
        except ApiError as error:
            error.headers.update(quota.headers())
            raise
        response.headers.update(quota.headers())
        return response

    @staticmethod
    def _check(operation: Operation, request: Request) -> dict[str, Any]:
        """The one check of every API request against the vendor's schema (spec.py): the
        query and a JSON body now, a form once the handler has parsed it (formdata.py)."""
        seen = request.environ[SEEN_KEY]
        query = check_query(operation, request.args)
        if operation.media_type == JSON_TYPE:
            # Logged before the check: a refused body is the client's to answer for too.
            seen["json"] = body = json_object(request.get_data(cache=True))
            check_json(operation, body)
        elif operation.body is not None:
            request.environ[OPERATION_KEY] = operation
        return query

    def _faulty(self, rule: FaultRule, request: Request) -> Response:
        if rule.fault == "slow":
            time.sleep(rule.delay)
            return self._respond(request)
        if rule.fault == "status":
            return server_error(rule.status or 503).response()
        if rule.fault == "rate_limit":
            limit = self.limiter.limit
            error = too_many_requests(limit, "minute", rule.retry_after)
            error.headers.update(
                {
                    "Retry-After": str(rule.retry_after),
                    "X-Ratelimit-Limit": str(limit),
                    "X-Ratelimit-Remaining": "0",
                    "X-Ratelimit-Used": str(limit),
                    "X-Ratelimit-Reset": str(int(time.time()) + rule.retry_after),
                }
            )
            return error.response()
        if rule.fault == "rate_limit_bare":
            # A 429 that says nothing of when to come back: the client's own backoff decides.
            return too_many_requests_bare().response()
        if rule.fault == "usage_limit":
            return usage_limit_exceeded().response()
        if rule.fault == "non_json":
            return Response(HTML_ERROR, status=rule.status or 502, content_type="text/html")
        if rule.fault == "s3_error":
            return multipart.s3_error(rule.status or 503, rule.code, f"{rule.code} (injected)")
        if rule.fault == "reset":
            length = request.content_length or 0
            if length:
                request.stream.read(min(length // 2, RESET_READ_LIMIT))
            _drop(request)
        if rule.fault == "lost_answer":
            response = self._respond(request)
            response.close()
            _drop(request)
        # "truncated": a Content-Length larger than the body, then the connection closes.
        response = self._respond(request)
        body = response.get_data()
        cut = Response(body[: len(body) // 2], status=response.status_code)
        cut.headers.update(response.headers)
        cut.headers["Content-Length"] = str(max(len(body), 1) + 16)
        return cut


def _body_read(request: Request) -> bool:
    """Whether the whole request body has been read (a small unread rest is read now)."""
    if request.environ.get("wsgi.input_terminated"):
        return False  # a chunked body: its end cannot be told from here
    stream = request.stream
    if not isinstance(stream, LimitedStream) or stream.is_exhausted:
        return True
    if (request.content_length or 0) > DRAIN_LIMIT:
        return False
    try:
        stream.exhaust()
    except (HTTPException, OSError):
        return False
    return stream.is_exhausted


def _drop(request: Request) -> None:
    """Hang up with a TCP reset (SO_LINGER 0), without answering.

    Reading is shut first so the server does not drain the rest of an upload; the socket is
    closed by the request handler once werkzeug lets go of it (see server.py).
    """
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)
    request.environ[DROP_KEY] = True
    raise DroppedConnectionError("fault injection")
