"""Durable state: one SQLite table of JSON documents, cached in memory, behind one lock.

Every write goes straight to SQLite (autocommit), so a restart with the same data dir finds
everything; reads come from the cache. Callers get copies, never the cached objects, so a
handler can change what it got and ``put`` it back without racing another thread.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
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


def _decode(cls: type[R], data: dict[str, Any]) -> R:
    kwargs = dict(data)
    if kwargs.get("media") is not None:
        kwargs["media"] = MediaInfo(**kwargs["media"])
    if cls is UploadRecord:
        kwargs["chunks"] = {k: ChunkState(**v) for k, v in kwargs["chunks"].items()}
    return cls(**kwargs)


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS records ("
            " kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,"
            " PRIMARY KEY (kind, id))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._cache: dict[str, dict[str, Record]] = {cls.KIND: {} for cls in RECORD_TYPES}
        by_kind = {cls.KIND: cls for cls in RECORD_TYPES}
        for kind, rid, body in self._db.execute("SELECT kind, id, body FROM records"):
            if kind in by_kind:
                self._cache[kind][rid] = _decode(by_kind[kind], json.loads(body))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, record: Record) -> None:
        body = json.dumps(dataclasses.asdict(record))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO records (kind, id, body) VALUES (?, ?, ?)",
                (record.KIND, record.id, body),
            )
            self._cache[record.KIND][record.id] = copy.deepcopy(record)

    def get(self, cls: type[R], record_id: str) -> R | None:
        with self._lock:
            found = self._cache[cls.KIND].get(record_id)
            return copy.deepcopy(found) if isinstance(found, cls) else None

    def all(self, cls: type[R]) -> list[R]:
        with self._lock:
            return [copy.deepcopy(r) for r in self._cache[cls.KIND].values() if isinstance(r, cls)]

    def delete(self, cls: type[R], record_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (cls.KIND, record_id))
            self._cache[cls.KIND].pop(record_id, None)

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
