"""Retries, waits and duplicates, with faults injected by the sandbox over real HTTP.

The duplicate look-ups are the engine's (jobs/recovery.py): these tests hand the client a
``Finder`` over a real job store, as the engine does.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TEST_API_KEY
from tests.integration.client_support import MARENGO, Sleeps, wait_asset, wait_for
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import (
    ApiError,
    AuthError,
    FileChangedError,
    RateLimitedError,
    ServerError,
)
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.transport import Timeouts
from uploader_app.api.types import FINGERPRINT_KEY, CreatedTask
from uploader_app.jobs.recovery import Finder
from uploader_app.models import JobState, SourceKind, TaskStatus, UploadProgress
from uploader_app.sandbox.app import ReceivedRequest
from uploader_app.sandbox.records import AssetRecord, TaskRecord
from uploader_app.sandbox.server import SandboxServer
from uploader_app.store import NewJob, Store
from uploader_app.validation.fingerprint import compute_fingerprint

TASKS = ReceivedRequest("POST", "/v1.3/tasks")


def fast_client(
    sandbox: SandboxServer, sleeps: Sleeps, *, attempts: int = 4, read: float = 10.0
) -> ApiClient:
    return ApiClient(
        sandbox.base_url("v1.3"),
        TEST_API_KEY,
        retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.05),
        timeout=Timeouts(connect=5.0, read=read, upload_read=read),
        sleep=sleeps,
    )


def fault(path: str, kind: str, method: str = "POST", **extra: Any) -> dict[str, Any]:
    return {"seed": 1, "rules": [{"method": method, "path": path, "fault": kind, **extra}]}


@pytest.fixture
def index_id(sandbox: SandboxServer) -> str:
    client = fast_client(sandbox, Sleeps())
    index_id = client.create_index("faults", [MARENGO]).id
    sandbox.clear_requests()
    return index_id


def _tasks_in(sandbox: SandboxServer, index_id: str) -> list[str]:
    client = fast_client(sandbox, Sleeps())
    return [t.id for t in client.iter_tasks(index_id)]


class Jobs:
    """Job rows in a real store, sent the way the engine sends them: ``create_started``
    stored before the POST, the engine's look-up as ``recover``, the answer adopted."""

    def __init__(self, path: Path) -> None:
        self.store = Store(path)

    def finder(
        self, client: ApiClient, index_id: str, source: Path | str, *, printed: bool = True
    ) -> Finder:
        """``printed``: the job has a content fingerprint (sent in user_metadata)."""
        is_url = isinstance(source, str)
        new = NewJob(
            SourceKind.URL if is_url else SourceKind.FILE,
            str(source),
            index_id,
            state=JobState.UPLOADING,
            duration=None if is_url else 5.0,
            fingerprint=compute_fingerprint(Path(source)) if printed and not is_url else None,
            dedup_key=str(source),
        )
        [(job, _)] = self.store.add([new])
        # A single look per ambiguous failure, as the client's own look-up did.
        return Finder(client, self.store, job, grace=0.0)

    def send(
        self, client: ApiClient, index_id: str, path: Path, *, printed: bool = True
    ) -> CreatedTask:
        finder = self.finder(client, index_id, path, printed=printed)
        started = self._started(finder)
        created = client.create_task_from_file(
            index_id,
            path,
            fingerprint=finder.job.fingerprint,
            recover=lambda _: finder.task(started),
        )
        return self._adopted(finder, created)

    def send_url(self, client: ApiClient, index_id: str, url: str) -> CreatedTask:
        finder = self.finder(client, index_id, url)
        started = self._started(finder)
        created = client.create_task_from_url(index_id, url, recover=lambda _: finder.task(started))
        return self._adopted(finder, created)

    def _started(self, finder: Finder) -> float:
        started = time.time()
        self.store.update(finder.job.id, create_started=started)
        return started

    def _adopted(self, finder: Finder, created: CreatedTask) -> CreatedTask:
        if not created.reused:
            assert self.store.adopt(finder.job.id, "task_id", created.id, create_started=None)
        return created


@pytest.fixture
def jobs(tmp_path: Path) -> Jobs:
    return Jobs(tmp_path / "jobs.sqlite3")


def test_503_then_success_checks_for_a_duplicate_then_resends(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], jobs: Jobs
) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", "status", status=503, times=2))
    sleeps = Sleeps()
    created = jobs.send(fast_client(sandbox, sleeps), index_id, video("a.mp4"))
    assert not created.reused
    assert sandbox.requests.count(TASKS) == 3
    # Before each re-send, the index was searched for a task the failed attempt made.
    assert sandbox.requests.count(ReceivedRequest("GET", "/v1.3/tasks")) == 2
    assert len(sleeps) == 2
    assert _tasks_in(sandbox, index_id) == [created.id]


def test_an_ambiguous_failure_without_a_look_up_is_raised_not_sent_again(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path]
) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", "lost_answer", times=1))
    sleeps = Sleeps()
    with pytest.raises(ApiError) as caught:
        fast_client(sandbox, sleeps).create_task_from_file(index_id, video("a.mp4"))
    assert caught.value.retryable  # a caller with a look-up would have tried again
    assert sandbox.requests.count(TASKS) == 1
    assert sleeps == []
    assert len(_tasks_in(sandbox, index_id)) == 1


def test_get_is_retried_on_502_html_answers(sandbox: SandboxServer, index_id: str) -> None:
    sandbox.set_faults(fault(f"/v1.3/indexes/{index_id}", "non_json", method="GET", times=1))
    sleeps = Sleeps()
    assert fast_client(sandbox, sleeps).get_index(index_id).id == index_id
    assert len(sleeps) == 1


def test_429_retry_after_is_honoured(sandbox: SandboxServer, index_id: str) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", "rate_limit", method="GET", retry_after=2, times=2))
    sleeps = Sleeps()
    page = fast_client(sandbox, sleeps).list_tasks(index_id)
    assert page.items == ()
    assert sleeps == [2.0, 2.0]  # the service's wait, not the 0.01 s backoff
    assert sandbox.requests.count(ReceivedRequest("GET", "/v1.3/tasks")) == 3


def test_429_on_post_tasks_resends_without_lookup(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path]
) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", "rate_limit", retry_after=1, times=1))
    sleeps = Sleeps()
    created = fast_client(sandbox, sleeps).create_task_from_file(index_id, video("b.mp4"))
    assert sleeps == [1.0]
    # A 429 means the service refused: nothing to look for before sending again.
    assert sandbox.requests == [TASKS, TASKS]
    assert _tasks_in(sandbox, index_id) == [created.id]


def test_long_rate_limit_is_surfaced_not_slept(sandbox: SandboxServer, index_id: str) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", "rate_limit", method="GET", retry_after=86_400))
    sleeps = Sleeps()
    with pytest.raises(RateLimitedError) as caught:
        fast_client(sandbox, sleeps).list_tasks(index_id)
    assert sleeps == []
    assert caught.value.retry_after == pytest.approx(86_400, abs=5)
    assert caught.value.title == "Too many requests"
    assert "about 24 hours." in caught.value.hint


def test_reset_mid_body_resends_the_whole_body_with_every_field(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], jobs: Jobs
) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", "reset", times=1))
    clip = video("c.mp4", duration=8.0, width=1280, height=720)
    client = fast_client(sandbox, Sleeps())
    # A small file may be all in the socket's buffers when the reset comes: then it is
    # ambiguous, and the look-up (finding nothing) lets it be sent again.
    finder = jobs.finder(client, index_id, clip)
    created = client.create_task_from_file(
        index_id,
        clip,
        user_metadata={"shot": 7},
        enable_video_stream=False,
        recover=finder.task,
    )
    assert sandbox.requests.count(TASKS) == 2
    task = client.get_task(created.id)
    assert (task.index_id, task.filename) == (index_id, "c.mp4")
    stored = sandbox.sandbox.store.get(TaskRecord, created.id)
    assert stored is not None
    assert stored.user_metadata == {"shot": 7}
    assert stored.enable_video_stream is False
    assert stored.media.size == clip.stat().st_size  # the whole file arrived
    assert _tasks_in(sandbox, index_id) == [created.id]


@pytest.mark.parametrize("kind", ["lost_answer", "truncated"])
def test_lost_answer_on_post_tasks_does_not_upload_twice(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], kind: str, jobs: Jobs
) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", kind, times=1))
    client = fast_client(sandbox, Sleeps())
    created = jobs.send(client, index_id, video("d.mp4"))
    assert created.reused
    assert sandbox.requests.count(TASKS) == 1  # the file was sent once
    assert _tasks_in(sandbox, index_id) == [created.id]
    assert client.get_task(created.id).status in set(TaskStatus)


def test_lost_answer_for_a_same_named_file_does_not_take_the_earlier_files_task(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], jobs: Jobs
) -> None:
    # Camera folders: GOPR0001.MP4 in many subfolders, clips of the same length.
    first = video("A/clip.mp4", duration=5.0)
    second = video("B/clip.mp4", duration=5.0, width=854, height=480)
    client = fast_client(sandbox, Sleeps())
    a = jobs.send(client, index_id, first)
    sandbox.set_faults(fault("/v1.3/tasks", "lost_answer", times=1))
    b = jobs.send(client, index_id, second)
    assert b.reused
    assert b.id != a.id  # was A's task, and B's own was orphaned
    assert sandbox.requests.count(TASKS) == 2  # each file sent once
    assert sorted(_tasks_in(sandbox, index_id)) == sorted([a.id, b.id])
    stored = sandbox.sandbox.store.get(TaskRecord, b.id)
    assert stored is not None and stored.media.width == 854


def _upload_elsewhere(sandbox: SandboxServer, index_id: str, path: Path) -> str:
    """Another copy of the app (its own process, nothing shared with ours) sends ``path``."""
    with path.open("rb") as fh:
        answer = requests.post(
            f"{sandbox.base_url('v1.3')}/tasks",
            headers={"x-api-key": TEST_API_KEY},
            data={"index_id": index_id},
            files={"video_file": (path.name, fh, "video/mp4")},
            timeout=30,
        )
    answer.raise_for_status()
    task_id: str = answer.json()["_id"]
    return task_id


def test_recovery_confirms_its_task_by_fingerprint_over_a_newer_same_named_one(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], jobs: Jobs
) -> None:
    ours = video("B/clip.mp4", duration=5.0)
    theirs = video("A/clip.mp4", duration=5.0, width=854, height=480)
    watcher = fast_client(sandbox, Sleeps())
    made_elsewhere: list[str] = []

    def meanwhile(seconds: float, cancel: threading.Event | None) -> None:
        # During our backoff, another uploader sends a same-named file; both get indexed,
        # so the newest same-named task is theirs and only the fingerprint tells them apart.
        if not made_elsewhere:
            made_elsewhere.append(_upload_elsewhere(sandbox, index_id, theirs))
            wait_for(
                lambda: list(watcher.iter_tasks(index_id)),
                lambda tasks: len(tasks) == 2 and all(t.status.is_terminal for t in tasks),
            )

    sandbox.set_faults(fault("/v1.3/tasks", "lost_answer", times=1))
    client = ApiClient(
        sandbox.base_url("v1.3"),
        TEST_API_KEY,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
        sleep=meanwhile,
    )
    created = jobs.send(client, index_id, ours)
    assert created.reused
    assert created.id != made_elsewhere[0]
    assert sandbox.requests.count(TASKS) == 2  # ours once, theirs once
    assert set(_tasks_in(sandbox, index_id)) == {created.id, made_elsewhere[0]}


@pytest.mark.parametrize("change", ["shrinks", "vanishes", "grows", "rewritten"])
def test_file_that_changes_while_sent_is_not_resent(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], tmp_path: Path, change: str
) -> None:
    clip = tmp_path / "copying" / "clip.mp4"
    clip.parent.mkdir()
    shutil.copyfile(video(duration=5.0), clip)  # a copy: the cached encode must stay whole
    changed: list[int] = []

    def change_file(progress: UploadProgress) -> None:
        if change == "shrinks" and progress.sent > 0:
            with clip.open("r+b") as fh:
                fh.truncate(progress.sent)
        elif change == "vanishes":
            clip.unlink(missing_ok=True)
        elif change in ("grows", "rewritten") and progress.sent > 0 and not changed:
            # Regression: the length came from stat() when the body was built, so a file
            # written to meanwhile was sent cut (or mixed) with no error.
            changed.append(progress.sent)
            before = clip.stat()
            with clip.open("r+b") as fh:
                fh.seek(0 if change == "rewritten" else before.st_size)
                fh.write(b"\xff" * 64)
            # As a writer a second later would: some file systems keep coarse timestamps.
            os.utime(clip, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))

    sleeps = Sleeps()
    client = ApiClient(
        sandbox.base_url("v1.3"),
        TEST_API_KEY,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
        sleep=sleeps,
        chunk_size=16 * 1024,
    )
    with pytest.raises(FileChangedError) as caught:
        client.create_task_from_file(index_id, clip, progress=change_file)
    assert caught.value.user_message.startswith("clip.mp4 changed while it was being sent")
    assert sleeps == []  # not taken for a dropped connection and retried
    # Sent at most once (the cut request may not have reached the app yet), and no lookup.
    assert set(sandbox.requests) <= {TASKS}
    assert _tasks_in(sandbox, index_id) == []


def test_lost_answer_on_url_task_does_not_create_twice(
    sandbox: SandboxServer, index_id: str, jobs: Jobs
) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", "lost_answer", times=1))
    client = fast_client(sandbox, Sleeps())
    created = jobs.send_url(client, index_id, "https://example.com/media/e.mp4")
    assert created.reused
    assert sandbox.requests.count(TASKS) == 1


def test_lost_answer_on_create_index_finds_it_by_name(sandbox: SandboxServer) -> None:
    sandbox.set_faults(fault("/v1.3/indexes", "lost_answer", times=1))
    index = fast_client(sandbox, Sleeps()).create_index("once only", [MARENGO])
    assert index.name == "once only"
    assert sandbox.requests.count(ReceivedRequest("POST", "/v1.3/indexes")) == 1


def test_slow_answer_times_out_then_succeeds(sandbox: SandboxServer, index_id: str) -> None:
    sandbox.set_faults(fault("/v1.3/tasks", "slow", method="GET", delay=1.0, times=1))
    sleeps = Sleeps()
    page = fast_client(sandbox, sleeps, read=0.3).list_tasks(index_id)
    assert page.items == ()
    assert len(sleeps) == 1


def test_server_errors_give_up_after_the_attempts(sandbox: SandboxServer, index_id: str) -> None:
    sandbox.set_faults(fault(f"/v1.3/indexes/{index_id}", "status", method="GET", status=500))
    sleeps = Sleeps()
    with pytest.raises(ServerError) as caught:
        fast_client(sandbox, sleeps, attempts=3).get_index(index_id)
    assert caught.value.status == 500
    assert caught.value.title == "Service error"
    assert len(sleeps) == 2


def test_wrong_key_fails_at_once(sandbox: SandboxServer, video: Callable[..., Path]) -> None:
    sleeps = Sleeps()
    client = ApiClient(
        sandbox.base_url("v1.3"), "not-the-key", sleep=sleeps, retry=RetryPolicy(base_delay=0.01)
    )
    with pytest.raises(AuthError) as caught:
        client.create_task_from_file("idx", video("f.mp4"))
    assert caught.value.code == "api_key_invalid"
    assert "dashboard" in caught.value.hint
    assert sleeps == []
    assert sandbox.requests.count(TASKS) == 1


def test_key_never_logged_or_in_errors(
    sandbox: SandboxServer,
    index_id: str,
    video: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
    jobs: Jobs,
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.set_faults(fault("/v1.3/tasks", "status", status=503, times=1))
    client = fast_client(sandbox, Sleeps())
    jobs.send(client, index_id, video("g.mp4"))
    errors: list[ApiError] = []
    for call in (
        lambda: client.get_task("000000000000000000000000"),
        lambda: client.create_task_from_file("000000000000000000000000", video("h.mp4")),
    ):
        with pytest.raises(ApiError) as caught:
            call()
        errors.append(caught.value)
    assert "POST" in caplog.text  # requests were logged…
    texts = [caplog.text, repr(client), str(client)]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    for text in texts:
        assert TEST_API_KEY not in text  # …without the key


def test_lost_answer_on_indexed_asset_does_not_duplicate(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], jobs: Jobs
) -> None:
    path = "/v1.3/indexes/*/indexed-assets"
    sandbox.set_faults(fault(path, "lost_answer", times=1))
    client = fast_client(sandbox, Sleeps())
    clip = video("asset.mp4")
    asset = client.create_asset_from_file(clip)
    assert wait_asset(client, asset.id).status == "ready"
    finder = jobs.finder(client, index_id, clip)
    indexed_id = client.create_indexed_asset(
        index_id, asset.id, recover=lambda _: finder.indexed_asset(asset.id)
    )
    assert [a.id for a in client.iter_indexed_assets(index_id)] == [indexed_id]
    assert jobs.store.get(finder.job.id).indexed_asset_id == indexed_id
    posts = [r for r in sandbox.requests if r.method == "POST" and "indexed-assets" in r.path]
    assert len(posts) == 1


def test_lookup_continues_after_a_later_failure_that_is_not_ambiguous(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], jobs: Jobs
) -> None:
    # Regression: the look-up was decided per attempt. Attempt 1 times out after the whole
    # body was sent (the service is still working, so nothing is found yet); attempt 2 is
    # refused (429: not ambiguous); attempt 3 used to be sent without looking again, and the
    # service then held attempt 1's task and attempt 3's.
    sandbox.set_faults(
        {
            "seed": 1,
            "rules": [
                {
                    "method": "POST",
                    "path": "/v1.3/tasks",
                    "fault": "slow",
                    "delay": 1.0,
                    "times": 1,
                },
                {"method": "POST", "path": "/v1.3/tasks", "fault": "rate_limit", "times": 1},
            ],
        }
    )
    waits: list[float] = []

    def sleep(seconds: float, cancel: threading.Event | None) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # before attempt 3: let attempt 1's task appear
            wait_for(lambda: _tasks_in(sandbox, index_id), bool, timeout=10.0)

    client = ApiClient(
        sandbox.base_url("v1.3"),
        TEST_API_KEY,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
        timeout=Timeouts(connect=5.0, read=0.3, upload_read=0.3),
        sleep=sleep,
    )
    created = jobs.send(client, index_id, video("late.mp4"))
    assert created.reused
    assert sandbox.requests.count(TASKS) == 2  # the timed-out one and the refused one
    assert _tasks_in(sandbox, index_id) == [created.id]


def _blocking_session(arrived: threading.Event, release: threading.Event) -> requests.Session:
    """A session whose POST /tasks answers are held (unparsed) until ``release`` is set."""
    session = requests.Session()

    def hold(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.request.method == "POST":
            arrived.set()
            release.wait(20.0)
        return response

    session.hooks["response"].append(hold)
    return session


def test_recovery_never_takes_a_task_another_upload_of_the_same_name_awaits(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], jobs: Jobs
) -> None:
    # Two workers send 100GOPRO/clip.mp4 and 101GOPRO/clip.mp4 to one index. A's POST fails
    # ambiguously (503: the service did nothing); B's POST created task TB but B has not
    # parsed its answer yet. A's look-up sees TB, unconfirmable, and used to take it; B then
    # returned TB as well.
    sandbox.set_faults(fault("/v1.3/tasks", "status", status=503, times=1))
    first = video("100GOPRO/clip.mp4", duration=5.0)
    second = video("101GOPRO/clip.mp4", duration=5.0, width=854, height=480)
    arrived, release = threading.Event(), threading.Event()
    b_client = ApiClient(
        sandbox.base_url("v1.3"),
        TEST_API_KEY,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
        session=_blocking_session(arrived, release),
    )
    b_result: list[Any] = []

    def run_b() -> None:
        try:
            b_result.append(jobs.send(b_client, index_id, second))
        except ApiError as error:
            b_result.append(error)

    worker = threading.Thread(target=run_b)

    def a_sleep(seconds: float, cancel: threading.Event | None) -> None:
        # Between A's failed attempt and its look-up, B's task is created, answer unparsed.
        worker.start()
        assert arrived.wait(20.0)

    a_client = ApiClient(
        sandbox.base_url("v1.3"),
        TEST_API_KEY,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
        sleep=a_sleep,
    )
    try:
        a = jobs.send(a_client, index_id, first)
    finally:
        release.set()
        worker.join(20.0)
    (b,) = b_result
    assert not isinstance(b, ApiError), b
    assert not a.reused  # A sent its file again rather than guess
    assert a.id != b.id
    assert sorted(_tasks_in(sandbox, index_id)) == sorted([a.id, b.id])
    stored = sandbox.sandbox.store.get(TaskRecord, b.id)
    assert stored is not None and stored.media.width == 854


def test_two_unconfirmed_candidates_are_not_guessed_between(
    sandbox: SandboxServer, index_id: str, video: Callable[..., Path], jobs: Jobs
) -> None:
    # Our lost attempt made one of them, another copy of the app the other: no way to tell.
    sandbox.set_faults(fault("/v1.3/tasks", "lost_answer", times=1))
    clip = video("A/same.mp4", duration=5.0)
    client = fast_client(sandbox, Sleeps())
    made_elsewhere: list[str] = []

    def meanwhile(seconds: float, cancel: threading.Event | None) -> None:
        made_elsewhere.append(_upload_elsewhere(sandbox, index_id, video("B/same.mp4")))

    client._http._sleep = meanwhile
    # Without a fingerprint (as on v1.2) nothing tells the two apart.
    created = jobs.send(client, index_id, clip, printed=False)
    assert not created.reused
    assert sandbox.requests.count(TASKS) == 3  # lost, theirs, our re-send
    assert len(set(_tasks_in(sandbox, index_id))) == 3


def test_asset_fingerprint_is_sent_in_user_metadata(
    sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    clip = video("printed.mp4")
    asset = fast_client(sandbox, Sleeps()).create_asset_from_file(
        clip, user_metadata={"shot": 1}, fingerprint="abc123"
    )
    stored = sandbox.sandbox.store.get(AssetRecord, asset.id)
    assert stored is not None
    assert stored.user_metadata == {"shot": 1, FINGERPRINT_KEY: "abc123"}
