"""The job store: schema, dedup, conditional updates and leases across processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from dataclasses import fields
from pathlib import Path

import pytest

from uploader_app.models import Job, JobState, Route, SourceKind
from uploader_app.store import NewJob, Store, StoreError, StoreWriteError
from uploader_app.store.schema import MIGRATIONS


def _new(name: str, key: str | None = None, **fields: object) -> NewJob:
    return NewJob(
        SourceKind.FILE,
        f"/videos/{name}",
        "idx1",
        dedup_key=key or name,
        options={"language": "en"},
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "app" / "jobs.sqlite3")


def test_fresh_store_has_latest_schema_and_wal(store: Store) -> None:
    assert store.schema_version == len(MIGRATIONS)
    assert store.integrity_ok()
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_newer_schema_is_refused_in_words(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer version"):
        Store(path)


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        Store(path)


def test_add_round_trips_every_field_and_dedups(store: Store) -> None:
    [(job, created)] = store.add([_new("a.mp4", size=10, duration=5.0, fingerprint="fp")])
    assert created
    assert job.state is JobState.QUEUED
    assert job.options == {"language": "en"}
    assert job.name == "a.mp4"
    assert job.folder == "/videos"
    assert store.get(job.id) == job
    [(again, created_again)] = store.add([_new("b.mp4", key="a.mp4")])
    assert not created_again
    assert again == job
    assert len(store.jobs()) == 1


def test_same_key_in_another_index_is_another_job(store: Store) -> None:
    store.add([_new("a.mp4")])
    other = NewJob(SourceKind.FILE, "/videos/a.mp4", "idx2", dedup_key="a.mp4")
    [(_, created)] = store.add([other])
    assert created


def test_update_only_if_state(store: Store) -> None:
    [(job, _)] = store.add([_new("a.mp4")])
    assert store.update(job.id, only_if=[JobState.UPLOADING], state=JobState.PAUSED) is None
    done = store.update(job.id, state=JobState.READY, video_id="v1")
    assert done is not None
    assert done.finished_at is not None
    assert done.video_id == "v1"
    again = store.update(job.id, state=JobState.QUEUED)
    assert again is not None
    assert again.finished_at is None
    with pytest.raises(ValueError, match="not job columns"):
        store.update(job.id, id=5)


def test_internals_keep_session_and_unreported_chunks(store: Store) -> None:
    [(job, _)] = store.add([_new("a.mp4", source_mtime_ns=123)])
    store.update(
        job.id, upload_session={"upload_id": "u1", "chunk_size": 8}, unreported=[[1, "e", 8]]
    )
    internals = store.internals(job.id)
    assert internals.upload_session == {"upload_id": "u1", "chunk_size": 8}
    assert internals.unreported == [[1, "e", 8]]
    assert internals.source_mtime_ns == 123


def test_claim_respects_limit_and_lease(store: Store) -> None:
    added = [job for job, _ in store.add([_new(f"{n}.mp4") for n in range(3)])]
    first = store.claim("w1", limit=2, lease=60)
    second = store.claim("w2", limit=2, lease=60)
    assert first is not None
    assert second is not None
    assert [first.id, second.id] == [added[0].id, added[1].id]
    assert first.state is JobState.UPLOADING
    assert store.claim("w3", limit=2, lease=60) is None
    assert store.renew(first.id, "w1", lease=60)
    assert not store.renew(first.id, "w2", lease=60)


def test_expired_lease_is_taken_back_first(store: Store) -> None:
    [(a, _), _] = store.add([_new("a.mp4"), _new("b.mp4")])
    claimed = store.claim("dead", limit=1, lease=-1)  # its process died at once
    assert claimed is not None
    assert claimed.id == a.id
    again = store.claim("alive", limit=1, lease=60)
    assert again is not None
    assert again.id == a.id
    assert not store.renew(a.id, "dead", lease=60)


def test_paused_job_loses_its_lease(store: Store) -> None:
    [(job, _)] = store.add([_new("a.mp4")])
    store.claim("w1", limit=1, lease=60)
    store.update(job.id, state=JobState.PAUSED)
    assert not store.renew(job.id, "w1", lease=60)


def test_a_resumed_job_waits_until_its_last_runner_lets_go(store: Store) -> None:
    """Paused then resumed while the first runner still waits on its request's answer: no
    second runner may send the file until the first one releases (or its lease runs out)."""
    [(job, _)] = store.add([_new("a.mp4")])
    store.claim("w1", limit=2, lease=60)
    store.update(job.id, state=JobState.PAUSED)
    assert not store.renew(job.id, "w1", lease=60)  # the upload should stop…
    store.update(job.id, state=JobState.QUEUED)
    assert store.claim("w2", limit=2, lease=60) is None  # …but w1 has not let go yet
    store.release(job.id, "w1")
    claimed = store.claim("w2", limit=2, lease=60)
    assert claimed is not None
    assert claimed.id == job.id


def _claim_all(path: str, worker: str, out: multiprocessing.Queue[list[int]]) -> None:
    store = Store(Path(path))
    mine: list[int] = []
    while True:
        job = store.claim(worker, limit=1000, lease=600)
        if job is None:
            break
        mine.append(job.id)
    out.put(mine)


def test_two_processes_never_claim_the_same_job(store: Store) -> None:
    store.add([_new(f"{n}.mp4") for n in range(200)])
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[list[int]] = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(str(store.path), f"p{n}", out)) for n in range(2)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    claimed = results[0] + results[1]
    assert sorted(claimed) == [job.id for job in store.jobs()]
    assert len(set(claimed)) == 200
    assert store.integrity_ok()


def test_jobs_filter_and_counts(store: Store) -> None:
    added: list[Job] = [job for job, _ in store.add([_new(f"{n}.mp4") for n in range(4)])]
    store.update(added[0].id, state=JobState.READY)
    assert [j.id for j in store.jobs([JobState.QUEUED])] == [j.id for j in added[1:]]
    assert store.counts() == {JobState.READY: 1, JobState.QUEUED: 3}
    assert store.delete([added[1].id]) == 1
    with pytest.raises(KeyError):
        store.get(added[1].id)


def test_adopt_gives_a_service_id_to_one_job_only(store: Store) -> None:
    [(a, _), (b, _)] = store.add([_new("a.mp4"), _new("b.mp4")])
    adopted = store.adopt(a.id, "task_id", "t1", create_started=None)
    assert adopted is not None
    assert adopted.task_id == "t1"
    assert store.adopt(b.id, "task_id", "t1") is None
    assert store.holder("task_id", "t1") == a.id
    assert store.get(b.id).task_id is None


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    [(a, _)] = store.add([_new("a.mp4")])
    with pytest.raises(RuntimeError), store.transaction():
        store.update(a.id, state=JobState.READY)
        raise RuntimeError
    assert store.get(a.id).state is JobState.QUEUED


def test_queued_job_waits_for_not_before(store: Store) -> None:
    [(a, _)] = store.add([_new("a.mp4")])
    store.update(a.id, not_before=time.time() + 60)
    assert store.claim("w", limit=1, lease=60) is None
    store.update(a.id, not_before=None)
    assert store.claim("w", limit=1, lease=60) is not None


def test_a_dead_process_frees_its_jobs_at_once(store: Store) -> None:
    [(a, _)] = store.add([_new("a.mp4")])
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=time.sleep, args=(0,))
    proc.start()
    proc.join()
    dead = f"{Store.worker_id('x').split(':')[0]}:{proc.pid}:upload-0"
    assert store.claim(dead, limit=1, lease=600) is not None
    again = store.claim(Store.worker_id("alive"), limit=1, lease=600)
    assert again is not None
    assert again.id == a.id
    # A live process keeps its job.
    assert store.claim(Store.worker_id("third"), limit=5, lease=600) is None


def test_an_sqlite_too_old_for_the_store_is_said_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian 11 and Ubuntu 20.04 ship SQLite 3.34 / 3.31, before RETURNING (3.35): the first
    add would fail with a syntax error; the store refuses to open instead, saying why."""
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(StoreError, match=r"3\.31\.1.*3\.35"):
        Store(tmp_path / "jobs.sqlite3")


def test_add_keeps_every_field_of_the_new_job(store: Store) -> None:
    new = NewJob(
        SourceKind.URL,
        "https://media.example.com/talks/my%20clip.mp4?signature=abc",
        "idx1",
        state=JobState.REJECTED,
        route=Route.URL,
        size=1234,
        duration=2.5,
        width=640,
        height=360,
        fingerprint="sha256:feed",
        error_code="video_duration_too_short",
        error_message="Too short.",
        error_hint="Use a longer video.",
        options={"language": "en"},
        dedup_key="url:my clip",
        source_mtime_ns=987654321,
    )
    (job, created), *_ = store.add([new])
    assert created
    on_both = [f.name for f in fields(NewJob) if f.name in {g.name for g in fields(Job)}]
    assert {n: getattr(job, n) for n in on_both} == {n: getattr(new, n) for n in on_both}
    assert store.internals(job.id).source_mtime_ns == 987654321
    assert job.finished_at is not None  # added already finished (rejected)
    # A URL job is named after the file in its path, %-decoded (models.url_filename).
    assert job.name == "my clip.mp4"
    # The same video added again is the first job, found by its dedup key.
    assert store.add([new]) == [(job, False)]


def test_a_change_the_disk_cannot_hold_is_rolled_back_whole_and_the_store_goes_on(
    store: Store,
) -> None:
    # SQLite's own "database or disk is full" (SQLITE_FULL), made by capping the file's pages
    # on the store's connection: the 500-job add is raised as StoreWriteError with none of
    # its rows kept, no transaction is left open, and the next change works once space is back.
    store.add([_new("kept.mp4")])
    db = store._db  # the cap is per connection
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreWriteError, match="is the disk full"):
        store.add([_new(f"clip {n}.mp4") for n in range(500)])
    assert [j.name for j in store.jobs()] == ["kept.mp4"]
    assert not db.in_transaction
    db.execute("PRAGMA max_page_count = 1073741823")
    store.add([_new("later.mp4")])
    assert len(store.jobs()) == 2 and store.integrity_ok()


def _open_store(path: str) -> str:
    try:
        with Store(Path(path)):
            return "ok"
    except StoreError as exc:
        return str(exc)


def test_processes_opening_a_new_store_at_once_all_open_it(tmp_path: Path) -> None:
    # Two processes opening a new job list together (the window and a CLI run; the two-CLI test
    # saw it in CI): the switch to WAL wants the file to itself, and SQLite answered "database
    # is locked" at once instead of waiting, which the app reported as "not a job store this
    # app can read". Six processes on each of 150 new files: some failed in every run.
    with multiprocessing.get_context("fork").Pool(6) as pool:
        for n in range(150):
            path = str(tmp_path / f"jobs-{n}.sqlite3")
            refused = [r for r in pool.map(_open_store, [path] * 6) if r != "ok"]
            assert not refused, refused[0]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="lists open files through /proc")
def test_a_list_that_cannot_be_read_lets_go_of_its_file(tmp_path: Path) -> None:
    """So the window can move a damaged list aside (Windows refuses to rename an open file)."""
    damaged = tmp_path / "jobs.sqlite3"
    damaged.write_bytes(b"not a job list " * 400)
    with pytest.raises(StoreError) as caught:
        Store(damaged)
    assert caught.value  # kept alive with its traceback, as the window keeps it
    fds = Path("/proc/self/fd")
    open_files = set()
    for fd in fds.iterdir():
        try:
            open_files.add(fd.resolve())
        except OSError:
            continue  # closed while we looked
    assert damaged.resolve() not in open_files
