"""The CLI's job commands: ``upload``, ``url``, ``status``, ``retry|cancel|pause|resume``,
``export`` (docs/engine.md, "CLI").

``upload`` and ``url`` run the jobs in this process until every file is on the service, and
with ``--wait`` until every video is ready; a second run of the same command after a crash
finds the same jobs in the store and continues them. Exit status: 0 when every video is on the
service or ready (or already in the index), 1 when any failed or was rejected, 2 for usage
errors, 3 for a key or configuration problem.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError
from uploader_app.config import store_path
from uploader_app.jobs.engine import STORE_PROBLEM, Engine, EngineOptions
from uploader_app.jobs.events import (
    BatchProblem,
    EngineEvent,
    JobChanged,
    JobNotice,
    JobProgress,
)
from uploader_app.jobs.recovery import GRACE
from uploader_app.jobs.runner import ThreadRunner
from uploader_app.keys import client_settings
from uploader_app.models import Job, JobState, SourceKind
from uploader_app.settings import load_settings_file
from uploader_app.store import Store, StoreError, StoreWriteError

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3

# Seconds to keep looking for what a lost request created before sending again (tests and
# slow links tune it; docs/engine.md, "Exactly once").
ENV_GRACE = "UPLOADER_APP_LOOKUP_GRACE"
_SENT = frozenset({JobState.ON_SERVICE, JobState.READY, JobState.ALREADY_IN_INDEX})
_STORE_HINT = "Free some disk space, then run the same command again."


def run_job_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    try:
        store = Store(store_path())
    except StoreWriteError:
        # A full disk passes (exit 1, as when it fills mid-batch), a damaged store does not.
        _say_problem(*STORE_PROBLEM[1:3], _STORE_HINT)
        return EXIT_FAILED
    except StoreError as exc:
        print(f"The job list cannot be opened: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    with store:
        try:
            return _on_store(args, store, stdout)
        except StoreWriteError:
            # Any command's change (pause, cancel, a batch being queued) on a full disk.
            _say_problem(*STORE_PROBLEM[1:3], _STORE_HINT)
            return EXIT_FAILED


def _on_store(args: argparse.Namespace, store: Store, stdout: TextIO) -> int:
    command = args.command
    if command in ("upload", "url"):
        return _send(args, store, stdout)
    engine = Engine(store, _options(args), _no_client)
    if command == "status":
        return _status(engine, args, stdout)
    if command == "export":
        try:
            count = engine.export_csv(Path(args.file))
        except OSError as exc:
            print(f"Could not write {args.file}: {exc.strerror or exc}.", file=sys.stderr)
            print("Choose a folder you can write to, then export again.", file=sys.stderr)
            return EXIT_FAILED
        print(f"Wrote {count} jobs to {args.file}.", file=stdout)
        return EXIT_OK
    return _control(engine, args, stdout)


def _grace() -> float:
    try:
        return float(os.environ.get(ENV_GRACE, "") or GRACE)
    except ValueError:
        return GRACE


def _no_client() -> ApiClient:
    raise RuntimeError("this command does not talk to the service")


def _options(args: argparse.Namespace) -> EngineOptions:
    """The settings file's engine settings; ``--multipart-over`` wins over its value."""
    saved = load_settings_file()
    override = getattr(args, "multipart_over", None)
    return EngineOptions(
        concurrent_uploads=saved.concurrent_uploads,
        bandwidth_cap=saved.bandwidth_cap,
        poll_budget_per_minute=saved.poll_budget_per_minute,
        multipart_over=override if override is not None else saved.multipart_over,
    )


# ---- upload / url ---------------------------------------------------------------------------


def client_factory() -> Callable[[], ApiClient] | None:
    """Makes clients for the saved address and key; None, with the problem said, when either
    is unusable, so a command exits 3 before it sends anything."""
    settings = client_settings()

    def client() -> ApiClient:
        return ApiClient(settings.base_url, settings.api_key or "")

    try:
        client().close()
    except ApiError as error:
        _say_problem(error.title, error.user_message, error.hint)
        return None
    return client


def _send(args: argparse.Namespace, store: Store, stdout: TextIO) -> int:
    client = client_factory()
    if client is None:
        return EXIT_CONFIG
    if args.command == "upload":
        missing = [p for p in args.paths if not Path(p).exists()]
        if missing:
            for path in missing:
                print(f"No file or folder at {path}", file=sys.stderr)
            return EXIT_USAGE
    view = _View(stdout, quiet=args.json)
    engine = Engine(store, _options(args), client, view, grace=_grace())
    engine.preflight(args.index)
    if engine.problem is not None:
        return _problem_exit(engine.problem)
    options = {"language": args.language} if getattr(args, "language", None) else {}
    try:
        if args.command == "upload":
            jobs = engine.add_paths([Path(p) for p in args.paths], args.index, options=options)
        else:
            jobs = engine.add_urls(args.urls, args.index, options=options)
        # Ours that a stop left half-way (paused by a crash mid-upload, or rate-limited) go on.
        engine.resume([j.id for j in jobs if j.state is JobState.NEEDS_ATTENTION])
    except ApiError as error:
        _say_problem(error.title, error.user_message, error.hint)
        return EXIT_CONFIG
    ids = [j.id for j in jobs]
    runner = ThreadRunner(engine, engine.settings.concurrent_uploads)
    runner.start()
    try:
        with view.live(engine, ids, wait=args.wait):
            problem = _wait(engine, ids, wait=args.wait)
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
    final = engine.store.jobs(ids=ids)
    if args.json:
        json.dump([job_json(j) for j in final], stdout, indent=2)
        print(file=stdout)
    else:
        view.summary(final)
    if problem is not None:
        return _problem_exit(problem)
    return EXIT_FAILED if any(j.state not in _SENT for j in final) else EXIT_OK


def _wait(engine: Engine, ids: Sequence[int], *, wait: bool) -> BatchProblem | None:
    """Until our jobs are on the service (``wait``: finished), or a problem stops them."""
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


def _say_problem(title: str, message: str, hint: str) -> None:
    print(f"{title}: {message}", file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)


def _problem_exit(problem: BatchProblem) -> int:
    _say_problem(problem.title, problem.message, problem.hint)
    return EXIT_FAILED if problem.code in ("no_network", STORE_PROBLEM[0]) else EXIT_CONFIG


def job_json(job: Job) -> dict[str, Any]:
    where = "url" if job.source_kind is SourceKind.URL else "path"
    return {
        "job": job.id,
        where: job.source,
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


_STATE_WORDS = {
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
    words = _STATE_WORDS[job.state]
    if job.state is JobState.ON_SERVICE and job.server_status:
        words += f" ({job.server_status})"
    if job.state is JobState.FAILED:
        words += ": retry?"
    return words


class _View:
    """What a person sees while jobs run: a rich progress display on a terminal, plain lines
    (one per change) otherwise. Events come from worker threads."""

    def __init__(self, out: TextIO, *, quiet: bool) -> None:
        self.out = out
        self.quiet = quiet
        self.console = Console(file=out)
        self.progress: Progress | None = None
        self._bars: dict[int, TaskID] = {}
        self._lock = threading.Lock()
        self._ids: set[int] = set()

    def live(self, engine: Engine, ids: Sequence[int], *, wait: bool) -> Any:
        self._ids = set(ids)
        if self.quiet or not self.console.is_terminal:
            return _Nothing()
        self.progress = Progress(
            TextColumn("{task.description}"),
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
            counts[_STATE_WORDS[job.state]] = counts.get(_STATE_WORDS[job.state], 0) + 1
        print(", ".join(f"{n} {w}" for w, n in counts.items()) or "Nothing to send.", file=self.out)
        for job in jobs:
            if job.error_hint and job.state in (JobState.FAILED, JobState.REJECTED):
                print(f"{job.name}: {job.error_hint}", file=self.out)


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# ---- status / controls ------------------------------------------------------------------------


def _status(engine: Engine, args: argparse.Namespace, stdout: TextIO) -> int:
    if args.json:
        json.dump([job_json(j) for j in engine.jobs()], stdout, indent=2)
        print(file=stdout)
        return EXIT_OK
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops watching, not the jobs
        _show_status(engine, args, stdout)
    return EXIT_OK


def _show_status(engine: Engine, args: argparse.Namespace, stdout: TextIO) -> None:
    console = Console(file=stdout)
    jobs = engine.jobs()
    if not console.is_terminal:
        _plain(jobs, stdout)
        while args.watch and any(j.state.is_active for j in jobs):
            time.sleep(1.0)
            jobs = engine.jobs()
            _plain(jobs, stdout)
        return
    if not args.watch:
        console.print(_table(jobs))
        return
    # One table redrawn in place until nothing moves.
    with Live(_table(jobs), console=console, auto_refresh=False) as live:
        while any(j.state.is_active for j in jobs):
            time.sleep(1.0)
            jobs = engine.jobs()
            live.update(_table(jobs), refresh=True)


def _table(jobs: Sequence[Job]) -> Table:
    table = Table("job", "file", "status", "sent", "video id")
    for job in jobs:
        sent = f"{job.bytes_sent * 100 // job.size}%" if job.size else ""
        table.add_row(str(job.id), job.name, state_words(job), sent, job.video_id or "")
    return table


def _plain(jobs: Sequence[Job], stdout: TextIO) -> None:
    for job in jobs:
        print(f"{job.id}\t{job.name}\t{state_words(job)}\t{job.video_id or ''}", file=stdout)


def _control(engine: Engine, args: argparse.Namespace, stdout: TextIO) -> int:
    if bool(args.ids) == bool(args.all):
        print("Name job numbers, or --all (not both).", file=sys.stderr)
        return EXIT_USAGE
    ids: list[int] | None = None if args.all else list(args.ids)
    action: Callable[[Sequence[int] | None], list[Job]] = getattr(engine, args.command)
    changed = action(ids)
    if ids is not None:
        known = {j.id for j in engine.store.jobs(ids=ids)}
        for job_id in ids:
            if job_id not in known:
                print(f"There is no job {job_id}.", file=sys.stderr)
        if known != set(ids):
            return EXIT_USAGE
    print(f"{args.command}: {len(changed)} job(s) changed.", file=stdout)
    return EXIT_OK
