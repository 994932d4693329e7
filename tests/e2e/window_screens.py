"""Screenshots of the real app under Xvfb: welcome, a folder drop with mixed verdicts,
settings, the dark palette (checked files, then uploading), and a row with its fix.
``python -m tests.e2e.window_screens [FOLDER]`` (default docs/screenshots); look at each
picture before committing it
(docs/ux.md, "How the window's code is built")."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.xdisplay import VirtualDisplay, virtual_display
from tests.media import VideoSpec, make_video
from uploader_app import config
from uploader_app.models import Job
from uploader_app.settings import AppSettings, save_settings_file
from uploader_app.store import Store

CHECK_TIME = 8.0  # seconds for the window to list and check the sample folder
UPLOAD_TIME = 3.0  # seconds of uploading before the dark palette's bars are shot
# Demo mode, two uploads at a time, slowly enough that a picture catches the bars moving.
SLOW = AppSettings(concurrent_uploads=2, bandwidth_cap=250_000, demo_mode=True)


def sample_folder(root: Path) -> Path:
    """A folder a person might drop: good clips, a too-short one, a silent one, a picture
    named like a video, and a text file."""
    cache = root / "encodes"
    folder = root / "Interviews"
    (folder / "day 2").mkdir(parents=True)
    shutil.copy(make_video(cache, VideoSpec(duration=6.0)), folder / "interview-01.mp4")
    shutil.copy(
        make_video(cache, VideoSpec(duration=8.0, width=1280, height=720)),
        folder / "day 2" / "interview-02.mp4",
    )
    shutil.copy(make_video(cache, VideoSpec(duration=2.0)), folder / "teaser.mp4")
    shutil.copy(make_video(cache, VideoSpec(duration=5.0, audio=False)), folder / "b-roll.mp4")
    shutil.copy(make_video(cache, VideoSpec(width=320, height=240)), folder / "old-phone.mp4")
    (folder / "notes.txt").write_text("Questions for the interviews\n")
    return folder


@contextmanager
def app(
    screen: VirtualDisplay, home: Path, *args: str, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """The real app process on the virtual display, with its own app folder."""
    environ = screen.env()
    environ.pop("TWELVELABS_API_KEY", None)
    environ.update({"UPLOADER_APP_HOME": str(home), **env})
    # No keychain daemon on the virtual display: keyring's "none" backend, never the user's.
    environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    process = subprocess.Popen([sys.executable, "-m", "uploader_app", *args], env=environ)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def shoot(out: Path) -> list[Path]:
    taken = []
    with tempfile.TemporaryDirectory() as scratch, virtual_display() as screen:
        root = Path(scratch)
        folder = sample_folder(root)

        with app(screen, root / "home-welcome"):
            screen.wait_for_window("Welcome")
            time.sleep(1.0)
            taken.append(screen.screenshot(out / "welcome.png"))

        with app(screen, root / "home-demo", str(folder), UPLOADER_APP_DEMO="1"):
            window = screen.wait_for_window("Video Indexing Uploader")
            time.sleep(CHECK_TIME)
            taken.append(screen.screenshot(out / "folder-drop.png"))
            screen.focus(window)
            screen.press("ctrl+comma")
            screen.wait_for_window("Settings")
            time.sleep(1.5)
            taken.append(screen.screenshot(out / "settings.png"))

        dark_home = root / "home-dark"
        dark_home.mkdir()
        # Two longer takes as well, so the bars are caught moving in the picture.
        for name, seconds in (("interview-03.mp4", 30.0), ("interview-04.mp4", 28.0)):
            long_take = VideoSpec(duration=seconds, width=1280, height=720)
            shutil.copy(make_video(root / "encodes", long_take), folder / "day 2" / name)
        save_settings_file(SLOW, dark_home / "settings.toml")
        with app(screen, dark_home, str(folder), UPLOADER_APP_THEME="dark"):
            window = screen.wait_for_window("Video Indexing Uploader")
            time.sleep(CHECK_TIME)
            taken.append(screen.screenshot(out / "dark.png"))
            # The checked files have the focus on "Upload N videos": Enter sends them, and
            # the bars show how the list reads in the dark palette.
            screen.focus(window)
            screen.press("Return")
            time.sleep(UPLOAD_TIME)
            taken.append(screen.screenshot(out / "dark-uploads.png"))
    return taken


def _demo_address(home: Path) -> str:
    """The demo sandbox's address, as the app's log file gives it."""
    for log in sorted((home / "logs").glob("*.log")):
        found = re.search(r"demo sandbox listening at (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            return found.group(1)
    return ""


def wait_until(what: str, check: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll ``check`` every 0.1 s; a TimeoutError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app did not get there in {timeout:.0f} s: {what}")
        time.sleep(0.1)


def shoot_fix(out: Path) -> Path:
    """A row stopped by a problem, selected, with its fix beside the list's buttons: the index
    the videos go to is deleted on the (demo) service while they upload, so the list offers
    "Choose another index…" for the row and the banner says what stopped every upload."""
    with tempfile.TemporaryDirectory() as scratch, virtual_display() as screen:
        root = Path(scratch)
        home = root / "home"
        home.mkdir()
        save_settings_file(SLOW, home / "settings.toml")
        folder = root / "Shoot"
        folder.mkdir()
        for name, seconds in (("interview-01.mp4", 20.0), ("interview-02.mp4", 16.0)):
            spec = VideoSpec(duration=seconds, width=1280, height=720)
            shutil.copy(make_video(root / "encodes", spec), folder / name)
        store = home / "demo-sandbox" / "jobs.sqlite3"

        def jobs() -> list[Job]:
            if not store.exists():
                return []
            with Store(store) as opened:
                return opened.jobs()

        with app(screen, home, str(folder), XDG_CONFIG_HOME=str(root / "config")):
            window = screen.wait_for_window("Video Indexing Uploader")
            time.sleep(CHECK_TIME)
            screen.focus(window)
            screen.press("Return")  # "Upload 2 videos" has the focus once they are checked
            wait_until("an upload under way", lambda: any(j.bytes_sent for j in jobs()))
            index_id = jobs()[0].index_id
            # Someone deletes the index on the service meanwhile.
            gone = urllib.request.Request(
                f"{_demo_address(home)}/v1.3/indexes/{index_id}",
                method="DELETE",
                headers={"x-api-key": config.SANDBOX_DEMO_KEY},
            )
            urllib.request.urlopen(gone, timeout=10).close()

            def stopped() -> bool:
                return any(j.error_code == "index_missing" for j in jobs())

            wait_until("a row stopped by the gone index", stopped)
            [row] = [j for j in jobs() if j.error_code == "index_missing"][:1]
            screen.focus(window)
            screen.press("ctrl+f")  # find the row, then Tab into the list: it is selected
            for key in Path(row.source).stem:
                screen.press("minus" if key == "-" else key)
            screen.press("Tab")
            time.sleep(1.0)
            return screen.screenshot(out / "upload-fix.png")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")
    for path in [*shoot(target), shoot_fix(target)]:
        print(path)
