"""A minimal HTTP sink for the upload benchmark: it reads bodies in 1 MiB ``readinto`` calls.

Against a server slower than the client, every client looks equally fast; this one drains
faster than any client here sends, so the client is the limit (see docs/performance.md).
Benchmark-only code: it answers every request with a task-created body, each with an id of
its own (the engine never lets two jobs report one task).

Run: ``python -m tests.benchmarks.drain_server`` prints ``http://127.0.0.1:PORT`` and serves.
"""

from __future__ import annotations

import itertools
import socketserver

_ANSWER = '{{"_id":"drain-task-{n}","video_id":"drain-video-{n}"}}'
_BUFFER = 1 << 20
_IDS = itertools.count()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        buf = bytearray(_BUFFER)
        view = memoryview(buf)
        while True:
            length = self._read_headers()
            if length is None:
                return
            remaining = length
            while remaining:
                got = self.rfile.readinto(view[: min(remaining, _BUFFER)])
                if not got:
                    return
                remaining -= got
            answer = _ANSWER.format(n=next(_IDS)).encode()
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer
            )
            self.wfile.flush()

    def _read_headers(self) -> int | None:
        length = 0
        first = self.rfile.readline()
        if not first:
            return None
        while True:
            line = self.rfile.readline()
            if line in (b"\r\n", b"\n", b""):
                return length
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() == b"expect":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.wfile.flush()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    with _Server(("127.0.0.1", 0), _Handler) as server:
        print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
