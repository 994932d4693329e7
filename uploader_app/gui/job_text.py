"""The words a person reads about a job: its state, speed, time left and ids (docs/task-list.md).

Plain functions with no Qt, so the table, the tray and the tests share one wording.
"""

from __future__ import annotations

import math
from enum import Enum

from uploader_app.models import CUT_KEY, SENT_KEY, UNSURE_KEY, Job, JobState

# The service reports these while it works on a video (docs/task-list.md, "States in words").
_SERVICE_WORDS = {
    "uploading": "Twelve Labs is receiving the video…",
    "validating": "Twelve Labs is checking the video…",
    "pending": "Waiting its turn on Twelve Labs…",
    "queued": "Waiting its turn on Twelve Labs…",
}
INDEXING_TYPICAL = "usually 5–15 min"

_STATE_WORDS = {
    JobState.QUEUED: "Waiting to upload",
    JobState.CHECKING: "Checking the video…",
    JobState.UPLOADING: "Uploading",
    JobState.READY: "Ready",
    JobState.ALREADY_IN_INDEX: "Already in this index",
    JobState.FAILED: "Failed",
    JobState.REJECTED: "Can't be sent",
    JobState.PAUSED: "Paused",
    JobState.CANCELLED: "Stopped",
    JobState.NEEDS_ATTENTION: "Needs you",
}


def state_words(job: Job, indexing_estimate: str = INDEXING_TYPICAL) -> str:
    """One short line: what is happening to this video now."""
    if job.state is JobState.ON_SERVICE:
        status = (job.server_status or "").lower()
        if status in _SERVICE_WORDS:
            return _SERVICE_WORDS[status]
        return f"Indexing on Twelve Labs… ({indexing_estimate})"
    if job.state is JobState.CHECKING and SENT_KEY in job.options:
        return "Sent; waiting for Twelve Labs to start it…"  # a v1.2 transfer's row
    if job.state is JobState.CHECKING and UNSURE_KEY in job.options:
        return "Not known whether it was sent; asking Twelve Labs…"  # its answer was lost
    if job.state is JobState.CHECKING and CUT_KEY in job.options:
        return "Not sent: the app closed while sending it. Send the list again."
    if job.state is JobState.QUEUED and job.bytes_sent > 0:
        return "Waiting to continue"
    return _STATE_WORDS[job.state]


def reason_words(job: Job) -> str:
    """What went wrong and what to do, or "" when nothing did."""
    return " ".join(part for part in (job.error_message.strip(), job.error_hint.strip()) if part)


class Fix(Enum):
    """What a person does about a job that waits on them, as its action reads."""

    NEW_KEY = "Enter a new key…"
    OTHER_INDEX = "Choose another index…"
    PLAN = "What to do…"


# The codes of a key that was refused or is missing (api/messages.py): a new key fixes them.
KEY_PROBLEMS = frozenset(
    {"api_key_invalid", "api_key_expired", "api_key_malformed", "unauthorized", "no_api_key"}
)
# The engine's word for an index that is gone (docs/engine.md, "Needs attention").
INDEX_MISSING = "index_missing"
PLAN_USED_UP = "usage_limit_exceeded"
# The engine's word for a job list it could not save (a full disk; jobs/engine.STORE_PROBLEM),
# and what the window's banner says to do, its "Try again" button beside it.
STORE_UNWRITABLE = "store_unwritable"
STORE_RETRY_HINT = "Free some disk space, then press Try again."


def fix_for(job: Job) -> Fix | None:
    """The fix a row offers, for a job stopped by its key, its index or the plan."""
    if job.state is not JobState.NEEDS_ATTENTION:
        return None
    code = job.error_code or ""
    if code in KEY_PROBLEMS:
        return Fix.NEW_KEY
    if code == INDEX_MISSING:
        return Fix.OTHER_INDEX
    if code == PLAN_USED_UP:
        return Fix.PLAN
    return None


def short_size(size: float) -> str:
    """``850 KB``, ``12 MB``, ``1.2 GB``: decimal units as the vendor writes its limits, with
    at most one decimal under 10 so a changing figure stays readable."""
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= factor:
            value = size / factor
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size:.0f} B"


def format_speed(bytes_per_second: float | None) -> str:
    if not bytes_per_second or bytes_per_second <= 0:
        return ""
    return f"{short_size(bytes_per_second)}/s"


def format_eta(seconds: float | None) -> str:
    """``about 7 min left``; rounded up, because finishing early pleases and late annoys."""
    if seconds is None or seconds < 0 or math.isinf(seconds) or math.isnan(seconds):
        return ""
    if seconds < 60:
        return "under a minute left"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, rest = divmod(minutes, 60)
    return f"about {hours} h {rest} min left" if rest else f"about {hours} h left"


def format_minutes(seconds: float) -> str:
    """A duration in whole minutes for an estimate: ``3 min``, at least 1."""
    return f"{max(1, round(seconds / 60))} min"


def ids_words(job: Job) -> str:
    """Every id the service gave this job, each with its label (never a bare id)."""
    labelled = (
        ("video id", job.video_id),
        ("task id", job.task_id),
        ("asset id", job.asset_id),
    )
    return " · ".join(f"{label} {value}" for label, value in labelled if value)
