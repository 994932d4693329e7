"""What the window imports before it shows: libraries it needs only later stay out of start-up
(docs/gui.md, "Start-up")."""

from __future__ import annotations

import subprocess
import sys

# Each costs a noticeable part of start-up and is needed only after the window is shown:
# boto3 for building a manifest from a bucket, werkzeug and jsonschema for the demo sandbox,
# wakepy for the first upload, webvtt for the first WebVTT file, pycountry for a manifest,
# requests and urllib3 for the first call to the service (about 20 MB and 50 ms), keyring for
# the first keychain read, pymediainfo for the first probe, rich for the CLI's tables,
# multiprocessing for the first big folder's probe processes, hashlib (OpenSSL, 3.5 MB) for the
# first fingerprint, email.utils (with calendar and locale) for the first answer.
LATER = (
    "boto3",
    "botocore",
    "werkzeug",
    "jsonschema",
    "wakepy",
    "webvtt",
    "pycountry",
    "requests",
    "urllib3",
    "keyring",
    "pymediainfo",
    "rich",
    "multiprocessing",
    "hashlib",
    "email",
)


def test_window_modules_leave_slow_libraries_for_later() -> None:
    probe = (
        "import sys, uploader_app.__main__, uploader_app.gui.app, uploader_app.gui.startup;"
        f"print(' '.join(m for m in {LATER!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == []
