"""What the engine tells its views (the window, the CLI) while jobs move.

Frozen dataclasses, called from worker threads: a view must hand them to its own thread
(the window turns them into a Qt signal).
"""

from __future__ import annotations

from dataclasses import dataclass

from uploader_app.models import Job


@dataclass(frozen=True)
class JobChanged:
    """Any change of a job's state or fields; ``job`` is the whole new snapshot."""

    job: Job


@dataclass(frozen=True)
class JobProgress:
    """Bytes of one job's file handed to the network; at most 10 a second per job."""

    job_id: int
    sent: int
    total: int
    speed: float | None  # bytes per second, smoothed
    eta: float | None  # seconds left at that speed


@dataclass(frozen=True)
class JobNotice:
    """Something a person should see while it happens ("next try in 45 s")."""

    job_id: int | None
    message: str


@dataclass(frozen=True)
class BatchProblem:
    """A problem that stops every upload until the user acts (key refused, quota, index
    deleted, no network); ``code`` is the vendor's or ours, the rest plain words."""

    code: str
    title: str
    message: str
    hint: str


@dataclass(frozen=True)
class BatchProblemCleared:
    """The batch problem went away (a new key, the network back)."""


@dataclass(frozen=True)
class JobsRemoved:
    """Jobs the engine took out of the store on its own (a waiting file whose new content is
    another job's): a view drops their rows."""

    ids: tuple[int, ...]


EngineEvent = (
    JobChanged | JobProgress | JobNotice | BatchProblem | BatchProblemCleared | JobsRemoved
)
