"""The v1.3 links' S3 clients (jobs/transfer._Presigners): shared, but never stale."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from uploader_app.jobs import transfer
from uploader_app.manifest.checks import BucketError
from uploader_app.manifest.uris import S3Uri


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline: making a client reads only these (nothing is sent to AWS)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_rows_share_one_client_until_the_credentials_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    presigners = transfer._Presigners()
    first = presigners.get(None)
    assert presigners.get(None) is first
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # another S3 store
    assert presigners.get(None) is not first
    monkeypatch.setattr(transfer, "KEEP_S3_CLIENT", 0.0)  # kept no longer than that
    kept = presigners.get(None)
    assert presigners.get(None) is not kept


def test_a_profile_that_is_missing_is_not_kept_as_a_client() -> None:
    presigners = transfer._Presigners()
    with pytest.raises(BucketError, match="no AWS profile named 'nobody'"):
        presigners.get("nobody")
    with pytest.raises(BucketError):
        presigners.get("nobody")  # asked again, not a remembered client of another profile
    assert presigners.get(None) is presigners.get(None)


def test_credentials_fixed_in_the_aws_files_are_used_by_the_next_row(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A refused link makes the person fix their key (``aws configure`` rewrites
    ~/.aws/credentials): the next send must sign with the new key, not with a client made
    from the old one minutes before."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    credentials = tmp_path / "credentials"
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    uri = S3Uri("media-west", "clips/01.mp4")
    presigners = transfer._Presigners()
    with pytest.raises(BucketError, match="No AWS credentials"):
        presigners.get(None).presign(uri)
    credentials.write_text("[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = x\n")
    assert "AKIDOLD" in presigners.get(None).presign(uri)
    credentials.write_text("[default]\naws_access_key_id = AKIDNEW\naws_secret_access_key = y\n")
    stat = credentials.stat()  # a second write within the file system's time resolution
    os.utime(credentials, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert "AKIDNEW" in presigners.get(None).presign(uri)
