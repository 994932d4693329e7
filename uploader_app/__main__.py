"""Entry point: ``uploader-app`` and ``python -m uploader_app``."""

from __future__ import annotations

import multiprocessing
import sys

from uploader_app.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # probe workers are spawned (validation/pool.py)
    sys.exit(main())
