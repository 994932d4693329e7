"""Entry point: ``uploader-app`` and ``python -m uploader_app``."""

from __future__ import annotations

import multiprocessing
import sys

from uploader_app import crash
from uploader_app.cli import main as cli_main
from uploader_app.validation import pool


def main(argv: list[str] | None = None) -> int:
    """Run the app; only ever called under an ``if __name__ == "__main__"`` guard.

    The console script's generated wrapper, ``python -m uploader_app`` (below) and
    ``packaging/launch.py`` all guard the call, so a spawned probe worker that imports the main
    module again never reaches it. That is what makes it safe to let big scans use worker
    processes here, and nowhere else (see ``validation/pool.py``).
    """
    multiprocessing.freeze_support()  # a frozen bundle's spawned worker becomes the worker here
    crash.install()
    pool.enable_processes()
    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
