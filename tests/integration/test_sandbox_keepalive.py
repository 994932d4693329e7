"""The sandbox keeps connections alive (HTTP/1.1) like the vendor's service, so the client's
connection reuse is exercised; it closes them where an answer cannot be trusted to end."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import StartSandbox
from tests.integration.client_support import make_client
from tests.sandbox_http import Client
from uploader_app.sandbox.server import SandboxServer, _Handler


def _ports(server: SandboxServer) -> set[int]:
    return {r.remote_port for r in server.request_records}


def test_the_client_sends_many_calls_over_one_connection(sandbox: SandboxServer) -> None:
    client = make_client(sandbox)
    index = client.list_indexes().items[0]
    client.get_index(index.id)
    client.list_tasks(index_id=index.id)
    client.list_tasks(index_id=index.id)
    client.close()
    assert len(sandbox.request_records) == 4
    assert len(_ports(sandbox)) == 1


def test_an_upload_over_a_kept_connection_leaves_it_usable(
    sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    api = Client(sandbox)
    index_id = api.index_id()
    clip = video(duration=5)
    assert api.upload(index_id, clip).status_code == 200
    refused = api.upload("f" * 24, clip)  # refused before the body is used: it is drained
    assert refused.json()["code"] == "resource_not_exist"
    assert api.get("/indexes").status_code == 200
    assert len(_ports(sandbox)) == 1


def test_an_error_answer_keeps_the_connection(sandbox: SandboxServer) -> None:
    api = Client(sandbox)
    assert api.post("/indexes", json={"index_name": "x", "bogus": 1}).status_code == 400
    assert api.get("/indexes", params={"page_limit": 99}).status_code == 400
    assert api.get("/indexes").status_code == 200
    assert len(_ports(sandbox)) == 1


def test_a_truncated_answer_closes_the_connection(start_sandbox: StartSandbox) -> None:
    server = start_sandbox(faults={"rules": [{"path": "/v1.3/indexes", "fault": "truncated"}]})
    api = Client(server)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get("/indexes").json()
    server.set_faults(None)
    assert api.get("/indexes").status_code == 200
    assert len(_ports(server)) == 2


def test_stopping_closes_kept_connections(start_sandbox: StartSandbox) -> None:
    server = start_sandbox()
    api = Client(server)
    assert api.get("/indexes").status_code == 200
    server.stop()
    # The pooled connection is closed with the server, not answered by a stopped sandbox.
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("/indexes")


def test_stop_returns_for_a_server_listened_on_but_never_served(tmp_path: Path) -> None:
    """socketserver's shutdown() waits for a serve loop that nothing will run: stop() used to
    hang for good, the window's thread with it, and the port handed over stayed open."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = SandboxServer(tmp_path / "sandbox", listener=listener)
    server.listen()
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_answers_on_a_kept_connection_are_not_held_back(sandbox: SandboxServer) -> None:
    """Without TCP_NODELAY each answer's body waits for the client's delayed ACK of its
    headers: 40 ms a request, 1.4 s for these 30 (0.04 s without the wait)."""
    api = Client(sandbox)
    api.get("/indexes")
    started = time.perf_counter()
    for _ in range(30):
        assert api.get("/indexes", params={"page_limit": 1}).status_code == 200
    assert time.perf_counter() - started < 0.9
    assert len(_ports(sandbox)) == 1


def test_an_idle_connection_is_closed_quietly(
    start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """werkzeug reports the idle timeout as an error line ("Request timed out:
    TimeoutError(...)") that a person running the sandbox would read as a failure."""
    monkeypatch.setattr(_Handler, "timeout", 0.3)
    server = start_sandbox()
    with socket.create_connection(("127.0.0.1", urlsplit(server.url).port or 0), timeout=5) as conn:
        conn.sendall(b"GET /v1.3/indexes HTTP/1.1\r\nHost: sandbox\r\n\r\n")
        assert conn.recv(64).startswith(b"HTTP/1.1 401")
        time.sleep(0.8)
        while conn.recv(65536):  # the rest of the answer, then the close
            pass
    assert not [r for r in caplog.records if r.name == "werkzeug"]


def test_a_request_the_http_parser_refuses_closes_a_kept_connection(
    sandbox: SandboxServer,
) -> None:
    """The refusal (431) must not be read with the previous request's state: that one kept
    the connection, and the rest of the refused request was then parsed as more requests."""
    good = b"GET /v1.3/indexes HTTP/1.1\r\nHost: sandbox\r\n\r\n"
    refused = b"GET /v1.3/indexes HTTP/1.1\r\nHost: sandbox\r\n" + b"X-Many: y\r\n" * 200 + b"\r\n"
    with socket.create_connection(
        ("127.0.0.1", urlsplit(sandbox.url).port or 0), timeout=5
    ) as conn:
        conn.sendall(good + refused)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert [a[:3] for a in answers] == [b"401", b"431"]
    assert b"\r\nConnection: close\r\n" in answers[1]
