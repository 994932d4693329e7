"""Send a checked manifest: its rows become engine jobs (docs/manifests.md, "Sending").

- API v1.2: one ``POST /tasks/transfers`` carries every row to send; the tasks it made are
  then found by listing each index's tasks created since the send and matching file names.
  Once the POST went through, a row waits for its task whatever happens to this process: a
  network error or a closed window leaves the matching to the engine's poller
  (``follow_transfers``), after a restart too. Rows still unmatched ``MATCH_WINDOW`` seconds
  after the send are "already in this index" or "not started by the service".
- API v1.3, where that endpoint is gone: each row is a URL job; the engine sends a presigned
  HTTPS link to the object (made at send time with the user's AWS credentials). v1.3 takes no
  language or transcription with a video, so a row's transcription is not sent (and we say so).

Rows are jobs of kind ``MANIFEST_ROW`` keyed by index and object, so sending the same list
again returns the existing jobs: a finished row shows as already in the index, never twice.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError, CancelledError, NotFoundError
from uploader_app.api.types import FINGERPRINT_KEY, MAX_PAGE_LIMIT, CreatedTask
from uploader_app.jobs.recovery import DURATION_TOLERANCE, Finder, created_since
from uploader_app.jobs.urlcheck import check_url
from uploader_app.manifest.uris import S3Uri, parse_s3_uri
from uploader_app.models import (
    CUT_KEY,
    SENT_KEY,
    UNSURE_KEY,
    Job,
    JobState,
    Route,
    SourceKind,
    Target,
    Task,
    TaskStatus,
    UploadKind,
)
from uploader_app.store import NewJob, Store

if TYPE_CHECKING:
    from uploader_app.manifest.bucket import S3Access
    from uploader_app.manifest.checks import BucketError

logger = logging.getLogger(__name__)

# How long the service may take to list the tasks of a transfer before a row counts as not
# started (assumption, docs/manifests.md: the guides give no figure; tasks show up within
# seconds of a POST /tasks).
MATCH_WINDOW = 120.0
MATCH_EVERY = 2.0
NOT_STARTED = "transfer_not_started"
NOT_STARTED_HINT = (
    "Check in the Twelve Labs dashboard that the S3 integration is Active and the bucket is in "
    "us-west-2, that the object exists, and that the index has room; then retry the row."
)
V13_NO_TRANSCRIPTION = (
    "API v1.3 takes no transcription with a video, so {name} is sent without {sub}."
)
# Said once for a whole list: a sentence per row buries everything else (a built list has
# hundreds of rows with subtitles).
V13_NO_TRANSCRIPTIONS = (
    "API v1.3 takes no transcription with a video, so {count} videos are sent without "
    "theirs ({subs})."
)
NAMES_SHOWN = 3
# Job option of a v1.2 row (with SENT_KEY, in models): the tasks of its file name that existed
# just before the send (never its own).
NOT_OURS_KEY = "transfer_not_ours"
# A row whose unanswered transfer (UNSURE_KEY, in models) started no task within the window
# was most likely not sent (docs/manifests.md, "Sending").
NOT_SENT = "transfer_not_sent"
NOT_SENT_HINT = "Send the list again, or select the row and try it again."
# What counts as "already there": the row was sent before and did not fail.
_DONE = (JobState.READY, JobState.ALREADY_IN_INDEX)
_ACTIVE = (JobState.QUEUED, JobState.CHECKING, JobState.UPLOADING, JobState.ON_SERVICE)


# Rows whose send in this process is matching them now: the poller leaves them alone.
_matching: set[int] = set()
_matching_lock = threading.Lock()


class AlreadyInIndexError(Exception):
    """The row's object is already a video in its index (sent from another job list)."""

    def __init__(self, video_id: str) -> None:
        super().__init__(video_id)
        self.video_id = video_id


class RowProblemError(Exception):
    """A row cannot be sent (its object is unreadable, S3 refused a link); for the user."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


@dataclass
class SendReport:
    """What one send did with each row, in row order."""

    jobs: list[Job] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)  # job ids sent (or queued) now
    already: list[int] = field(default_factory=list)  # done before: already in the index
    in_progress: list[int] = field(default_factory=list)  # sent before and not finished
    notes: list[str] = field(default_factory=list)


def dedup_key(index_id: str, uri: str) -> str:
    return f"manifest:{index_id}:{uri}"


def object_fingerprint(uri: str) -> str:
    """Names the object in the video's metadata (v1.3), so a later send from any job list
    finds it: by location, since a presigned link hides the object from the service."""
    # hashlib maps OpenSSL (about 3.5 MB): loaded at the first use, not when the window starts.
    import hashlib  # noqa: PLC0415

    return "s3:" + hashlib.sha256(uri.encode()).hexdigest()[:32]


def enqueue_rows(
    store: Store,
    rows: Sequence[dict[str, Any]],
    version: str,
    *,
    profile: str | None = None,
    on_job: Callable[[Job], None] | None = None,
) -> SendReport:
    """Add one job per row; v1.3 rows are queued for the runners, v1.2 rows wait (CHECKING)
    for ``send_transfer``. Rows sent before are reported, not added again. ``profile`` is the
    AWS profile that presigns v1.3 links (None: the default credentials)."""
    route = Route.TRANSFER if version == "v1.2" else Route.URL
    news = []
    for row in rows:
        options = {"language": str(row.get("language", ""))}
        if isinstance(row.get("transcription"), str):
            options["transcription"] = row["transcription"]
        options["row"] = json.dumps(row, ensure_ascii=False)  # sent as written (v1.2)
        if profile:
            options["aws_profile"] = profile
        news.append(
            NewJob(
                source_kind=SourceKind.MANIFEST_ROW,
                source=str(row["object"]),
                index_id=str(row["index_id"]),
                state=JobState.CHECKING if route is Route.TRANSFER else JobState.QUEUED,
                route=route,
                options=options,
                fingerprint=object_fingerprint(str(row["object"])) if route is Route.URL else None,
                dedup_key=dedup_key(str(row["index_id"]), str(row["object"])),
            )
        )
    report = SendReport()
    unsent: list[tuple[str, str]] = []  # (video, transcription) names v1.3 cannot carry
    for added, is_new in store.add(news):
        job, created = added, is_new
        if not is_new and added.state in (JobState.FAILED, JobState.CANCELLED):
            # Sent before and failed: this send is its retry.
            again = JobState.CHECKING if route is Route.TRANSFER else JobState.QUEUED
            reset = store.update(
                added.id,
                only_if=[added.state],
                state=again,
                attempts=0,
                error_code=None,
                error_message="",
                error_hint="",
                create_started=None,
                options=_unsent(added.options),
            )
            job, created = reset or added, reset is not None
        elif (
            not is_new
            and added.state is JobState.CHECKING
            and added.task_id is None
            and not awaits_match(added)
        ):
            # A v1.2 send cut off before its transfer went out: send it again; the service
            # skips a file it already has (docs/manifests.md, "Sending").
            created = True
        report.jobs.append(job)
        if created:
            report.sent.append(job.id)
            if on_job is not None:
                on_job(job)
        elif job.state in _DONE:
            report.already.append(job.id)
        else:
            report.in_progress.append(job.id)
        if created and route is Route.URL and "transcription" in job.options:
            unsent.append((job.name, _object_name(job.options["transcription"])))
    if len(unsent) == 1:
        ((name, sub),) = unsent
        report.notes.append(V13_NO_TRANSCRIPTION.format(name=name, sub=sub))
    elif unsent:
        subs = ", ".join(sub for _, sub in unsent[:NAMES_SHOWN])
        if len(unsent) > NAMES_SHOWN:
            subs += f" and {len(unsent) - NAMES_SHOWN} more"
        report.notes.append(V13_NO_TRANSCRIPTIONS.format(count=len(unsent), subs=subs))
    return report


def _unsent(options: Mapping[str, str]) -> dict[str, str]:
    marks = (SENT_KEY, NOT_OURS_KEY, UNSURE_KEY, CUT_KEY)
    return {k: v for k, v in options.items() if k not in marks}


def awaits_match(job: Job) -> bool:
    """A v1.2 row whose transfer went out, or may have (``UNSURE_KEY``), and whose task is
    not matched yet: the poller follows it, a new send of the list leaves it alone."""
    return job.state is JobState.CHECKING and (SENT_KEY in job.options or UNSURE_KEY in job.options)


def _object_name(uri: str) -> str:
    parsed = parse_s3_uri(uri)
    return parsed.name if isinstance(parsed, S3Uri) else uri


def send_transfer(
    client: ApiClient,
    store: Store,
    job_ids: Sequence[int],
    *,
    match_window: float | None = None,
    match_every: float = MATCH_EVERY,
    cancel: threading.Event | None = None,
    on_change: Callable[[Job], None] | None = None,
) -> list[Job]:
    """v1.2: one POST /tasks/transfers with the rows of ``job_ids``, then match their tasks.

    Matched rows go ``on_service`` (the poller follows them); the rest, after the window, are
    already in the index or not started. An error of the POST is raised; one after it (or
    ``cancel``) leaves the rows waiting for the poller to match (``follow_transfers``).
    """
    jobs = [store.get(i) for i in job_ids]
    if not jobs:
        return []
    ids = {job.id for job in jobs}
    # Claimed before the rows show a send under way: the listing below can take minutes
    # (429s), and this process's poller must not take them for a killed send's rows.
    with _matching_lock:
        _matching.update(ids)
    try:
        started = time.time()
        for job in jobs:
            _changed(store.update(job.id, create_started=started), on_change)
        rows = [json.loads(job.options["row"]) for job in jobs]
        indexes = sorted({j.index_id for j in jobs})
        # "Since the send" allows for clock skew, so tasks made just before it (a send
        # moments ago from elsewhere) would pass as new: note them first, never match them.
        before = [t for i in indexes for t in _tasks_since(client, i, started)]
        # Noted before the POST: a row whose answer is lost is matched against them as well.
        for job in jobs:
            not_ours = [
                t.id for t in before if (t.index_id, t.filename) == (job.index_id, job.name)
            ]
            options = {**_unsent(job.options), NOT_OURS_KEY: ",".join(not_ours)}
            store.update(job.id, options=options)
        try:
            client.create_transfer(rows, cancel=cancel)
            mark = SENT_KEY
            logger.info("transfer of %d row(s) sent", len(rows))
        except CancelledError as stopped:
            if stopped.may_have_acted:
                # Stopped after a try went out whole with no answer: the rows are not "not
                # sent"; they are looked for as unanswered ones (docs/manifests.md).
                for job in jobs:
                    options = {**store.get(job.id).options, UNSURE_KEY: "1"}
                    _changed(store.update(job.id, options=options), on_change)
            raise
        except ApiError as error:
            if not error.may_have_acted:
                raise
            # Not known whether it went out (by any of the client's tries, not only the
            # last): its tasks are looked for as a sent row's are, and a second POST now
            # could not be told from the first.
            mark = UNSURE_KEY
            logger.info("transfer of %d row(s): no answer (%r); looking", len(rows), error)
        for job in jobs:
            marked = store.update(job.id, options={**store.get(job.id).options, mark: "1"})
            _changed(marked, on_change)
        waiting = [store.get(job.id) for job in jobs]
        window = MATCH_WINDOW if match_window is None else match_window
        deadline = time.monotonic() + window
        waiter = cancel or threading.Event()
        while waiting:
            waiting = _match(client, store, waiting, on_change)
            if not waiting or time.monotonic() >= deadline or waiter.is_set():
                break
            waiter.wait(match_every)
        reader = _ObjectReader()
        for job in waiting:
            if waiter.is_set():
                break  # stopped (the window closed) is not refused by the service: rows wait
            _changed(_not_started(client, store, job, window, reader), on_change)
    except ApiError as error:
        if not any(awaits_match(store.get(i)) for i in ids):
            raise  # the transfer itself failed: nothing was sent
        # The transfer went through (or may have); only looking for its tasks failed. The
        # rows wait, and the engine's poller goes on matching them (docs/manifests.md,
        # "Sending").
        logger.info("transfer sent; matching its tasks stopped: %r", error)
    finally:
        with _matching_lock:
            _matching.difference_update(ids)
    return [store.get(job.id) for job in jobs]


def follow_transfers(
    client_factory: Callable[[], ApiClient],
    store: Store,
    on_change: Callable[[Job], None] | None = None,
) -> int:
    """Match the rows whose transfer went out but whose tasks were not found yet (a network
    error, a closed window, a restart); past the window they are already in the index or not
    started. Rows a send of this process is matching are left to it. How many still wait."""
    with _matching_lock:
        busy = set(_matching)
    jobs = []
    elsewhere = 0  # rows another process may be sending now: looked at again later
    for row in store.jobs([JobState.CHECKING]):
        started = store.internals(row.id).create_started
        if row.route is not Route.TRANSFER or row.task_id or row.id in busy or started is None:
            continue
        if not awaits_match(row) and CUT_KEY not in row.options:
            if time.time() - started < MATCH_WINDOW:
                elsewhere += 1  # a send under way in another process
                continue
            # The process sending it stopped during its POST (killed, a power cut): whether
            # the request went out is not known, so it is looked for like an unanswered one.
            marked = store.update(row.id, options={**row.options, UNSURE_KEY: "1"})
            _changed(marked, on_change)
            if marked is not None:
                jobs.append(marked)
        elif awaits_match(row):
            jobs.append(row)
    if not jobs:
        return elsewhere
    client = client_factory()
    waiting = 0
    now = time.time()
    reader = _ObjectReader()
    for job in _match(client, store, jobs, on_change):
        started = store.internals(job.id).create_started
        if started is not None and now - started < MATCH_WINDOW:
            waiting += 1
        else:
            _changed(_not_started(client, store, job, MATCH_WINDOW, reader), on_change)
    return waiting + elsewhere


def _match(
    client: ApiClient,
    store: Store,
    jobs: Sequence[Job],
    on_change: Callable[[Job], None] | None,
) -> list[Job]:
    """Adopt the tasks made for ``jobs`` since their send; the jobs still without one."""
    left = []
    for index_id in sorted({j.index_id for j in jobs}):
        mine = [j for j in jobs if j.index_id == index_id]
        since = min(store.internals(j.id).create_started or time.time() for j in mine)
        tasks = _tasks_since(client, index_id, since)
        for job in mine:
            not_ours = set(job.options.get(NOT_OURS_KEY, "").split(","))
            task = _claim(store, job, [t for t in tasks if t.id not in not_ours])
            if task is None:
                left.append(job)
            else:
                _changed(_on_service(store, job, task), on_change)
    return left


def _not_started(
    client: ApiClient, store: Store, job: Job, waited: float, reader: _ObjectReader
) -> Job | None:
    """A row the transfer made no task for: the service skips a file already in the index
    (by content hash), so a ready video from before the send that is the same file as far as
    the answers tell (name, length, size: ``_same_file``) means "already there"; otherwise the
    row failed to start."""
    facts: _ObjectFacts | None = None
    differs = False
    for task in client.iter_tasks(job.index_id, filename=job.name, page_limit=MAX_PAGE_LIMIT):
        held = store.holder("task_id", task.id) is not None  # another row of this send
        if task.filename != job.name or held or task.status is not TaskStatus.READY:
            continue
        facts = facts or reader.facts(job)
        if not _same_file(client, job.index_id, task, facts):
            differs = True
            continue
        return store.update(
            job.id,
            only_if=[JobState.CHECKING, JobState.UPLOADING],
            state=JobState.ALREADY_IN_INDEX,
            video_id=task.video_id,
            create_started=None,
        )
    also = (
        f" The video named {job.name} already in the index is a different file (its length "
        "or size differs)."
        if differs
        else ""
    )
    if UNSURE_KEY in job.options:
        return store.update(
            job.id,
            only_if=[JobState.CHECKING],
            state=JobState.FAILED,
            error_code=NOT_SENT,
            error_message=(
                "No answer came for the list's request (the connection dropped, or the app "
                f"stopped), and the service has not started {job.source} within "
                f"{round(waited)} s since: the row was most likely not sent." + also
            ),
            error_hint=NOT_SENT_HINT,
        )
    return store.update(
        job.id,
        only_if=[JobState.CHECKING, JobState.UPLOADING],
        state=JobState.FAILED,
        error_code=NOT_STARTED,
        error_message=(
            f"The service did not start {job.source} within {round(waited)} s of the transfer."
            + also
        ),
        error_hint=NOT_STARTED_HINT,
    )


@dataclass(frozen=True)
class _ObjectFacts:
    """What can be known of a row's S3 object here; None where it cannot."""

    size: int | None = None
    duration: float | None = None


class _ObjectReader:
    """Reads rows' objects (size and length) for one round of decisions, with one S3 client
    per AWS profile: making one costs about half a second (boto3 loads its models), which
    every row of a 1,000-row list paid."""

    def __init__(self) -> None:
        self._access: dict[str | None, S3Access | BucketError] = {}

    def facts(self, job: Job) -> _ObjectFacts:
        """The object's size and length, read with the user's AWS credentials through a link
        (ranged reads of only the bytes MediaInfo needs); unknown when they cannot read it,
        as on v1.2 where the service reads the bucket through its own integration."""
        from uploader_app.manifest.bucket import S3Access  # noqa: PLC0415 (boto3 loads slowly)
        from uploader_app.manifest.checks import BucketError  # noqa: PLC0415

        uri = parse_s3_uri(job.source)
        if not isinstance(uri, S3Uri):
            return _ObjectFacts()
        profile = job.options.get("aws_profile")
        try:
            access = self._access.get(profile)
            if access is None:
                access = self._access[profile] = S3Access(profile)
            if isinstance(access, BucketError):
                raise access
            link = access.presign(uri)
        except BucketError as exc:
            self._access.setdefault(profile, exc)  # a missing profile is missing for all rows
            logger.info("%s cannot be read here (%s): compared by name only", uri, exc.message)
            return _ObjectFacts()
        found = check_url(link, Target(kind=UploadKind.URL))
        return _ObjectFacts(found.size, found.duration)


def _same_file(client: ApiClient, index_id: str, task: Task, facts: _ObjectFacts) -> bool:
    """Name already matched: the length in the task's answer and the size in its video's
    answer must agree with the object where both are known (docs/manifests.md)."""
    if (
        facts.duration is not None
        and task.duration is not None
        and abs(task.duration - facts.duration) > DURATION_TOLERANCE
    ):
        return False
    if facts.size is not None and task.video_id:
        try:
            video = client.get_video(index_id, task.video_id)
        except NotFoundError:
            return False  # deleted since it was listed
        if video.size is not None and video.size != facts.size:
            return False
    return True


def send_manifest(
    client: ApiClient,
    store: Store,
    rows: Sequence[dict[str, Any]],
    *,
    profile: str | None = None,
    on_change: Callable[[Job], None] | None = None,
    cancel: threading.Event | None = None,
) -> SendReport:
    """Send a checked manifest's rows: jobs for all; on v1.2 the one transfer and the matching
    (blocking: call off the GUI thread; ``cancel`` stops it, leaving unmatched rows waiting);
    on v1.3 the runners send the queued rows. A failed transfer request fails its rows with
    the reason and is raised; one cut off by ``cancel`` is raised and leaves them unsent."""
    report = enqueue_rows(store, rows, client.version, profile=profile, on_job=on_change)
    if client.version == "v1.2" and report.sent:
        try:
            done = send_transfer(client, store, report.sent, cancel=cancel, on_change=on_change)
        except CancelledError:
            # Quitting cut the POST off before its last byte (a cancelled request is always
            # incomplete, api/body.py): nothing went out, so the rows are not failed; they
            # say so and go out with the next send of the list (docs/manifests.md,
            # "Sending").
            for job_id in report.sent:
                row = store.get(job_id)
                if row.state is JobState.CHECKING and not awaits_match(row):
                    cut = store.update(job_id, options={**row.options, CUT_KEY: "1"})
                    _changed(cut, on_change)
            raise
        except ApiError as error:
            for job_id in report.sent:
                failed = store.update(
                    job_id,
                    only_if=[JobState.CHECKING],
                    state=JobState.FAILED,
                    error_code=error.code,
                    error_message=error.user_message,
                    error_hint=error.hint,
                )
                _changed(failed, on_change)
            raise
        checking = [j for j in done if j.state is JobState.CHECKING]
        if not (cancel and cancel.is_set()) and checking:
            # An unanswered POST may not have gone out: the note must not say it did.
            said = (
                "No answer came for the list's request, and the service could not be asked "
                "which videos it has started, if any"
                if any(UNSURE_KEY in j.options for j in checking)
                else "The list was sent, but the service could not be asked which videos it "
                "has started"
            )
            report.notes.append(
                f"{said}; the app keeps asking, and they show in the list as they start."
            )
    report.jobs = [store.get(job.id) for job in report.jobs]
    return report


def send_row(
    client: ApiClient, store: Store, job: Job, finder: Finder, cancel: threading.Event
) -> CreatedTask:
    """One row sent by an engine runner (v1.3 rows, and v1.2 rows retried one by one)."""
    started_before = store.internals(job.id).create_started
    if started_before is not None:
        found = finder.task(started_before)  # the last try's request may have got through
        if found is not None:
            return found
    elif job.route is Route.URL:
        video_id = finder.existing_video()  # the fingerprint in a video's metadata
        if video_id is not None:
            raise AlreadyInIndexError(video_id)
    started = time.time()
    store.update(job.id, create_started=started)
    if job.route is Route.TRANSFER:
        client.create_transfer([json.loads(job.options["row"])], cancel=cancel)
        found = finder.task(started)
        if found is None:
            raise RowProblemError(
                NOT_STARTED,
                f"The service did not start {job.source} after the transfer.",
                NOT_STARTED_HINT,
            )
        return found
    return client.create_task_from_url(
        job.index_id,
        _presign(job.source, job.options.get("aws_profile")),
        user_metadata={FINGERPRINT_KEY: job.fingerprint} if job.fingerprint else None,
        cancel=cancel,
        recover=lambda _started: finder.task(started),
    )


def _presign(source: str, profile: str | None) -> str:
    from uploader_app.manifest.checks import BucketError  # noqa: PLC0415 (as S3Access is)

    uri = parse_s3_uri(source)
    if not isinstance(uri, S3Uri):
        raise RowProblemError("object_invalid", f"{source}: {uri.message}", uri.hint)
    try:
        return _presigners.get(profile).presign(uri)
    except BucketError as exc:
        raise RowProblemError("s3_unreadable", exc.message, exc.hint) from None


# What boto3's credential chain reads from the environment: a change to any of them (another
# profile, S3-compatible endpoint or key) must not reuse a client made before it.
_AWS_ENVIRONMENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)
# The user's AWS files and where boto3 looks for them: a client is made again once either
# changed (``aws configure`` after a refused link), since it read the credentials when made.
_AWS_FILES = (
    ("AWS_CONFIG_FILE", "~/.aws/config"),
    ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
)
# Seconds a presigning client is kept: long enough for a list's rows to share one, short
# enough that credentials from elsewhere (an SSO login, say) are read again by a later send.
KEEP_S3_CLIENT = 600.0


def _aws_files_changed() -> tuple[int | None, ...]:
    """When each of the user's AWS files last changed (None: there is none)."""
    stamps: list[int | None] = []
    for variable, default in _AWS_FILES:
        try:
            stamps.append(Path(os.environ.get(variable) or default).expanduser().stat().st_mtime_ns)
        except OSError:
            stamps.append(None)
    return tuple(stamps)


class _Presigners:
    """One S3 client per AWS profile (and credential environment) for the v1.3 links, shared
    by the runners' threads (boto3 clients are thread-safe): making one costs about half a
    second (boto3 loads its models), which every row of a list paid. A client that could not
    be made is not kept: the next row tries again and says why."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[tuple[str | int | None, ...], tuple[float, S3Access]] = {}

    def get(self, profile: str | None) -> S3Access:
        from uploader_app.manifest.bucket import S3Access  # noqa: PLC0415 (boto3 loads slowly)

        key = (
            profile,
            *(os.environ.get(name) for name in _AWS_ENVIRONMENT),
            *_aws_files_changed(),
        )
        # Under the lock: rows claimed at once wait for the one client instead of each
        # making their own.
        with self._lock:
            now = time.monotonic()
            made = self._made.get(key)
            if made is not None and now - made[0] < KEEP_S3_CLIENT:
                return made[1]
            access = S3Access(profile)
            self._made = {k: v for k, v in self._made.items() if now - v[0] < KEEP_S3_CLIENT}
            self._made[key] = (now, access)
            return access


_presigners = _Presigners()


def _tasks_since(client: ApiClient, index_id: str, started: float) -> list[Task]:
    """The index's tasks created since ``started``, oldest first."""
    found = []
    for task in client.iter_tasks(
        index_id, sort_by="created_at", sort_option="desc", page_limit=MAX_PAGE_LIMIT
    ):
        if not created_since(task.created_at, started):
            break
        found.append(task)
    return found[::-1]


def _claim(store: Store, job: Job, tasks: list[Task]) -> Task | None:
    """The oldest task with the row's file name that no job holds yet, adopted by ``job``.

    Rows of one transfer are created in row order, so two rows with the same file name (in
    different folders) take their tasks in that order.
    """
    for task in tasks:
        if task.filename != job.name or store.holder("task_id", task.id) is not None:
            continue
        fields: dict[str, Any] = {"create_started": None}
        if task.video_id:
            fields["video_id"] = task.video_id
        if store.adopt(job.id, "task_id", task.id, **fields) is not None:
            return task
    return None


def _on_service(store: Store, job: Job, task: Task) -> Job | None:
    return store.update(
        job.id,
        only_if=[JobState.CHECKING, JobState.UPLOADING],
        state=JobState.ON_SERVICE,
        server_status=str(task.status),
        not_before=time.time(),
    )


def _changed(job: Job | None, on_change: Callable[[Job], None] | None) -> None:
    if job is not None and on_change is not None:
        on_change(job)
