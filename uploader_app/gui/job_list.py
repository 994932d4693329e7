"""The account's job list when the window starts: open it, or say in plain words why it cannot
be used and keep the window working on an empty list in memory (docs/gui.md, "Start-up").

Loaded with the engine, after the window's first frame.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from uploader_app.gui.account import FULL_ERRNOS, SQLITE_DENIED
from uploader_app.store import Store, StoreError, StoreTooNewError, StoreWriteError

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


# What SQLite says of a list it may not open or change, or that another program holds: the
# file may be sound, so it is fixed outside the app and tried again, never set aside.
_NO_ACCESS = (*SQLITE_DENIED, "SQLITE_BUSY", "SQLITE_LOCKED")


def _no_access(error: StoreError) -> bool:
    name = getattr(error.__cause__, "sqlite_errorname", "") or ""
    return name.startswith(_NO_ACCESS)


def is_damaged(error: StoreError) -> bool:
    """The file is there but is no job list SQLite can read (not a full disk, nor a file the
    app may not open or change)."""
    return (
        not isinstance(error, StoreWriteError)
        and isinstance(error.__cause__, sqlite3.DatabaseError)
        and not _no_access(error)
    )


def may_pass(error: StoreError) -> bool:
    """A full disk, or a folder or file that cannot be used: fixed outside the app, then tried
    again."""
    return (
        isinstance(error, StoreWriteError)
        or isinstance(error.__cause__, OSError)
        or _no_access(error)
    )


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
    cause = error.__cause__
    # A first start on a full disk: the folder itself could not be made.
    if isinstance(error, StoreWriteError) or (
        isinstance(cause, OSError) and cause.errno in FULL_ERRNOS
    ):
        # Earlier uploads only where there is a file (a folder not made holds none).
        tail = kept if isinstance(error, StoreWriteError) else "Nothing can be sent until then."
        return (
            f"The app cannot open its list of uploads: the disk that holds {path.parent} is "
            f"full. Free some space on it, then press Try again. {tail}"
        )
    if isinstance(cause, OSError):
        return (
            f"The app cannot keep its list of uploads in {path.parent}: the folder cannot be "
            "used. Check that it exists and that you may change it, then press Try again. "
            "Nothing can be sent until then."
        )
    if _no_access(error):
        return (
            f"The app may not change its list of uploads, {path}. Check that you may change "
            "that file and its folder, and that no other program keeps the file open, then "
            f"press Try again. {kept}"
        )
    if isinstance(cause, sqlite3.DatabaseError):
        return (
            f"The app cannot read its list of uploads, {path}: the file is damaged. Start a "
            "new list: the damaged one is kept beside it, for whoever helps you. Nothing can "
            "be sent until then."
        )
    if isinstance(error, StoreTooNewError):
        return (
            f"The app cannot use its list of uploads, {path}: a newer version of the app "
            "wrote it. Install that version or a newer one to see those uploads. "
            f"{kept}"
        )
    return f"The app cannot use its list of uploads: {error}. {kept}"
