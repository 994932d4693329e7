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
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError
from uploader_app.config import store_path
from uploader_app.jobs.engine import SAME_AS_OTHER_JOB, STORE_PROBLEM, Engine
from uploader_app.jobs.sending import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    View,
    client_factory,
    engine_options,
    grace,
    job_json,
    problem_exit,
    run_jobs,
    say_problem,
    state_words,
)
from uploader_app.models import Job, JobState
from uploader_app.store import Store, StoreError, StoreWriteError

logger = logging.getLogger(__name__)


_STORE_HINT = "Free some disk space, then run the same command again."


def run_job_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    try:
        store = Store(store_path())
    except StoreWriteError:
        # A full disk passes (exit 1, as when it fills mid-batch), a damaged store does not.
        say_problem(*STORE_PROBLEM[1:3], _STORE_HINT)
        return EXIT_FAILED
    except StoreError as exc:
        print(f"The job list cannot be opened: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    with store:
        try:
            return _on_store(args, store, stdout)
        except StoreWriteError:
            # Any command's change (pause, cancel, a batch being queued) on a full disk.
            say_problem(*STORE_PROBLEM[1:3], _STORE_HINT)
            return EXIT_FAILED


def _on_store(args: argparse.Namespace, store: Store, stdout: TextIO) -> int:
    command = args.command
    if command in ("upload", "url"):
        return _send(args, store, stdout)
    engine = Engine(store, engine_options(args), _no_client)
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


def _no_client() -> ApiClient:
    raise RuntimeError("this command does not talk to the service")


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
    view = View(stdout, quiet=args.json)
    engine = Engine(store, engine_options(args), client, view, grace=grace())
    engine.preflight(args.index)
    if engine.problem is not None:
        return problem_exit(engine.problem)
    options = {"language": args.language} if getattr(args, "language", None) else {}
    try:
        if args.command == "upload":
            with view.fingerprints() as shown:
                jobs = engine.add_paths(
                    [Path(p) for p in args.paths], args.index, options=options, progress=shown
                )
        else:
            jobs = engine.add_urls(args.urls, args.index, options=options)
        # Ours that a stop left half-way (paused by a crash mid-upload, or rate-limited) go on.
        engine.resume([j.id for j in jobs if j.state is JobState.NEEDS_ATTENTION])
    except ApiError as error:
        say_problem(error.title, error.user_message, error.hint)
        return EXIT_CONFIG
    return run_jobs(engine, [j.id for j in jobs], view, args, stdout)


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
        # Text: a name is shown as written, "[" in it is not rich markup.
        table.add_row(str(job.id), Text(job.name), state_words(job), sent, job.video_id or "")
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
    if args.command == "retry":
        # A retry that cannot send says why, not just "0 changed" (docs/engine.md, "States").
        queued = {j.id for j in changed}
        for job in engine.store.jobs([JobState.FAILED], ids=ids):
            if job.id not in queued and job.error_code == SAME_AS_OTHER_JOB:
                print(f"{job.id}\t{job.error_message} {job.error_hint}", file=stdout)
    return EXIT_OK
