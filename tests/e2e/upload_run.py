"""The real app under Xvfb in demo mode, driven from the keyboard until every video is ready.

Files are given on the command line (as a desktop does when they are dropped on the app's icon),
Enter sends them (two at a time, under a speed limit), and one file is moved away while it waits
its turn, so the list shows a failure with its reason; the file is put back and Ctrl+R in the list
tries it again. Pictures are taken of the uploads in progress, the failure and the finished
batch. The app's own job store (read-only, beside the app) says when every video is ready.

``python -m tests.e2e.upload_run [FOLDER]`` saves the pictures in FOLDER (default
docs/screenshots); look at each one before committing it
(docs/ux.md, "How the window's code is built").
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.window_screens import app, wait_until
from tests.e2e.xdisplay import virtual_display
from tests.media import VideoSpec, make_video
from uploader_app.models import Job, JobState
from uploader_app.settings import AppSettings, save_settings_file
from uploader_app.store import Store

# Two uploads at a time, slowly enough that a picture catches the bars moving and that a file
# can be moved away before its turn comes.
SETTINGS = AppSettings(concurrent_uploads=2, bandwidth_cap=250_000, demo_mode=True)
TITLE = "Video Indexing Uploader"


@dataclass(frozen=True)
class RunResult:
    pictures: list[Path]
    jobs: list[Job]  # as the app's store holds them at the end
    failure: Job  # the moved file's job when it had failed


def _clips(root: Path) -> list[Path]:
    cache = root / "encodes"
    folder = root / "Shoot"
    folder.mkdir()
    specs = {
        "interview-01.mp4": VideoSpec(duration=30.0, width=1280, height=720),
        "interview-02.mp4": VideoSpec(duration=25.0, width=1280, height=720),
        "lecture.mp4": VideoSpec(duration=20.0, width=1280, height=720),
        "workshop.mp4": VideoSpec(duration=8.0, width=1280, height=720),
    }
    clips = []
    for name, spec in specs.items():
        clip = folder / name
        shutil.copy(make_video(cache, spec), clip)
        clips.append(clip)
    return clips


def _jobs(home: Path) -> list[Job]:
    path = home / "demo-sandbox" / "jobs.sqlite3"  # demo mode keeps its own list
    if not path.exists():
        return []
    with Store(path) as store:
        return store.jobs()


def run(out: Path, timeout: float = 240.0) -> RunResult:
    pictures: list[Path] = []
    with tempfile.TemporaryDirectory() as scratch, virtual_display() as screen:
        root = Path(scratch)
        home = root / "home"
        home.mkdir()
        save_settings_file(SETTINGS, home / "settings.toml")
        clips = _clips(root)
        moved = clips[-1]  # sorted last, so it waits while the others upload
        aside = root / moved.name

        # Window state (QSettings) in the scratch folder too, never the user's.
        with app(screen, home, *map(str, clips), XDG_CONFIG_HOME=str(root / "config")):
            window = screen.wait_for_window(TITLE, timeout=60)
            time.sleep(4.0)  # the Files tab checks the three files
            screen.focus(window)
            # Once the files are checked, "Upload 4 videos" has the focus: Enter sends them.
            screen.press("Return")
            wait_until("four jobs queued", lambda: len(_jobs(home)) == len(clips), timeout)
            shutil.move(moved, aside)  # a person tidies up a folder too early

            def uploading() -> bool:
                return any(j.state is JobState.UPLOADING and j.bytes_sent for j in _jobs(home))

            wait_until("an upload under way", uploading, timeout)
            time.sleep(1.0)  # the speed and the time left settle
            pictures.append(screen.screenshot(out / "uploads-in-progress.png"))

            def settled() -> bool:
                jobs = _jobs(home)
                return len(jobs) == len(clips) and all(j.state.is_terminal for j in jobs)

            wait_until("three ready and one failed", settled, timeout)
            time.sleep(1.0)  # the list shows the last change
            [failure] = [j for j in _jobs(home) if j.state is JobState.FAILED]
            screen.focus(window)
            screen.press("ctrl+f")  # find the failed row: its reason and fix show in full
            for key in moved.stem:
                screen.press("minus" if key == "-" else key)
            screen.press("Tab")  # into the list: its row is selected
            time.sleep(1.0)
            pictures.append(screen.screenshot(out / "upload-failed.png"))

            shutil.move(aside, moved)  # put back, as the row's hint says
            screen.press("ctrl+r")  # and try it again from the list

            def all_ready() -> bool:
                jobs = _jobs(home)
                return len(jobs) == len(clips) and all(j.state is JobState.READY for j in jobs)

            wait_until("every video ready", all_ready, timeout)
            screen.focus(window)
            screen.press("ctrl+f")  # the search text, selected
            screen.press("BackSpace")  # cleared: the whole list again
            time.sleep(1.5)
            pictures.append(screen.screenshot(out / "batch-finished.png"))
            jobs = _jobs(home)
    return RunResult(pictures, jobs, failure)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")
    result = run(target)
    for picture in result.pictures:
        print(picture)
