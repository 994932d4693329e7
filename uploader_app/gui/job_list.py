"""The account's job list when the window starts: open it, or say in plain words why it cannot
be used and keep the window working on an empty list in memory (docs/gui.md, "Start-up").

Loaded with the engine, after the window's first frame.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from uploader_app.store import Store, StoreError, StoreWriteError

logger = logging.getLogger(__name__)


def open_store(path: Path) -> tuple[Store, StoreError | None]:
    """The job list at ``path``; when it cannot be used (a full disk, a damaged file, a folder
    that cannot be written), an empty list in memory and why, so that the window opens and
    says so (``store_problem_text``) instead of ending in a crash report. The file is left as
    it is."""
    try:
        return Store(path), None
    except StoreError as error:
        logger.error("the job list %s cannot be used: %s", path, error)
        return Store(Path(":memory:")), error


def is_damaged(error: StoreError) -> bool:
    """The file is there but is no job list SQLite can read (not a full disk)."""
    return not isinstance(error, StoreWriteError) and isinstance(
        error.__cause__, sqlite3.DatabaseError
    )


def may_pass(error: StoreError) -> bool:
    """A full disk or a folder that cannot be used: fixed outside the app, then tried again."""
    return isinstance(error, StoreWriteError) or isinstance(error.__cause__, OSError)


def set_aside(path: Path) -> Path:
    """Rename a damaged job list (and SQLite's files beside it) to ``….damaged-<time>`` in its
    folder, kept for whoever helps; the next open starts a new, empty list there."""
    kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    path.replace(kept)
    for suffix in ("-wal", "-shm"):
        beside = path.with_name(path.name + suffix)
        if beside.exists():
            beside.replace(kept.with_name(kept.name + suffix))
    return kept


def store_problem_text(error: StoreError, path: Path) -> str:
    """Why the job list cannot be used at start, in plain words, with what to do."""
    kept = "Nothing can be sent until then; your earlier uploads are kept in that file, untouched."
    if isinstance(error, StoreWriteError):
        return (
            f"The app cannot open its list of uploads: the disk that holds {path.parent} is "
            f"full. Free some space on it, then press Try again. {kept}"
        )
    cause = error.__cause__
    if isinstance(cause, OSError):
        return (
            f"The app cannot keep its list of uploads in {path.parent}: the folder cannot be "
            "used. Check that it exists and that you may change it, then press Try again. "
            "Nothing can be sent until then."
        )
    if isinstance(cause, sqlite3.DatabaseError):
        return (
            f"The app cannot read its list of uploads, {path}: the file is damaged. Start a "
            "new list: the damaged one is kept beside it, for whoever helps you. Nothing can "
            "be sent until then."
        )
    return f"The app cannot use its list of uploads: {error}. {kept}"
