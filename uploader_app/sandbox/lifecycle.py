"""The task clock: statuses are derived from timestamps, so nothing runs in the background
and a restarted sandbox picks up where it left off.

A task's record holds ``phases``, an ordered map of status -> the epoch second it starts. The
current status is the last phase that has started. Durations below are for ``speed=1`` (a
realistic pace, per the vendor's status descriptions in docs/api-notes.md §3); ``speed``
divides them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)

VALIDATING_SECONDS = 3.0
PENDING_SECONDS = 5.0
QUEUED_SECONDS = 5.0
INDEXING_MIN_SECONDS = 10.0
INDEXING_FRACTION = 0.25  # indexing takes about a quarter of the video's duration
ASSET_PROCESSING_SECONDS = 2.0

READY = "ready"
FAILED = "failed"
TERMINAL = (READY, FAILED)


@dataclass(frozen=True)
class Clock:
    speed: float = 1.0

    def now(self) -> float:
        return time.time()

    def scaled(self, seconds: float) -> float:
        return seconds / self.speed

    def task_phases(
        self, start: float, duration: float, *, failed: bool, validating: bool = True
    ) -> dict[str, float]:
        """validating -> pending -> queued -> indexing -> ready, or validating -> failed.

        Indexed assets skip ``validating`` (their asset was validated when uploaded).
        """
        at = start
        phases: dict[str, float] = {}
        if validating:
            phases["validating"] = at
            at += self.scaled(VALIDATING_SECONDS)
        if failed:
            if not validating:
                phases["pending"] = at
                at += self.scaled(PENDING_SECONDS)
            phases[FAILED] = at
            return phases
        for status, seconds in (
            ("pending", PENDING_SECONDS),
            ("queued", QUEUED_SECONDS),
            ("indexing", max(INDEXING_MIN_SECONDS, INDEXING_FRACTION * duration)),
        ):
            phases[status] = at
            at += self.scaled(seconds)
        phases[READY] = at
        return phases


def status_at(phases: dict[str, float], now: float) -> tuple[str, float]:
    """The current status and the second it started (that is the record's ``updated_at``)."""
    items = list(phases.items())
    current = items[0]
    for status, start in items:
        if start <= now:
            current = (status, start)
    return current


def progress(phases: dict[str, float], now: float) -> tuple[float, float, float | None]:
    """Percentage done, seconds left and the expected end (v1.2's ``process``).

    The end is unknown (None) while a URL download runs and no terminal phase is planned.
    """
    items = list(phases.values())
    last_status = list(phases)[-1]
    if last_status not in TERMINAL:
        return 0.0, 0.0, None
    first, end = items[0], items[-1]
    if now >= end or end <= first:
        return 100.0, 0.0, end
    return round(100.0 * (now - first) / (end - first), 1), round(end - now, 1), end
