"""Speed, ETA and the pace of progress events; the optional upload bandwidth cap."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# At most this many JobProgress events a second per job (the limit): a view repaints
# a bar a few times a second, never once per 128 KiB piece.
EVENTS_PER_SECOND = 10
SPEED_WINDOW = 5.0  # seconds of samples the speed is averaged over
# Seconds of sending the cap lets a stall make up. Kept short: after idle time the whole of it
# goes out at full speed, and a second's worth made the first upload read far over the cap.
BURST = 0.25


class ProgressMeter:
    """Turns "bytes sent so far" into speed and ETA, and says when an event is due."""

    def __init__(self, total: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        self._first: int | None = None
        self._last_event = -1.0

    def update(self, sent: int) -> tuple[float | None, float | None] | None:
        """``(speed, eta)`` when an event is due now, else None (the last byte always is)."""
        now = self._clock()
        if self._first is None:
            self._first = sent
        elif self._samples or sent > self._first:
            # Speed counts from the first piece handed over: the connection takes that one
            # at once, before the cap (which books a piece once sent) can pace it.
            self._samples.append((now, sent))
        while len(self._samples) > 2 and now - self._samples[0][0] > SPEED_WINDOW:
            self._samples.popleft()
        finished = sent >= self.total
        if not finished and now - self._last_event < 1.0 / EVENTS_PER_SECOND:
            return None
        self._last_event = now
        return self.speed(), self.eta(sent)

    def speed(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
        if t1 <= t0 or s1 < s0:
            return None
        return (s1 - s0) / (t1 - t0)

    def eta(self, sent: int) -> float | None:
        speed = self.speed()
        if not speed:
            return None
        return max(self.total - sent, 0) / speed


class Bandwidth:
    """An upload cap in bytes a second shared by every upload of the engine (None: no cap).

    A virtual clock: each piece books its share of time, and the sender waits until its
    booking starts. A burst of ``BURST`` seconds is allowed so short stalls are made up.
    """

    def __init__(self, rate: int | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._booked = 0.0

    def spend(self, size: int, cancel: threading.Event | None) -> None:
        """Wait until ``size`` more bytes fit under the cap (at once when cancelled)."""
        if not self.rate or size <= 0:
            return
        with self._lock:
            now = self._clock()
            self._booked = max(self._booked, now - BURST) + size / self.rate
            wait = self._booked - now
        if wait > 0:
            if cancel is None:
                time.sleep(wait)
            else:
                cancel.wait(wait)
