"""The API key never leaves the keychain or the variable the person set (docs/settings.md):
after a batch with failures, a refused key, a status, a CSV export and a crash, no file of the
app's folder, no export and no output holds the key, as typed or base64/URL-encoded; errors
and the objects that carry the key do not show it either."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, run_cli
from tests.local_http import serving
from uploader_app import keys
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError
from uploader_app.api.retry import RetryPolicy
from uploader_app.config import Settings, load_settings
from uploader_app.sandbox.server import SandboxServer

# Fake keys with the characters that encode differently in base64 and in URLs.
KEY = "tlk_S3cretKey+With/Odd=Chars&0123456789abcdef"
WRONG_KEY = "tlk_WrongKey+Typed/By=Hand&9876543210fedcba"


def encodings(secret: str) -> set[bytes]:
    """``secret`` as it could land in a file: as is, percent-encoded, and base64 (plain and
    URL-safe) wherever it starts in the encoded text (a header line, a token around it)."""
    raw = secret.encode()
    forms = {raw, quote(secret, safe="").encode(), quote_plus(secret).encode()}
    for shift in range(3):
        # Base64 codes 3 bytes as 4 characters: only the groups holding key bytes alone
        # are the same whatever comes before and after it.
        data = b"\0" * shift + raw
        whole = 4 * (len(data) // 3)
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(encode(data)[4 if shift else 0 : whole])
    return forms


def leaks(blobs: Iterable[tuple[str, bytes]], *secrets: str) -> list[str]:
    """Where any form of any secret appears: ``"<where>: <form>"``."""
    forms = {form: secret for secret in secrets for form in encodings(secret)}
    return [f"{where}: {form!r}" for where, blob in blobs for form in forms if form in blob]


def files_under(folder: Path) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()]


def test_a_batch_with_failures_leaves_the_key_nowhere(
    start_sandbox: StartSandbox, video_dir: Path, video: Callable[..., Path], tmp_path: Path
) -> None:
    # Retries (503, 429, an HTML error page) put the client's error paths in the log.
    faults = {
        "seed": 7,
        "rules": [
            {"method": "POST", "path": "/v1.3/tasks", "fault": "status", "status": 503, "times": 2},
            {"path": "/v1.3/tasks/*", "fault": "rate_limit", "retry_after": 0, "times": 1},
            {"method": "GET", "path": "/v1.3/indexes", "fault": "non_json", "times": 1},
        ],
    }
    sandbox = start_sandbox(api_key=KEY, faults=faults)
    home = tmp_path / "home"
    env = cli_env(sandbox, home)
    env["TWELVELABS_API_KEY"] = KEY
    folder = tmp_path / "in"
    distinct_videos(folder, video_dir, 3)
    short = video("short.mp4", duration=1.0)
    (folder / "short.mp4").write_bytes(short.read_bytes())  # refused: too short
    (folder / "broken.mp4").write_bytes(b"\x00" * 4096)  # refused: not a video
    outputs: list[tuple[str, bytes]] = []

    def run(*args: str, key: str = KEY) -> int:
        code, out, err = run_cli({**env, "TWELVELABS_API_KEY": key}, "--verbose", *args)
        outputs.append((f"output of {args}", (out + err).encode()))
        return code

    index = _marengo(sandbox, KEY)
    assert run("upload", "--index", index, "--wait", str(folder)) != 0  # two refused files
    assert run("upload", "--index", index, str(folder), key=WRONG_KEY) != 0  # key refused
    assert run("status") == 0
    export = tmp_path / "export.csv"
    assert run("export", str(export)) == 0
    assert run("indexes", key=WRONG_KEY) != 0
    crash_text = _crash(env, home)
    outputs.append(("crash output", crash_text.encode()))

    written = files_under(home)
    names = {Path(where).name for where, _ in written}
    assert "jobs.sqlite3" in names
    assert any(n.endswith(".log") for n in names)
    assert any(n.startswith("crash-") for n in names)
    assert b"short.mp4" in export.read_bytes()  # the export holds the batch
    assert b"Your API key was rejected" in b"".join(b for _, b in outputs) or any(
        b"API key not accepted" in b for _, b in outputs
    )
    found = leaks([*written, (str(export), export.read_bytes()), *outputs], KEY, WRONG_KEY)
    assert found == []


def _marengo(sandbox: SandboxServer, key: str) -> str:
    with ApiClient(sandbox.base_url(), key, retry=RetryPolicy.interactive()) as client:
        return next(i.id for i in client.iter_indexes() if "marengo" in i.name.lower())


def _crash(env: dict[str, str], home: Path) -> str:
    """An uncaught error whose message holds the key, in a process with the crash hook."""
    program = (
        "import os\n"
        "from uploader_app import crash\n"
        "crash.install()\n"
        "raise RuntimeError('the server echoed ' + os.environ['TWELVELABS_API_KEY'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert (home / "crash-reports").is_dir()
    return done.stdout + done.stderr


def test_errors_and_objects_that_carry_the_key_never_show_it() -> None:
    """A service that echoes the key in its error message (some proxies and gateways do)."""
    from http.server import BaseHTTPRequestHandler

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            sent = self.headers.get("x-api-key", "")
            body = f'{{"code": "api_key_invalid", "message": "key {sent} is not valid"}}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            return None

    with serving(Echo) as url:
        client = ApiClient(f"{url}/v1.3", KEY, retry=RetryPolicy.interactive())
        with client, pytest.raises(ApiError) as caught:
            client.list_indexes()
        shown = [
            str(caught.value),
            repr(caught.value),
            caught.value.message,
            caught.value.user_message,
            caught.value.hint,
            repr(client),
            str(client),
        ]
    settings = Settings(base_url=url, api_key=KEY)
    info = keys.KeyInfo(KEY, "env")
    shown += [repr(settings), str(settings), repr(info), str(info)]
    shown.append(repr(load_settings({"TWELVELABS_API_KEY": KEY})))
    assert leaks([("shown", "\n".join(shown).encode())], KEY) == []
