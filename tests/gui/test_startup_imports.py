"""What the window imports before it shows: libraries it needs only later stay out of start-up
(docs/gui.md, "Start-up")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Each costs a noticeable part of start-up and is needed only after the window is shown:
# boto3 for building a manifest from a bucket, werkzeug and jsonschema for the demo sandbox,
# wakepy for the first upload, webvtt for the first WebVTT file, pycountry for a manifest,
# requests and urllib3 for the first call to the service (about 20 MB and 50 ms), keyring for
# the first keychain read, pymediainfo for the first probe, rich for the CLI's tables,
# multiprocessing for the first big folder's probe processes, hashlib (OpenSSL, 3.5 MB) for the
# first fingerprint, email.utils (with calendar and locale) for the first answer, the probe pool
# (pickle, concurrent.futures) for the first check.
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
    "uploader_app.validation.pool",
    "pickle",
    "concurrent.futures",
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


# What the first frame does not need: the engine and its job list, the API client, the
# checks, the URL and Manifest tabs and the dialogs load after it (docs/gui.md, "Start-up").
AFTER_FIRST_FRAME = (
    "uploader_app.jobs.engine",
    "uploader_app.api.client",
    "uploader_app.api.errors",
    "uploader_app.store.db",
    "uploader_app.validation.scan",
    "uploader_app.validation.probe",
    "uploader_app.manifest.checks",
    "uploader_app.sandbox.server",
    "uploader_app.gui.url_tab",
    "uploader_app.gui.manifest_tab",
    "uploader_app.gui.settings_dialog",
    "uploader_app.gui.welcome",
    "uploader_app.gui.crash_notice",
    "uploader_app.gui.new_index",
    "uploader_app.gui.progress_delegate",
    "truststore",
    "sqlite3",
    "ssl",
    "keyring",
)

_FIRST_FRAME = """
import os, sys, time
from uploader_app import config, keys
from uploader_app.gui import startup
from uploader_app.gui.app import make_application

class Look(startup.AfterFirstPaint):
    def __init__(self, window, then):
        def report():
            print(" ".join(m for m in LATER if m in sys.modules), flush=True)
            then()
            # What the keychain holds is learnt after the first frame: wait for the note.
            note = config.app_home() / keys.STATE_FILE
            deadline = time.monotonic() + 30
            while not note.exists() and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            os._exit(0)
        super().__init__(window, report)

startup.AfterFirstPaint = Look
app = make_application([])
startup.start(app, [], demo=True)
app.exec()
"""


def test_the_first_frame_is_drawn_before_the_engine_and_the_other_tabs_load(
    tmp_path: Path,
) -> None:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        UPLOADER_APP_HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        # A keychain that answers, empty: a start learns from it that no key is kept there.
        PYTHON_KEYRING_BACKEND="tests.memory_keyring.MemoryKeyring",
    )
    env.pop("TWELVELABS_API_KEY", None)
    script = f"LATER = {AFTER_FIRST_FRAME!r}\n" + _FIRST_FRAME
    # The very first start asks the keychain after its first frame, the next knows there is
    # no key in it, and one after a key was saved reads it after the first frame
    # (docs/settings.md, "The keychain").
    for start in ("first", "next", "saved"):
        if start == "saved":
            (tmp_path / "home" / "keychain-state").write_text("saved")
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=Path(__file__).parents[2],  # where tests.memory_keyring is found
            check=False,
        )
        assert result.returncode == 0, result.stderr
        loaded = set(result.stdout.split())
        assert loaded == set(), start
        assert (tmp_path / "home" / "keychain-state").exists(), start
