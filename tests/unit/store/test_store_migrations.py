"""Schema 2 (kept fingerprints), claims limited to some jobs, renewal of a changed file's job."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from uploader_app.models import JobState, SourceKind
from uploader_app.store import NewJob, Store
from uploader_app.store.schema import MIGRATIONS


def _file(name: str, key: str, index: str = "idx1") -> NewJob:
    return NewJob(SourceKind.FILE, f"/videos/{name}", index, dedup_key=key, fingerprint=key)


def test_a_schema_1_store_is_migrated_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.execute(
            "INSERT INTO jobs (source_kind, source, index_id, state, created_at, updated_at)"
            " VALUES ('file', '/videos/a.mp4', 'idx1', 'queued', 1, 1)"
        )
        db.execute("PRAGMA user_version = 1")
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS) == 2
        assert [j.source for j in store.jobs()] == ["/videos/a.mp4"]
        assert store.known_fingerprint("/videos/a.mp4", 10, 5, 7) is None
        store.remember_fingerprints([("/videos/a.mp4", 10, 5, 7, "sha256:aa")])
        assert store.known_fingerprint("/videos/a.mp4", 10, 5, 7) == "sha256:aa"
        # Another version of the file (size, mtime or inode) is not that fingerprint.
        assert store.known_fingerprint("/videos/a.mp4", 10, 5, 8) is None
        store.remember_fingerprints([("/videos/a.mp4", 11, 6, 8, "sha256:bb")])
        assert store.known_fingerprint("/videos/a.mp4", 10, 5, 7) is None
        assert store.integrity_ok()


def test_claim_takes_only_the_jobs_named(tmp_path: Path) -> None:
    with Store(tmp_path / "jobs.sqlite3") as store:
        added = store.add([_file("a.mp4", "a"), _file("b.mp4", "b")])
        second = added[1][0].id
        job = store.claim("w", limit=2, lease=30, only=[second])
        assert job is not None and job.id == second
        assert store.claim("w", limit=2, lease=30, only=[second]) is None
        assert store.claim("w", limit=2, lease=30, only=[]) is None


def test_id_lists_longer_than_sqlite_bound_parameters(tmp_path: Path) -> None:
    with Store(tmp_path / "jobs.sqlite3") as store:
        [(job, _)] = store.add([_file("a.mp4", "a")])
        many = [job.id, *range(10_000, 50_000)]
        assert [j.id for j in store.jobs(ids=many)] == [job.id]
        assert store.claim("w", limit=1, lease=30, only=many) is not None


def test_a_changed_file_renews_its_waiting_job_but_not_one_already_sent(tmp_path: Path) -> None:
    with Store(tmp_path / "jobs.sqlite3") as store:
        [(waiting, _)] = store.add([_file("a.mp4", "old")])
        [(renewed, created)] = store.add([_file("a.mp4", "new")])
        assert created and renewed.id == waiting.id and renewed.fingerprint == "new"
        # In another index, the same path is another job.
        [(elsewhere, created)] = store.add([_file("a.mp4", "new", index="idx2")])
        assert created and elsewhere.id != waiting.id
        # Once a create request went out, the job is what the service may have: a new one.
        store.update(waiting.id, create_started=1.0)
        [(third, created)] = store.add([_file("a.mp4", "newer")])
        assert created and third.id != waiting.id
        assert store.get(waiting.id).fingerprint == "new"


def test_a_changed_file_whose_new_content_is_another_job_leaves_that_job(tmp_path: Path) -> None:
    with Store(tmp_path / "jobs.sqlite3") as store:
        [(stale, _)] = store.add([_file("a.mp4", "one")])
        [(other, _)] = store.add([_file("b.mp4", "two")])
        removed: list[int] = []
        [(found, created)] = store.add([_file("a.mp4", "two")], removed=removed)
        assert not created and found.id == other.id
        assert removed == [stale.id]  # so the engine can tell the window
        assert [j.id for j in store.jobs()] == [other.id]
        assert stale.state is JobState.QUEUED
