"""The WSGI application: routing (werkzeug ``Map``), API key check, rate-limit headers,
fault injection and the log of every request received."""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterable
from typing import NamedTuple

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from uploader_app.sandbox import assets, files, indexed, indexes, multipart, tasks, transfers
from uploader_app.sandbox.errors import (
    ApiError,
    api_key_invalid,
    api_upgrade_required,
    endpoint_not_found,
    method_not_allowed,
    server_error,
    too_many_requests,
)
from uploader_app.sandbox.faults import FaultPlan, FaultRule
from uploader_app.sandbox.ratelimit import RateLimiter
from uploader_app.sandbox.routing import V13, Call, Route
from uploader_app.sandbox.service import Sandbox

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
RESET_READ_LIMIT = 64 * 1024  # "reset" reads at most this much of the body first
HTML_ERROR = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server is not answering.</p></body></html>"
)


class ReceivedRequest(NamedTuple):
    """One request as the sandbox saw it; compares equal to ``("POST", "/v1.3/tasks")``."""

    method: str
    path: str


class DroppedConnectionError(ConnectionResetError):
    """Raised to make the server hang up instead of answering."""


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[ReceivedRequest] = []

    def add(self, method: str, path: str) -> None:
        with self._lock:
            self._items.append(ReceivedRequest(method, path))

    def snapshot(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class SandboxApp:
    def __init__(self, sandbox: Sandbox, faults: FaultPlan, limiter: RateLimiter) -> None:
        self.sandbox = sandbox
        self.faults = faults
        self.limiter = limiter
        self.log = RequestLog()
        self._routes = {r.endpoint: r for r in ROUTES}
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
        rule = self.faults.pick(request.method, request.path)
        response = self._faulty(rule, request) if rule is not None else self._respond(request)
        return response(environ, start_response)  # type: ignore[arg-type]

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
            response = route.handler(Call(self.sandbox, request, version), **args)
        except ApiError as error:
            error.headers.update(quota.headers())
            raise
        response.headers.update(quota.headers())
        return response

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
