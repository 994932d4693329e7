"""Run a function over a lazy stream of items on a thread pool, yielding results as they finish.

Why threads, not processes: libmediainfo does its parsing in C and ctypes releases the GIL for
it, so threads scale (1.6x on 2 cores, measured by ``tests/benchmarks/bench_validation.py``).
A process pool measured 1.0-1.2x faster than threads once warm on the same files, but it must
use "spawn" (forking a process that runs Qt is unsafe), which costs a few hundred milliseconds
before the first result and pickles every result back. For a dropped folder the first line on
screen matters more than the last 10 %, so we use threads.

Items are pulled from the input only as workers free up, so a 10,000-file folder walk is never
read ahead in full and the first results appear at once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# More workers than cores did not help in the measurements (PERFORMANCE.md); a cap keeps a
# many-core machine from opening dozens of files at once on a slow network drive.
MAX_WORKERS = 8
# Items in flight per worker: enough to keep every worker busy, small enough to stream.
QUEUE_DEPTH = 2


def default_workers() -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def imap_unordered(
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    cancel: threading.Event | None = None,
) -> Generator[R, None, None]:
    """``func`` over ``items`` on worker threads, results in completion order.

    Stops pulling new items once ``cancel`` is set; closing the iterator early cancels the
    work not yet started. ``func`` must not raise: an exception is re-raised here.
    """
    count = workers or default_workers()
    source = iter(items)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="probe") as executor:
        pending: set[Future[R]] = set()
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < count * QUEUE_DEPTH:
                    if cancel is not None and cancel.is_set():
                        exhausted = True
                        break
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    pending.add(executor.submit(func, item))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
