"""AWS credentials stay where the person keeps them (the environment, ~/.aws, a profile): after
a manifest is built from a bucket and sent over both routes (v1.2 transfers, v1.3 presigned
links) with credentials in the environment, neither the key id nor the secret is in any file
of the app's folder, the written manifest or the output (docs/manifests.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.reliability.test_secrets import files_under, leaks
from tests.s3_emulator import ACCESS_KEY, SECRET_KEY, S3Emulator
from tests.sandbox_http import Client
from uploader_app.cli import main

BUCKET = "office-videos"
SESSION_TOKEN = "FQoGZXIvYXdzEFakeSessionTokenForTests0123456789"


# v1.2 (the service fetches from the bucket itself) is the longer run: `make reliability`.
@pytest.mark.parametrize("version", [pytest.param("v1.2", marks=pytest.mark.soak), "v1.3"])
def test_aws_credentials_are_never_stored(  # noqa: PLR0917 (fixtures)
    s3: S3Emulator,
    video: Callable[..., Path],
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    version: str,
) -> None:
    s3.bucket(BUCKET)
    s3.put(BUCKET, "talks/01.mp4", video(duration=5))
    s3.put(BUCKET, "talks/02.mp4", video(duration=6))
    # A session token too, as temporary (SSO, assumed-role) credentials carry; moto accepts it.
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    server = start_sandbox(s3_endpoint=s3.url)
    index_id = Client(server, version).index_id()
    home = tmp_path / "home"
    monkeypatch.setenv("TWELVELABS_BASE_URL", server.base_url(version))
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("UPLOADER_APP_HOME", str(home))
    monkeypatch.setenv("UPLOADER_APP_LOOKUP_GRACE", "1")
    manifest = tmp_path / "built.json"

    assert (
        main(
            [
                "--verbose",
                "manifest",
                "build",
                f"s3://{BUCKET}/talks/",
                "--index",
                index_id,
                "-o",
                str(manifest),
            ]
        )
        == 0
    )
    assert len(json.loads(manifest.read_text())) == 2
    built = capsys.readouterr()
    assert main(["--verbose", "transfer", str(manifest), "--wait", "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert [r["state"] for r in rows] == ["ready", "ready"]

    written = files_under(home)
    assert any(where.endswith("jobs.sqlite3") for where, _ in written)
    # The --verbose daily log is where botocore's signed headers once landed: it must be searched.
    assert any(where.endswith(".log") for where, _ in written)
    blobs = [
        *written,
        (str(manifest), manifest.read_bytes()),
        ("output", (built.out + built.err + captured.out + captured.err).encode()),
    ]
    assert leaks(blobs, SECRET_KEY, SESSION_TOKEN) == []
    # The key id is no secret to AWS, but it names the account's user: not kept either
    # (a presigned link carries it, so links are not kept whole).
    assert leaks(blobs, ACCESS_KEY) == []
