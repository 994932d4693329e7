"""The upload engine: where a job changes state (docs/engine.md).

The engine has no scheduler of its own. It exposes units of work (claim a job, run its upload
until it leaves the uploading state, poll the service once, check an index before a batch)
that a runner calls from its threads: ``jobs.runner.ThreadRunner`` for the CLI, QThread workers
for the window. Every change goes through the job store in one transaction, so several
runners, in one process or several, share the work without running a job twice.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from uploader_app.api.body import FileStamp
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import (
    AlreadyClaimedError,
    ApiError,
    AuthError,
    CancelledError,
    FileChangedError,
    NetworkError,
    NotFoundError,
    UsageLimitError,
    VideoRejectedError,
)
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.types import FINGERPRINT_KEY, CreatedTask
from uploader_app.jobs.events import (
    BatchProblem,
    BatchProblemCleared,
    EngineEvent,
    JobChanged,
    JobNotice,
    JobProgress,
    JobsRemoved,
)
from uploader_app.jobs.export import write_csv
from uploader_app.jobs.keepawake import KeepAwake
from uploader_app.jobs.multipart import MultipartUpload
from uploader_app.jobs.poller import FAILED_ROUND_WAIT, Poller
from uploader_app.jobs.progress import Bandwidth, ProgressMeter
from uploader_app.jobs.recovery import GRACE, PAST_TWIN, Finder, TwinInProgressError
from uploader_app.jobs.transfer import (
    MATCH_EVERY,
    AlreadyInIndexError,
    RowProblemError,
    follow_transfers,
    send_row,
)
from uploader_app.jobs.urlcheck import check_url
from uploader_app.models import (
    Finding,
    Job,
    JobState,
    Route,
    SourceKind,
    Target,
    UploadKind,
    UploadProgress,
    Verdict,
)
from uploader_app.store import NewJob, Store, StoreWriteError
from uploader_app.validation.fingerprint import FingerprintCache
from uploader_app.validation.messages import format_duration, issue, undecodable_part
from uploader_app.validation.scan import scan

logger = logging.getLogger(__name__)

# Files above this many bytes take the resumable multipart asset route on v1.3; below it one
# POST /tasks is faster and a lost upload costs little (docs/engine.md, "Routes").
DEFAULT_MULTIPART_OVER = 200 * 1000 * 1000
# /tasks streams by default and indexed assets do not; one explicit choice for both routes
# (docs/engine.md, "Routes"), so a video looks the same in the index whichever way it came.
ENABLE_VIDEO_STREAM = True
LEASE = 30.0  # seconds a claim holds without renewal (a killed process frees its jobs)
HEARTBEAT = 0.5  # seconds between renewals; also how fast a pause from another process acts
MAX_ATTEMPTS = 3  # upload attempts before a job waits as "failed: retry?"
RETRY_DELAY = 10.0  # seconds before a job whose attempt failed is tried again
STORE_PROGRESS_EVERY = 1.0  # seconds between bytes_sent writes during a /tasks upload
ASSET_WAIT_MAX = 5.0  # seconds between looks at an asset the service is still processing
ASSET_WAIT_LIMIT = 3600.0  # an asset still processing after an hour is a failure
# Seconds before a job whose same-named twin is still being indexed looks at it again.
TWIN_WAIT = 30.0
# How long a same-named twin may stay on its way before the job stops waiting for it and asks
# the person: an hour, or twice the video's length when longer (docs/engine.md, "Exactly once").
TWIN_WAIT_LIMIT = 3600.0
TWIN_WAIT_PER_SECOND = 2.0
# The error code of a job whose same-named twin stayed on its way past the limit.
TWIN_UNDECIDED = "twin_undecided"
# The error code of a job whose file changed into the content another job of its index sends.
SAME_AS_OTHER_JOB = "same_as_other_job"

# The job list could not be saved (a full disk): every upload stops, since none of their
# progress could be kept (docs/engine.md, "Store").
STORE_PROBLEM = (
    "store_unwritable",
    "Job list not saved",
    "The app could not save its list of uploads: the disk may be full.",
    "Free some disk space, then start the uploads again.",
)

# Problems that stop every upload until the user acts (docs/engine.md, "Needs attention").
_BATCH_CODES = frozenset(
    {"api_key_invalid", "unauthorized", "no_api_key", "usage_limit_exceeded", "index_missing"}
)


class EngineSettings(Protocol):
    """What the engine reads of the app settings (``settings.AppSettings`` has these)."""

    @property
    def concurrent_uploads(self) -> int: ...

    @property
    def bandwidth_cap(self) -> int | None: ...

    @property
    def poll_budget_per_minute(self) -> int: ...

    @property
    def multipart_over(self) -> int | None: ...


@dataclass(frozen=True)
class EngineOptions:
    """The engine's settings when no settings file is involved (tests, benchmarks)."""

    concurrent_uploads: int = 2
    bandwidth_cap: int | None = None
    poll_budget_per_minute: int = 60
    multipart_over: int | None = None


@dataclass(frozen=True)
class Totals:
    """The whole list at a glance: jobs per state, bytes, and the speed of running uploads."""

    counts: Mapping[JobState, int]
    bytes_done: int
    bytes_total: int
    speed: float | None
    eta: float | None

    @property
    def jobs(self) -> int:
        return sum(self.counts.values())


class _SourceProblemError(Exception):
    """The job's file is gone or no longer the file that was checked."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


class Engine:
    """Jobs of every index in one store; see the module docstring."""

    def __init__(
        self,
        store: Store,
        settings: EngineSettings,
        client_factory: Callable[[], ApiClient],
        on_event: Callable[[EngineEvent], None] | None = None,
        *,
        grace: float = GRACE,
        retry_delay: float = RETRY_DELAY,
        keep_awake: bool = True,
    ) -> None:
        self.store = store
        self.settings = settings
        self._client_factory = client_factory
        self._on_event = on_event
        self._grace = grace
        self._retry_delay = retry_delay
        self._local = threading.local()
        self._lock = threading.Lock()
        self._running: dict[int, threading.Event] = {}
        self._meters: dict[int, ProgressMeter] = {}
        self._problem: BatchProblem | None = None
        # Leases the job list refused to let go of (a full disk): try_store_again frees them,
        # or their uploads would wait for the lease to run out after the disk is freed.
        self._unreleased: dict[int, str] = {}
        # Writes refused so far: Try again lifts the stop only if none was refused meanwhile.
        self._store_failures = 0
        self._bandwidth = Bandwidth(settings.bandwidth_cap)
        # Kept in the store too: a second run over a big folder does not read it again.
        self._fingerprints = FingerprintCache(store=store)
        self._awake = KeepAwake(enabled=keep_awake)
        self._poll_soon = threading.Event()
        self._scope: frozenset[int] | None = None
        self._transfers_due = 0.0  # time.monotonic() of the next look for v1.2 rows' tasks
        self._transfers_waiting = False  # whether v1.2 rows were waiting at the last look
        self._poller = Poller(
            store, self._poll_client, self._changed, settings.poll_budget_per_minute
        )

    # ---- events ------------------------------------------------------------------------------

    def _emit(self, event: EngineEvent) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # a view's bug must not stop an upload
                logger.exception("event handler failed on %r", event)

    def _changed(self, job: Job | None) -> Job | None:
        if job is not None:
            self._emit(JobChanged(job))
        return job

    def _update(
        self, job_id: int, *, only_if: Sequence[JobState] | None = None, **fields: Any
    ) -> Job | None:
        return self._changed(self.store.update(job_id, only_if=only_if, **fields))

    def _client(self) -> ApiClient:
        """This thread's client: a requests.Session is not shared between threads."""
        client: ApiClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._client_factory()
            self._local.client = client
        return client

    def _poll_client(self) -> ApiClient:
        """This thread's client for polling: one try per request. The poller's next round is
        its retry, and only then does every request count against the budget per minute (a
        429 pauses the poller instead of the client's retries)."""
        client: ApiClient | None = getattr(self._local, "poll_client", None)
        if client is None:
            client = self._client_factory()
            client.set_retry_policy(RetryPolicy(max_attempts=1))
            self._local.poll_client = client
        return client

    @property
    def problem(self) -> BatchProblem | None:
        """The problem stopping every upload, until the user acts (None when all is well)."""
        return self._problem

    def _raise_problem(self, code: str, title: str, message: str, hint: str) -> None:
        problem = BatchProblem(code, title, message, hint)
        with self._lock:
            if self._problem == problem:
                return
            self._problem = problem
        logger.warning("uploads stopped: %s (%s)", title, code)
        self._emit(problem)

    def try_store_again(self) -> bool:
        """Lift the stop a job list that could not be saved put on every upload (a full disk),
        once space may be free: the uploads it held are claimed again. Any other problem, and
        jobs someone paused, are left as they are; a disk still full stops them again at the
        first write. True when the stop was lifted; False when the job list was not what
        stopped them, or a write was refused again (here or meanwhile in another thread)."""
        with self._lock:
            problem = self._problem
            if problem is None or problem.code != STORE_PROBLEM[0]:
                return False
            held = dict(self._unreleased)
            failures = self._store_failures
        try:
            for job_id, worker in held.items():
                self.store.release(job_id, worker)  # a job taken over meanwhile is left
                with self._lock:
                    self._unreleased.pop(job_id, None)
        except StoreWriteError as error:
            self._store_failed(error)  # still full: the stop stays
            return False
        with self._lock:
            # Checked and cleared in one step: a write another thread had refused meanwhile
            # (the disk full again) keeps the stop, and so does a problem raised in its place
            # (a refused key), which is not the job list's to lift.
            lifted = self._problem is problem and self._store_failures == failures
            if lifted:
                self._problem = None
        if lifted:
            self._emit(BatchProblemCleared())
            self.wake_poller()
        return lifted

    def _clear_problem(self) -> None:
        with self._lock:
            had, self._problem = self._problem, None
        if had is not None:
            self._emit(BatchProblemCleared())

    # ---- enqueue ------------------------------------------------------------------------------

    def add_findings(
        self,
        findings: Sequence[Finding],
        index_id: str,
        *,
        options: Mapping[str, str] | None = None,
        force: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[Job]:
        """Queue checked files; rejected ones become ``rejected`` jobs, skipped ones are left
        out. The same file (by content) in the same index returns its existing job; with
        ``force`` a finished one is sent again. Hashes each file not hashed before (the
        store remembers): call off the GUI thread. ``progress(done, total, name)`` follows
        the hashing, file by file."""
        news: list[NewJob] = []
        for done, finding in enumerate(findings, start=1):
            new = self._new_job(finding, index_id, dict(options or {}), force)
            if new is not None:
                news.append(new)
            if progress is not None:
                progress(done, len(findings), finding.path.name)
        self._fingerprints.flush()
        return self._enqueue(news, force=force)

    def _enqueue(self, news: Sequence[NewJob], *, force: bool = False) -> list[Job]:
        """Add jobs; one added before is returned, queued again when it had failed or was
        cancelled (the same for files and URLs), with its new verdict when it had been
        refused and is usable now (a link fixed since)."""
        jobs = []
        removed: list[int] = []
        added = self.store.add(news, removed=removed)
        if removed:
            # Otherwise the window keeps a row for a job that is no longer there.
            self._emit(JobsRemoved(tuple(removed)))
        for new, (job, created) in zip(news, added, strict=True):
            if created:
                self._changed(job)
                jobs.append(job)
            elif job.state is JobState.REJECTED and new.state is not JobState.REJECTED:
                fixed = self._update(
                    job.id,
                    state=new.state,
                    size=new.size,
                    duration=new.duration,
                    width=new.width,
                    height=new.height,
                    options=new.options,
                    error_code=None,
                    error_message="",
                    error_hint="",
                )
                jobs.append(fixed or job)
            elif force or job.state in (JobState.FAILED, JobState.CANCELLED):
                again = self._moved(job, new)
                jobs.append(self._requeue(again, force=force) or again)
            else:
                jobs.append(job)
        return jobs

    def _moved(self, job: Job, new: NewJob) -> Job:
        """The same video added from another place: "add it again from where it is now"
        (the hint of source_missing) must send it from there, not from where it was. The
        file's own fingerprint and probe come along: the job's may be those of content the
        old file grew into (``_check_source``), and the fingerprint sent in the video's
        metadata is what recovery takes as this file's (docs/engine.md, "Store")."""
        if new.source_kind is not SourceKind.FILE or (
            new.source == job.source and new.fingerprint == job.fingerprint
        ):
            return job
        moved = self.store.update(
            job.id,
            source=new.source,
            source_mtime_ns=new.source_mtime_ns,
            size=new.size,
            fingerprint=new.fingerprint,
            duration=new.duration,
            width=new.width,
            height=new.height,
        )
        return moved or job

    def _new_job(
        self, finding: Finding, index_id: str, options: dict[str, str], force: bool
    ) -> NewJob | None:
        if finding.verdict is Verdict.SKIPPED:
            return None
        path = finding.path
        probe = finding.probe
        source = os.fspath(path.absolute())
        readable = _text_path(source)
        common = {
            "source_kind": SourceKind.FILE,
            "source": readable,
            "index_id": index_id,
            "size": probe.size if probe else None,
            "duration": probe.duration if probe else None,
            "width": probe.width if probe else None,
            "height": probe.height if probe else None,
        }
        if readable != source:
            # A name in another encoding (bytes that are not UTF-8): the store, the log, the
            # CSV and the service's form field all need text, so the file is reported, not
            # sent, and the rest of the batch goes on.
            refused = issue(
                "name_not_text", Verdict.REJECTED, name=undecodable_part(source) or readable
            )
            return NewJob(
                **common,  # type: ignore[arg-type]
                state=JobState.REJECTED,
                error_code=refused.code,
                error_message=refused.message,
                error_hint=refused.hint,
                dedup_key=f"path:{readable}",
            )
        if finding.verdict is Verdict.REJECTED:
            return NewJob(
                **common,  # type: ignore[arg-type]
                state=JobState.REJECTED,
                error_code=finding.code,
                error_message=finding.message,
                error_hint=finding.hint,
                dedup_key=f"path:{common['source']}",
            )
        try:
            stamp = FileStamp.of(path)
            fingerprint = self._fingerprints.fingerprint(path)
        except OSError as exc:
            return NewJob(
                **common,  # type: ignore[arg-type]
                state=JobState.FAILED,
                error_code="source_unreadable",
                error_message=f"{path.name} could not be read: {exc.strerror or exc}.",
                error_hint="Check that the file is still there and can be opened, then retry.",
                dedup_key=f"path:{common['source']}",
            )
        if force:
            options["force"] = "1"
        return NewJob(
            **common,  # type: ignore[arg-type]
            fingerprint=fingerprint,
            options=options,
            dedup_key=fingerprint,
            source_mtime_ns=stamp.mtime_ns,
        )

    def add_paths(
        self,
        paths: Sequence[Path],
        index_id: str,
        *,
        target: Target | None = None,
        options: Mapping[str, str] | None = None,
        force: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[Job]:
        """Check files and folders with ``validation.scan``, then queue them."""
        client = self._client()
        if target is None:
            target = Target.for_index(client.get_index(index_id))
        findings = list(scan(paths, target, api_version=client.version))
        findings.sort(key=lambda f: str(f.path))
        return self.add_findings(
            findings, index_id, options=options, force=force, progress=progress
        )

    def add_urls(
        self,
        urls: Sequence[str],
        index_id: str,
        *,
        options: Mapping[str, str] | None = None,
        target: Target | None = None,
    ) -> list[Job]:
        """Check each URL (``jobs.urlcheck.check_url``), then queue the usable ones."""
        if target is None:
            index = self._client().get_index(index_id)
            target = Target.for_index(index, UploadKind.URL)
        news = []
        # The sandbox on this computer fetches local addresses; the service cannot.
        service_url = self._client().base_url
        for url in urls:
            finding = check_url(url, target, service_url=service_url)
            common = {"source_kind": SourceKind.URL, "source": url, "index_id": index_id}
            if finding.verdict is Verdict.REJECTED:
                news.append(
                    NewJob(
                        **common,  # type: ignore[arg-type]
                        state=JobState.REJECTED,
                        route=Route.URL,
                        error_code=finding.code,
                        error_message=finding.message,
                        error_hint=finding.hint,
                        dedup_key=f"url:{url}",
                    )
                )
                continue
            news.append(
                NewJob(
                    **common,  # type: ignore[arg-type]
                    route=Route.URL,
                    size=finding.size,
                    duration=finding.duration,
                    width=finding.width,
                    height=finding.height,
                    options=dict(options or {}),
                    dedup_key=f"url:{url}",
                )
            )
        return self._enqueue(news)

    # ---- units of work -------------------------------------------------------------------------

    def limit_to(self, ids: Collection[int] | None) -> None:
        """Send and poll only these jobs (None: every job in the store). A CLI command runs
        the jobs it named; the window's and other indexes' are left to their own runners."""
        self._scope = None if ids is None else frozenset(ids)
        self._poller.scope = self._scope

    def claim_upload(self, worker: str) -> Job | None:
        """Lease the next queued job to ``worker`` when fewer than ``concurrent_uploads``
        run (in every process on this store); None when there is nothing to do now."""
        if self._problem is not None:
            return None
        job = None
        try:
            job = self.store.claim(
                worker, limit=self.settings.concurrent_uploads, lease=LEASE, only=self._scope
            )
            if job is not None:
                job = self._update(job.id, attempts=job.attempts + 1) or job
        except StoreWriteError as error:
            if job is not None:  # claimed, but its attempt not counted: it is not run
                self._keep_unreleased(job.id, worker)
            self._store_failed(error)
            return None
        return job

    def run_upload(self, job_id: int, cancel: threading.Event) -> None:
        """Send a claimed job's video until the job leaves ``uploading`` (or ``cancel``)."""
        try:
            job = self.store.get(job_id)
        except KeyError:
            return
        worker = self.store.internals(job_id).lease_owner
        if job.state is not JobState.UPLOADING or worker is None:
            return
        with self._lock:
            self._running[job_id] = cancel
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(job_id, worker, cancel, stop), daemon=True
        )
        beat.start()
        client = self._client()
        client.set_retry_listener(
            lambda error, wait: self._emit(JobNotice(job_id, _retry_notice(error, wait)))
        )
        client.set_cancel(cancel)  # every request of this run, its retry waits included
        try:
            with self._awake.hold():
                self._send(client, job, cancel)
        except Exception as failure:
            try:
                if self._still_ours(job_id, worker):
                    self._after_failure(job_id, failure)
            except StoreWriteError as error:  # the outcome itself could not be saved
                self._store_failed(error)
        finally:
            client.set_retry_listener(None)
            client.set_cancel(None)
            stop.set()
            beat.join()
            try:
                self.store.release(job_id, worker)
            except StoreWriteError as error:
                # The lease runs out by itself, at once when this process ends, and Try
                # again (try_store_again) frees it once the disk has room.
                self._keep_unreleased(job_id, worker)
                self._store_failed(error)
            with self._lock:
                self._running.pop(job_id, None)
                self._meters.pop(job_id, None)

    def _still_ours(self, job_id: int, worker: str) -> bool:
        """False when another runner took the job over (this one stalled past its lease):
        its outcome is then the other runner's to write."""
        try:
            return self.store.internals(job_id).lease_owner == worker
        except KeyError:
            return False  # removed from the list

    def _keep_unreleased(self, job_id: int, worker: str) -> None:
        with self._lock:
            self._unreleased[job_id] = worker

    def _store_failed(self, error: StoreWriteError) -> None:
        logger.error("the job list could not be saved: %s", error)
        with self._lock:
            self._store_failures += 1
        self._raise_problem(*STORE_PROBLEM)

    def _after_failure(self, job_id: int, failure: Exception) -> None:
        if isinstance(failure, StoreWriteError):
            self._store_failed(failure)
        elif isinstance(failure, CancelledError):
            self._after_cancel(job_id)
        elif isinstance(failure, _SourceProblemError):
            self._fail(job_id, failure.code, failure.message, failure.hint)
        elif isinstance(failure, FileChangedError):
            self._fail(job_id, failure.code, failure.user_message, failure.hint)
        elif isinstance(failure, TwinInProgressError):
            self._wait_for_twin(job_id, failure.age)
        elif isinstance(failure, ApiError):
            self._after_error(job_id, failure)
        else:  # a bug must cost one job, not the worker thread
            logger.error("job %d: unexpected failure", job_id, exc_info=failure)
            self._fail(
                job_id,
                "internal_error",
                "Something went wrong in the app while sending this file.",
                "Retry it; if it happens again, send the log file to support.",
            )

    def poll_once(self) -> float:
        """One polling round over every job on the service; seconds until the next one."""
        self._poll_soon.clear()
        # Settings are read at each use, so a change in the window applies at once.
        self._poller.budget = max(1, self.settings.poll_budget_per_minute)
        try:
            return min(self._poller.poll_once(), self._follow_transfers())
        except StoreWriteError as error:
            self._store_failed(error)
            return FAILED_ROUND_WAIT

    def _follow_transfers(self) -> float:
        """v1.2 rows whose transfer went out but whose tasks are not matched yet (a network
        error during the send, a restart): matched here; seconds until the next look."""
        now = time.monotonic()
        if now < self._transfers_due:
            return self._transfers_due - now if self._transfers_waiting else math.inf
        self._transfers_due = now + MATCH_EVERY
        try:
            waiting = follow_transfers(
                self._poll_client, self.store, lambda job: self._emit(JobChanged(job))
            )
        except ApiError as error:
            logger.info("looking for the tasks of a transfer failed: %r", error)
            waiting = 1
        self._transfers_waiting = waiting > 0
        return MATCH_EVERY if waiting else math.inf

    def wait_poll(self, seconds: float) -> None:
        """Sleep until the next polling round is due, or at once when a job reaches the
        service (its first look is quick: short videos are ready in seconds)."""
        self._poll_soon.wait(seconds)

    def wake_poller(self) -> None:
        self._poll_soon.set()

    def preflight(self, index_id: str) -> None:
        """Check the key and the index once before a batch; a problem stops every upload
        (a BatchProblem event) until it is fixed, and success clears one."""
        try:
            # A missing or malformed key is refused while the client is built: the same
            # batch problem as a key the service refuses.
            client = self._client_factory_interactive()
        except AuthError as error:
            self._raise_problem(error.code, error.title, error.user_message, error.hint)
            return
        try:
            client.get_index(index_id)
        except AuthError as error:
            self._raise_problem(error.code, error.title, error.user_message, error.hint)
        except NotFoundError:
            self._raise_problem(*_index_missing(index_id))
        except UsageLimitError as error:
            self._raise_problem(error.code, error.title, error.user_message, error.hint)
        except NetworkError as error:
            self._raise_problem("no_network", error.title, error.user_message, error.hint)
        except ApiError as error:
            logger.warning("index check of %s failed: %s", index_id, error)
        else:
            self._clear_problem()
        finally:
            client.close()

    def _client_factory_interactive(self) -> ApiClient:
        client = self._client_factory()
        # Someone waits on this answer: a few seconds, not the patient upload retries.
        client.set_retry_policy(RetryPolicy.interactive())
        return client

    # ---- controls ------------------------------------------------------------------------------

    def _targets(self, ids: Sequence[int] | None) -> list[Job]:
        return self.store.jobs() if ids is None else self.store.jobs(ids=list(ids))

    def _interrupt(self, job_id: int) -> None:
        with self._lock:
            cancel = self._running.get(job_id)
        if cancel is not None:
            cancel.set()

    def pause(self, ids: Sequence[int] | None = None) -> list[Job]:
        """Stop queued or running uploads where they are; ``resume`` continues them."""
        changed = []
        for job in self._targets(ids):
            new = self._update(
                job.id, only_if=[JobState.QUEUED, JobState.UPLOADING], state=JobState.PAUSED
            )
            if new is not None:
                self._interrupt(job.id)
                changed.append(new)
        return changed

    def resume(self, ids: Sequence[int] | None = None) -> list[Job]:
        """Queue paused jobs and those waiting for attention again."""
        self._clear_problem()
        changed = []
        for job in self._targets(ids):
            new = self._update(
                job.id,
                only_if=[JobState.PAUSED, JobState.NEEDS_ATTENTION],
                state=JobState.QUEUED,
                not_before=None,
                attempts=0,
                **_no_error(),
            )
            if new is not None:
                changed.append(new)
        return changed

    def cancel(self, ids: Sequence[int] | None = None) -> list[Job]:
        """Give up on jobs not finished; a video already on the service stays there."""
        changed = []
        live = [s for s in JobState if not s.is_terminal]
        for job in self._targets(ids):
            new = self._update(job.id, only_if=live, state=JobState.CANCELLED)
            if new is not None:
                self._interrupt(job.id)
                changed.append(new)
        return changed

    def retry(self, ids: Sequence[int] | None = None) -> list[Job]:
        """Queue failed, cancelled and waiting jobs again, with a fresh attempt count. A file
        that is still another job's video stays failed, its reason naming that job."""
        self._clear_problem()
        changed = []
        for job in self._targets(ids):
            if job.state not in (
                JobState.FAILED,
                JobState.CANCELLED,
                JobState.NEEDS_ATTENTION,
                JobState.PAUSED,
            ):
                continue
            if job.error_code == SAME_AS_OTHER_JOB and self._still_same(job):
                continue
            # Only an explicit retry sends past a stuck twin: the person read the words. A
            # second drop of the file must not make a second video (docs/engine.md).
            new = self._requeue(job, force=False, past_twin=job.error_code == TWIN_UNDECIDED)
            if new is not None:
                changed.append(new)
        return changed

    def _still_same(self, job: Job) -> bool:
        """Whether a file refused as another job's video still is: queueing it again would
        only be refused the same way. The reason then names the job that sends it. A file
        changed again, gone, or whose other job was removed is queued: that try is new."""
        try:
            fingerprint = self._fingerprints.fingerprint(Path(job.source))
            self._fingerprints.flush()
        except OSError:
            return False
        other = self.store.with_key(job.index_id, fingerprint)
        if other is None or other.id == job.id:
            return False
        self._update(
            job.id,
            only_if=[JobState.FAILED],
            error_message=(
                f"{job.name} is now the same video as {other.shown_source}, already in the "
                "list for this index: that upload stands for it, so retrying this one "
                "cannot send it."
            ),
            error_hint=(
                "Remove this row and follow the other one (retry it if it failed). To send "
                "the earlier version of this file as well, put it back and retry."
            ),
        )
        return True

    def resend(self, ids: Sequence[int]) -> list[Job]:
        """Send again a file that is already in its index (the user asked for a copy)."""
        return [
            new
            for job in self._targets(ids)
            if job.state is JobState.ALREADY_IN_INDEX
            and (new := self._requeue(job, force=True)) is not None
        ]

    def remove(self, ids: Sequence[int]) -> int:
        """Take jobs off the list (stopping them); never deletes a video on the service."""
        for job_id in ids:
            self._interrupt(job_id)
        return self.store.delete(list(ids))

    def _requeue(self, job: Job, *, force: bool, past_twin: bool = False) -> Job | None:
        fields: dict[str, Any] = {
            "state": JobState.QUEUED,
            "attempts": 0,
            "not_before": None,
            **_no_error(),
        }
        if past_twin:
            # The person read that a same-named video is stuck on its way and chose to send.
            fields["options"] = {**job.options, PAST_TWIN: "1"}
        if job.state is JobState.FAILED or force:
            # A new try starts without the old task: its video failed or is gone. A cancelled
            # job keeps its task: cancel does not delete it from the service, so sending the
            # file again would make a second video; the retry follows the first one instead.
            fields |= {"task_id": None, "video_id": None, "indexed_asset_id": None}
            fields |= {"server_status": None, "create_started": None}
        if force:
            fields["options"] = {**job.options, "force": "1"}
        return self._update(job.id, **fields)

    # ---- queries ---------------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        return self.store.jobs()

    def job(self, job_id: int) -> Job:
        return self.store.get(job_id)

    def totals(self) -> Totals:
        jobs = self.store.jobs()
        counts: dict[JobState, int] = {}
        done = total = 0
        for job in jobs:
            counts[job.state] = counts.get(job.state, 0) + 1
            size = job.size or 0
            if job.state in (JobState.REJECTED, JobState.CANCELLED):
                continue
            total += size
            if job.state in (JobState.UPLOADING, JobState.PAUSED, JobState.QUEUED):
                done += min(job.bytes_sent, size)
            else:
                done += size if job.state is not JobState.FAILED else 0
        with self._lock:
            speeds = [s for m in self._meters.values() if (s := m.speed())]
        speed = sum(speeds) if speeds else None
        eta = (total - done) / speed if speed else None
        return Totals(counts, done, total, speed, eta)

    def export_csv(self, path: Path) -> int:
        """Write every job as a CSV row (the audit trail); the number of rows."""
        return write_csv(self.store.jobs(), path)

    # ---- one upload ------------------------------------------------------------------------------

    def _heartbeat(
        self, job_id: int, worker: str, cancel: threading.Event, stop: threading.Event
    ) -> None:
        """Renew the lease; a lost one (paused, cancelled or removed, maybe by another
        process) stops the upload within a heartbeat, even during a network wait. Renewal
        goes on until the run ends: a request that cannot be interrupted (waiting for its
        answer) may still create the video, so no other runner may take the job meanwhile."""
        while not stop.wait(HEARTBEAT):
            try:
                held = self.store.renew(job_id, worker, lease=LEASE)
            except Exception:
                logger.exception("job %d: lease renewal failed", job_id)
                continue
            if not held:
                cancel.set()

    def _send(self, client: ApiClient, job: Job, cancel: threading.Event) -> None:
        finder = Finder(client, self.store, job, cancel, grace=self._grace)
        if job.task_id or job.indexed_asset_id:
            self._on_service(job.id)  # created before a stop: only polling is left
            return
        if job.source_kind is SourceKind.URL:
            self._send_url(client, job, finder, cancel)
            return
        if job.source_kind is SourceKind.MANIFEST_ROW:  # S3 objects of a manifest (transfer.py)
            try:
                created = send_row(client, self.store, job, finder, cancel)
            except RowProblemError as problem:
                raise _SourceProblemError(problem.code, problem.message, problem.hint) from None
            except AlreadyInIndexError as already:
                self._update(
                    job.id,
                    only_if=[JobState.UPLOADING],
                    state=JobState.ALREADY_IN_INDEX,
                    video_id=already.video_id,
                )
                return
            self._created(job, created, bytes_sent=0)
            return
        path = Path(job.source)
        stamp = self._check_source(job, path)
        job = self.store.get(job.id)
        route = job.route or self._route_for(client, stamp.size)
        if job.route is None:
            job = self._update(job.id, route=route) or job
        internals = self.store.internals(job.id)
        fresh = internals.create_started is None and internals.upload_session is None
        if fresh and job.options.get("force") != "1":
            video_id = finder.existing_video()
            if video_id is not None:
                self._update(
                    job.id,
                    only_if=[JobState.UPLOADING],
                    state=JobState.ALREADY_IN_INDEX,
                    video_id=video_id,
                    bytes_sent=0,
                )
                return
        progress = self._progress(job, stamp.size, cancel)
        if route is Route.ASSET:
            self._send_asset(
                client=client,
                job=job,
                path=path,
                stamp=stamp,
                finder=finder,
                progress=progress,
                cancel=cancel,
            )
        else:
            self._send_task(
                client=client, job=job, path=path, finder=finder, progress=progress, cancel=cancel
            )

    def _route_for(self, client: ApiClient, size: int) -> Route:
        if client.version == "v1.2":
            return Route.TASK
        threshold = self.settings.multipart_over
        if threshold is None:
            threshold = DEFAULT_MULTIPART_OVER
        return Route.ASSET if size > threshold else Route.TASK

    def _check_source(self, job: Job, path: Path) -> FileStamp:
        """The file as it is now; a vanished file is a problem, a changed one is checked
        again from its content so the new version is what gets sent."""
        try:
            stamp = FileStamp.of(path)
        except OSError:
            raise _SourceProblemError(
                "source_missing",
                f"{job.name} is no longer in {job.folder}: it was moved, renamed or deleted.",
                "Put the file back, or add it again from where it is now.",
            ) from None
        known = self.store.internals(job.id).source_mtime_ns
        if stamp.size == job.size and stamp.mtime_ns == known:
            return stamp
        try:
            fingerprint = self._fingerprints.fingerprint(path)
            self._fingerprints.flush()
        except OSError:
            raise _SourceProblemError(
                "file_changed",
                f"{job.name} is still being written to.",
                "Wait until the file is completely copied or saved, then retry.",
            ) from None
        logger.info("job %d: %s changed since it was queued", job.id, job.name)
        try:
            # The new content is the job's identity now, so adding the file again finds it.
            self._update(
                job.id,
                size=stamp.size,
                fingerprint=fingerprint,
                dedup_key=fingerprint,
                source_mtime_ns=stamp.mtime_ns,
                bytes_sent=0,
            )
        except sqlite3.IntegrityError:
            raise _SourceProblemError(
                SAME_AS_OTHER_JOB,
                f"{job.name} changed since it was added and is now the same video as another "
                "job in this index.",
                "Nothing to do: the other job sends it.",
            ) from None
        self._emit(JobNotice(job.id, f"{job.name} changed since it was added; sending it as is."))
        return stamp

    def _progress(
        self, job: Job, total: int, cancel: threading.Event
    ) -> Callable[[UploadProgress], None]:
        meter = ProgressMeter(total)
        with self._lock:
            self._meters[job.id] = meter
        # The first report of a resumed upload is the bytes confirmed before: only what is
        # sent from then on counts against the speed limit.
        last_sent: int | None = None
        last_store = time.monotonic()

        def on_progress(progress: UploadProgress) -> None:
            nonlocal last_sent, last_store
            self._bandwidth.rate = self.settings.bandwidth_cap
            if last_sent is not None:
                self._bandwidth.spend(progress.sent - last_sent, cancel)
            last_sent = progress.sent
            due = meter.update(progress.sent)
            if due is not None:
                self._emit(JobProgress(job.id, progress.sent, total, *due))
            now = time.monotonic()
            if now - last_store >= STORE_PROGRESS_EVERY:
                last_store = now
                self.store.update(job.id, bytes_sent=progress.sent)

        return on_progress

    def _send_task(
        self,
        *,
        client: ApiClient,
        job: Job,
        path: Path,
        finder: Finder,
        progress: Callable[[UploadProgress], None],
        cancel: threading.Event,
    ) -> None:
        created = self._recover_task(job, finder)
        if created is None:
            started = time.time()
            # Stored before the first byte: after a crash the look-up knows to look.
            self.store.update(job.id, create_started=started)
            created = client.create_task_from_file(
                job.index_id,
                path,
                enable_video_stream=_stream(job),
                language=job.options.get("language") if client.version == "v1.2" else None,
                progress=progress,
                cancel=cancel,
                fingerprint=job.fingerprint,
                recover=lambda _started: finder.task(started),
            )
        self._created(job, created, bytes_sent=job.size or 0)

    def _send_url(
        self, client: ApiClient, job: Job, finder: Finder, cancel: threading.Event
    ) -> None:
        created = self._recover_task(job, finder)
        if created is None:
            started = time.time()
            self.store.update(job.id, create_started=started)
            created = client.create_task_from_url(
                job.index_id,
                job.source,
                enable_video_stream=_stream(job),
                language=job.options.get("language") if client.version == "v1.2" else None,
                cancel=cancel,
                recover=lambda _started: finder.task(started),
            )
        self._created(job, created, bytes_sent=0)

    def _recover_task(self, job: Job, finder: Finder) -> CreatedTask | None:
        """After a stop mid-request: the task that request made, if it shows up."""
        started = self.store.internals(job.id).create_started
        if started is None:
            return None
        self._emit(JobNotice(job.id, "Checking whether the last try already reached the service…"))
        return finder.task(started)

    def _created(self, job: Job, created: CreatedTask, *, bytes_sent: int) -> None:
        if not created.reused:
            adopted = self.store.adopt(
                job.id, "task_id", created.id, video_id=created.video_id, create_started=None
            )
            if adopted is None:
                raise AlreadyClaimedError(created.id)
        self.store.update(job.id, bytes_sent=bytes_sent)
        self._on_service(job.id)

    def _on_service(self, job_id: int) -> None:
        self._update(
            job_id,
            only_if=[JobState.UPLOADING],
            state=JobState.ON_SERVICE,
            server_status="validating",
            not_before=time.time(),
        )
        self.wake_poller()

    def _send_asset(
        self,
        *,
        client: ApiClient,
        job: Job,
        path: Path,
        stamp: FileStamp,
        finder: Finder,
        progress: Callable[[UploadProgress], None],
        cancel: threading.Event,
    ) -> None:
        metadata = {FINGERPRINT_KEY: job.fingerprint} if job.fingerprint else {}
        asset_id = MultipartUpload(
            client,
            self.store,
            job,
            path,
            stamp,
            progress,
            cancel,
            lambda text: self._emit(JobNotice(job.id, text)),
            metadata,
        ).run()
        self._update(job.id, server_status="processing", bytes_sent=stamp.size)
        self._wait_for_asset(client, job, asset_id, cancel)
        started = self.store.internals(job.id).create_started
        indexed_id = finder.indexed_asset(asset_id) if started is not None else None
        if indexed_id is None:
            self.store.update(job.id, create_started=time.time())
            indexed_id = client.create_indexed_asset(
                job.index_id,
                asset_id,
                enable_video_stream=_stream(job),
                user_metadata=metadata or None,
                recover=lambda _started: finder.indexed_asset(asset_id),
            )
            if (
                self.store.adopt(job.id, "indexed_asset_id", indexed_id, create_started=None)
                is None
            ):
                raise AlreadyClaimedError(indexed_id)
        self._on_service(job.id)

    def _wait_for_asset(
        self, client: ApiClient, job: Job, asset_id: str, cancel: threading.Event
    ) -> None:
        """Wait while the service processes the uploaded asset (it must be ``ready`` before
        it can be indexed); checked with growing pauses, stopped at once by ``cancel``."""
        pause = 0.05
        deadline = time.monotonic() + ASSET_WAIT_LIMIT
        while True:
            asset = client.get_asset(asset_id)
            if asset.status == "ready":
                return
            if asset.status == "failed":
                raise VideoRejectedError(
                    "asset_failed",
                    asset.error or "",
                    user_message=asset.error or f"The service could not process {job.name}.",
                )
            if time.monotonic() > deadline:
                raise ApiError("asset_stuck", f"asset {asset_id} still {asset.status}")
            if cancel.wait(pause):
                raise CancelledError()
            pause = min(pause * 2, ASSET_WAIT_MAX)

    # ---- outcomes ------------------------------------------------------------------------------

    def _after_cancel(self, job_id: int) -> None:
        """Stopped by a control (its state already says why) or by the runner stopping: then
        the job goes back to the queue for the next start."""
        self._update(job_id, only_if=[JobState.UPLOADING], state=JobState.QUEUED)

    def _fail(self, job_id: int, code: str | None, message: str, hint: str) -> None:
        self._update(
            job_id,
            only_if=[JobState.UPLOADING],
            state=JobState.FAILED,
            error_code=code,
            error_message=message,
            error_hint=hint,
        )

    def _wait_for_twin(self, job_id: int, age: float) -> None:
        """Back to the queue until the same-named video on the service is ready and can be
        told apart; the wait is not a failed attempt. A twin still on its way after the
        limit (``age`` seconds) is the person's call: the job fails with words saying so,
        and a retry sends the file without waiting again (``PAST_TWIN``)."""
        try:
            job = self.store.get(job_id)
        except KeyError:
            return
        limit = max(TWIN_WAIT_LIMIT, TWIN_WAIT_PER_SECOND * (job.duration or 0.0))
        if age >= limit:
            self._fail(
                job_id,
                TWIN_UNDECIDED,
                f"A video named {job.name} has been on its way into this index for "
                f"{format_duration(round(age))} without finishing, so the app cannot tell "
                "whether it is this file.",
                # "try again", not a "Retry" the window does not have (its button is
                # "Try again"; the CLI's command is retry).
                "If that video is this file, remove this row. If not, try this row again: "
                "the file is then sent without waiting for it.",
            )
            return
        waiting = self._update(
            job_id,
            only_if=[JobState.UPLOADING],
            state=JobState.QUEUED,
            attempts=max(0, job.attempts - 1),
            not_before=time.time() + min(TWIN_WAIT, limit - age),
        )
        if waiting is not None:
            self._emit(
                JobNotice(
                    job_id,
                    f"A video named {job.name} is still being indexed in this index; waiting "
                    "for it to finish to see whether it is this file, so it is not sent twice.",
                )
            )

    def _index_exists(self, index_id: str) -> bool | None:
        """Whether the service still has the index (None: it could not be asked)."""
        try:
            client = self._client_factory_interactive()
        except ApiError:
            return None
        try:
            client.get_index(index_id)
        except NotFoundError:
            return False
        except ApiError:
            return None
        finally:
            client.close()
        return True

    def _restart_upload(self, job_id: int, error: ApiError) -> None:
        """Something the upload relied on is gone while its index is not (an expired
        upload session, an asset the service dropped): this job starts its upload over,
        the others go on."""
        logger.info("job %d: %s is gone on the service; starting the upload over", job_id, error)
        self.store.update(
            job_id,
            only_if=[JobState.UPLOADING],
            upload_session=None,
            unreported=[],
            upload_id=None,
            asset_id=None,
            create_started=None,
            bytes_sent=0,
        )
        self._emit(
            JobNotice(job_id, "The service no longer had this upload; starting the file over.")
        )

    def _after_error(self, job_id: int, error: ApiError) -> None:
        logger.info("job %d: %r", job_id, error)
        if isinstance(error, NotFoundError) and error.code in (
            "index_not_exists",
            "resource_not_exist",
        ):
            # "resource_not_exist" names no resource: only the index itself, asked for,
            # says whether every upload to it must stop (docs/engine.md, "Needs attention").
            index_id = self.store.get(job_id).index_id
            exists = self._index_exists(index_id)
            if exists is False:
                code, title, message, hint = _index_missing(index_id)
                self._attention(job_id, code, message, hint)
                self._raise_problem(code, title, message, hint)
                return
            if exists:
                self._restart_upload(job_id, error)
            self._retry_later(job_id, error)
            return
        if isinstance(error, AuthError | UsageLimitError) or error.code in _BATCH_CODES:
            self._attention(job_id, error.code, error.user_message, error.hint)
            self._raise_problem(error.code, error.title, error.user_message, error.hint)
            return
        if not error.retryable:
            self._fail(job_id, error.code, error.user_message, error.hint)
            return
        self._retry_later(job_id, error)

    def _retry_later(self, job_id: int, error: ApiError) -> None:
        """Back to the queue after ``RETRY_DELAY`` (or the wait the service asked for), or
        ``failed`` with the reason once ``MAX_ATTEMPTS`` were used."""
        try:
            job = self.store.get(job_id)
        except KeyError:
            return
        if job.attempts >= MAX_ATTEMPTS:
            self._fail(
                job_id,
                error.code,
                f"{error.user_message} The app tried {job.attempts} times.",
                "Retry when the connection or the service is back.",
            )
            return
        wait = max(self._retry_delay, error.retry_after or 0.0)
        queued = self._update(
            job_id,
            only_if=[JobState.UPLOADING],
            state=JobState.QUEUED,
            not_before=time.time() + wait,
            error_code=error.code,
            error_message=error.user_message,
            error_hint=error.hint,
        )
        if queued is not None:
            self._emit(JobNotice(job_id, _retry_notice(error, wait)))

    def _attention(self, job_id: int, code: str, message: str, hint: str) -> None:
        self._update(
            job_id,
            only_if=[JobState.UPLOADING],
            state=JobState.NEEDS_ATTENTION,
            error_code=code,
            error_message=message,
            error_hint=hint,
        )


def _text_path(source: str) -> str:
    """``source`` itself when it is valid text; else with the undecodable bytes of its name
    (kept by Python as lone surrogates) shown as U+FFFD, which SQLite and UTF-8 files take."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        return source.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return source


def _no_error() -> dict[str, object]:
    return {"error_code": None, "error_message": "", "error_hint": ""}


def _stream(job: Job) -> bool:
    value = job.options.get("enable_video_stream")
    return ENABLE_VIDEO_STREAM if value is None else value == "1"


def _retry_notice(error: ApiError, wait: float) -> str:
    return f"{error.title}; next try in {max(1, round(wait))} s."


def _index_missing(index_id: str) -> tuple[str, str, str, str]:
    return (
        "index_missing",
        "Index not found",
        f"The index {index_id} no longer exists on the service, or this key cannot see it.",
        "Choose another index (or create it again), then resume the uploads.",
    )
