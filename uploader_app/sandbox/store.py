"""Durable state: one SQLite table of JSON documents, cached in memory, behind one lock.

Every write goes straight to SQLite (autocommit), so a restart with the same data dir finds
everything; reads come from the cache. Callers get copies, never the cached objects, so a
handler can change what it got without touching the cache. A change that depends on what is
stored (read-modify-write, check-then-insert) goes through ``update`` or runs inside
``atomic()``, so no other request can slip in between.

Lists stay cheap with thousands of records: ``read`` runs a read-only function over the cached
records without copying them, records with an ``index_id`` are also filed by index, and only
the records a caller keeps (one page, say) are copied.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from uploader_app.sandbox.records import (
    RECORD_TYPES,
    ChunkState,
    MediaInfo,
    Record,
    UploadRecord,
)

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=Record)
T = TypeVar("T")


def _copy(record: R) -> R:
    return copy.deepcopy(record)


def _decode(cls: type[R], data: dict[str, Any]) -> R:
    kwargs = dict(data)
    if kwargs.get("media") is not None:
        kwargs["media"] = MediaInfo(**kwargs["media"])
    if cls is UploadRecord:
        kwargs["chunks"] = {k: ChunkState(**v) for k, v in kwargs["chunks"].items()}
    return cls(**kwargs)


def ids_of(records: Iterable[Record]) -> list[str]:
    """For ``Store.read``: the ids of the records it sees."""
    return [r.id for r in records]


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL sync cannot corrupt the file; a power cut may lose the last writes.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS records ("
            " kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,"
            " PRIMARY KEY (kind, id))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._cache: dict[str, dict[str, Record]] = {cls.KIND: {} for cls in RECORD_TYPES}
        # kind -> index id -> ids of that kind's records in the index (tasks, indexed assets)
        self._by_index: dict[str, dict[str, set[str]]] = {cls.KIND: {} for cls in RECORD_TYPES}
        by_kind = {cls.KIND: cls for cls in RECORD_TYPES}
        for kind, body in self._db.execute("SELECT kind, body FROM records"):
            if kind in by_kind:
                self._remember(_decode(by_kind[kind], json.loads(body)))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold the store's lock, so a check and the writes that depend on it are one step."""
        with self._lock:
            yield

    def _remember(self, record: Record) -> None:
        self._forget(record.KIND, record.id)
        self._cache[record.KIND][record.id] = record
        index_id = getattr(record, "index_id", None)
        if index_id is not None:
            self._by_index[record.KIND].setdefault(index_id, set()).add(record.id)

    def _forget(self, kind: str, record_id: str) -> None:
        old = self._cache[kind].pop(record_id, None)
        index_id = getattr(old, "index_id", None)
        if index_id is not None:
            self._by_index[kind].get(index_id, set()).discard(record_id)

    def put(self, record: Record) -> None:
        body = json.dumps(dataclasses.asdict(record))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO records (kind, id, body) VALUES (?, ?, ?)",
                (record.KIND, record.id, body),
            )
            self._remember(_copy(record))

    def get(self, cls: type[R], record_id: str) -> R | None:
        with self._lock:
            found = self._cache[cls.KIND].get(record_id)
            return _copy(found) if isinstance(found, cls) else None

    def all(self, cls: type[R], where: Callable[[R], bool] | None = None) -> list[R]:
        """Copies of the records ``where`` keeps (it sees the cached records: only read them)."""
        return self.many(
            cls, self.read(cls, lambda rs: [r.id for r in rs if not where or where(r)])
        )

    def many(self, cls: type[R], record_ids: Iterable[str]) -> list[R]:
        """Copies of these records, in this order; ids that no longer exist are skipped."""
        with self._lock:
            found = (self._cache[cls.KIND].get(rid) for rid in record_ids)
            return [_copy(r) for r in found if isinstance(r, cls)]

    def read(
        self, cls: type[R], look: Callable[[Iterable[R]], T], *, index_id: str | None = None
    ) -> T:
        """``look(records)`` under the lock, on the cached records themselves, not copies.

        ``look`` must only read them and return something of its own (ids, counts), never the
        records. With ``index_id`` it sees only the records filed under that index.
        """
        with self._lock:
            cache = self._cache[cls.KIND]
            if index_id is None:
                records: Iterable[Record] = cache.values()
            else:
                records = (cache[rid] for rid in self._by_index[cls.KIND].get(index_id, ()))
            return look(r for r in records if isinstance(r, cls))

    def delete(self, cls: type[R], record_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (cls.KIND, record_id))
            self._forget(cls.KIND, record_id)

    def update(self, cls: type[R], record_id: str, change: Callable[[R], None]) -> R | None:
        """Read, change and write one record atomically; None when it does not exist."""
        with self._lock:
            record = self.get(cls, record_id)
            if record is None:
                return None
            change(record)
            self.put(record)
            return record

    def meta(self, key: str, default: Callable[[], str]) -> str:
        """A persistent setting, created with ``default()`` the first time it is asked for."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return str(row[0])
            value = default()
            self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            return value

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
