"""The window's speed: start-up against a bare PySide6 window, event-loop stalls under load, and
a 10,000-file folder drop. Reference figures come from the same run.

1. Start to a shown window: ``uploader-app`` in demo mode (the real process, under Xvfb) against
   a script that shows a bare ``QMainWindow``; time from launch until X maps the window, and
   the process's peak RSS then (target: ≤ 2× the bare time, ≤ bare + 40 MB).
2. Longest stall of the GUI event loop while 4 uploads run through the engine host and a
   1,000-file folder is checked in the Files tab (target < 50 ms); a timer that should fire
   every 5 ms measures the gaps.
3. A 10,000-file folder dropped on the Files tab: time to its first rows (target < 0.2 s) and
   to every verdict.

Run alone with ``python -m tests.benchmarks.bench_gui``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.report import print_table
from tests.e2e.xdisplay import VirtualDisplay, virtual_display

Row = tuple[str, str, str]
MIB = 1 << 20
ROUNDS = 5

_BARE_WINDOW = """
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.setWindowTitle("Bare window")
window.resize(1100, 760)
window.show()
app.exec()
"""


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc")


def _time_to_window(
    screen: VirtualDisplay, args: list[str], title: str, env: dict[str, str]
) -> tuple[float, int]:
    """Seconds from launch until a window titled ``title`` is shown, and peak RSS then."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, env=screen.env(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        screen.wait_for_window(title, timeout=60)
        elapsed = time.perf_counter() - started
        return elapsed, _peak_rss(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)


def start_up(rounds: int = ROUNDS) -> list[Row]:
    """Start to a shown window, ours beside a bare QMainWindow, rounds interleaved."""
    ours_s: list[float] = []
    bare_s: list[float] = []
    ours_rss: list[int] = []
    bare_rss: list[int] = []
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp, virtual_display() as screen:
        for n in range(rounds):
            home = Path(tmp) / f"home-{n}"
            env = dict(os.environ, UPLOADER_APP_HOME=str(home), UPLOADER_APP_DEMO="1")
            env.pop("TWELVELABS_API_KEY", None)
            pairs = [
                (
                    [sys.executable, "-m", "uploader_app"],
                    "Video Indexing Uploader",
                    ours_s,
                    ours_rss,
                ),
                ([sys.executable, "-c", _BARE_WINDOW], "Bare window", bare_s, bare_rss),
            ]
            if n % 2:
                pairs.reverse()  # who goes first alternates, so a warm cache favours neither
            for args, title, times, peaks in pairs:
                seconds, peak = _time_to_window(screen, args, title, env)
                times.append(seconds)
                peaks.append(peak)
    ours, bare = statistics.median(ours_s), statistics.median(bare_s)
    rss, bare_peak = statistics.median(ours_rss), statistics.median(bare_rss)
    return [
        (
            "start to shown window, demo mode (median)",
            f"{ours:.2f} s ({ours / bare:.2f}x; target <= 2x)",
            f"{bare:.2f} s bare QMainWindow",
        ),
        (
            "peak RSS at shown window",
            f"{rss / MIB:.0f} MB (+{(rss - bare_peak) / MIB:.0f} MB; target <= +40 MB)",
            f"{bare_peak / MIB:.0f} MB bare QMainWindow",
        ),
    ]


def run() -> list[Row]:
    return start_up()


if __name__ == "__main__":
    print_table(run())
