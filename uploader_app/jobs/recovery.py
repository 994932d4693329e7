"""Which object did a job's lost create request make? (docs/engine.md, "Exactly once").

The state behind every answer is in the job store, not in this process: the time the create
request began (``create_started``), and which service ids other jobs already hold. So a look-up
after a crash, or in a second process on the same store, judges exactly as the first would.

- A task counts as this job's when it has the job's file name, was created since the request
  began (less a clock allowance), no other job holds it, and its duration, once known, agrees.
- On v1.3 a task whose video is ready is confirmed by the fingerprint in its ``user_metadata``.
- A candidate that is only *not ruled out* is taken when it is the only one and no other job
  with the same file name and index is itself waiting to learn what its request made.
- On the asset route the asset id is unique to the job, so any indexed asset of it is ours.

The service can take seconds to list a new object, so a look-up keeps looking over a grace
window before it answers "nothing": a 504 whose task appears 3 s later must not give two.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import NotFoundError
from uploader_app.api.types import FINGERPRINT_KEY, MAX_PAGE_LIMIT, CreatedTask
from uploader_app.models import Job, JobState, SourceKind, Task
from uploader_app.store import Store

logger = logging.getLogger(__name__)

GRACE = 15.0  # seconds a look-up keeps looking before the request is sent again
LOOK_EVERY = 1.0  # seconds between looks within the grace window
# How far before the request began a found object may claim to have been created and still
# count: absorbs clock differences between this computer and the service, and timestamps
# rounded to the second. Kept small: a wider window lets in uploads made just before ours.
CLOCK_SKEW = 30.0
DURATION_TOLERANCE = 1.0  # seconds between the local probe and the service's duration
# A job option set by a retry after "twin_undecided": the person chose to send the file even
# while a same-named video is still on its way (docs/engine.md, "Exactly once").
PAST_TWIN = "past_twin"


def timestamp(value: str | None) -> float | None:
    """An RFC 3339 time of the service as epoch seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def created_since(created_at: str | None, started: float) -> bool:
    stamp = timestamp(created_at)
    return stamp is not None and stamp >= started - CLOCK_SKEW


class TwinInProgressError(Exception):
    """A video of the same name is still being indexed in the job's index and may be this
    file's; only once it is ready can its fingerprint tell. The job waits rather than send
    a second copy meanwhile. ``age``: seconds the youngest such video has been on its way."""

    def __init__(self, object_id: str, age: float) -> None:
        super().__init__(object_id)
        self.object_id = object_id
        self.age = age


class _Verdict(enum.Enum):
    OURS = "ours"
    NOT_OURS = "not ours"
    UNCONFIRMED = "unconfirmed"


@dataclass
class Finder:
    """Look-ups for one job; ``grace`` and ``look_every`` are seconds."""

    client: ApiClient
    store: Store
    job: Job
    cancel: threading.Event | None = None
    grace: float = GRACE
    look_every: float = LOOK_EVERY
    clock: Callable[[], float] = time.monotonic

    def within_grace(self, look: Callable[[], str | None]) -> str | None:
        """``look()`` until it finds something or the grace window ends (or cancel)."""
        deadline = self.clock() + self.grace
        while True:
            found = look()
            if found is not None:
                return found
            left = deadline - self.clock()
            if left <= 0 or (self.cancel is not None and self.cancel.is_set()):
                return None
            waiter = self.cancel or threading.Event()
            waiter.wait(min(self.look_every, left))

    def task(self, started: float) -> CreatedTask | None:
        """The task this job's lost request made, adopted in the store; None if none shows
        up within the grace window."""
        task_id = self.within_grace(lambda: self._look_for_task(started))
        if task_id is None:
            return None
        logger.info("job %d: the lost request made task %s", self.job.id, task_id)
        adopted = self.store.get(self.job.id)
        return CreatedTask(task_id, adopted.video_id, reused=True)

    def indexed_asset(self, asset_id: str) -> str | None:
        """The indexed asset of ``asset_id`` in the job's index, adopted; None if none shows
        up within the grace window."""
        return self.within_grace(lambda: self._look_for_indexed(asset_id))

    def _look_for_indexed(self, asset_id: str) -> str | None:
        for item in self.client.iter_indexed_assets(
            self.job.index_id, page_limit=MAX_PAGE_LIMIT, sort_option="desc"
        ):
            if item.asset_id == asset_id and self._adopt("indexed_asset_id", item.id):
                return item.id
        return None

    def _look_for_task(self, started: float) -> str | None:
        unconfirmed: list[Task] = []
        for task in self._recent_tasks(started):
            verdict = self._judge(task)
            logger.debug("job %d: task %s is %s", self.job.id, task.id, verdict.value)
            if verdict is _Verdict.OURS and self._adopt("task_id", task.id, task.video_id):
                return task.id
            if verdict is _Verdict.UNCONFIRMED:
                unconfirmed.append(task)
        if len(unconfirmed) != 1:
            return None
        others = self._others_in_doubt()
        if others:
            logger.info(
                "job %d: one unconfirmed task, but %d other job(s) of %s await theirs; "
                "not guessing",
                self.job.id,
                others,
                self.job.name,
            )
            return None
        task = unconfirmed[0]
        return task.id if self._adopt("task_id", task.id, task.video_id) else None

    def _recent_tasks(self, started: float) -> list[Task]:
        """Same-named tasks created since ``started`` that no job holds, newest first."""
        found: list[Task] = []
        # ``started`` is this computer's time; the service writes its own, and a clock minutes
        # off would rule out the very task the lost request made (or let in older ones).
        started += self.client.clock_offset
        for name in self._sent_names():
            for task in self.client.iter_tasks(
                self.job.index_id,
                filename=name,
                sort_by="created_at",
                sort_option="desc",
                page_limit=MAX_PAGE_LIMIT,
            ):
                if not created_since(task.created_at, started):
                    break
                if task.filename == name and self.store.holder("task_id", task.id) is None:
                    found.append(task)
        return found

    def _sent_names(self) -> list[str]:
        """The name the job's file is sent under, then the file's own name when that differs:
        a version before ``models.upload_filename`` sent it as it is, and a request it made
        before an upgrade is looked up by the name it carried."""
        names = [self.job.name]
        if self.job.source_kind is SourceKind.FILE:
            own = PurePath(self.job.source).name
            if own != self.job.name:
                names.append(own)
        return names

    def _judge(self, task: Task) -> _Verdict:
        duration = self.job.duration
        if (
            duration is not None
            and task.duration is not None
            and abs(task.duration - duration) > DURATION_TOLERANCE
        ) or not self._same_picture(task):
            return _Verdict.NOT_OURS
        if self.job.fingerprint is None or self.client.version == "v1.2" or not task.video_id:
            return _Verdict.UNCONFIRMED
        try:
            video = self.client.get_video(self.job.index_id, task.video_id)
        except NotFoundError:
            return _Verdict.UNCONFIRMED  # metadata shows only once indexed
        sent = video.user_metadata.get(FINGERPRINT_KEY)
        return _Verdict.OURS if sent == self.job.fingerprint else _Verdict.NOT_OURS

    def _same_picture(self, task: Task) -> bool:
        """False when both sides know the picture's size and it differs. Compared as an
        unordered pair: the local probe gives the size as displayed (a phone video's rotation
        applied), and the service may give it as stored."""
        ours, theirs = (self.job.width, self.job.height), (task.width, task.height)
        if None in ours or None in theirs:
            return True
        return sorted(ours) == sorted(theirs)  # type: ignore[type-var]

    def _others_in_doubt(self) -> int:
        """Other jobs of the same index and file name whose create request is unresolved
        (in any process): their task would look exactly like ours."""
        return sum(
            1
            for other in self.store.jobs([JobState.UPLOADING], index_id=self.job.index_id)
            if other.id != self.job.id
            and other.name == self.job.name
            and other.task_id is None
            and self.store.internals(other.id).create_started is not None
        )

    def _adopt(self, column: str, object_id: str, video_id: str | None = None) -> bool:
        fields: dict[str, object] = {"create_started": None}
        if video_id:
            fields["video_id"] = video_id
        return self.store.adopt(self.job.id, column, object_id, **fields) is not None

    def existing_video(self) -> str | None:
        """The id of a video already in the index made from this job's file, if any: on v1.3
        the fingerprint in its metadata (from a task or an indexed asset), on v1.2 the same
        name and duration (under either name of :meth:`_sent_names`). A video still on its way
        (validating, pending, queued, indexing) counts as well as a ready one; raises
        ``TwinInProgressError`` when such a video may be this file's but cannot be told yet
        (v1.3 shows the fingerprint once indexed)."""
        twins: list[tuple[str, str | None]] = []
        for name in self._sent_names():
            found = self._existing_task_video(name, twins) or self._existing_indexed_video(
                name, twins
            )
            if found is not None:
                return found
        if twins and self.job.options.get(PAST_TWIN) != "1":
            ages = [(self._age(created_at), object_id) for object_id, created_at in twins]
            age, object_id = min(ages)
            raise TwinInProgressError(object_id, age)
        return None

    def _age(self, created_at: str | None) -> float:
        """Seconds since the service made an object, by its clock; one that gives no time
        counts from when this job was added, so a wait on it still ends."""
        stamp = timestamp(created_at)
        if stamp is None:
            return time.time() - self.job.created_at
        return time.time() + self.client.clock_offset - stamp

    def _existing_indexed_video(self, name: str, twins: list[tuple[str, str | None]]) -> str | None:
        if self.client.version == "v1.2" or self.job.fingerprint is None:
            return None
        for item in self.client.iter_indexed_assets(
            self.job.index_id, filename=name, page_limit=MAX_PAGE_LIMIT
        ):
            if item.status == "failed" or item.filename != name:
                continue
            if self.store.holder("indexed_asset_id", item.id) not in (None, self.job.id):
                continue
            try:
                video = self.client.get_video(self.job.index_id, item.id)
            except NotFoundError:
                if item.status != "ready":
                    twins.append((item.id, item.created_at))
                continue
            if video.user_metadata.get(FINGERPRINT_KEY) == self.job.fingerprint:
                return item.id
        return None

    def _existing_task_video(self, name: str, twins: list[tuple[str, str | None]]) -> str | None:
        for task in self.client.iter_tasks(
            self.job.index_id, filename=name, page_limit=MAX_PAGE_LIMIT
        ):
            if task.filename != name or str(task.status) == "failed":
                continue
            holder = self.store.holder("task_id", task.id)
            if holder not in (None, self.job.id):
                continue
            ready = str(task.status) == "ready"
            if self.client.version == "v1.2":
                # v1.2 tasks carry no fingerprint and no file size: name, duration and the
                # picture's size decide (docs/engine.md, "Exactly once"); the service fills
                # them in once the upload is validated.
                if self.job.duration is None or task.duration is None or not task.video_id:
                    verdict = _Verdict.UNCONFIRMED
                elif abs(
                    task.duration - self.job.duration
                ) <= DURATION_TOLERANCE and self._same_picture(task):
                    verdict = _Verdict.OURS
                else:
                    verdict = _Verdict.NOT_OURS
            else:
                verdict = self._judge(task)
            if verdict is _Verdict.OURS:
                return task.video_id
            if verdict is _Verdict.UNCONFIRMED and not ready:
                twins.append((task.id, task.created_at))
        return None
