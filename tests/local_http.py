"""Small HTTP servers on 127.0.0.1 for tests: a static folder, or a handler of the test's own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class QuietFiles(SimpleHTTPRequestHandler):
    """Serves a folder without writing a log line per request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1; yields ``http://127.0.0.1:PORT``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def files_in(folder: Path) -> Callable[..., BaseHTTPRequestHandler]:
    def make(*args: Any, **kwargs: Any) -> BaseHTTPRequestHandler:
        return QuietFiles(*args, directory=str(folder), **kwargs)

    return make
