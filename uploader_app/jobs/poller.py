"""One poller for every job on the service (docs/engine.md, "Polling").

A few jobs of an index are read one by one; more are read from list pages of the index
(``GET /tasks?index_id=…`` sorted by last change, ``GET /indexes/{id}/indexed-assets``), so a
thousand jobs cost a few requests a round, not a thousand. Each job is due again after an
interval that grows the longer it has been on the service; no round spends more than the
request budget per minute, and a 429 pauses polling for as long as the service asks.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError, NotFoundError, RateLimitedError
from uploader_app.api.types import MAX_PAGE_LIMIT, IndexedAsset
from uploader_app.jobs.recovery import timestamp
from uploader_app.models import Job, JobState, Task, TaskStatus
from uploader_app.store import Store

logger = logging.getLogger(__name__)

ONE_BY_ONE = 3  # up to this many due jobs of an index are read one by one; more from lists
IDLE = 2.0  # seconds to the next round when nothing is on the service
MIN_ROUND = 0.2  # never two rounds closer than this
FAILED_ROUND_WAIT = 5.0  # seconds after a round the service or the network failed
# Seconds of margin under the last round's newest item: the service's times are rounded, and
# a task changed while the last round read its pages may carry a time just under it.
CLOCK_SKEW = 5.0


def interval_for(age: float) -> float:
    """Seconds between looks at a job ``age`` seconds on the service: quick at first (a short
    video is ready in seconds), then slower while a long one indexes."""
    if age < 30:
        return 1.0
    if age < 300:
        return 5.0
    return 15.0


@dataclass(frozen=True)
class _Status:
    """What the service says of one job's video."""

    status: str  # the service's word, kept as is
    video_id: str | None
    in_progress: bool
    ready: bool


def _task_status(task: Task) -> _Status:
    return _Status(
        task.status_label,
        task.video_id,
        not task.status.is_terminal,
        task.status is TaskStatus.READY,
    )


def _indexed_status(item: IndexedAsset) -> _Status:
    return _Status(
        item.status,
        item.id,  # an indexed asset's id is its video's id
        item.status not in ("ready", "failed"),
        item.status == "ready",
    )


class Poller:
    """Reads the service's status of every ``on_service`` job; ``poll_once`` is one round."""

    def __init__(
        self,
        store: Store,
        client: Callable[[], ApiClient],
        on_change: Callable[[Job | None], Job | None],
        budget_per_minute: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._client = client
        self._on_change = on_change
        self.budget = max(1, budget_per_minute)
        self._clock = clock
        self._sent: deque[float] = deque()  # when each request of the last minute went out
        # (index, kind) -> the newest updated_at the last full round saw, by the service's
        # clock: this computer's clock may be ahead or behind it by minutes.
        self._last_round: dict[tuple[str, str], float] = {}
        self._unknown_logged: set[str] = set()
        self._paused_until = 0.0
        self.requests = 0  # every request made, for the benchmark
        self.scope: frozenset[int] | None = None  # follow only these jobs (a CLI command's)

    # ---- the budget --------------------------------------------------------------------------

    def _spend(self) -> bool:
        """Count one request, or False when the minute's budget is used up."""
        now = self._clock()
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()
        if len(self._sent) >= self.budget:
            return False
        self._sent.append(now)
        self.requests += 1
        return True

    def _budget_wait(self) -> float:
        if len(self._sent) < self.budget or not self._sent:
            return 0.0
        return max(0.0, self._sent[0] + 60.0 - self._clock())

    # ---- a round -----------------------------------------------------------------------------

    def poll_once(self) -> float:
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        active = self._store.jobs([JobState.ON_SERVICE], ids=self.scope)
        if not active:
            return IDLE
        groups: dict[tuple[str, str], list[Job]] = {}
        for job in active:
            kind = "asset" if job.indexed_asset_id else "task"
            groups.setdefault((job.index_id, kind), []).append(job)
        try:
            for (index_id, kind), jobs in groups.items():
                due = [j for j in jobs if self._due(j, now)]
                if not due:
                    continue
                if not self._poll_group(index_id, kind, jobs, due, now):
                    break  # out of budget: the rest waits for the next round
        except RateLimitedError as error:
            # "Retry-After: 0" means now, not "unsaid": a falsy 0 used to pause a minute. A
            # round a second later, as at the fastest pace, keeps a burst of zeros bounded.
            wait = 60.0 if error.retry_after is None else max(1.0, error.retry_after)
            logger.info("polling paused %.0f s: the service asked to slow down", wait)
            self._paused_until = self._clock() + wait
            return wait
        except ApiError as error:
            # Its requests are tried once (the round is the retry): wait a little before the
            # next, rather than spend the minute's budget in a burst at a failing service.
            logger.info("polling round failed: %r", error)
            return max(FAILED_ROUND_WAIT, self._next_round(now))
        return self._next_round(now)

    def _due(self, job: Job, now: float) -> bool:
        not_before = self._store.internals(job.id).not_before
        return not_before is None or not_before <= now

    def _next_round(self, now: float) -> float:
        upcoming = [
            n
            for job in self._store.jobs([JobState.ON_SERVICE], ids=self.scope)
            if (n := self._store.internals(job.id).not_before) is not None
        ]
        if not upcoming:
            return max(IDLE, self._budget_wait())
        wait = min(upcoming) - self._clock()
        return max(MIN_ROUND, wait, self._budget_wait())

    def _poll_group(
        self, index_id: str, kind: str, jobs: list[Job], due: list[Job], now: float
    ) -> bool:
        client = self._client()
        if len(due) <= ONE_BY_ONE:
            for job in due:
                if not self._spend():
                    return False
                self._read_one(client, job)
            return True
        wanted = {self._object_id(j): j for j in jobs}
        since = self._last_round.get((index_id, kind))
        newest: list[float] = []
        for seen in self._pages(client, index_id, kind, wanted, since, newest=newest):
            if seen is None:
                return False
        if newest:
            self._last_round[(index_id, kind)] = max(newest)
        # Jobs not on the pages read did not change since the last round: due again later.
        for job in due:
            self._store.update(job.id, not_before=now + interval_for(now - job.updated_at))
        return True

    @staticmethod
    def _object_id(job: Job) -> str:
        return job.indexed_asset_id or job.task_id or ""

    def _pages(
        self,
        client: ApiClient,
        index_id: str,
        kind: str,
        wanted: dict[str, Job],
        since: float | None,
        *,
        newest: list[float],
    ) -> Iterable[bool | None]:
        """Read list pages until every wanted job was seen, or (after a first full round)
        until the items are older than the newest one of the last round: those did not
        change. Adds the service times read to ``newest``."""
        left = set(wanted)
        page = 1
        while left:
            if not self._spend():
                yield None
                return
            items: list[tuple[str, _Status, float | None]]
            if kind == "task":
                result = client.list_tasks(
                    index_id,
                    page=page,
                    page_limit=MAX_PAGE_LIMIT,
                    sort_by="updated_at",
                    sort_option="desc",
                )
                items = [(t.id, _task_status(t), timestamp(t.updated_at)) for t in result.items]
                has_next = result.has_next
            else:
                assets = client.list_indexed_assets(
                    index_id, page=page, page_limit=MAX_PAGE_LIMIT, sort_option="desc"
                )
                items = [(a.id, _indexed_status(a), None) for a in assets.items]
                has_next = assets.has_next
            older = False
            for object_id, status, updated in items:
                job = wanted.get(object_id)
                if job is not None and object_id in left:
                    left.discard(object_id)
                    self._apply(job, status)
                if updated is None:
                    continue
                newest.append(updated)
                if since is not None and updated < since - CLOCK_SKEW:
                    older = True
            yield True
            if older or not has_next:
                return
            page += 1

    def _read_one(self, client: ApiClient, job: Job) -> None:
        try:
            if job.indexed_asset_id:
                item = client.get_indexed_asset(job.index_id, job.indexed_asset_id)
                status = _indexed_status(item)
            else:
                status = _task_status(client.get_task(job.task_id or ""))
        except NotFoundError:
            self._on_change(
                self._store.update(
                    job.id,
                    only_if=[JobState.ON_SERVICE],
                    state=JobState.FAILED,
                    error_code="resource_not_exist",
                    error_message=f"{job.name} is no longer on the service: it was deleted "
                    "while it was being indexed.",
                    error_hint="Send it again if you still want it in the index.",
                )
            )
            return
        self._apply(job, status)

    def _apply(self, job: Job, status: _Status) -> None:
        now = self._clock()
        if status.in_progress:
            known = status.status in {s.value for s in TaskStatus} | {"processing"}
            if not known and status.status not in self._unknown_logged:
                self._unknown_logged.add(status.status)
                logger.warning("the service reported an unknown status %r", status.status)
            fields: dict[str, object] = {"not_before": now + interval_for(now - job.updated_at)}
            if status.status != job.server_status:
                fields["server_status"] = status.status
            changed = self._store.update(job.id, only_if=[JobState.ON_SERVICE], **fields)
            if "server_status" in fields:
                self._on_change(changed)
            return
        if status.ready:
            self._on_change(
                self._store.update(
                    job.id,
                    only_if=[JobState.ON_SERVICE],
                    state=JobState.READY,
                    server_status=status.status,
                    video_id=status.video_id or job.video_id,
                    not_before=None,
                )
            )
            return
        self._on_change(
            self._store.update(
                job.id,
                only_if=[JobState.ON_SERVICE],
                state=JobState.FAILED,
                server_status=status.status,
                error_code="indexing_failed",
                error_message=f"Twelve Labs could not index {job.name}.",
                error_hint="Check that the video plays on this computer, then retry it; "
                "if it fails again, send the job's ids to Twelve Labs support.",
                not_before=None,
            )
        )
