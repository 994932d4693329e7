"""The job store: one SQLite file shared by every process of the app (docs/engine.md)."""

from uploader_app.store.db import (
    JobInternals,
    NewJob,
    Store,
    StoreError,
    StoreTooNewError,
    StoreWriteError,
)

__all__ = ["JobInternals", "NewJob", "Store", "StoreError", "StoreTooNewError", "StoreWriteError"]
