"""No name from a server's answer or a manifest decides where the app writes: the app writes
only in its own folder and where the person asked (an export, a built manifest). The service's
answers name files ``../../escaped…`` and an absolute path, the bucket's objects carry ``..``
in their keys, and the program runs from, and keeps its own folder in, folders where ``../..``
is still inside the test's folder, so a file written by such a name would be found."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, run_cli
from tests.integration.engine.support import index_id
from tests.s3_emulator import S3Emulator
from uploader_app.cli import main
from uploader_app.sandbox.records import TaskRecord
from uploader_app.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
SRT = b"1\n00:00:00,500 --> 00:00:02,000\nHello.\n"


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def _escaped(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if "escaped" in p.name]


def _hostile_answers(sandbox: SandboxServer, absolute: Path) -> None:
    names = iter(["../../escaped-by-answer.mp4", str(absolute), "..\\..\\escaped-win.mp4"])
    for task in sandbox.sandbox.store.all(TaskRecord):
        name = next(names)

        def change(record: TaskRecord, name: str = name) -> None:
            record.media.filename = name
            record.error_message = f"could not read {name}"

        sandbox.sandbox.store.update(TaskRecord, task.id, change)


def test_file_names_in_the_service_s_answers_write_nothing(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # A slower clock: the tasks are still running when the names change.
    sandbox = start_sandbox(speed=30.0)
    home = tmp_path / "deep" / "er" / "home"  # ../.. of it, too, stays in the test's folder
    env = cli_env(sandbox, home)
    index = index_id(sandbox)
    distinct_videos(tmp_path / "in", video_dir, 3)
    code, _, err = run_cli(env, "upload", "--index", index, str(tmp_path / "in"))
    assert code == 0, err
    absolute = Path("/tmp") / f"escaped-absolute-{uuid.uuid4().hex}.mp4"
    _hostile_answers(sandbox, absolute)
    sandbox.clear_requests()
    work = tmp_path / "work" / "deep" / "down"
    work.mkdir(parents=True)
    before = _files(tmp_path)

    export = tmp_path / "chosen" / "export.csv"
    # The same command again waits for the tasks, reading the answers with those names.
    wait = ("upload", "--index", index, "--wait", str(tmp_path / "in"))
    for args in (wait, ("status", "--json"), ("export", str(export))):
        done = subprocess.run(
            [sys.executable, "-m", "uploader_app", *args],
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    # The program did read answers carrying those names.
    assert [p for m, p in sandbox.requests if m == "GET" and p.startswith("/v1.3/tasks")]
    new = {p for p in _files(tmp_path) - before if home not in p.parents}
    new = {p for p in new if sandbox.sandbox.data_dir not in p.parents}
    assert new == {export}
    assert _escaped(tmp_path) == [] and not absolute.exists()


def test_object_keys_in_a_manifest_write_nothing(
    s3: S3Emulator,
    video: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bucket = s3.bucket("hostile-names")
    s3.put(bucket, "talks/../../escaped-video.mp4", video(duration=5))
    s3.put(bucket, "talks/../../escaped-video.srt", SRT)
    s3.put(bucket, "talks/ok.mp4", video(duration=5))
    s3.put(bucket, "talks/ok.srt", SRT)
    work = tmp_path / "work" / "deep" / "down"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    home = tmp_path / "deep" / "er" / "home"  # ../.. of it, too, stays in the test's folder
    monkeypatch.setenv("UPLOADER_APP_HOME", str(home))
    before = _files(tmp_path)

    built = tmp_path / "chosen" / "built.json"
    code = main(
        ["manifest", "build", f"s3://{bucket}/talks/", "--index", "a" * 24, "-o", str(built)]
    )
    assert code == 0, capsys.readouterr().err
    assert any("escaped" in row.get("object", "") for row in json.loads(built.read_text()))
    rows = [
        {
            "index_id": "a" * 24,
            "object": f"s3://{bucket}/talks/../../escaped-video.mp4",
            "transcription": f"s3://{bucket}/talks/../../escaped-video.srt",
        }
    ]
    hand = tmp_path / "chosen" / "hand.json"
    hand.write_text(json.dumps(rows))
    main(["manifest", "check", "--bucket", str(hand)])
    capsys.readouterr()
    new = {p for p in _files(tmp_path) - before if home not in p.parents}
    assert new == {built, hand}
    assert _escaped(tmp_path) == []
