"""Frozen-bundle entry point (PyInstaller needs a script, not a console-script entry)."""

import sys

from uploader_app.__main__ import main

sys.exit(main())
