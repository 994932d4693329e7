"""verify_key against the sandbox on 127.0.0.1: accepted, refused, unreachable."""

from __future__ import annotations

import logging
import socket
import time

from tests.conftest import TEST_API_KEY, StartSandbox
from uploader_app.keys import verify_key
from uploader_app.logfile import setup_logging


def test_a_valid_key_passes(start_sandbox: StartSandbox) -> None:
    assert verify_key(start_sandbox().base_url("v1.3"), TEST_API_KEY) is None


def test_a_refused_key_says_where_to_find_a_valid_one(start_sandbox: StartSandbox) -> None:
    refused = "tlk_refused-key-for-the-test"
    path = setup_logging(verbose=True)
    problem = verify_key(start_sandbox().base_url("v1.3"), refused)
    assert problem is not None
    assert problem.code == "api_key_invalid"
    assert problem.in_settings
    assert problem.title == "API key not accepted"
    assert "mistyped, expired or revoked" in problem.message
    assert "API Key page" in problem.hint
    # Even with every request logged, the key never reaches the log file.
    logging.getLogger().handlers[-1].flush()
    text = path.read_text(encoding="utf-8")
    assert "GET /v1.3/indexes" in text
    assert "the key was refused" in text
    assert refused not in text


def test_an_unreachable_service_is_reported_quickly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    problem = verify_key(f"http://127.0.0.1:{port}/v1.3", TEST_API_KEY)
    assert time.monotonic() - started < 10
    assert problem is not None
    assert problem.code == "connection_failed"
    assert not problem.in_settings  # a passing problem: the key may be fine
    assert problem.message
    assert problem.hint


def test_an_empty_key_is_refused_before_asking() -> None:
    problem = verify_key("http://127.0.0.1:9/v1.3", "  ")
    assert problem is not None
    assert problem.code == "no_api_key"
    assert "API Key page" in problem.hint
