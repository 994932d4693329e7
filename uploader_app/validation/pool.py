"""Run a function over a lazy stream of items, yielding results as they finish.

Threads first, processes for big streams. libmediainfo parses in C and ctypes releases the GIL
for it, so threads scale, but building the result is Python and holds the GIL, so spawned
processes are faster once they are up. Processes must be spawned, never forked (the GUI process
runs Qt), and a spawned worker needs 0.25-0.6 s to import Python and pymediainfo before its
first result: a pool that started on processes would leave a dropped folder blank that long.

So every stream starts on threads (first result in milliseconds). Once it has pulled more than
``PROCESS_THRESHOLD`` items and run for ``PROCESS_AFTER`` seconds, it is probably big, and a
spawned process pool is started in the background while the threads keep working. When a
worker has answered, further items go to the processes in batches of ``BATCH_SIZE`` (one
pickle and one round trip per batch instead of per item); the threads only finish what they
hold. Results are yielded as each thread item or process batch completes.

Measured by ``tests/benchmarks/bench_validation.py`` on 2 cores, two runs, through ``scan``:

                              ours           threads only   2 processes only   mediainfo
    1,000 clips (files/s)     289 / 302      277 / 250      375 / 292          44 / 29
    first result              28 / 17 ms     17 / 13 ms     284 / 363 ms
    10,000 files, first       5 / 7 ms       9 / 7 ms       672 / 631 ms
    10,000 files, all         1.62 / 1.89 s  2.20 / 2.44 s  1.55 / 1.82 s      18 / 29 s

Ours is 1.05-1.2x threads on the clips and 1.3x on the folder, with the threads' first result.
Processes only can be faster still on the clips (375 files/s in one run) but show nothing for
0.3-0.7 s. The thresholds: starting once 64 items were pulled made 100 clips (0.3 s on threads)
25 % slower, because the workers' start-up takes CPU from the threads and pays back only over
about a second of work; waiting for 0.5 s keeps streams that short on threads. The item count
keeps a few slow files (a network drive) from starting a pool they cannot use. Batches of 16
were at least as fast as 8 and 32 on both workloads; single items were no faster than threads.

Processes are off until ``processes.enable_processes`` is called, and only entry points guarded
by ``if __name__ == "__main__"`` call it (``uploader_app.__main__.main`` and
``packaging/launch.py``, after ``multiprocessing.freeze_support()``): a spawned worker imports
the caller's main module, so a library caller or plain script without that guard would be run
again, in full, by every worker. Library callers, the sandbox and tests stay on threads.

If the process pool cannot start (no permission, a frozen bundle whose entry point does not
call ``multiprocessing.freeze_support()``, a start-up that never answers) or breaks mid-stream,
that is logged and the stream carries on with threads: the items of every batch that did not
come back are run again on threads, so no item is lost, and a batch's results only count when
the whole batch came back, so none is yielded twice. A start-up that failed hard (spawning
raised, the new pool broke) turns processes off for the rest of the program's life; a start-up
that timed out (a laptop that slept, an antivirus scanning the bundle) and a worker that died
only for the current stream. Once ``cancel`` is set, batches and items not yet running are
cancelled and only those running are waited for. The pool is shut down without waiting when
the stream ends or is closed: a worker finishes its batch and exits, and workers still starting
up are terminated. Workers log at the parent's root level, to stderr.

Items are pulled from the input only as workers free up, so a 10,000-file folder walk is never
read ahead in full.

A caller that shares its process with a window asks its worker processes to lower their own
CPU priority as they start (``yield_cpu``, ``WORKER_NICENESS``): they fill every core, and the
window and its uploads must still get a core at once. It can also ask for fewer threads than
workers (``thread_workers``) for the same reason. A headless run (the command line) keeps
normal priority: it has nothing of its own to yield to, and niced workers would lose their
cores to every other program on a busy machine.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ThreadPoolExecutor,
    wait,
)
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from uploader_app.config import LOG_FORMAT
from uploader_app.validation.processes import processes_enabled

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# More workers than cores did not help in the measurements (docs/performance.md); a cap keeps a
# many-core machine from opening dozens of files at once on a slow network drive.
MAX_WORKERS = 8
# Jobs in flight per worker: enough to keep every worker busy, small enough to stream.
QUEUE_DEPTH = 2
# A process pool is started once a stream has pulled this many items and run this long on
# threads (see docs/validation.md for the measurements behind both).
PROCESS_THRESHOLD = 64
PROCESS_AFTER = 0.5  # seconds
# Items per process job, and process jobs in flight per worker: a batch's results cross back
# in one pickle, and a worker finds its next batch already queued when it finishes one.
BATCH_SIZE = 16
PROCESS_QUEUE_DEPTH = 4
# A spawned pool whose workers have not answered by then is given up (seconds).
START_TIMEOUT = 30.0
# Worker processes run this far below normal CPU priority (POSIX nice; "below normal" on
# Windows): they fill every core, and the window and the uploads must still get one at once
# (docs/validation.md, "Worker processes yield the CPU").
WORKER_NICENESS = 10
_BELOW_NORMAL_PRIORITY_CLASS = 0x4000  # Windows' SetPriorityClass value

# Why processes are off for good (a start-up failed hard once), or None.
_processes_unavailable: str | None = None


def default_workers() -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def spawn_process_pool(workers: int, *, yield_cpu: bool = False) -> ProcessPoolExecutor:
    """The process pool of big streams; tests replace it to simulate a pool that cannot start.

    ``yield_cpu``: its workers run at a lower CPU priority (see :func:`imap_unordered`).
    """
    # multiprocessing loads with the first big stream, not with every start of the app.
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_set_up_worker,
        initargs=(logging.getLogger().getEffectiveLevel(), yield_cpu),
    )


def _set_up_worker(level: int, yield_cpu: bool) -> None:
    """In a new worker: logging (a spawned process starts with no handlers, so warnings would
    be lost) and, if asked, a lower CPU priority."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    if yield_cpu:
        _lower_priority()


def _lower_priority() -> None:
    """Lower this process's CPU priority, so it yields to the process that started it.

    A worker that cannot (a platform or sandbox that refuses) keeps normal priority: the scan
    is still right, only the window may stutter while it runs.
    """
    try:
        if sys.platform == "win32":
            import ctypes  # noqa: PLC0415 - only worker processes on Windows need it
            from ctypes import wintypes  # noqa: PLC0415

            # Typed, so the process handle is passed whole on 64-bit Windows (ctypes would
            # pass a plain int).
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            kernel32.GetCurrentProcess.restype = wintypes.HANDLE
            kernel32.SetPriorityClass.argtypes = (wintypes.HANDLE, wintypes.DWORD)
            kernel32.SetPriorityClass.restype = wintypes.BOOL
            process = kernel32.GetCurrentProcess()
            if not kernel32.SetPriorityClass(process, _BELOW_NORMAL_PRIORITY_CLASS):
                raise ctypes.WinError(ctypes.get_last_error())
        else:
            os.nice(WORKER_NICENESS)
    except OSError as exc:
        logger.debug("worker process kept normal priority (%s)", exc)


def imap_unordered(
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    thread_workers: int | None = None,
    yield_cpu: bool = False,
    cancel: threading.Event | None = None,
) -> Generator[R, None, None]:
    """``func`` over ``items`` on threads, then on processes too, results in completion order.

    ``workers`` processes (default: one per core), and ``thread_workers`` threads in this
    process until they take over (default: as many; the window asks for fewer, so that the
    probes leave it a core). ``yield_cpu``: the worker processes lower their CPU priority, for
    a caller that shares the machine with a window; the command line leaves it off.

    Stops pulling new items once ``cancel`` is set; closing the iterator early cancels the
    work not yet started. ``func`` must not raise: an exception is re-raised here. A big stream
    only moves to processes when ``func`` pickles (a module-level function, or a
    ``functools.partial`` of one with picklable arguments); otherwise it stays on threads.
    """
    count = workers or default_workers()
    feed = _Feed(iter(items), cancel)
    started = time.monotonic()
    may_spawn = processes_enabled()  # read once: a stream keeps the setting it started with
    lane: _ProcessLane[T, R] | None = None
    on_processes = False
    threads: set[Future[R]] = set()
    batches: dict[Future[_Batch[R]], list[T]] = {}
    on_threads = count if thread_workers is None else max(1, thread_workers)
    with ThreadPoolExecutor(max_workers=on_threads, thread_name_prefix="probe") as executor:
        try:
            while True:
                cancelled = cancel is not None and cancel.is_set()
                if cancelled:
                    # Up to PROCESS_QUEUE_DEPTH batches per worker wait in the pool; running
                    # them all would keep a cancelled scan busy for hundreds of files.
                    _drop_pending(threads)
                    _drop_pending(batches)
                elif on_processes and lane is not None:
                    while len(batches) < count * PROCESS_QUEUE_DEPTH and (
                        batch := feed.take(BATCH_SIZE)
                    ):
                        batches[lane.submit(func, batch)] = batch
                else:
                    while len(threads) < on_threads * QUEUE_DEPTH and (one := feed.take(1)):
                        threads.add(executor.submit(func, one[0]))
                if (
                    may_spawn
                    and not cancelled
                    and lane is None
                    and feed.pulled > PROCESS_THRESHOLD
                    and not feed.exhausted
                    and time.monotonic() - started >= PROCESS_AFTER
                ):
                    lane = _ProcessLane.start(func, count, yield_cpu=yield_cpu)
                waiting: set[Future[Any]] = {*threads, *batches}
                if not waiting:
                    return
                if lane is not None and not on_processes and not lane.failed and not cancelled:
                    waiting.add(lane.ready)
                done, _ = wait(waiting, return_when=FIRST_COMPLETED)
                for future in done:
                    if lane is not None and future is lane.ready:
                        on_processes = lane.check_ready()
                    elif future in threads:
                        threads.discard(future)
                        yield future.result()
                    else:
                        assert lane is not None  # batches only exist once a lane started
                        batch = batches.pop(future)
                        outcome = lane.collect(future)
                        if outcome is None:  # the pool broke: threads take over
                            on_processes = False
                            feed.redo(batch)
                            continue
                        results, error = outcome
                        yield from results
                        if error is not None:
                            raise error
        finally:
            _drop_pending(threads)
            _drop_pending(batches)
            if lane is not None:
                lane.close()


def _drop_pending(futures: set[Future[Any]] | dict[Future[Any], Any]) -> None:
    """Cancel the jobs not yet running and forget them; those running are left to finish."""
    for future in list(futures):
        if future.cancel():
            if isinstance(futures, set):
                futures.discard(future)
            else:
                del futures[future]


class _Feed(Generic[T]):
    """The input, pulled lazily; items of failed process batches come again first."""

    def __init__(self, source: Iterator[T], cancel: threading.Event | None) -> None:
        self._source = source
        self._cancel = cancel
        self._again: deque[T] = deque()
        self.pulled = 0
        self.exhausted = False

    def take(self, limit: int) -> list[T]:
        taken: list[T] = []
        while self._again and len(taken) < limit:
            taken.append(self._again.popleft())
        while not self.exhausted and len(taken) < limit:
            if self._cancel is not None and self._cancel.is_set():
                self.exhausted = True
                break
            try:
                taken.append(next(self._source))
            except StopIteration:
                self.exhausted = True
                break
            self.pulled += 1
        return taken

    def redo(self, items: list[T]) -> None:
        self._again.extend(items)


_Batch = tuple[list[R], BaseException | None]


def _run_batch(func: Callable[[T], R], items: list[T]) -> _Batch[R]:
    """In a worker process: results up to the first item that raised, and its error.

    The error travels as a value so that a failure of the pool itself (a future that raises)
    is never confused with ``func`` raising.
    """
    results: list[R] = []
    for item in items:
        try:
            results.append(func(item))
        except Exception as exc:
            return results, exc
    return results, None


def _warm_up(func: Callable[..., object]) -> int:
    """In a new worker: unpickling ``func`` has imported its module (pymediainfo and all)."""
    del func
    return os.getpid()


class _ProcessLane(Generic[T, R]):
    """A spawned process pool, started on a background thread so the caller never waits."""

    def __init__(self) -> None:
        self.ready: Future[None] = Future()
        self.failed = False
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def start(
        cls, func: Callable[[T], R], workers: int, *, yield_cpu: bool = False
    ) -> _ProcessLane[T, R]:
        lane: _ProcessLane[T, R] = cls()
        if _processes_unavailable is not None:
            lane.failed = True
            return lane
        try:
            pickle.dumps(func)
        except Exception as exc:
            logger.warning("probing on threads only: %r cannot be pickled (%s)", func, exc)
            lane.failed = True
            return lane
        starter = threading.Thread(
            target=lane._start,
            args=(func, workers, yield_cpu),
            name="probe-process-start",
            daemon=True,
        )
        starter.start()
        return lane

    def _start(self, func: Callable[[T], R], workers: int, yield_cpu: bool) -> None:
        global _processes_unavailable  # noqa: PLW0603 - one verdict for the whole program
        try:
            executor = spawn_process_pool(workers, yield_cpu=yield_cpu)
            with self._lock:
                if self._closed:
                    executor.shutdown(wait=False, cancel_futures=True)
                    return
                self._executor = executor
            warm = [executor.submit(_warm_up, func) for _ in range(workers)]
            _, late = wait(warm, timeout=START_TIMEOUT)
            if late:
                raise TimeoutError(f"no answer from the workers in {START_TIMEOUT:.0f} s")
            for job in warm:
                job.result()
        except Exception as exc:
            with self._lock:
                closed = self._closed
            reason = f"{type(exc).__name__}: {exc}"
            if closed:  # a pool shut down by close() is not a failure
                logger.debug("worker processes stopped while starting (%s)", reason)
            elif isinstance(exc, TimeoutError):
                # A wall-clock limit: a laptop that slept or an antivirus scanning the bundle
                # says nothing about the next stream, so only this one stays on threads.
                logger.warning(
                    "probing this stream on threads only: worker processes were too slow to "
                    "start (%s)",
                    reason,
                )
            else:
                _processes_unavailable = reason
                logger.warning(
                    "probing on threads only: worker processes cannot start (%s)", reason
                )
            self._stop(kill=True)
            self.ready.set_exception(exc)
        else:
            self.ready.set_result(None)

    def check_ready(self) -> bool:
        """True once the workers have answered; False (for good) if they never will."""
        if self.ready.exception() is None:
            logger.debug("probing on worker processes from now on")
            return True
        self.failed = True
        return False

    def submit(self, func: Callable[[T], R], items: list[T]) -> Future[_Batch[R]]:
        executor = self._executor
        if executor is None or self.failed:  # pragma: no cover - only called once ready
            failed: Future[_Batch[R]] = Future()
            failed.set_exception(RuntimeError("process pool not running"))
            return failed
        try:
            return executor.submit(_run_batch, func, items)
        except Exception as exc:  # a pool that broke since the last batch refuses new work
            refused: Future[_Batch[R]] = Future()
            refused.set_exception(exc)
            return refused

    def collect(self, future: Future[_Batch[R]]) -> _Batch[R] | None:
        """The batch's results and ``func``'s error, or None when the pool failed it."""
        if not future.cancelled():
            error = future.exception()
            if error is None:
                return future.result()
            if not self.failed:
                logger.warning(
                    "probing on threads only: a worker process failed (%s: %s)",
                    type(error).__name__,
                    error,
                )
        self.failed = True
        self._stop(kill=False)
        return None

    def close(self) -> None:
        """Stop the pool without waiting: started workers finish their batch, then exit.

        Workers still starting up are terminated: importing Python in each would otherwise
        take CPU from whatever the user does next.
        """
        with self._lock:
            self._closed = True
        self._stop(kill=not self.ready.done())

    def _stop(self, *, kill: bool) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        # Read before shutdown(), which forgets them. A worker that never answered (a start-up
        # that hangs) would never read the stop request, so it is terminated instead.
        processes = list((executor._processes or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        if kill:
            for process in processes:
                process.terminate()
