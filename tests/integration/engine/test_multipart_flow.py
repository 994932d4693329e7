"""The engine's multipart flow (jobs/multipart.py) on the sandbox: resume from the store,
faults, lost reports, changed files."""

from __future__ import annotations

import math
import os
import shutil
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.client_support import MARENGO, make_client, wait_asset, wait_for
from uploader_app.api.body import FileStamp
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import CancelledError, FileChangedError
from uploader_app.api.types import UploadSession
from uploader_app.jobs import multipart
from uploader_app.jobs.multipart import REPORT_EVERY, MultipartUpload
from uploader_app.models import SourceKind, UploadProgress
from uploader_app.sandbox.app import ReceivedRequest
from uploader_app.sandbox.server import SandboxServer
from uploader_app.store import NewJob, Store

CHUNK = 16 * 1024


@pytest.fixture
def small_chunk_sandbox(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox that asks for 16 KiB chunks, so a test video has many of them."""
    return start_sandbox(chunk_size=CHUNK)


@dataclass
class Uploader:
    """Runs the flow for one file the way the engine does, with a job row in a real store."""

    client: ApiClient
    store: Store
    path: Path
    notices: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        [(self.job, _)] = self.store.add(
            [NewJob(SourceKind.FILE, str(self.path), "idx", dedup_key=str(self.path))]
        )

    def session(self) -> UploadSession | None:
        data = self.store.internals(self.job.id).upload_session
        return UploadSession(**data) if data else None

    def run(
        self,
        progress: Callable[[UploadProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> str:
        return MultipartUpload(
            self.client,
            self.store,
            self.store.get(self.job.id),
            self.path,
            FileStamp.of(self.path),
            progress or (lambda p: None),
            cancel or threading.Event(),
            self.notices.append,
        ).run()


def _uploader(sandbox: SandboxServer, path: Path, tmp_path: Path) -> Uploader:
    return Uploader(make_client(sandbox), Store(tmp_path / "jobs.sqlite3"), path)


def _puts(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.requests if r.method == "PUT")


def test_cancelled_upload_resumes_from_the_store_then_indexes(
    small_chunk_sandbox: SandboxServer, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = small_chunk_sandbox
    clip = video("big-film.mp4", duration=6.0, width=854, height=480)
    size = clip.stat().st_size
    up = _uploader(sandbox, clip, tmp_path)
    cancel = threading.Event()

    def stop_half_way(p: UploadProgress) -> None:
        if p.sent >= p.total // 2:
            cancel.set()

    with pytest.raises(CancelledError):
        up.run(stop_half_way, cancel)
    session = up.session()
    assert session is not None
    assert session.total_size == size
    assert session.total_chunks >= 4
    # Cancel does not stop to report: the chunks storage took wait in the store.
    unreported = up.store.internals(up.job.id).unreported
    assert 0 < len(unreported) < session.total_chunks

    seen: list[UploadProgress] = []
    asset_id = up.run(seen.append)
    assert asset_id == session.asset_id
    puts = Counter(int(r.path.rsplit("/", 1)[1]) for r in sandbox.requests if r.method == "PUT")
    assert set(puts) == set(range(1, session.total_chunks + 1))
    assert all(puts[index] == 1 for index, _, _ in unreported)  # none sent twice
    assert seen[0].sent == len(unreported) * session.chunk_size
    assert seen[-1] == UploadProgress(size, size)
    assert up.client.get_multipart_status(session.upload_id).status == "completed"
    assert up.store.internals(up.job.id).unreported == []

    asset = wait_asset(up.client, asset_id)
    assert asset.status == "ready"
    index = up.client.create_index("large files", [MARENGO])
    indexed_id = up.client.create_indexed_asset(index.id, asset.id)
    indexed = wait_for(
        lambda: up.client.get_indexed_asset(index.id, indexed_id),
        lambda a: a.status in ("ready", "failed"),
    )
    assert (indexed.status, indexed.asset_id) == ("ready", asset.id)


@pytest.mark.parametrize("kind", ["reset", "lost_answer", "status"])
def test_chunk_and_report_faults_are_retried(
    small_chunk_sandbox: SandboxServer, video: Callable[..., Path], tmp_path: Path, kind: str
) -> None:
    sandbox = small_chunk_sandbox
    rule = {"fault": kind, "status": 503, "times": 1}
    sandbox.set_faults(
        {
            "seed": 1,
            "rules": [
                {"method": "PUT", "path": "/_uploads/*", "skip": 1, **rule},
                {"method": "POST", "path": "/v1.3/assets/multipart-uploads/*", **rule},
            ],
        }
    )
    up = _uploader(sandbox, video("faulty.mp4", duration=6.0, width=854, height=480), tmp_path)
    asset_id = up.run()
    session = up.session()
    assert session is not None
    assert up.client.get_multipart_status(session.upload_id).status == "completed"
    assert wait_asset(up.client, asset_id).status == "ready"
    assert _puts(sandbox) > session.total_chunks  # the faulty PUT was sent again


def _lose_the_final_report(
    sandbox: SandboxServer, up: Uploader, refuse: bool
) -> Callable[[UploadProgress], None]:
    """Once the session exists, make the sandbox lose the answer to its last report (and,
    with ``refuse``, answer every later report with 503)."""
    armed: list[str] = []

    def arm(_: UploadProgress) -> None:
        session = up.session()
        if armed or session is None:
            return
        path = f"/v1.3/assets/multipart-uploads/{session.upload_id}"
        armed.append(path)
        skip = math.ceil(session.total_chunks / REPORT_EVERY) - 1
        rules = [{"method": "POST", "path": path, "fault": "lost_answer", "skip": skip, "times": 1}]
        if refuse:
            rules.append(
                {"method": "POST", "path": path, "fault": "status", "status": 503, "skip": skip}
            )
        sandbox.set_faults({"seed": 1, "rules": rules})

    arm.armed = armed  # type: ignore[attr-defined]
    return arm


@pytest.mark.parametrize("refuse", [False, True])
def test_lost_answer_to_the_final_report_still_completes(
    small_chunk_sandbox: SandboxServer, video: Callable[..., Path], tmp_path: Path, refuse: bool
) -> None:
    sandbox = small_chunk_sandbox
    up = _uploader(sandbox, video("last-report.mp4", duration=6.0, width=854, height=480), tmp_path)
    arm = _lose_the_final_report(sandbox, up, refuse)
    asset_id = up.run(arm)
    [path] = arm.armed  # type: ignore[attr-defined]
    session = up.session()
    assert session is not None
    reports = sandbox.requests.count(ReceivedRequest("POST", path))
    assert reports > math.ceil(session.total_chunks / REPORT_EVERY)  # the final one again
    assert up.client.get_multipart_status(session.upload_id).status == "completed"
    assert wait_asset(up.client, asset_id).status == "ready"


def test_lost_final_report_in_the_last_round_is_a_completed_upload(
    small_chunk_sandbox: SandboxServer,
    video: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Regression: with no next round to read the status, a session the service completed
    # was reported as "did not complete".
    monkeypatch.setattr(multipart, "MAX_ROUNDS", 1)
    sandbox = small_chunk_sandbox
    up = _uploader(sandbox, video("last-round.mp4", duration=6.0, width=854, height=480), tmp_path)
    asset_id = up.run(_lose_the_final_report(sandbox, up, refuse=True))
    assert wait_asset(up.client, asset_id).status == "ready"


def test_a_stored_session_the_service_no_longer_knows_starts_a_new_one(
    small_chunk_sandbox: SandboxServer, video: Callable[..., Path], tmp_path: Path
) -> None:
    clip = video("gone.mp4")
    stamp = FileStamp.of(clip)
    up = _uploader(small_chunk_sandbox, clip, tmp_path)
    gone = UploadSession(
        "000000000000000000000000", "a-gone", CHUNK, 99, stamp.size, source_mtime_ns=stamp.mtime_ns
    )
    up.store.update(up.job.id, upload_session=gone.__dict__)
    asset_id = up.run()
    session = up.session()
    assert session is not None
    assert session.upload_id != gone.upload_id
    assert session.asset_id == asset_id
    assert up.notices  # the user is told it started over


@pytest.mark.parametrize("change", ["grows", "rewritten"])
def test_chunks_of_a_file_changed_during_upload_are_not_sent(
    small_chunk_sandbox: SandboxServer, video: Callable[..., Path], tmp_path: Path, change: str
) -> None:
    clip = tmp_path / "growing" / "clip.mp4"
    clip.parent.mkdir()
    shutil.copyfile(video(duration=6.0, width=854, height=480), clip)  # keep the cache whole
    changed: list[int] = []

    def change_file(progress: UploadProgress) -> None:
        if changed or progress.sent < 32 * 1024:
            return
        changed.append(progress.sent)
        _change_in_place(clip, change)

    up = _uploader(small_chunk_sandbox, clip, tmp_path)
    with pytest.raises(FileChangedError):
        up.run(change_file)
    session = up.session()
    assert session is not None
    status = up.client.get_multipart_status(session.upload_id)
    assert status.status == "active"
    # Nothing after the change reached storage: at most the chunk being read then.
    assert _puts(small_chunk_sandbox) * CHUNK <= changed[0] + 2 * CHUNK


def test_resuming_a_file_rewritten_at_the_same_size_starts_over(
    small_chunk_sandbox: SandboxServer, video: Callable[..., Path], tmp_path: Path
) -> None:
    clip = tmp_path / "rewritten.mp4"
    shutil.copyfile(video(duration=6.0, width=854, height=480), clip)
    up = _uploader(small_chunk_sandbox, clip, tmp_path)
    cancel = threading.Event()

    def stop_early(progress: UploadProgress) -> None:
        if progress.sent >= 64 * 1024:
            cancel.set()

    with pytest.raises(CancelledError):
        up.run(stop_early, cancel)
    first = up.session()
    assert first is not None
    assert first.source_mtime_ns == clip.stat().st_mtime_ns
    _change_in_place(clip, "rewritten")
    up.run()
    second = up.session()
    assert second is not None
    assert second.upload_id != first.upload_id  # a new session, from the first byte
    assert up.store.internals(up.job.id).unreported == []


def _change_in_place(path: Path, change: str) -> None:
    """Append to ``path`` ("grows") or overwrite a few bytes at the same size ("rewritten").

    The mtime is moved on explicitly, as a writer a second later would: some file systems
    keep coarse timestamps.
    """
    before = path.stat()
    with path.open("r+b") as fh:
        if change == "grows":
            fh.seek(0, os.SEEK_END)
            fh.write(b"\0" * 4096)
        else:
            fh.seek(before.st_size // 2)
            fh.write(b"\xff" * 64)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
