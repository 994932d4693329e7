"""The key travels over plain HTTP only to this computer (docs/settings.md): an http://
address of another machine is refused in plain words before anything is sent, and the
sandbox listens on loopback unless told otherwise, saying so when it is told."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, run_cli
from tests.reliability.netsec_support import own_network_address
from uploader_app.api.errors import InsecureUrlError
from uploader_app.api.transport import check_key_safe

ADDRESS = own_network_address()
needs_address = pytest.mark.skipif(ADDRESS is None, reason="this machine has no network address")


@needs_address
def test_the_key_is_not_sent_over_plain_http_to_another_machine(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The sandbox listens on every address, so it answers at this machine's network address
    like a server elsewhere on the office network would; the program refuses to go there."""
    sandbox = start_sandbox(host="0.0.0.0")
    port = sandbox.url.rsplit(":", 1)[1]
    remote = f"http://{ADDRESS}:{port}"
    # The address works (a request without the key gets an answer): the refusal is the app's.
    assert requests.get(f"{remote}/v1.3/indexes", timeout=10).status_code == 401
    sandbox.clear_requests()
    env = {**cli_env(sandbox, tmp_path / "home"), "TWELVELABS_BASE_URL": f"{remote}/v1.3"}
    code, out, err = run_cli(env, "indexes", timeout=60)
    assert code != 0
    assert "does not use HTTPS, so the API key would travel unprotected" in err
    assert "start with https://" in err
    assert "Traceback" not in out + err
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.twelvelabs.io/v1.3", True),
        ("http://127.0.0.1:4010/v1.3", True),
        ("http://127.0.0.2:4010/v1.3", True),  # all of 127.0.0.0/8 is this computer
        ("http://localhost:4010/v1.3", True),
        ("http://[::1]:4010/v1.3", True),
        ("http://api.twelvelabs.io/v1.3", False),
        ("http://10.0.0.5/v1.3", False),
        ("http://192.168.1.20:4010/v1.3", False),
        ("http://0.0.0.0:4010/v1.3", False),  # "any address" is no loopback
        ("http://localhost.example.com/v1.3", False),
        ("http://127.0.0.1.nip.io/v1.3", False),  # a name that only looks like loopback
        ("ftp://127.0.0.1/v1.3", False),
    ],
)
def test_the_plain_http_rule(url: str, allowed: bool) -> None:
    if allowed:
        check_key_safe(url)
    else:
        with pytest.raises(InsecureUrlError):
            check_key_safe(url)


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[Callable[..., list[str]]]:
    """Starts ``uploader-app sandbox`` with extra arguments; returns its first lines."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> list[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "uploader_app", "sandbox", "--port", "0", *args],
            env={"PATH": "/usr/bin:/bin", "UPLOADER_APP_HOME": str(tmp_path / "home")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("  Stop with Ctrl-C."):
                break
        return lines

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def _port(first_line: str) -> int:
    match = re.search(r"http://[^ ]+:(\d+)/v1\.3", first_line)
    assert match, first_line
    return int(match[1])


@needs_address
def test_the_sandbox_listens_on_loopback_unless_told(
    sandbox_process: Callable[..., list[str]],
) -> None:
    lines = sandbox_process()
    assert lines[0].startswith("Sandbox API at http://127.0.0.1:")
    assert not any("other machines" in line for line in lines)
    port = _port(lines[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    with pytest.raises(OSError):  # refused: nothing listens there
        socket.create_connection((ADDRESS, port), timeout=5).close()


@needs_address
def test_the_sandbox_says_so_when_it_listens_on_the_network(
    sandbox_process: Callable[..., list[str]],
) -> None:
    wide = sandbox_process("--host", "0.0.0.0")
    assert wide[0].startswith("Sandbox API at http://127.0.0.1:")
    assert any("Listening on all addresses" in line for line in wide)
    assert any("travels unencrypted" in line for line in wide)

    one = sandbox_process("--host", ADDRESS)
    text = "\n".join(one)
    assert f"Listening on {ADDRESS}, which other machines can reach" in text
    assert "the app refuses to send it there" in text
