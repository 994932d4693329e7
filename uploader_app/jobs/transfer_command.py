"""``uploader-app transfer FILE [--wait] [--json]``: send a checked manifest's rows.

Same exit status and JSON row fields as ``upload`` (``jobs.sending``): 0 every row is on the
service or ready (or already in the index), 1 a row failed, still waits for the service to
start it (v1.2) or the manifest has errors (then nothing is sent), 2 usage, 3 a key or
configuration problem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError
from uploader_app.config import store_path
from uploader_app.jobs.engine import Engine
from uploader_app.jobs.events import JobChanged
from uploader_app.jobs.manifests import format_problem
from uploader_app.jobs.sending import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_USAGE,
    View,
    client_factory,
    engine_options,
    grace,
    problem_exit,
    run_jobs,
    say_problem,
)
from uploader_app.jobs.transfer import awaits_match, send_manifest
from uploader_app.manifest.checks import check_document, is_valid
from uploader_app.manifest.document import ManifestDocument
from uploader_app.store import Store, StoreError


def run_transfer(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    path = Path(args.file)
    try:
        document = ManifestDocument.load(path)
    except OSError as exc:
        print(f"Cannot open {path}: {exc.strerror or exc}.", file=sys.stderr)
        return EXIT_USAGE
    problems = check_document(document)
    if not is_valid(problems):
        for problem in problems:
            print(format_problem(problem), file=sys.stderr)
        print("Nothing was sent: fix the errors above, then send again.", file=sys.stderr)
        return EXIT_FAILED
    client = client_factory()
    if client is None:
        return EXIT_CONFIG
    try:
        store = Store(store_path())
    except StoreError as exc:
        print(f"The job list cannot be opened: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    with store:
        return _send(args, document, store, client, stdout)


def _send(
    args: argparse.Namespace,
    document: ManifestDocument,
    store: Store,
    make_client: Callable[[], ApiClient],
    stdout: TextIO,
) -> int:
    view = View(stdout, quiet=args.json)
    engine = Engine(store, engine_options(args), make_client, view, grace=grace())
    rows = [dict(r) for r in document.rows]
    for index_id in sorted({str(r["index_id"]) for r in rows}):
        engine.preflight(index_id)
        if engine.problem is not None:
            return problem_exit(engine.problem)
    with make_client() as api:
        try:
            report = send_manifest(
                api, store, rows, profile=args.profile, on_change=lambda j: view(JobChanged(j))
            )
        except ApiError as error:
            say_problem(error.title, error.user_message, error.hint)
            return EXIT_FAILED
    for note in report.notes:
        print(note, file=sys.stderr)
    ids = [j.id for j in report.jobs]
    status = run_jobs(engine, ids, view, args, stdout)
    # A row still waiting for the service to start it is not on the service yet, and may
    # turn out "not started": exit 0 would tell a script it is there (the contract).
    waiting = [j for j in store.jobs(ids=ids) if awaits_match(j)]
    if waiting and not args.wait:
        print(
            "To follow the videos the service has not started yet, run the same command "
            "with --wait; they are not sent again.",
            file=sys.stderr,
        )
    return status
