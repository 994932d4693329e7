"""End to end: the guide's own manifest, pointed at a test bucket and a real sandbox index,
goes check -> ``uploader-app transfer --wait`` -> every video ready, on API v1.2 and v1.3.

The bucket is named ``twelve-labs-docs`` as in the guide, so the file differs from the guide's
example only in its index ids (the sandbox's). S3 is a moto server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.s3_emulator import S3Emulator, only_profile
from tests.sandbox_http import Client
from uploader_app.api.retry import RetryPolicy
from uploader_app.cli import main
from uploader_app.jobs import transfer
from uploader_app.manifest.bucket import S3Access
from uploader_app.sandbox.records import TaskRecord
from uploader_app.sandbox.server import SandboxServer

Video = Callable[..., Path]
GUIDE = Path(__file__).resolve().parents[1] / "data" / "manifests" / "vendor-guide-example.json"
BUCKET = "twelve-labs-docs"
SRT = b"1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n2\n00:00:02,500 --> 00:00:04,000\nBye.\n"


@pytest.fixture
def bucket(s3: S3Emulator, video: Video) -> str:
    s3.bucket(BUCKET)
    s3.put(BUCKET, "01.mp4", video(duration=5))
    s3.put(BUCKET, "02.mp4", video(duration=6))
    s3.put(BUCKET, "01.srt", SRT)
    s3.put(BUCKET, "02.srt", SRT)
    return BUCKET


def guide_manifest(tmp_path: Path, index_id: str) -> Path:
    """The guide's example with both (broken and good) index ids replaced by ``index_id``."""
    text = GUIDE.read_text()
    for wrong in ("629d807aa9e2a3a33a92c00b1", "629d807aa9e2a3a33a92c00b"):
        text = text.replace(f'"{wrong}"', f'"{index_id}"')
    path = tmp_path / "transfer.json"
    path.write_text(text)
    return path


def use(monkeypatch: pytest.MonkeyPatch, server: SandboxServer, home: Path, version: str) -> None:
    monkeypatch.setenv("TWELVELABS_BASE_URL", server.base_url(version))
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("UPLOADER_APP_HOME", str(home))
    monkeypatch.setenv("UPLOADER_APP_LOOKUP_GRACE", "1")


def transfer_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[Any], str]:
    code = main(["transfer", *argv, "--wait", "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else [], captured.err


def _tasks(server: SandboxServer) -> list[TaskRecord]:
    return server.sandbox.store.all(TaskRecord)


def test_v12_guide_manifest_check_send_ready_with_transcriptions(  # noqa: PLR0917 (fixtures)
    s3: S3Emulator,
    bucket: str,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_sandbox(s3_endpoint=s3.url)
    index_id = Client(server, "v1.2").index_id()
    manifest = guide_manifest(tmp_path, index_id)
    assert main(["manifest", "check", "--bucket", str(manifest)]) == 0
    capsys.readouterr()
    use(monkeypatch, server, tmp_path / "home", "v1.2")

    code, rows, err = transfer_json(capsys, str(manifest))
    assert code == 0, err
    assert [(r["path"], r["state"]) for r in rows] == [
        (f"s3://{bucket}/01.mp4", "ready"),
        (f"s3://{bucket}/02.mp4", "ready"),
    ]
    assert all(r["task_id"] and r["video_id"] and r["route"] == "transfer" for r in rows)
    assert server.requests.count(("POST", "/v1.2/tasks/transfers")) == 1  # one request
    made = {t.object_uri: t for t in _tasks(server)}
    assert made[f"s3://{bucket}/01.mp4"].transcription == f"s3://{bucket}/01.srt"
    assert made[f"s3://{bucket}/02.mp4"].transcription == f"s3://{bucket}/02.srt"
    assert {t.language for t in made.values()} == {"en"}
    assert {t.id for t in made.values()} == {r["task_id"] for r in rows}

    # Sending again from this computer: the same jobs, nothing sent.
    code, again, _ = transfer_json(capsys, str(manifest))
    assert code == 0
    assert [r["job"] for r in again] == [r["job"] for r in rows]
    assert server.requests.count(("POST", "/v1.2/tasks/transfers")) == 1

    # From another computer (a new job list): the service skips the files it has, and the
    # rows show as already in the index, with their videos.
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 2.0)
    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "other-home"))
    code, elsewhere, err = transfer_json(capsys, str(manifest))
    assert code == 0, err
    assert [r["state"] for r in elsewhere] == ["already_in_index", "already_in_index"]
    assert {r["video_id"] for r in elsewhere} == {r["video_id"] for r in rows}
    assert len(_tasks(server)) == 2


def test_v13_guide_manifest_goes_by_presigned_links_and_says_transcriptions_are_not_sent(
    bucket: str,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_sandbox()  # no S3 access of its own: it fetches the links
    index_id = Client(server).index_id()
    manifest = guide_manifest(tmp_path, index_id)
    use(monkeypatch, server, tmp_path / "home", "v1.3")

    code, rows, err = transfer_json(capsys, str(manifest))
    assert code == 0, err
    assert [(r["path"], r["state"], r["route"]) for r in rows] == [
        (f"s3://{bucket}/01.mp4", "ready", "url"),
        (f"s3://{bucket}/02.mp4", "ready", "url"),
    ]
    said = "API v1.3 takes no transcription with a video, so 2 videos are sent without theirs"
    assert f"{said} (01.srt, 02.srt)." in err
    fetched = [t.video_url or "" for t in _tasks(server)]
    assert len(fetched) == 2
    assert all("X-Amz-Signature=" in url and f"/{bucket}/" in url for url in fetched)
    assert sorted(t.media.filename for t in _tasks(server)) == ["01.mp4", "02.mp4"]
    assert sorted(t.media.duration > 4 for t in _tasks(server)) == [True, True]

    code, again, _ = transfer_json(capsys, str(manifest))
    assert code == 0
    assert [r["job"] for r in again] == [r["job"] for r in rows]
    assert len(_tasks(server)) == 2  # never sent twice

    # From another job list: each video carries the object's fingerprint in its metadata,
    # so the rows are found already in the index instead of being sent again.
    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "other-home"))
    code, elsewhere, err = transfer_json(capsys, str(manifest))
    assert code == 0, err
    assert [r["state"] for r in elsewhere] == ["already_in_index", "already_in_index"]
    assert {r["video_id"] for r in elsewhere} == {r["video_id"] for r in rows}
    assert len(_tasks(server)) == 2


def test_v13_transfer_presigns_with_the_profile_given(
    bucket: str,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_sandbox()
    manifest = guide_manifest(tmp_path, Client(server).index_id())
    use(monkeypatch, server, tmp_path / "home", "v1.3")
    only_profile(monkeypatch, tmp_path, "media")
    code, rows, err = transfer_json(capsys, str(manifest), "--profile", "media")
    assert code == 0, err
    assert [r["state"] for r in rows] == ["ready", "ready"]
    assert all("X-Amz-Signature=" in (t.video_url or "") for t in _tasks(server))


def test_an_invalid_manifest_sends_nothing(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_sandbox()
    use(monkeypatch, server, tmp_path / "home", "v1.2")
    assert main(["transfer", str(GUIDE)]) == 1  # the guide's own example, 25-character id
    err = capsys.readouterr().err
    assert "Row 1, index_id" in err and "Nothing was sent" in err
    assert [r for r in server.requests if r[0] == "POST"] == []


def test_a_row_the_service_does_not_start_fails_with_what_to_check(  # noqa: PLR0917 (fixtures)
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The service skips an object it has seen (here: one whose task failed), so a second
    send from a new job list makes no task for it: after the match window it is "not started"
    with what to check, never "ready" by mistake."""
    s3.bucket(BUCKET)
    s3.put(BUCKET, "01.mp4", video(duration=2))  # too short: its task fails
    server = start_sandbox(s3_endpoint=s3.url)
    index_id = Client(server, "v1.2").index_id()
    rows = [{"index_id": index_id, "language": "en", "object": f"s3://{BUCKET}/01.mp4"}]
    manifest = tmp_path / "one.json"
    manifest.write_text(json.dumps(rows))
    use(monkeypatch, server, tmp_path / "home", "v1.2")
    code, first, _ = transfer_json(capsys, str(manifest))
    assert code == 1
    assert first[0]["state"] == "failed"
    assert first[0]["code"] != "transfer_not_started"

    monkeypatch.setattr(transfer, "MATCH_WINDOW", 1.0)
    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "other-home"))
    code, second, _ = transfer_json(capsys, str(manifest))
    assert code == 1
    (row,) = second
    assert (row["state"], row["code"]) == ("failed", "transfer_not_started")
    assert "did not start s3://twelve-labs-docs/01.mp4" in row["message"]
    assert "us-west-2" in row["hint"] and "integration" in row["hint"]


def test_check_against_the_account_names_an_index_it_does_not_have(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_sandbox()
    index_id = Client(server).index_id()
    use(monkeypatch, server, tmp_path / "home", "v1.3")
    manifest = guide_manifest(tmp_path, index_id)
    assert main(["manifest", "check", "--account", str(manifest)]) == 0
    elsewhere = guide_manifest(tmp_path, "6298d673f1090f1100476d4c")
    assert main(["manifest", "check", "--account", str(elsewhere)]) == 1
    out = capsys.readouterr().out
    assert "Row 1, index_id (line 2): There is no index 6298d673f1090f1100476d4c" in out
    monkeypatch.setenv("TWELVELABS_API_KEY", "not-the-key")
    assert main(["manifest", "check", "--account", str(manifest)]) == 2
    assert "Could not read your indexes" in capsys.readouterr().err


def test_a_v12_send_cut_off_before_matching_is_sent_again(  # noqa: PLR0917 (fixtures)
    s3: S3Emulator,
    bucket: str,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Rows left waiting by a crash (their jobs made, nothing sent) go out with the next run."""
    from uploader_app.store import Store

    server = start_sandbox(s3_endpoint=s3.url)
    index_id = Client(server, "v1.2").index_id()
    manifest = guide_manifest(tmp_path, index_id)
    use(monkeypatch, server, tmp_path / "home", "v1.2")
    (tmp_path / "home").mkdir()
    with Store(tmp_path / "home" / "jobs.sqlite3") as store:
        rows = json.loads(manifest.read_text())
        report = transfer.enqueue_rows(store, rows, "v1.2")  # the crash: never sent
        assert [j.state for j in report.jobs] == ["checking", "checking"]
    code, sent, err = transfer_json(capsys, str(manifest))
    assert code == 0, err
    assert [r["state"] for r in sent] == ["ready", "ready"]
    assert [r["job"] for r in sent] == [j.id for j in report.jobs]


@pytest.mark.parametrize("version", ["v1.2", "v1.3"])
def test_object_keys_with_url_characters_are_matched_by_their_own_name(  # noqa: PLR0917
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    version: str,
) -> None:
    """An S3 key is not a URL: "clip #1.mp4", "what?.mp4" and "50%25.mp4" are the files'
    names. Read as URLs they were "clip ", "what" and "50%.mp4", so no task ever matched."""
    s3.bucket(BUCKET)
    keys = ["clip #1.mp4", "what?.mp4", "50%25.mp4"]
    for n, key in enumerate(keys):
        s3.put(BUCKET, key, video(duration=5 + n))
    server = start_sandbox(s3_endpoint=s3.url)
    index_id = Client(server, version).index_id()
    rows = [{"index_id": index_id, "language": "en", "object": f"s3://{BUCKET}/{k}"} for k in keys]
    manifest = tmp_path / "odd.json"
    manifest.write_text(json.dumps(rows))
    use(monkeypatch, server, tmp_path / "home", version)
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 10.0)
    code, sent, err = transfer_json(capsys, str(manifest))
    assert code == 0, err
    assert [r["path"] for r in sent] == [r["object"] for r in rows]
    assert [r["state"] for r in sent] == ["ready"] * 3
    assert len(_tasks(server)) == 3

    # From another job list the rows are found by the same names: already in the index.
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 2.0)
    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "other-home"))
    code, elsewhere, err = transfer_json(capsys, str(manifest))
    assert code == 0, err
    assert [r["state"] for r in elsewhere] == ["already_in_index"] * 3
    assert len(_tasks(server)) == 3


def test_a_same_named_video_of_another_file_is_not_taken_for_already_sent(  # noqa: PLR0917
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """v1.2 "already in this index" compares the length (and size) the answers give with the
    object's, not the file name alone: a ready 01.mp4 of 6 s is not the 2 s one of the row."""
    s3.bucket(BUCKET)
    s3.put(BUCKET, "a/01.mp4", video(duration=6))
    s3.put(BUCKET, "b/01.mp4", video(duration=2))  # too short: its task fails
    server = start_sandbox(s3_endpoint=s3.url)
    index_id = Client(server, "v1.2").index_id()
    rows = [
        {"index_id": index_id, "language": "en", "object": f"s3://{BUCKET}/{key}"}
        for key in ("a/01.mp4", "b/01.mp4")
    ]
    both = tmp_path / "both.json"
    both.write_text(json.dumps(rows))
    use(monkeypatch, server, tmp_path / "home", "v1.2")
    _, first, _ = transfer_json(capsys, str(both))
    assert [r["state"] for r in first] == ["ready", "failed"]

    # From a new job list, the row of b/01.mp4 only: the service skips it (it has seen it).
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 1.0)
    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "other-home"))
    one = tmp_path / "one.json"
    one.write_text(json.dumps(rows[1:]))
    code, second, _ = transfer_json(capsys, str(one))
    assert code == 1
    (row,) = second
    assert (row["state"], row["code"]) == ("failed", "transfer_not_started")
    assert "The video named 01.mp4 already in the index is a different file" in row["message"]
    assert row["video_id"] is None


def test_a_v12_transfer_whose_tasks_cannot_be_looked_up_is_not_failed_nor_sent_twice(  # noqa: PLR0917
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s3.bucket(BUCKET)
    s3.put(BUCKET, "01.mp4", video(duration=5))
    server = start_sandbox(s3_endpoint=s3.url)
    index_id = Client(server, "v1.2").index_id()
    manifest = tmp_path / "one.json"
    manifest.write_text(
        json.dumps([{"index_id": index_id, "language": "en", "object": f"s3://{BUCKET}/01.mp4"}])
    )
    use(monkeypatch, server, tmp_path / "home", "v1.2")
    # The listing before the POST answers; every one after it meets a connection reset (the
    # client's retries, shortened here, fail too).
    monkeypatch.setattr(RetryPolicy, "backoff", lambda _self, _retry: 0.01)
    server.set_faults(
        {"rules": [{"method": "GET", "path": "/v1.2/tasks", "fault": "reset", "skip": 1}]}
    )
    code = main(["transfer", str(manifest), "--json"])
    captured = capsys.readouterr()
    # Not on the service yet (it may still turn out "not started"): exit 1, as for upload.
    assert code == 1, captured.err
    (row,) = json.loads(captured.out)
    assert (row["state"], row["code"]) == ("checking", None)
    assert "the app keeps asking" in captured.err
    assert "run the same command with --wait; they are not sent again" in captured.err
    assert server.requests.count(("POST", "/v1.2/tasks/transfers")) == 1

    server.set_faults(None)
    code, rows, err = transfer_json(capsys, str(manifest))  # --wait: the poller matches it
    assert code == 0, err
    assert [r["state"] for r in rows] == ["ready"]
    assert server.requests.count(("POST", "/v1.2/tasks/transfers")) == 1


def test_v12_rows_already_in_the_index_are_decided_with_one_s3_client(  # noqa: PLR0917
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each row's object is read to tell "already in this index" apart from a same-named
    other file; an S3 client costs about half a second to make (boto3 loads its models), so
    one per row made a 1,000-row list's decisions take minutes: one per AWS profile."""
    s3.bucket(BUCKET)
    keys = [f"{n:02}.mp4" for n in range(3)]
    for n, key in enumerate(keys):
        s3.put(BUCKET, key, video(duration=5 + n))
    server = start_sandbox(s3_endpoint=s3.url)
    index_id = Client(server, "v1.2").index_id()
    rows = [{"index_id": index_id, "language": "en", "object": f"s3://{BUCKET}/{k}"} for k in keys]
    manifest = tmp_path / "three.json"
    manifest.write_text(json.dumps(rows))
    use(monkeypatch, server, tmp_path / "home", "v1.2")
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 10.0)
    code, sent, err = transfer_json(capsys, str(manifest))
    assert (code, [r["state"] for r in sent]) == (0, ["ready"] * 3), err

    made: list[object] = []
    real = S3Access.__init__

    def counted(self: S3Access, *args: Any, **kwargs: Any) -> None:
        made.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(S3Access, "__init__", counted)
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 1.0)
    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "other-home"))
    code, elsewhere, err = transfer_json(capsys, str(manifest))
    assert (code, [r["state"] for r in elsewhere]) == (0, ["already_in_index"] * 3), err
    assert len(made) == 1


def test_v13_rows_are_presigned_with_one_s3_client(  # noqa: PLR0917 (fixtures)
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each v1.3 row is a link presigned with the user's credentials; an S3 client costs
    about half a second to make, and one per row made a long list's sends crawl."""
    s3.bucket(BUCKET)
    keys = [f"{n:02}.mp4" for n in range(4)]
    for n, key in enumerate(keys):
        s3.put(BUCKET, key, video(duration=5 + n))
    server = start_sandbox()
    index_id = Client(server).index_id()
    rows = [{"index_id": index_id, "language": "en", "object": f"s3://{BUCKET}/{k}"} for k in keys]
    manifest = tmp_path / "four.json"
    manifest.write_text(json.dumps(rows))
    use(monkeypatch, server, tmp_path / "home", "v1.3")
    made: list[object] = []
    real = S3Access.__init__

    def counted(self: S3Access, *args: Any, **kwargs: Any) -> None:
        made.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(S3Access, "__init__", counted)
    monkeypatch.setattr(transfer, "_presigners", transfer._Presigners())  # none from before
    code, sent, err = transfer_json(capsys, str(manifest))
    assert (code, [r["state"] for r in sent]) == (0, ["ready"] * 4), err
    assert len(made) == 1
    fetched = sorted(t.video_url or "" for t in _tasks(server))
    assert len(fetched) == 4 and all("X-Amz-Signature=" in url for url in fetched)
