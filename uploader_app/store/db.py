"""SQLite job rows: every change one transaction, safe for several processes at once.

WAL mode lets the window read while a CLI run writes; ``BEGIN IMMEDIATE`` takes the write
lock before a read-modify-write (a claim), so two processes never take the same job. A crash
at any instant leaves the last committed transaction (docs/engine.md, "Store").
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from uploader_app.models import Job, JobState, Route, SourceKind
from uploader_app.store.schema import MIGRATIONS

logger = logging.getLogger(__name__)

# Another process holding the write lock (a claim, a batch insert) is waited for this long.
BUSY_TIMEOUT = 30.0
# RETURNING (one statement per change, no read-back race) needs SQLite 3.35; Python takes the
# SQLite of the system it runs on, and some Linux releases ship older ones (docs/engine.md).
MIN_SQLITE = (3, 35, 0)

_JOB_COLUMNS = (
    "id",
    "source_kind",
    "source",
    "index_id",
    "state",
    "route",
    "size",
    "duration",
    "width",
    "height",
    "fingerprint",
    "server_status",
    "bytes_sent",
    "task_id",
    "video_id",
    "asset_id",
    "upload_id",
    "indexed_asset_id",
    "error_code",
    "error_message",
    "error_hint",
    "attempts",
    "created_at",
    "updated_at",
    "finished_at",
    "options",
)
_INTERNAL_COLUMNS = (
    "dedup_key",
    "lease_owner",
    "lease_until",
    "upload_session",
    "unreported",
    "create_started",
    "source_mtime_ns",
    "not_before",
)
_WRITABLE = frozenset(_JOB_COLUMNS[1:] + _INTERNAL_COLUMNS)


def _process_gone(pid: int) -> bool:
    """True when no process ``pid`` runs here. On Windows signal 0 would end the process, so
    there only an expired lease frees a job."""
    if os.name == "nt" or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists but belongs to someone else
    return False


def _ids_clause(ids: Collection[int] | None) -> tuple[str, list[Any]]:
    """``id`` among ``ids`` as one bound JSON array: a list of any length (a 50,000-file
    folder) stays under SQLite's limit on bound parameters."""
    if ids is None:
        return "", []
    return "id IN (SELECT value FROM json_each(?))", [json.dumps(list(ids))]


class StoreError(Exception):
    """The store file cannot be used (newer schema, not a database, no folder for it)."""


class StoreWriteError(StoreError):
    """A change did not reach the disk (full, over the user's file size limit, failing);
    nothing of it was kept, and the store is as it was before the change."""


class StoreTooNewError(StoreError):
    """The file was written by a newer version of the app, whose changes this one does not
    know: it is left as it is."""


def _write_failed(exc: BaseException) -> bool:
    """Whether SQLite could not write its files (SQLITE_FULL, SQLITE_IOERR and its kinds)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return isinstance(exc, sqlite3.OperationalError) and name.startswith(
        ("SQLITE_FULL", "SQLITE_IOERR")
    )


def _write_error(path: Path, exc: BaseException) -> StoreWriteError:
    return StoreWriteError(f"{path} could not be written (is the disk full?): {exc}")


@dataclass(frozen=True)
class NewJob:
    """A job to add; ``dedup_key`` makes a second add of the same video return the first."""

    source_kind: SourceKind
    source: str
    index_id: str
    state: JobState = JobState.QUEUED
    route: Route | None = None
    size: int | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fingerprint: str | None = None
    error_code: str | None = None
    error_message: str = ""
    error_hint: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    dedup_key: str | None = None
    source_mtime_ns: int | None = None


@dataclass(frozen=True)
class JobInternals:
    """The engine's bookkeeping of one job, beside what a view sees."""

    lease_owner: str | None
    lease_until: float | None
    upload_session: dict[str, Any] | None
    unreported: list[list[Any]]
    create_started: float | None
    source_mtime_ns: int | None
    not_before: float | None


def _to_db(name: str, value: Any) -> Any:
    if name == "options":
        return json.dumps(dict(value), sort_keys=True)
    if name in ("upload_session", "unreported"):
        return None if value is None else json.dumps(value)
    return value


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        source_kind=SourceKind(row["source_kind"]),
        source=row["source"],
        index_id=row["index_id"],
        state=JobState(row["state"]),
        route=Route(row["route"]) if row["route"] else None,
        size=row["size"],
        duration=row["duration"],
        width=row["width"],
        height=row["height"],
        fingerprint=row["fingerprint"],
        server_status=row["server_status"],
        bytes_sent=row["bytes_sent"],
        task_id=row["task_id"],
        video_id=row["video_id"],
        asset_id=row["asset_id"],
        upload_id=row["upload_id"],
        indexed_asset_id=row["indexed_asset_id"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        error_hint=row["error_hint"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        options=json.loads(row["options"]),
    )


class Store:
    """The jobs of every index, in ``path`` (created with its folder when missing).

    One connection per Store, shared by the threads of this process under a lock; other
    processes open their own Store on the same file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(
                f"this computer's SQLite is version {sqlite3.sqlite_version}; the job list "
                f"needs {'.'.join(map(str, MIN_SQLITE))} or newer (install a newer Python or "
                "the app's own package)"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"the folder {path.parent} cannot be used: {exc.strerror or exc}"
            ) from exc
        self._lock = threading.RLock()
        self._depth = 0  # nesting of transaction() in the thread holding the lock
        try:
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._enter_wal()
            # NORMAL in WAL mode: a killed process loses nothing committed; only a power cut
            # can drop the last transactions, never corrupt the file.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except BaseException as exc:
            # A list that cannot be used lets go of its file at once, so that it can be moved
            # aside (Windows refuses to rename an open file).
            if hasattr(self, "_db"):
                self._db.close()
            if not isinstance(exc, sqlite3.DatabaseError):
                raise
            if _write_failed(exc):
                raise _write_error(path, exc) from exc
            raise StoreError(f"{path} is not a job store this app can read: {exc}") from exc

    def _enter_wal(self) -> None:
        # The switch to WAL needs the file to itself, and SQLite answers "locked" at once,
        # not through the busy timeout: two processes opening a new job list together (the
        # window and a CLI run) would see a store "this app can read" refused.
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with the write lock from its first statement; a
        transaction opened inside another (same thread) joins the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                # A failed write may have ended the transaction already (SQLite rolls back
                # on some I/O errors): a ROLLBACK then fails too and would hide the cause,
                # and one left open would refuse every later BEGIN.
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        logger.exception("rolling back a failed change failed")
                if _write_failed(exc):
                    raise _write_error(self.path, exc) from exc
                raise
            finally:
                self._depth = 0

    def _migrate(self) -> None:
        with self.transaction() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise StoreTooNewError(
                    f"{self.path} was written by a newer version of the app "
                    f"(schema {version}, this one knows {len(MIGRATIONS)})"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                logger.info("job store %s: migrating to schema %d", self.path, number)
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def integrity_ok(self) -> bool:
        with self._lock:
            return bool(self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")

    # ---- adding and reading ----------------------------------------------------------------

    def add(
        self, new_jobs: Sequence[NewJob], *, removed: list[int] | None = None
    ) -> list[tuple[Job, bool]]:
        """Add jobs in one transaction: each with True when new, or the existing job with the
        same ``dedup_key`` in the same index and False.

        A file added again after it changed (a new fingerprint) renews the job of the same
        path and index that never reached the service (True): one job per file, with its
        new content, never a second one beside the stale one. When that content is already
        another job's, the stale job is deleted and its id appended to ``removed``."""
        now = time.time()
        given = tuple(f.name for f in dataclass_fields(NewJob))
        names = (*given, "created_at", "updated_at", "finished_at")
        sql = (
            f"INSERT INTO jobs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            "ON CONFLICT DO NOTHING RETURNING *"
        )
        results: list[tuple[Job, bool]] = []
        with self.transaction() as db:
            for new in new_jobs:
                values = {
                    **{n: getattr(new, n) for n in given},
                    "created_at": now,
                    "updated_at": now,
                    "finished_at": now if new.state.is_terminal else None,
                }
                renewed = self._renew_stale(db, new, values, removed)
                if renewed is not None:
                    results.append((renewed, True))
                    continue
                row = db.execute(sql, [_to_db(n, values[n]) for n in names]).fetchone()
                if row is not None:
                    results.append((_job(row), True))
                    continue
                existing = db.execute(
                    "SELECT * FROM jobs WHERE index_id = ? AND dedup_key = ?",
                    (new.index_id, new.dedup_key),
                ).fetchone()
                results.append((_job(existing), False))
        return results

    def _renew_stale(
        self,
        db: sqlite3.Connection,
        new: NewJob,
        values: Mapping[str, Any],
        removed: list[int] | None,
    ) -> Job | None:
        """The not-yet-sent job of ``new``'s file and index with other content, given
        ``values``; None when there is none (or it is the same content). When the new content
        is already another job's, the stale one goes: that job stands for the file now."""
        if new.source_kind is not SourceKind.FILE or new.dedup_key is None:
            return None
        waiting = [JobState.QUEUED, JobState.PAUSED, JobState.NEEDS_ATTENTION]
        waiting += [JobState.FAILED, JobState.CANCELLED, JobState.REJECTED]
        stale = db.execute(
            "SELECT id FROM jobs WHERE index_id = ? AND source = ? AND source_kind = ?"
            " AND dedup_key IS NOT ? AND task_id IS NULL AND indexed_asset_id IS NULL"
            " AND upload_session IS NULL AND create_started IS NULL"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            f" AND state IN ({', '.join('?' * len(waiting))}) ORDER BY id DESC LIMIT 1",
            (
                new.index_id,
                new.source,
                str(SourceKind.FILE),
                new.dedup_key,
                time.time(),
                *map(str, waiting),
            ),
        ).fetchone()
        if stale is None:
            return None
        taken = db.execute(
            "SELECT 1 FROM jobs WHERE index_id = ? AND dedup_key = ?",
            (new.index_id, new.dedup_key),
        ).fetchone()
        if taken is not None:
            db.execute("DELETE FROM jobs WHERE id = ?", (stale["id"],))
            if removed is not None:
                removed.append(stale["id"])
            return None
        fields = {n: v for n, v in values.items() if n != "created_at"}
        fields |= {"bytes_sent": 0, "attempts": 0, "not_before": None, "unreported": []}
        row = db.execute(
            f"UPDATE jobs SET {', '.join(f'{n} = ?' for n in fields)} WHERE id = ? RETURNING *",
            [*(_to_db(n, v) for n, v in fields.items()), stale["id"]],
        ).fetchone()
        logger.info("job %d: %s changed before it was sent; renewed", row["id"], new.source)
        return _job(row)

    def get(self, job_id: int) -> Job:
        """The job; KeyError when there is none (removed)."""
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return _job(row)

    def internals(self, job_id: int) -> JobInternals:
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(_INTERNAL_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise KeyError(job_id)
        return JobInternals(
            lease_owner=row["lease_owner"],
            lease_until=row["lease_until"],
            upload_session=json.loads(row["upload_session"]) if row["upload_session"] else None,
            unreported=json.loads(row["unreported"]),
            create_started=row["create_started"],
            source_mtime_ns=row["source_mtime_ns"],
            not_before=row["not_before"],
        )

    def jobs(
        self,
        states: Sequence[JobState] | None = None,
        ids: Collection[int] | None = None,
        *,
        index_id: str | None = None,
    ) -> list[Job]:
        """Jobs in the order they were added, optionally only those in ``states``, ``ids``
        or one index."""
        sql = "SELECT * FROM jobs"
        clauses: list[str] = []
        args: list[Any] = []
        if index_id is not None:
            clauses.append("index_id = ?")
            args.append(index_id)
        if states is not None:
            clauses.append(f"state IN ({', '.join('?' * len(states))})")
            args += [str(s) for s in states]
        if ids is not None:
            clause, ids_args = _ids_clause(ids)
            clauses.append(clause)
            args += ids_args
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [_job(row) for row in rows]

    def with_key(self, index_id: str, dedup_key: str) -> Job | None:
        """The job standing for this content (or URL) in this index, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM jobs WHERE index_id = ? AND dedup_key = ?", (index_id, dedup_key)
            ).fetchone()
        return None if row is None else _job(row)

    def counts(self) -> dict[JobState, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {JobState(state): count for state, count in rows}

    # ---- changing ----------------------------------------------------------------------------

    def update(
        self, job_id: int, *, only_if: Sequence[JobState] | None = None, **fields: Any
    ) -> Job | None:
        """Change fields of one job in one transaction and return the new snapshot.

        ``only_if``: change it only while its state is one of these (None when it is not, or
        when the job was removed). A new terminal state sets ``finished_at``. ``updated_at``
        moves only when a field a view sees changes: the engine's bookkeeping (the poller's
        next look, a lease) is not news, and the poller spaces its looks by that age.
        """
        unknown = set(fields) - _WRITABLE
        if unknown:
            raise ValueError(f"not job columns: {sorted(unknown)}")
        now = time.time()
        values = {name: _to_db(name, value) for name, value in fields.items()}
        if not fields or not fields.keys() <= set(_INTERNAL_COLUMNS):
            values["updated_at"] = now
        state = fields.get("state")
        if state is not None:
            values["finished_at"] = now if JobState(state).is_terminal else None
        sql = f"UPDATE jobs SET {', '.join(f'{n} = ?' for n in values)} WHERE id = ?"
        args: list[Any] = [*values.values(), job_id]
        if only_if is not None:
            sql += f" AND state IN ({', '.join('?' * len(only_if))})"
            args += [str(s) for s in only_if]
        with self.transaction() as db:
            row = db.execute(sql + " RETURNING *", args).fetchone()
        return None if row is None else _job(row)

    def delete(self, ids: Sequence[int]) -> int:
        with self.transaction() as db:
            cursor = db.execute(f"DELETE FROM jobs WHERE id IN ({', '.join('?' * len(ids))})", ids)
        return cursor.rowcount

    # ---- fingerprints (validation.fingerprint.FingerprintStore) ------------------------------

    def known_fingerprint(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint FROM fingerprints"
                " WHERE path = ? AND size = ? AND mtime_ns = ? AND inode = ?",
                (path, size, mtime_ns, inode),
            ).fetchone()
        return None if row is None else str(row[0])

    def remember_fingerprints(self, rows: Sequence[tuple[str, int, int, int, str]]) -> None:
        """Keep (path, size, mtime_ns, inode, fingerprint) rows, one transaction for all."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO fingerprints (path, size, mtime_ns, inode, fingerprint)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    # ---- leases --------------------------------------------------------------------------------

    @staticmethod
    def worker_id(name: str) -> str:
        """A lease owner name that says which process on which computer holds the job."""
        return f"{socket.gethostname()}:{os.getpid()}:{name}"

    def _free_dead_leases(self, db: sqlite3.Connection) -> None:
        """End the leases of processes on this computer that no longer run (killed, crashed):
        their jobs need not wait for the lease to run out."""
        rows = db.execute(
            "SELECT id, lease_owner FROM jobs WHERE lease_until > ?", (time.time(),)
        ).fetchall()
        for row in rows:
            host, _, rest = (row["lease_owner"] or "").partition(":")
            pid = rest.partition(":")[0]
            if host == socket.gethostname() and pid.isdigit() and _process_gone(int(pid)):
                logger.info("job %d: its process %s is gone; freeing it", row["id"], pid)
                db.execute("UPDATE jobs SET lease_until = NULL WHERE id = ?", (row["id"],))

    def claim(
        self, worker: str, *, limit: int, lease: float, only: Collection[int] | None = None
    ) -> Job | None:
        """Lease the oldest queued job to ``worker`` when fewer than ``limit`` uploads hold a
        live lease (in any process); a job whose lease ran out or whose process is gone is
        taken back first. The job is moved to ``uploading``. ``only``: take none but these
        (a CLI command runs its own jobs, not the window's).

        A queued job whose last runner still holds its lease (paused and resumed while that
        runner waits on an answer) is left until it lets go: its request may still create the
        video, and a second runner would send the file again."""
        now = time.time()
        with self.transaction() as db:
            self._free_dead_leases(db)
            running = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state = ? AND lease_until > ?",
                (str(JobState.UPLOADING), now),
            ).fetchone()[0]
            if running >= limit:
                return None
            scope, scope_args = _ids_clause(only)
            row = db.execute(
                "SELECT id FROM jobs WHERE (lease_until IS NULL OR lease_until <= ?)"
                " AND (state = ? OR (state = ? AND (not_before IS NULL OR not_before <= ?)))"
                f"{' AND ' + scope if scope else ''}"
                " ORDER BY state = ? DESC, id LIMIT 1",
                (
                    now,
                    str(JobState.UPLOADING),
                    str(JobState.QUEUED),
                    now,
                    *scope_args,
                    str(JobState.UPLOADING),
                ),
            ).fetchone()
            if row is None:
                return None
            claimed = db.execute(
                "UPDATE jobs SET state = ?, lease_owner = ?, lease_until = ?, updated_at = ?,"
                " error_code = NULL, error_message = '', error_hint = '' WHERE id = ?"
                " RETURNING *",
                (str(JobState.UPLOADING), worker, now + lease, now, row["id"]),
            ).fetchone()
        return _job(claimed)

    def renew(self, job_id: int, worker: str, *, lease: float) -> bool:
        """Extend ``worker``'s lease while it holds the job, whatever its state (a runner
        still waiting on an answer keeps others off it until ``release``). False when the
        upload should stop: paused, cancelled or removed meanwhile, or taken over after the
        lease ran out."""
        with self.transaction() as db:
            row = db.execute(
                "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? RETURNING state",
                (time.time() + lease, job_id, worker),
            ).fetchone()
        return row is not None and row["state"] == str(JobState.UPLOADING)

    def holder(self, column: str, value: str) -> int | None:
        """The job holding this service id (``task_id``, ``indexed_asset_id``…), if any."""
        if column not in ("task_id", "video_id", "asset_id", "indexed_asset_id"):
            raise ValueError(column)
        with self._lock:
            row = self._db.execute(
                f"SELECT id FROM jobs WHERE {column} = ? LIMIT 1", (value,)
            ).fetchone()
        return None if row is None else int(row[0])

    def adopt(self, job_id: int, column: str, value: str, **fields: Any) -> Job | None:
        """Give ``job_id`` the service id ``value`` unless another job already holds it
        (None then): one created object is never reported by two jobs, across processes."""
        if column not in ("task_id", "indexed_asset_id"):
            raise ValueError(column)
        with self.transaction():
            if self.holder(column, value) not in (None, job_id):
                return None
            return self.update(job_id, **{**fields, column: value})

    def release(self, job_id: int, worker: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (job_id, worker),
            )
