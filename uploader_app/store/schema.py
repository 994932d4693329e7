"""The store's schema, as numbered migrations (``PRAGMA user_version`` says how many ran).

A migration is appended, never edited: a store written by an older version of the app is
brought up to date step by step when it is opened.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: one row per job; the columns after ``options`` are the engine's own bookkeeping.
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source_kind TEXT NOT NULL,
        source TEXT NOT NULL,
        index_id TEXT NOT NULL,
        state TEXT NOT NULL,
        route TEXT,
        size INTEGER,
        duration REAL,
        width INTEGER,
        height INTEGER,
        fingerprint TEXT,
        server_status TEXT,
        bytes_sent INTEGER NOT NULL DEFAULT 0,
        task_id TEXT,
        video_id TEXT,
        asset_id TEXT,
        upload_id TEXT,
        indexed_asset_id TEXT,
        error_code TEXT,
        error_message TEXT NOT NULL DEFAULT '',
        error_hint TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        finished_at REAL,
        options TEXT NOT NULL DEFAULT '{}',
        -- what makes two jobs the same video: the content fingerprint of a file, the URL
        dedup_key TEXT,
        -- the process/thread running the upload and until when its claim holds
        lease_owner TEXT,
        lease_until REAL,
        -- the multipart session (JSON) and the chunks sent but not yet reported (JSON)
        upload_session TEXT,
        unreported TEXT NOT NULL DEFAULT '[]',
        -- when a create request whose answer was lost began (the duplicate look-up window)
        create_started REAL,
        -- the file's size and mtime when queued: a change means a different file
        source_mtime_ns INTEGER,
        -- not to be sent (queued) or polled (on the service) before this time
        not_before REAL
    );
    CREATE UNIQUE INDEX jobs_dedup ON jobs (index_id, dedup_key) WHERE dedup_key IS NOT NULL;
    CREATE INDEX jobs_state ON jobs (state);
    """,
    # 2: content fingerprints kept across runs, one row per file path (its latest version),
    # so queueing a folder again does not read every byte again (docs/engine.md, "Store").
    """
    CREATE TABLE fingerprints (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        inode INTEGER NOT NULL,
        fingerprint TEXT NOT NULL
    );
    -- a file added again after it changed finds its waiting job by path (Store.add)
    CREATE INDEX jobs_source ON jobs (index_id, source);
    """,
)
