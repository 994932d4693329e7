"""Which object did a lost ``POST`` create? (decision 8; docs/api-client.md, "Duplicates").

After an ambiguous failure the client looks for what the lost attempt may have made before it
sends again. Camera folders (``GOPR0001.MP4`` in many subfolders) make the file name a weak key,
so a task is only taken when nothing points to someone else's:

- it has the same file name, was created at or after the attempt started (less a small clock
  allowance), and no upload of this process has already received it (:data:`CLAIMED`);
- its duration, once the service knows it, agrees with the local probe's;
- when a content fingerprint was sent (v1.3 ``user_metadata``), the video's metadata carries
  the same one. The video can only be read once indexing is done; until then the task cannot
  be confirmed and the other checks decide.

A confirmed task wins. A task that is only *not ruled out* (every v1.2 task, every v1.3 task
not yet indexed) is taken only when it is the one such candidate and no other upload of this
process with the same index and file name is still waiting for its answer (:data:`IN_FLIGHT`):
that upload's task looks exactly like ours. Otherwise the file is sent again; a duplicate
is better than two uploads sharing one task.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from uploader_app.api.errors import NotFoundError
from uploader_app.api.types import MAX_PAGE_LIMIT
from uploader_app.models import Task

if TYPE_CHECKING:
    from uploader_app.api.client import ApiClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How far before the first attempt a found object may claim to have been created and still
# count as ours: absorbs clock differences between this computer and the service, and the
# service's timestamps rounded to the second. Kept small: a wider window lets in uploads made
# just before ours.
DUPLICATE_CLOCK_SKEW = 30.0
# The user_metadata key that carries the caller's content fingerprint of the file (v1.3).
FINGERPRINT_KEY = "uploader_fingerprint"
DURATION_TOLERANCE = 1.0  # seconds between the local probe and the service's duration


def timestamp(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def created_since(created_at: str | None, started: float) -> bool:
    stamp = timestamp(created_at)
    return stamp is not None and stamp >= started - DUPLICATE_CLOCK_SKEW


class Claims:
    """Ids of created objects already handed to a caller in this process.

    One POST creates one object, so an id some upload received is never another upload's
    answer. Shared by every ApiClient (workers may each have one). Bounded: only recent
    uploads can be confused with a new one, and the time window rules out the rest.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, object_id: object) -> bool:
        with self._lock:
            return object_id in self._ids

    def claim(self, object_id: str) -> bool:
        """Mark ``object_id`` as handed out; False if it already was (atomic)."""
        with self._lock:
            if object_id in self._ids:
                return False
            self._ids[object_id] = None
            while len(self._ids) > self._limit:
                self._ids.popitem(last=False)
            return True


CLAIMED = Claims()


class InFlight:
    """How many create calls of this process per key (index id, file name) are unresolved.

    Registered around the whole call, retries included, so an upload whose object exists on
    the service but whose answer is not parsed yet still counts.
    """

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def register(self, key: tuple[str, str]) -> Iterator[None]:
        with self._lock:
            self._counts[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._counts[key] -= 1
                if not self._counts[key]:
                    del self._counts[key]

    def others(self, key: tuple[str, str]) -> int:
        """Unresolved calls with ``key`` besides the caller's own (registered) one."""
        with self._lock:
            return max(self._counts[key] - 1, 0)


IN_FLIGHT = InFlight()


class _Verdict(enum.Enum):
    OURS = "ours"  # the fingerprint matches
    NOT_OURS = "not ours"  # the fingerprint or the duration disagrees
    UNCONFIRMED = "unconfirmed"  # nothing disagrees, but nothing could be compared either


@dataclass(frozen=True)
class TaskQuery:
    """What is known of the lost attempt's task."""

    index_id: str
    filename: str
    duration_hint: float | None = None
    fingerprint: str | None = None  # sent as user_metadata[FINGERPRINT_KEY] (v1.3 only)

    @property
    def key(self) -> tuple[str, str]:
        return (self.index_id, self.filename)


def find_task(client: ApiClient, query: TaskQuery, started: float) -> Task | None:
    """The task the lost attempt created, claimed for the caller; None when there is none.

    ``started`` is ``time.time()`` when the first attempt began. The caller's own call must
    be registered in :data:`IN_FLIGHT` under ``query.key``.
    """
    unconfirmed: list[Task] = []
    for task in _recent_tasks(client, query, started):  # newest first
        verdict = _judge(client, query, task)
        logger.debug("duplicate check: task %s is %s", task.id, verdict.value)
        if verdict is _Verdict.OURS and CLAIMED.claim(task.id):
            return task
        if verdict is _Verdict.UNCONFIRMED:
            unconfirmed.append(task)
    return adopt_unconfirmed(unconfirmed, query.key, lambda task: task.id)


def adopt_unconfirmed(
    candidates: list[T], key: tuple[str, str], ident: Callable[[T], str]
) -> T | None:
    """The one unconfirmed candidate, claimed, when nothing else could own it; else None."""
    if not candidates:
        return None
    others = IN_FLIGHT.others(key)
    if len(candidates) > 1 or others:
        logger.info(
            "duplicate check: %d unconfirmed candidate(s) for %s, %d other upload(s) of it "
            "under way; sending again rather than guessing",
            len(candidates),
            key[1],
            others,
        )
        return None
    return candidates[0] if CLAIMED.claim(ident(candidates[0])) else None


def _recent_tasks(client: ApiClient, query: TaskQuery, started: float) -> list[Task]:
    """Same-named tasks created since the attempt started, unclaimed, newest first."""
    found: list[Task] = []
    tasks = client.iter_tasks(
        query.index_id,
        filename=query.filename,
        sort_by="created_at",
        sort_option="desc",
        page_limit=MAX_PAGE_LIMIT,
    )
    for task in tasks:
        if not created_since(task.created_at, started):
            break
        if task.filename == query.filename and task.id not in CLAIMED:
            found.append(task)
    return found


def _judge(client: ApiClient, query: TaskQuery, task: Task) -> _Verdict:
    if (
        query.duration_hint is not None
        and task.duration is not None
        and abs(task.duration - query.duration_hint) > DURATION_TOLERANCE
    ):
        return _Verdict.NOT_OURS
    if query.fingerprint is None or client.version == "v1.2" or not task.video_id:
        return _Verdict.UNCONFIRMED
    try:
        video = client.get_video(query.index_id, task.video_id)
    except NotFoundError:
        # Not indexed yet (or failed): the service shows a video's metadata only when ready.
        return _Verdict.UNCONFIRMED
    sent = video.user_metadata.get(FINGERPRINT_KEY)
    return _Verdict.OURS if sent == query.fingerprint else _Verdict.NOT_OURS
