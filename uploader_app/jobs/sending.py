"""What the CLI's sending commands (``upload``, ``url``, ``transfer``) share: exit status, the
engine's settings, the view a person follows, and running the command's own jobs to the end
(docs/engine.md, "CLI").

A command runs and reports only the jobs it named (its index and sources, including those a
crashed earlier run of the same command left): other jobs in the store, the window's or
another index's, are neither sent nor polled by it, and their problems never set its exit
status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError
from uploader_app.jobs.engine import STORE_PROBLEM, Engine, EngineOptions
from uploader_app.jobs.events import BatchProblem, EngineEvent, JobChanged, JobNotice, JobProgress
from uploader_app.jobs.recovery import GRACE
from uploader_app.jobs.runner import ThreadRunner
from uploader_app.keys import client_settings
from uploader_app.models import CUT_KEY, SENT_KEY, UNSURE_KEY, Job, JobState, SourceKind
from uploader_app.settings import load_settings_file

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3

# Seconds to keep looking for what a lost request created before sending again (tests and
# slow links tune it; docs/engine.md, "Exactly once").
ENV_GRACE = "UPLOADER_APP_LOOKUP_GRACE"
SENT = frozenset({JobState.ON_SERVICE, JobState.READY, JobState.ALREADY_IN_INDEX})


def grace() -> float:
    try:
        return float(os.environ.get(ENV_GRACE, "") or GRACE)
    except ValueError:
        return GRACE


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """The settings file's engine settings; ``--multipart-over`` wins over its value."""
    saved = load_settings_file()
    override = getattr(args, "multipart_over", None)
    return EngineOptions(
        concurrent_uploads=saved.concurrent_uploads,
        bandwidth_cap=saved.bandwidth_cap,
        poll_budget_per_minute=saved.poll_budget_per_minute,
        multipart_over=override if override is not None else saved.multipart_over,
    )


def client_factory() -> Callable[[], ApiClient] | None:
    """Makes clients for the saved address and key; None, with the problem said, when either
    is unusable, so a command exits 3 before it sends anything."""
    settings = client_settings()

    def client() -> ApiClient:
        return ApiClient(settings.base_url, settings.api_key or "")

    try:
        client().close()
    except ApiError as error:
        say_problem(error.title, error.user_message, error.hint)
        return None
    return client


def say_problem(title: str, message: str, hint: str) -> None:
    print(f"{title}: {message}", file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)


def problem_exit(problem: BatchProblem) -> int:
    say_problem(problem.title, problem.message, problem.hint)
    return EXIT_FAILED if problem.code in ("no_network", STORE_PROBLEM[0]) else EXIT_CONFIG


def job_json(job: Job) -> dict[str, Any]:
    where = "url" if job.source_kind is SourceKind.URL else "path"
    return {
        "job": job.id,
        where: job.shown_source,
        "index_id": job.index_id,
        "state": str(job.state),
        "route": str(job.route) if job.route else None,
        "task_id": job.task_id,
        "video_id": job.video_id,
        "asset_id": job.asset_id,
        "indexed_asset_id": job.indexed_asset_id,
        "server_status": job.server_status,
        "code": job.error_code,
        "message": job.error_message,
        "hint": job.error_hint,
    }


STATE_WORDS = {
    JobState.QUEUED: "waiting",
    JobState.CHECKING: "checking",
    JobState.UPLOADING: "sending",
    JobState.ON_SERVICE: "on the service",
    JobState.READY: "ready",
    JobState.ALREADY_IN_INDEX: "already in this index",
    JobState.FAILED: "failed",
    JobState.REJECTED: "not sent",
    JobState.PAUSED: "paused",
    JobState.CANCELLED: "cancelled",
    JobState.NEEDS_ATTENTION: "needs attention",
}


def state_words(job: Job) -> str:
    if job.state is JobState.CHECKING and SENT_KEY in job.options:
        return "sent, waiting for the service"  # a v1.2 transfer's row
    if job.state is JobState.CHECKING and UNSURE_KEY in job.options:
        return "not known whether sent; asking the service"  # its answer was lost
    if job.state is JobState.CHECKING and CUT_KEY in job.options:
        return "not sent (stopped while sending); send the list again"
    words = STATE_WORDS[job.state]
    if job.state is JobState.ON_SERVICE and job.server_status:
        words += f" ({job.server_status})"
    if job.state is JobState.FAILED:
        words += ": retry?"
    return words


class View:
    """What a person sees while jobs run: a rich progress display on a terminal, plain lines
    (one per change) otherwise; nothing with ``quiet`` (``--json`` keeps stdout for its
    array). Events come from worker threads."""

    def __init__(self, out: TextIO, *, quiet: bool) -> None:
        self.out = out
        self.quiet = quiet
        self.console = Console(file=out)
        self.progress: Progress | None = None
        self._bars: dict[int, TaskID] = {}
        self._lock = threading.Lock()
        self._ids: set[int] = set()

    def fingerprints(self) -> FingerprintView:
        """The display for the content check before queueing (``Engine.add_paths``)."""
        return FingerprintView(self)

    def live(self, ids: Sequence[int]) -> Any:
        self._ids = set(ids)
        if self.quiet or not self.console.is_terminal:
            return _Nothing()
        self.progress = Progress(
            # File names are shown as written: "[" in a name is not rich markup.
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
        )
        return self.progress

    def __call__(self, event: EngineEvent) -> None:
        if self.quiet:
            return
        with self._lock:
            if isinstance(event, JobProgress) and self.progress is not None:
                bar = self._bars.get(event.job_id)
                if bar is not None:
                    self.progress.update(bar, completed=event.sent, total=event.total)
            elif isinstance(event, JobChanged) and event.job.id in self._ids:
                self._changed(event.job)
            elif isinstance(event, JobNotice) and (
                event.job_id is None or event.job_id in self._ids
            ):
                self._line(event.message)
            elif isinstance(event, BatchProblem):
                self._line(f"{event.title}: {event.message}")

    def _changed(self, job: Job) -> None:
        if self.progress is not None:
            bar = self._bars.get(job.id)
            if job.state is JobState.UPLOADING and bar is None:
                self._bars[job.id] = self.progress.add_task(job.name, total=job.size)
            elif job.state is not JobState.UPLOADING and bar is not None:
                self.progress.remove_task(bar)
                del self._bars[job.id]
            self.progress.refresh()  # now, not at the next tick: the line below is current
        line = f"{job.name}: {state_words(job)}"
        if job.error_message and job.state in (JobState.FAILED, JobState.REJECTED):
            line += f" — {job.error_message}"
        self._line(line)

    def _line(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.out, flush=True)

    def summary(self, jobs: Sequence[Job]) -> None:
        counts: dict[str, int] = {}
        for job in jobs:
            counts[STATE_WORDS[job.state]] = counts.get(STATE_WORDS[job.state], 0) + 1
        print(", ".join(f"{n} {w}" for w, n in counts.items()) or "Nothing to send.", file=self.out)
        for job in jobs:
            if job.error_hint and job.state in (JobState.FAILED, JobState.REJECTED):
                print(f"{job.name}: {job.error_hint}", file=self.out)


class FingerprintView:
    """Progress of the content check of each file before it is queued: a rich bar on a
    terminal, a plain line every ``PLAIN_EVERY`` seconds (and at the end) otherwise, nothing
    when quiet."""

    PLAIN_EVERY = 2.0

    def __init__(self, view: View) -> None:
        self._view = view
        self._progress: Progress | None = None
        self._bar: TaskID | None = None
        self._last_line = 0.0

    def __enter__(self) -> FingerprintView:
        if not self._view.quiet and self._view.console.is_terminal:
            self._progress = Progress(
                TextColumn("Checking files"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[name]}", markup=False),
                console=self._view.console,
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, done: int, total: int, name: str) -> None:
        if self._view.quiet:
            return
        if self._progress is not None:
            if self._bar is None:
                self._bar = self._progress.add_task("", total=total, name=name)
            self._progress.update(self._bar, completed=done, total=total, name=name)
            return
        now = time.monotonic()
        if done == total or now - self._last_line >= self.PLAIN_EVERY:
            self._last_line = now
            print(f"Checking files: {done} of {total}", file=self._view.out, flush=True)


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def wait_for_jobs(engine: Engine, ids: Sequence[int], *, wait: bool) -> BatchProblem | None:
    """Until the jobs are on the service (``wait``: finished), or a problem stops them."""
    while True:
        if engine.problem is not None:
            return engine.problem
        jobs = engine.store.jobs(ids=list(ids))
        moving = (
            [j for j in jobs if j.state.is_active]
            if wait
            else [j for j in jobs if j.state in (JobState.QUEUED, JobState.UPLOADING)]
        )
        if not moving:
            return None
        time.sleep(0.1)


def run_jobs(
    engine: Engine, ids: Sequence[int], view: View, args: argparse.Namespace, stdout: TextIO
) -> int:
    """Run these jobs (and no others in the store) in this process, then report them: the
    summary or the ``--json`` array, and the exit status they call for."""
    engine.limit_to(ids)
    runner = ThreadRunner(engine, engine.settings.concurrent_uploads)
    runner.start()
    try:
        with view.live(ids):
            problem = wait_for_jobs(engine, ids, wait=args.wait)
    except KeyboardInterrupt:
        # Ctrl-C: the uploads stop where they are (stop() puts them back in the queue).
        interrupted = True
    else:
        interrupted = False
    finally:
        runner.stop()
    if interrupted:
        print(
            "Stopped. The files not yet sent wait in the job list: run the same command again "
            "to continue them.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    final = engine.store.jobs(ids=list(ids))
    if args.json:
        json.dump([job_json(j) for j in final], stdout, indent=2)
        print(file=stdout)
    else:
        view.summary(final)
    if problem is not None:
        return problem_exit(problem)
    return EXIT_FAILED if any(j.state not in SENT for j in final) else EXIT_OK
