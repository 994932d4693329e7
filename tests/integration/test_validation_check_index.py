"""``check --index`` when the API cannot be reached: it says what it does and gives up quickly."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY
from uploader_app.cli import main

Video = Callable[..., Path]


@pytest.fixture
def hanging_up_server() -> Iterator[tuple[str, list[float]]]:
    """A TCP port on 127.0.0.1 that accepts each connection and closes it at once."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # closing a socket does not wake a blocked accept()
    accepted: list[float] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(time.monotonic())
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1.3", accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_an_unreachable_index_is_reported_after_one_quick_retry(
    hanging_up_server: tuple[str, list[float]],
    video: Video,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base_url, accepted = hanging_up_server
    monkeypatch.setenv("TWELVELABS_BASE_URL", base_url)
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)
    started = time.monotonic()
    assert main(["check", "--index", "6500aa", str(video("clip.mp4"))]) == 2
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    assert captured.out == ""
    reading, error = captured.err.splitlines()
    assert reading == "Reading index 6500aa…"
    assert error.startswith("Could not read index 6500aa: ")
    # The default policy tries 5 times over ~8-15 s; someone at a terminal gets 2 tries.
    assert len(accepted) == 2
    assert elapsed < 5.0
