"""Fault injection: each fault kind as a client sees it on the wire."""

from __future__ import annotations

import argparse
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.sandbox_http import Client
from uploader_app.sandbox.faults import load_plan
from uploader_app.sandbox.server import SandboxServer, run_from_cli

Video = Callable[..., Path]


def raw_post(server: SandboxServer, path: str, body_size: int, send: int) -> bytes:
    """Send headers and ``send`` bytes of a ``body_size`` body; return what comes back.

    Raises ConnectionResetError when the server hangs up with a TCP reset.
    """
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nx-api-key: {TEST_API_KEY}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {body_size}\r\n\r\n"
        )
        conn.sendall(head.encode() + b"x" * send)
        time.sleep(0.2)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        return received


def test_status_fault_answers_5xx_then_is_spent(sandbox: SandboxServer, video: Video) -> None:
    api = Client(sandbox)
    index_id = api.index_id()
    sandbox.set_faults(
        {
            "rules": [
                {
                    "method": "POST",
                    "path": "/v1.3/tasks",
                    "fault": "status",
                    "status": 503,
                    "times": 2,
                }
            ]
        }
    )
    clip = video("clip.mp4")
    answers = [api.upload(index_id, clip) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json()["code"] == "service_unavailable"
    assert len(api.get("/tasks").json()["data"]) == 1  # the 503s made nothing
    assert sandbox.requests.count(("POST", "/v1.3/tasks")) == 3


def test_skip_lets_requests_through_first_and_globs_match_paths(sandbox: SandboxServer) -> None:
    api = Client(sandbox)
    index_id = api.index_id()
    sandbox.set_faults(
        {"rules": [{"path": "/v1.3/indexes/*", "fault": "status", "status": 500, "skip": 1}]}
    )
    assert api.get("/indexes").status_code == 200  # the glob needs something after /indexes/
    assert api.get(f"/indexes/{index_id}").status_code == 200  # skipped
    assert api.get(f"/indexes/{index_id}").status_code == 500
    sandbox.set_faults({})
    assert api.get(f"/indexes/{index_id}").status_code == 200


def test_rate_limit_fault_is_a_vendor_429(sandbox: SandboxServer) -> None:
    sandbox.set_faults({"rules": [{"fault": "rate_limit", "retry_after": 3, "times": 1}]})
    before = time.time()  # the answer's clock is later: a loaded machine may take seconds
    answer = Client(sandbox).get("/indexes")
    assert answer.status_code == 429
    assert answer.json()["code"] == "too_many_requests"
    assert answer.headers["Retry-After"] == "3"
    assert answer.headers["X-Ratelimit-Remaining"] == "0"
    assert int(answer.headers["X-Ratelimit-Reset"]) >= int(before) + 3


def test_reset_drops_the_connection_mid_body_with_an_rst(sandbox: SandboxServer) -> None:
    sandbox.set_faults({"rules": [{"method": "POST", "fault": "reset", "times": 1}]})
    with pytest.raises(ConnectionResetError):
        raw_post(sandbox, "/v1.3/tasks", body_size=10_000_000, send=100_000)
    assert Client(sandbox).get("/indexes").status_code == 200  # the server carries on


def test_reset_during_an_upload_makes_no_task(sandbox: SandboxServer, video: Video) -> None:
    api = Client(sandbox)
    sandbox.set_faults({"rules": [{"method": "POST", "path": "/v1.3/tasks", "fault": "reset"}]})
    with pytest.raises(requests.ConnectionError):
        api.upload(api.index_id(), video("clip.mp4"))
    sandbox.set_faults(None)
    assert api.get("/tasks").json()["data"] == []


def test_lost_answer_does_the_work_but_never_answers(sandbox: SandboxServer, video: Video) -> None:
    api = Client(sandbox)
    index_id = api.index_id()
    sandbox.set_faults({"rules": [{"method": "POST", "fault": "lost_answer", "times": 1}]})
    with pytest.raises(requests.ConnectionError):
        api.upload(index_id, video("clip.mp4"))
    assert len(api.get("/tasks").json()["data"]) == 1  # the task exists all the same


def test_slow_answers_after_the_delay(sandbox: SandboxServer) -> None:
    sandbox.set_faults({"rules": [{"fault": "slow", "delay": 0.3}]})
    start = time.monotonic()
    answer = Client(sandbox).get("/indexes")
    assert time.monotonic() - start >= 0.3
    assert answer.status_code == 200


def test_truncated_sends_less_than_its_content_length(sandbox: SandboxServer) -> None:
    sandbox.set_faults({"rules": [{"method": "GET", "fault": "truncated"}]})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        Client(sandbox).get("/indexes")


def test_non_json_answers_an_html_page(sandbox: SandboxServer) -> None:
    sandbox.set_faults({"rules": [{"fault": "non_json", "times": 1}]})
    answer = Client(sandbox).get("/indexes")
    assert answer.status_code == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        answer.json()


def test_probability_is_seeded_and_repeatable(sandbox: SandboxServer) -> None:
    api = Client(sandbox)
    plan = {"seed": 7, "rules": [{"fault": "status", "status": 502, "probability": 0.5}]}
    runs = []
    for _ in range(2):
        sandbox.set_faults(plan)
        runs.append([api.get("/indexes").status_code for _ in range(12)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 502}


def test_a_plan_from_the_constructor_applies_from_the_first_request(
    start_sandbox: StartSandbox,
) -> None:
    plan = {"rules": [{"method": "GET", "path": "/v1.2/*", "fault": "status", "status": 504}]}
    server = start_sandbox(faults=plan)
    assert Client(server, "v1.2").get("/indexes").status_code == 504
    assert Client(server).get("/indexes").status_code == 200


@pytest.mark.parametrize(
    "plan",
    [
        {"rules": [{"fault": "explode"}]},
        {"rules": [{"fault": "status", "status": 404}]},
        {"rules": [{"fault": "slow", "delai": 1}]},
        {"rules": [{"fault": "slow", "probability": 2}]},
    ],
)
def test_a_bad_plan_is_refused(sandbox: SandboxServer, plan: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        sandbox.set_faults(plan)


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        ({"rules": 5}, "'rules' must be a list"),
        ({"rules": [{"fault": "status", "status": "503"}]}, "rule 1: 'status' must be"),
        ({"rules": [{"fault": "slow"}, {"fault": "slow", "path": 5}]}, "rule 2: 'path' must be"),
        ({"rules": [{"fault": "reset", "method": 5}]}, "rule 1: 'method' must be"),
        ({"rules": [{"fault": "slow", "times": "2"}]}, "rule 1: 'times' must be"),
        ({"rules": [{"fault": "slow", "delay": -1}]}, "rule 1: 'delay' must be 0 or more"),
        ({"rules": [{"fault": "status", "status": True}]}, "rule 1: 'status' must be"),
        ({"rules": [{"fault": "non_json", "status": 99}]}, "rule 1: 'status' must be an HTTP"),
        ({"seed": [1], "rules": []}, "'seed' must be"),
        ({"rulez": []}, "unknown keys: rulez"),
    ],
)
def test_a_plan_of_wrong_types_is_refused_naming_the_rule_and_key(
    sandbox: SandboxServer, plan: dict[str, object], words: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        sandbox.set_faults(plan)
    assert Client(sandbox).get("/indexes").status_code == 200  # the old plan still serves


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[1]", "JSON object"),
        ('  {"rules": 5}', "'rules' must be a list"),
        ('{"rules": [{"fault": "status", "status": "503"}]}', "'status' must be"),
    ],
)
def test_the_cli_refuses_an_inline_plan_of_the_wrong_shape_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    assert load_plan_refusal(text) is not None
    args = argparse.Namespace(
        faults=text, data_dir=str(tmp_path / "cli"), api_key=None, speed=1.0,
        host="127.0.0.1", port=0, s3_dir=None,
    )  # fmt: skip
    assert run_from_cli(args) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "cli").exists()  # refused before anything started


def load_plan_refusal(text: str) -> Exception | None:
    try:
        load_plan(text)
    except ValueError as exc:  # not OSError: inline JSON is never taken for a file name
        return exc
    return None
