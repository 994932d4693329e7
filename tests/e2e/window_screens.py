"""Screenshots of the real app under Xvfb: welcome, a folder drop with mixed verdicts,
settings, and the dark palette (checked files, then uploading).
``python -m tests.e2e.window_screens [FOLDER]`` (default docs/screenshots); look at each
picture before committing it
(docs/ux.md, "How the window's code is built")."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.xdisplay import VirtualDisplay, virtual_display
from tests.media import VideoSpec, make_video
from uploader_app.settings import AppSettings, save_settings_file

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


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")
    for path in shoot(target):
        print(path)
