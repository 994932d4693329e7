"""Print the bundle's closing figures: sizes, and its start-up beside `python -m uploader_app`.

Run by `make smoke` after the build. The two programs are started alternately in one run, so
both see the same machine load; the first start of each is shown apart, since it is the one
that reads from disk rather than from the page cache. Two starts are timed: `--version` (the
command line) and the window in demo mode until it is on screen (Xvfb), closed with Ctrl+Q.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.xdisplay import VirtualDisplay, virtual_display
from uploader_app import __version__
from uploader_app.config import APP_DISPLAY_NAME, APP_NAME

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 7
WINDOW_ROUNDS = 3


def folder_size(folder: Path) -> int:
    """Bytes on disk, counting each file once (a bundle links some libraries by symlink)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def start_time(command: list[str], home: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        command,
        check=True,
        stdout=subprocess.DEVNULL,
        env={"HOME": str(home)},
        cwd=home,
    )
    return time.perf_counter() - started


def window_time(command: list[str], home: Path, screen: VirtualDisplay) -> float:
    """Seconds from starting the app until its window is shown; then it is closed."""
    env = screen.env({"HOME": str(home), "LANG": "C.UTF-8", "UPLOADER_APP_DEMO": "1"})
    started = time.perf_counter()
    app = subprocess.Popen(command, env=env, cwd=home, stderr=subprocess.DEVNULL)
    try:
        window = screen.wait_for_window(APP_DISPLAY_NAME, timeout=60)
        shown = time.perf_counter() - started
        screen.focus(window)
        screen.press("ctrl+q")
        app.wait(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    return shown


def report(name: str, runs: list[float]) -> None:
    later = statistics.median(runs[1:])
    print(
        f"start    first {runs[0] * 1000:5.0f} ms, median of next {len(runs) - 1} "
        f"{later * 1000:5.0f} ms  {name}"
    )


def main() -> int:
    bundle = ROOT / "dist" / APP_NAME
    program = bundle / APP_NAME
    debs = sorted((ROOT / "dist").glob(f"{APP_NAME}_{__version__}_*.deb"))
    print(f"bundle   {folder_size(bundle) / 2**20:6.1f} MiB  {bundle}")
    for deb in debs:
        print(f".deb     {deb.stat().st_size / 2**20:6.1f} MiB  {deb}")
    commands = {
        "bundle --version": [str(program), "--version"],
        "python -m uploader_app --version": [sys.executable, "-m", "uploader_app", "--version"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    home = ROOT / "build" / "figures-home"
    home.mkdir(parents=True, exist_ok=True)
    for _ in range(ROUNDS):
        for name, command in commands.items():
            times[name].append(start_time(command, home))
    for name, runs in times.items():
        report(name, runs)
    windows: dict[str, list[float]] = {"bundle window": [], "python -m uploader_app window": []}
    with virtual_display() as screen:
        for _ in range(WINDOW_ROUNDS):
            windows["bundle window"].append(window_time([str(program)], home, screen))
            windows["python -m uploader_app window"].append(
                window_time([sys.executable, "-m", "uploader_app"], home, screen)
            )
    for name, runs in windows.items():
        report(name, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
