"""``SandboxServer``: the sandbox on a threaded werkzeug server, and ``uploader-app sandbox``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sqlite3
import ssl
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from uploader_app import config
from uploader_app.sandbox.app import (
    DROP_KEY,
    KEEP_ALIVE_KEY,
    ReceivedRequest,
    RequestRecord,
    SandboxApp,
)
from uploader_app.sandbox.faults import FaultPlan, load_plan
from uploader_app.sandbox.fetch import resume
from uploader_app.sandbox.multipart import resume_finishing
from uploader_app.sandbox.ratelimit import DEFAULT_LIMIT, RateLimiter
from uploader_app.sandbox.service import DEFAULT_CHUNK_SIZE, Sandbox

logger = logging.getLogger(__name__)


# Listening on every address: this machine reaches the sandbox on loopback.
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
IDLE_SECONDS = 75  # nginx's default keep-alive timeout


class _AnsweredReader:
    """The connection's reader, which reads nothing once the answer has gone out.

    After each answer werkzeug drains whatever the socket still holds, because it closes
    every connection. On a kept-alive connection that would swallow the client's next
    request; the app has read the whole body by then (``KEEP_ALIVE_KEY``), so nothing of
    this request is left to drain.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.answered = False

    def read(self, size: int = -1) -> bytes:
        return b"" if self.answered else self._raw.read(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Handler(WSGIRequestHandler):
    """werkzeug's handler, quiet, keeping connections alive (HTTP/1.1) as the vendor's
    service does, and able to hang up with a reset when a fault asks."""

    protocol_version = "HTTP/1.1"
    # An answer goes out in two writes (headers, body). On a kept connection Nagle's algorithm
    # holds the second until the client's delayed ACK of the first: 40 ms per request here.
    disable_nagle_algorithm = True
    # An idle kept-alive connection holds a thread; close it after this long, as a proxy would.
    timeout = IDLE_SECONDS
    rfile: Any
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.rfile = _AnsweredReader(self.rfile)
        self.server.opened(self.connection)

    def handle_one_request(self) -> None:
        self.rfile.answered = False
        # A request refused before werkzeug makes its environ (431, a bad request line) would
        # otherwise be answered with the previous request's KEEP_ALIVE_KEY: the connection
        # stayed open and the rest of the refused request was parsed as further requests.
        self.environ = {}
        super().handle_one_request()

    def send_header(self, keyword: str, value: str) -> None:
        # werkzeug sends "Connection: close" on every answer; keep the connection when the
        # app read the whole request body (nothing would be left to misread as a request).
        if keyword.lower() == "connection" and getattr(self, "environ", {}).get(KEEP_ALIVE_KEY):
            self.rfile.answered = True
            return
        super().send_header(keyword, value)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, self.path, code)

    def log_error(self, format: str, *args: Any) -> None:
        # The idle timeout of a kept connection comes here ("Request timed out: TimeoutError"),
        # and werkzeug would print it as an error to whoever runs the sandbox.
        logger.debug(format, *args)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True

    def finish(self) -> None:
        super().finish()
        self.server.closed(self.connection)
        if getattr(self, "environ", {}).get(DROP_KEY):
            # rfile/wfile are closed now, so this really closes the socket; with SO_LINGER 0
            # the peer gets an RST instead of a FIN.
            self.connection.close()


class _Server(ThreadedWSGIServer):
    """werkzeug's threaded server, which knows its open connections so that stopping it
    closes the kept-alive ones too: they would otherwise be answered by a stopped sandbox."""

    def __init__(
        self,
        host: str,
        port: int,
        app: SandboxApp,
        listener: socket.socket | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        fd = None if listener is None else listener.fileno()
        super().__init__(host, port, app, handler=_Handler, fd=fd, ssl_context=ssl_context)
        if listener is not None:
            # Set by binding, which a given socket skips.
            self.server_name, self.server_port = host, self.port
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """The sandbox in a background thread of this process (tests) or the foreground (CLI)."""

    def __init__(
        self,
        data_dir: Path,
        api_key: str | None = None,
        *,
        speed: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: dict[str, Any] | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        s3_dir: Path | None = None,
        rate_limit: int = DEFAULT_LIMIT,
        upload_headers: dict[str, str] | None = None,
        s3_endpoint: str | None = None,
        keep_log: bool = True,
        listener: socket.socket | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``listener``: a socket already bound and listening, served instead of opening
        ``host``:``port`` (the window knows the demo's address before the sandbox is loaded).
        ``ssl_context``: serve HTTPS with its certificate (the certificate checks of
        docs/network.md are tested this way)."""
        self.api_key = api_key or config.SANDBOX_DEMO_KEY
        self.sandbox = Sandbox(
            Path(data_dir),
            self.api_key,
            speed,
            chunk_size,
            s3_dir=s3_dir,
            s3_endpoint=s3_endpoint,
            upload_headers=upload_headers,
        )
        self.app = SandboxApp(
            self.sandbox, FaultPlan(faults), RateLimiter(rate_limit), keep_log=keep_log
        )
        self._host, self._port = host, port
        self._listener = listener
        self._ssl_context = ssl_context
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The URL to reach the sandbox from this machine (loopback when it listens on all
        addresses: the app sends the API key over plain http only to loopback)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host = WILDCARD_HOSTS.get(self._host, self._host)
        host = host if ":" not in host else f"[{host}]"
        scheme = "http" if self._ssl_context is None else "https"
        return f"{scheme}://{host}:{self._server.server_port}"

    @property
    def on_all_addresses(self) -> bool:
        return self._host in WILDCARD_HOSTS

    @property
    def on_loopback(self) -> bool:
        """Only this computer can connect (the default, 127.0.0.1)."""
        return config.is_loopback(self._host.strip("[]"))

    @property
    def host(self) -> str:
        return self._host

    def base_url(self, version: str = "v1.3") -> str:
        return f"{self.url}/{version}"

    @property
    def requests(self) -> Sequence[ReceivedRequest]:
        """Every request received so far, oldest first (a copy).

        Typed as a Sequence so ``requests.count(("POST", "/v1.3/tasks"))`` type-checks.
        """
        return self.app.log.snapshot()

    @property
    def request_records(self) -> list[RequestRecord]:
        """Every request so far in detail (query, body fields, user agent, client port)."""
        return self.app.log.records()

    def clear_requests(self) -> None:
        self.app.log.clear()

    def set_faults(self, plan: dict[str, Any] | None) -> None:
        """Replace the fault plan (``{}`` or None clears it); rule counts start again."""
        self.app.faults = FaultPlan(plan)

    def listen(self) -> _Server:
        """Open the port and pick up unfinished URL downloads and multipart assemblies; the
        caller serves."""
        server = _Server(self._host, self._port, self.app, self._listener, self._ssl_context)
        self._server = server
        self.sandbox.base_url = self.url
        resume(self.sandbox)
        resume_finishing(self.sandbox)
        return server

    def start(self) -> None:
        """Listen and serve in a background thread; returns once the port is open."""
        server = self.listen()
        # A short poll interval makes stop() quick (the default 0.5 s adds up over a test run).
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="sandbox", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            # shutdown() waits for serve_forever's loop to end: for ever when no thread will
            # ever run it (listen() without start(), or a start cut off before its thread).
            if self._thread is not None and self._thread.is_alive():
                self._server.shutdown()
            self._server.server_close()
            # Kept-alive connections would otherwise outlive the server and be answered by
            # a stopped sandbox.
            self._server.close_connections()
        if self._listener is not None:
            self._listener.close()  # the server served a copy of it; the port closes with both
        if self._thread is not None:
            self._thread.join(timeout=5)
            self.sandbox.close()
        self._server, self._thread = None, None


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def banner(server: SandboxServer, data_dir: Path, speed: float, faults: bool) -> list[str]:
    """What ``uploader-app sandbox`` prints once it listens; the first line gives URL and key."""
    base = server.base_url("v1.3")
    lines = [
        f"Sandbox API at {base} (also /v1.2) - API key: {server.api_key}",
        f"  Data: {data_dir} (kept across restarts)",
        f"  Use it: export TWELVELABS_BASE_URL={base}",
        f"          export TWELVELABS_API_KEY={server.api_key}",
    ]
    if server.on_all_addresses:
        port = base.rsplit(":", 1)[1]
        lines += [
            f"  Listening on all addresses: other machines reach it at http://<this machine's "
            f"address>:{port}",
            "  but the API key then travels unencrypted (plain http). The app sends it only",
            "  over https or to loopback, so use the URL above on this machine.",
        ]
    elif not server.on_loopback:
        # Reachable from the network, and not on loopback: the app refuses this address.
        lines += [
            f"  Listening on {server.host}, which other machines can reach: the API key would "
            "travel",
            "  unencrypted (plain http), so the app refuses to send it there. To use it on this",
            "  machine, start the sandbox without --host (it then listens on 127.0.0.1 only).",
        ]
    lines += [
        f"  Task clock: x{speed:g}" + (" - fault plan loaded" if faults else ""),
        "  Stop with Ctrl-C.",
    ]
    return lines


def run_from_cli(args: argparse.Namespace) -> int:
    """``uploader-app sandbox``: serve until Ctrl-C or SIGTERM, then return 0."""
    try:
        plan = load_plan(args.faults) if args.faults else None
    except (OSError, ValueError, TypeError) as exc:
        print(f"Cannot use the fault plan: {exc}", file=sys.stderr)
        return 2
    data_dir = Path(args.data_dir) if args.data_dir else config.data_dir() / "sandbox"
    try:
        server = SandboxServer(
            data_dir=data_dir,
            api_key=args.api_key,
            speed=args.speed,
            host=args.host,
            port=args.port,
            faults=plan,
            s3_dir=Path(args.s3_dir) if args.s3_dir else None,
            s3_endpoint=args.s3_endpoint,
            keep_log=False,  # nothing reads it, and it would grow for as long as we run
        )
    except (OSError, sqlite3.Error) as exc:
        print(
            f"Cannot keep the sandbox's data in {data_dir}: {exc}. "
            "Choose a folder you can write to with --data-dir.",
            file=sys.stderr,
        )
        return 1
    try:
        bound = server.listen()
    except OSError as exc:
        print(
            f"Cannot listen on {args.host}:{args.port}: {exc}. "
            "Another program may use that port; try --port 0 to pick a free one.",
            file=sys.stderr,
        )
        server.sandbox.close()
        return 1
    for line in banner(server, data_dir, args.speed, plan is not None):
        print(line)
    sys.stdout.flush()
    # A service manager or a test harness stops us with SIGTERM: close the store cleanly then too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        bound.serve_forever()
    except KeyboardInterrupt:
        print("Sandbox stopped.")
    finally:
        bound.server_close()
        server.sandbox.close()
    return 0
