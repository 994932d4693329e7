"""Frozen-bundle entry point (PyInstaller needs a script, not a console-script entry)."""

import multiprocessing
import sys

from uploader_app.__main__ import main

if __name__ == "__main__":
    # A spawned probe worker (validation/pool.py) starts this same executable: freeze_support()
    # turns it into the worker instead of a second copy of the app. It must come before main(),
    # which lets big scans use worker processes. The guard keeps a spawned worker that imports
    # this file as a module from running the app.
    multiprocessing.freeze_support()
    sys.exit(main())
