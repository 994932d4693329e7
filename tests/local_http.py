"""Small HTTP servers on 127.0.0.1 for tests: a static folder, or a handler of the test's own."""

from __future__ import annotations

import re
import sys
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


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (as URL checks do once they have read enough)
        # is normal here; anything else is still printed.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serving(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1; yields ``http://127.0.0.1:PORT``."""
    server = _Server(("127.0.0.1", 0), handler)
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


class RangeFiles(QuietFiles):
    """Serves a folder with HTTP range requests (206 answers), as web servers and CDNs do.

    ``served`` (set by :func:`ranged_files_in`) records each request's path and the number of
    bytes answered, so a test can tell how much of a file was read.
    """

    served: list[tuple[str, int]]

    def do_GET(self) -> None:
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        path = Path(self.translate_path(self.path))
        if wanted is None or not path.is_file():
            self.served.append((self.path, path.stat().st_size if path.is_file() else 0))
            super().do_GET()
            return
        size = path.stat().st_size
        start = int(wanted[1])
        end = min(int(wanted[2]) if wanted[2] else size - 1, size - 1)
        if start >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with path.open("rb") as fh:
            fh.seek(start)
            data = fh.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(data)
        self.served.append((self.path, len(data)))


def ranged_files_in(
    folder: Path, served: list[tuple[str, int]]
) -> Callable[..., BaseHTTPRequestHandler]:
    handler = type("Ranged", (RangeFiles,), {"served": served})

    def make(*args: Any, **kwargs: Any) -> BaseHTTPRequestHandler:
        return handler(*args, directory=str(folder), **kwargs)  # type: ignore[no-any-return]

    return make
