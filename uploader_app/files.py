"""Writing a file so that a crash or a full disk never leaves half of it.

The settings file, saved manifests and CSV exports all go through :func:`write_atomically`.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` whole: written to a temporary file beside it, flushed to
    disk, then renamed over it (a rename within one folder is atomic). On any failure the old
    file is left as it was and the temporary file is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # noqa: PLC0415 - not loaded at every start (docs/gui.md, "Start-up")

    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
