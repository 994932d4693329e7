"""Progress pacing, speed/ETA and the bandwidth cap."""

from __future__ import annotations

import threading
import time

from uploader_app.jobs.progress import Bandwidth, ProgressMeter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_at_most_ten_events_a_second_and_the_last_one_always() -> None:
    clock = Clock()
    meter = ProgressMeter(10_000_000, clock=clock)
    due = 0
    for n in range(1, 1001):  # 1000 pieces over one second
        clock.now = n / 1000
        if meter.update(n * 10_000) is not None:
            due += 1
    assert due <= 11
    assert meter.update(10_000_000) is not None


def test_speed_and_eta() -> None:
    clock = Clock()
    meter = ProgressMeter(1000, clock=clock)
    assert meter.update(0) == (None, None)
    clock.now = 0.2
    # The first piece is taken by the connection at once: speed counts from it on.
    assert meter.update(100) == (None, None)
    clock.now = 1.2
    update = meter.update(200)
    assert update is not None
    speed, eta = update
    assert speed == 100.0
    assert eta == 8.0


def test_bandwidth_cap_paces_uploads() -> None:
    cap = Bandwidth(2_000_000)
    started = time.monotonic()
    for _ in range(20):
        cap.spend(100_000, None)  # 2 MB at 2 MB/s, with a quarter second of burst
    elapsed = time.monotonic() - started
    assert 0.7 < elapsed < 1.1


def test_bandwidth_wait_ends_when_cancelled() -> None:
    cap = Bandwidth(1000)
    cancel = threading.Event()
    cancel.set()
    started = time.monotonic()
    cap.spend(1_000_000, cancel)
    assert time.monotonic() - started < 0.1


def test_no_cap_never_waits() -> None:
    cap = Bandwidth(None)
    started = time.monotonic()
    cap.spend(10**12, None)
    assert time.monotonic() - started < 0.05
