"""``SandboxServer``: the sandbox on a threaded werkzeug server, and ``uploader-app sandbox``."""

from __future__ import annotations

import argparse
import logging
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from uploader_app import config
from uploader_app.sandbox.app import DROP_KEY, ReceivedRequest, SandboxApp
from uploader_app.sandbox.faults import FaultPlan, load_plan
from uploader_app.sandbox.fetch import resume
from uploader_app.sandbox.multipart import resume_finishing
from uploader_app.sandbox.ratelimit import DEFAULT_LIMIT, RateLimiter
from uploader_app.sandbox.service import DEFAULT_CHUNK_SIZE, Sandbox

logger = logging.getLogger(__name__)


# Listening on every address: this machine reaches the sandbox on loopback.
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class _Handler(WSGIRequestHandler):
    """werkzeug's handler, quiet, and able to hang up with a reset when a fault asks."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, self.path, code)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True

    def finish(self) -> None:
        super().finish()
        if getattr(self, "environ", {}).get(DROP_KEY):
            # rfile/wfile are closed now, so this really closes the socket; with SO_LINGER 0
            # the peer gets an RST instead of a FIN.
            self.connection.close()


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
    ) -> None:
        self.api_key = api_key or config.SANDBOX_DEMO_KEY
        self.sandbox = Sandbox(
            Path(data_dir), self.api_key, speed, chunk_size, s3_dir, upload_headers=upload_headers
        )
        self.app = SandboxApp(self.sandbox, FaultPlan(faults), RateLimiter(rate_limit))
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The URL to reach the sandbox from this machine (loopback when it listens on all
        addresses: the app sends the API key over plain http only to loopback)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host = WILDCARD_HOSTS.get(self._host, self._host)
        host = host if ":" not in host else f"[{host}]"
        return f"http://{host}:{self._server.server_port}"

    @property
    def on_all_addresses(self) -> bool:
        return self._host in WILDCARD_HOSTS

    def base_url(self, version: str = "v1.3") -> str:
        return f"{self.url}/{version}"

    @property
    def requests(self) -> Sequence[ReceivedRequest]:
        """Every request received so far, oldest first (a copy).

        Typed as a Sequence so ``requests.count(("POST", "/v1.3/tasks"))`` type-checks.
        """
        return self.app.log.snapshot()

    def clear_requests(self) -> None:
        self.app.log.clear()

    def set_faults(self, plan: dict[str, Any] | None) -> None:
        """Replace the fault plan (``{}`` or None clears it); rule counts start again."""
        self.app.faults = FaultPlan(plan)

    def listen(self) -> BaseWSGIServer:
        """Open the port and pick up unfinished URL downloads and multipart assemblies; the
        caller serves."""
        server = make_server(
            self._host, self._port, self.app, threaded=True, request_handler=_Handler
        )
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
            self._server.shutdown()
            self._server.server_close()
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
