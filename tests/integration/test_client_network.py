"""Failures below HTTP, over real sockets on 127.0.0.1: refused, TLS, timeouts, DNS.

No sandbox is needed: each test opens the smallest socket that misbehaves the right way.
"""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.integration.client_support import Sleeps
from tests.local_http import serving
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import AuthError, CancelledError, NetworkError, ServerError
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.transport import Timeouts

FAKE_KEY = "tlk_FAKE_network_key_42"


def _client(url: str, sleeps: Sleeps, attempts: int = 3, read: float = 5.0) -> ApiClient:
    return ApiClient(
        url,
        FAKE_KEY,
        retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.02),
        timeout=Timeouts(connect=2.0, read=read, upload_read=read),
        sleep=sleeps,
    )


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections, reads, never answers (a stuck server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in conns:
        conn.close()
    server.close()


def test_connection_refused_is_retried_then_explained(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps = Sleeps()
    client = _client(f"http://127.0.0.1:{closed_port}/v1.3", sleeps)
    with pytest.raises(NetworkError) as caught:
        client.list_indexes()
    assert caught.value.code == "connection_failed"
    assert caught.value.before_sending
    assert caught.value.title == "Cannot reach the service"
    assert len(sleeps) == 2  # three attempts in all
    assert FAKE_KEY not in caplog.text + str(caught.value) + repr(caught.value)


def test_interactive_policy_gives_up_on_an_unreachable_host_at_once(closed_port: int) -> None:
    # `check --index` against a dead host: one quick retry, not a silent 11 s.
    sleeps = Sleeps()
    client = ApiClient(
        f"http://127.0.0.1:{closed_port}/v1.3",
        FAKE_KEY,
        retry=RetryPolicy.interactive(),
        sleep=sleeps,
    )
    with pytest.raises(NetworkError):
        client.get_index("idx")
    assert len(sleeps) == 1
    assert sum(sleeps) <= 1.0


def test_read_timeout_is_a_network_timeout(silent_server: int) -> None:
    sleeps = Sleeps()
    client = _client(f"http://127.0.0.1:{silent_server}/v1.3", sleeps, attempts=2, read=0.2)
    with pytest.raises(NetworkError) as caught:
        client.get_task("t1")
    assert caught.value.code == "network_timeout"
    assert not caught.value.before_sending
    assert len(sleeps) == 1


def test_tls_failure_is_not_retried() -> None:
    # A plain-HTTP server: the TLS handshake gets an HTTP answer instead of a ServerHello.
    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen()

    def answer_plain_http() -> None:
        conn, _ = plain.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        conn.close()

    threading.Thread(target=answer_plain_http, daemon=True).start()
    sleeps = Sleeps()
    client = _client(f"https://127.0.0.1:{plain.getsockname()[1]}/v1.3", sleeps)
    try:
        with pytest.raises(NetworkError) as caught:
            client.list_indexes()
    finally:
        plain.close()
    assert caught.value.code == "tls_error"
    assert sleeps == []
    assert FAKE_KEY not in str(caught.value)


def test_unknown_host_is_a_dns_failure() -> None:
    sleeps = Sleeps()
    client = _client("https://nonexistent.invalid/v1.3", sleeps, attempts=1)
    with pytest.raises(NetworkError) as caught:
        client.list_indexes()
    assert caught.value.code == "dns_failed"
    assert caught.value.title == "Server address not found"


def test_cancel_interrupts_the_wait_between_retries(closed_port: int) -> None:
    cancel = threading.Event()
    waited: list[float] = []

    def sleep_then_cancel(seconds: float, event: threading.Event | None) -> None:
        waited.append(seconds)
        cancel.set()  # the user presses Cancel during the wait

    client = ApiClient(
        f"http://127.0.0.1:{closed_port}/v1.3",
        FAKE_KEY,
        retry=RetryPolicy(max_attempts=5, base_delay=0.01),
        sleep=sleep_then_cancel,
    )
    with pytest.raises(CancelledError):
        client.create_task_from_url("idx", "https://example.com/a.mp4", cancel=cancel)
    assert len(waited) == 1


def test_default_sleep_wakes_up_on_cancel(closed_port: int) -> None:
    cancel = threading.Event()
    client = ApiClient(
        f"http://127.0.0.1:{closed_port}/v1.3",
        FAKE_KEY,
        retry=RetryPolicy(max_attempts=3, base_delay=60.0, max_delay=60.0),
    )
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        client.create_task_from_url("idx", "https://example.com/a.mp4", cancel=cancel)
    assert time.monotonic() - started < 5.0  # not the 30-60 s backoff


class _EchoKeyHandler(http.server.BaseHTTPRequestHandler):
    """A careless server that quotes the key it was sent in its error message."""

    def do_GET(self) -> None:
        body = json.dumps(
            {"code": "api_key_invalid", "message": f"key {self.headers['x-api-key']} expired"}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_key_quoted_by_the_server_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serving(_EchoKeyHandler) as url:
        client = _client(f"{url}/v1.3", Sleeps())
        with pytest.raises(AuthError) as caught:
            client.list_indexes()
    error = caught.value
    assert "[redacted] expired" in error.message
    for text in (str(error), repr(error), error.message, caplog.text, repr(error.args)):
        assert FAKE_KEY not in text


class _BusyHandler(http.server.BaseHTTPRequestHandler):
    """503 ``failures`` times, then an empty index list. Like the vendor, every answer carries
    X-Ratelimit-*; the window resets in six hours."""

    failures = 0
    seen = 0

    def do_GET(self) -> None:
        type(self).seen += 1
        busy = self.seen <= self.failures
        body = (
            b'{"code": "service_unavailable", "message": "busy"}'
            if busy
            else (b'{"data": [], "page_info": {"page": 1, "total_page": 1, "total_results": 0}}')
        )
        self.send_response(503 if busy else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Ratelimit-Limit", "600")
        self.send_header("X-Ratelimit-Remaining", "598")
        self.send_header("X-Ratelimit-Reset", str(int(time.time()) + 6 * 3600))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def busy_server() -> Iterator[tuple[str, type[_BusyHandler]]]:
    handler = type("Busy", (_BusyHandler,), {"failures": 0, "seen": 0})
    with serving(handler) as url:
        yield f"{url}/v1.3", handler


def test_503_is_retried_with_backoff_despite_a_distant_ratelimit_reset(
    busy_server: tuple[str, type[_BusyHandler]],
) -> None:
    url, handler = busy_server
    handler.failures = 1
    sleeps = Sleeps()
    assert _client(url, sleeps).list_indexes().items == ()
    assert handler.seen == 2
    assert len(sleeps) == 1 and sleeps[0] < 1.0  # backoff, not the six-hour window reset


def test_503_that_persists_does_not_tell_the_user_to_wait_hours(
    busy_server: tuple[str, type[_BusyHandler]],
) -> None:
    url, handler = busy_server
    handler.failures = 99
    sleeps = Sleeps()
    with pytest.raises(ServerError) as caught:
        _client(url, sleeps, attempts=3).list_indexes()
    assert handler.seen == 3
    assert caught.value.retry_after is None
    assert "hour" not in caught.value.hint
