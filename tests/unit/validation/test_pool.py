"""The probing pool: threads first, spawned worker processes once a stream proves big.

Functions run in worker processes are module-level so that they pickle. Sources that must
outlast the workers' start-up keep yielding until the test has seen what it waits for, so the
tests neither sleep for a guessed start-up time nor turn flaky on a slow machine.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from uploader_app import __main__ as app_main
from uploader_app import cli, network
from uploader_app.models import Finding, Target, Verdict
from uploader_app.validation import pool, processes, scan
from uploader_app.validation.pool import imap_unordered

PARENT = os.getpid()
# A run that never reaches what it waits for ends here (a few seconds on threads), and fails.
LIMIT = 50_000


def where(n: int) -> tuple[int, int]:
    """The item and the process that ran it."""
    time.sleep(0.0002)
    return n, os.getpid()


def die_in_a_worker(n: int) -> tuple[int, int]:
    if multiprocessing.parent_process() is not None:
        os._exit(1)  # a crash of the worker process, as a segfault in a C library would be
    return where(n)


def log_in_a_worker(n: int) -> tuple[int, int]:
    if multiprocessing.parent_process() is not None:
        logging.getLogger("uploader_app.validation.probe").info("MediaInfo could not parse %d", n)
    return where(n)


def fail_in_a_worker(n: int) -> tuple[int, int]:
    if multiprocessing.parent_process() is not None:
        raise ValueError(f"item {n} failed in a worker")
    return where(n)


def until(done: Callable[[], bool], extra: int = 200) -> Iterator[int]:
    """0, 1, 2, ... until ``done()``, then ``extra`` more."""
    n = 0
    while n < LIMIT and not done():
        yield n
        n += 1
    yield from range(n, n + extra)


def children_gone(timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while multiprocessing.active_children():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def exactly_once(results: list[tuple[int, int]]) -> bool:
    return sorted(n for n, _ in results) == list(range(len(results)))


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Processes allowed, as the app's entry point allows them, and no start-up verdict from an
    earlier test; item count alone decides (no time guard)."""
    monkeypatch.setattr(pool, "_processes_unavailable", None)
    monkeypatch.setattr(pool, "PROCESS_AFTER", 0.0)
    was_enabled = processes.enable_processes()
    yield
    processes.enable_processes(was_enabled)
    assert children_gone(), "a stream left worker processes running"


@pytest.fixture
def spawn_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records every attempt to start a process pool (and refuses it)."""
    calls: list[int] = []

    def refuse(workers: int, *, yield_cpu: bool = False) -> ProcessPoolExecutor:
        calls.append(workers)
        raise AssertionError("no process pool expected")

    monkeypatch.setattr(pool, "spawn_process_pool", refuse)
    return calls


def test_a_small_stream_runs_each_item_once_on_threads(spawn_calls: list[int]) -> None:
    # Slow items (about 0.2 s in all) but no more than the threshold: processes never pay off.
    items = range(pool.PROCESS_THRESHOLD)
    results = list(imap_unordered(partial(slow, 0.005), items, workers=2))
    assert sorted(n for n, _ in results) == list(items)
    assert {pid for _, pid in results} == {PARENT}
    assert spawn_calls == []


def slow(seconds: float, n: int) -> tuple[int, int]:
    time.sleep(seconds)
    return n, os.getpid()


def test_a_quick_stream_never_starts_processes(
    spawn_calls: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "PROCESS_AFTER", 5.0)  # many items, but done well before that
    results = list(imap_unordered(partial(slow, 0.0), range(1_000)))
    assert exactly_once(results)
    assert spawn_calls == []


def test_a_large_stream_stays_on_threads_unless_processes_were_enabled(
    spawn_calls: list[int],
) -> None:
    processes.enable_processes(False)  # a library caller, the sandbox, a test: no entry point ran
    results = list(imap_unordered(partial(slow, 0.0005), range(2_000), workers=2))
    assert exactly_once(results)
    assert {pid for _, pid in results} == {PARENT}
    assert spawn_calls == []


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    # A spawned worker imports the caller's main module: this one would run again in each.
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            import time
            from uploader_app.validation import pool

            pool.PROCESS_AFTER = 0.0
            spawned = []
            real_spawn = pool.spawn_process_pool
            pool.spawn_process_pool = (
                lambda workers, **kw: spawned.append(workers) or real_spawn(workers, **kw)
            )

            def work(n):
                time.sleep(0.001)
                return n

            results = list(pool.imap_unordered(work, range(1_000), workers=2))
            print("results", len(results), "spawned", len(spawned), flush=True)
            """
        ),
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[3],
        check=False,
    )
    assert run.stdout.splitlines() == ["results 1000 spawned 0"]
    assert "Traceback" not in run.stderr
    assert run.returncode == 0


def test_the_app_entry_point_enables_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    processes.enable_processes(False)
    seen: list[bool] = []

    def cli_main(argv: list[str]) -> int:
        seen.append(processes.processes_enabled())
        return 0

    monkeypatch.setattr(cli, "main", cli_main)
    # The real call would put truststore into ``ssl`` for every later test in this process.
    monkeypatch.setattr(network, "use_system_trust_store", lambda: None)
    assert app_main.main(["check", "clip.mp4"]) == 0
    assert seen == [True]


def test_a_large_stream_moves_to_worker_processes_and_runs_each_item_once() -> None:
    results: list[tuple[int, int]] = []
    in_worker = threading.Event()
    for n, pid in imap_unordered(where, until(in_worker.is_set), workers=2):
        results.append((n, pid))
        if pid != PARENT:
            in_worker.set()
    assert exactly_once(results)
    pids = {pid for _, pid in results}
    assert PARENT in pids  # the first results came from threads, before any process was up
    assert 1 <= len(pids - {PARENT}) <= 2  # then the worker processes, no more than asked
    workers_ran = sum(pid != PARENT for _, pid in results)
    assert workers_ran >= 150  # all new items went to the processes once they were up


def niceness(n: int) -> tuple[int, int, int]:
    """The item, the process that ran it and its CPU niceness (POSIX)."""
    where(n)  # as long as the other items, so the workers are up before the stream ends
    return n, os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)


def niceness_seen(yield_cpu: bool) -> set[int]:
    """The niceness of every process (this one, then the workers) that ran a big stream."""
    seen: set[int] = set()
    results = []
    in_worker = threading.Event()
    stream = until(in_worker.is_set)
    for n, pid, nice in imap_unordered(niceness, stream, workers=2, yield_cpu=yield_cpu):
        results.append(n)
        seen.add(nice)
        if pid != PARENT:
            in_worker.set()
    assert sorted(results) == list(range(len(results)))
    assert in_worker.is_set()
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX niceness")
def test_worker_processes_run_below_the_parents_priority_when_asked() -> None:
    # Workers fill every core; the window's process (its GUI thread, the uploads) and the
    # threads probing in it keep their priority (docs/validation.md).
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert niceness_seen(yield_cpu=True) == {own, min(19, own + pool.WORKER_NICENESS)}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX niceness")
def test_worker_processes_keep_the_parents_priority_by_default() -> None:
    # The command line has nothing of its own to yield to: niced workers would only lose
    # their cores to other programs on a busy machine (docs/validation.md).
    assert niceness_seen(yield_cpu=False) == {os.getpriority(os.PRIO_PROCESS, 0)}


def test_a_worker_that_may_not_lower_its_priority_keeps_working(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(increment: int) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "nice", refuse, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")  # the POSIX branch, on every platform
    with caplog.at_level(logging.DEBUG, logger="uploader_app.validation.pool"):
        pool._lower_priority()
    assert "kept normal priority" in caplog.text


def test_thread_workers_caps_the_threads_in_this_process(spawn_calls: list[int]) -> None:
    names: set[str] = set()

    def named(n: int) -> int:
        names.add(threading.current_thread().name)
        time.sleep(0.001)
        return n

    results = list(
        imap_unordered(named, range(pool.PROCESS_THRESHOLD), workers=3, thread_workers=1)
    )
    assert sorted(results) == list(range(pool.PROCESS_THRESHOLD))
    assert len(names) == 1
    names.clear()
    list(imap_unordered(named, range(pool.PROCESS_THRESHOLD), workers=3))
    assert len(names) == 3  # by default, as many threads as workers
    names.clear()
    # No threads at all (one core less one) would never run anything: one thread instead.
    list(imap_unordered(named, range(pool.PROCESS_THRESHOLD), workers=3, thread_workers=0))
    assert len(names) == 1


def test_cancel_on_processes_waits_only_for_the_batches_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A deep queue, so "drained every queued batch" and "only what was running" are far apart
    # and timing noise on a busy machine cannot blur them.
    monkeypatch.setattr(pool, "PROCESS_QUEUE_DEPTH", 16)
    cancel = threading.Event()
    after_cancel = 0
    cancelled_at = 0.0
    work = partial(slow, 0.002)  # a batch takes 32 ms: the queued ones would take 0.1 s more
    for _, pid in imap_unordered(work, range(LIMIT), workers=2, cancel=cancel):
        if cancel.is_set():
            after_cancel += 1
        elif pid != PARENT:
            cancel.set()
            cancelled_at = time.perf_counter()
    assert cancel.is_set()
    assert time.perf_counter() - cancelled_at < 1.0
    queued = 2 * pool.PROCESS_QUEUE_DEPTH * pool.BATCH_SIZE  # 512: what used to be run
    # The rest of the batch being yielded; the batches the pool has handed on (one running in
    # each worker and workers + 1 in its call queue, which cannot be taken back); the threads'
    # items still running. Doubled for batches that finish while the cancel is handled.
    running = pool.BATCH_SIZE + (2 + 2 + 1) * pool.BATCH_SIZE + 2 * pool.QUEUE_DEPTH
    assert after_cancel <= 2 * running < queued


def test_a_pool_that_cannot_start_leaves_the_work_to_threads(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def refuse(workers: int, *, yield_cpu: bool = False) -> ProcessPoolExecutor:
        calls.append(workers)
        raise PermissionError("semaphores are not allowed here")

    monkeypatch.setattr(pool, "spawn_process_pool", refuse)
    results = list(imap_unordered(where, range(2_000), workers=2))
    assert exactly_once(results)
    assert {pid for _, pid in results} == {PARENT}
    assert calls == [2]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "worker processes cannot start" in warnings[0].getMessage()
    # It will not start next time either: later streams do not try again, nor log again.
    assert list(imap_unordered(where, range(500), workers=2))
    assert calls == [2]
    assert len(caplog.records) == 1


def test_a_start_up_timeout_keeps_only_that_stream_on_threads(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    real_spawn = pool.spawn_process_pool

    def counted(workers: int, *, yield_cpu: bool = False) -> ProcessPoolExecutor:
        calls.append(workers)
        return real_spawn(workers, yield_cpu=yield_cpu)

    def gave_up() -> bool:
        return "worker processes" in caplog.text

    monkeypatch.setattr(pool, "spawn_process_pool", counted)
    monkeypatch.setattr(pool, "START_TIMEOUT", 0.0)  # no worker answers that fast
    results = list(imap_unordered(where, until(gave_up), workers=2))
    assert "worker processes were too slow to start" in caplog.text
    assert exactly_once(results)
    assert {pid for _, pid in results} == {PARENT}
    assert pool._processes_unavailable is None
    # A laptop that slept says nothing about the next stream: it tries again, and gets there.
    monkeypatch.setattr(pool, "START_TIMEOUT", 30.0)
    in_worker = threading.Event()
    for _, pid in imap_unordered(where, until(in_worker.is_set), workers=2):
        if pid != PARENT:
            in_worker.set()
    assert in_worker.is_set()
    assert calls == [2, 2]


def test_worker_processes_log_at_the_parents_level_to_stderr(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)  # the root level, as `uploader-app -v` sets it (DEBUG)
    in_worker = threading.Event()
    for _, pid in imap_unordered(log_in_a_worker, until(in_worker.is_set), workers=2):
        if pid != PARENT:
            in_worker.set()
    assert in_worker.is_set()
    # Read once the workers are gone, so that their stderr is complete.
    assert children_gone()
    err = capfd.readouterr().err
    assert "INFO uploader_app.validation.probe: MediaInfo could not parse" in err


def test_a_worker_that_dies_hands_its_items_back_to_threads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broke() -> bool:
        return "a worker process failed" in caplog.text

    results = list(imap_unordered(die_in_a_worker, until(broke), workers=2))
    assert broke()
    assert exactly_once(results)  # the batches the dead pool held were run again, once
    assert {pid for _, pid in results} == {PARENT}
    assert len(caplog.records) == 1  # logged once, not once per lost batch


def test_an_error_raised_in_a_worker_process_reaches_the_caller() -> None:
    with pytest.raises(ValueError, match="failed in a worker"):
        for _ in imap_unordered(fail_in_a_worker, range(LIMIT), workers=2):
            pass


def test_a_func_that_cannot_be_pickled_stays_on_threads(
    spawn_calls: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    def local(n: int) -> tuple[int, int]:
        return n, os.getpid()

    results = list(imap_unordered(local, range(1_000), workers=2))
    assert exactly_once(results)
    assert spawn_calls == []
    assert "cannot be pickled" in caplog.text


def test_closing_a_stream_on_processes_leaves_no_worker_behind() -> None:
    stream = imap_unordered(where, range(LIMIT), workers=2)
    for _, pid in stream:
        if pid != PARENT:
            break
    assert multiprocessing.active_children()
    stream.close()
    assert children_gone()


def test_closing_a_stream_while_workers_start_leaves_none_behind() -> None:
    stream = imap_unordered(where, range(LIMIT), workers=2)
    deadline = time.monotonic() + 10
    for _ in stream:  # past the threshold: the pool is being started in the background
        if multiprocessing.active_children() or time.monotonic() > deadline:
            break
    assert multiprocessing.active_children()
    stream.close()
    assert children_gone()


def test_scan_work_runs_in_worker_processes_with_the_same_verdicts(
    video: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [video("clip.mp4"), tmp_path / "notes.txt", tmp_path / "still.png"]
    files[1].write_text("Shot list\n", encoding="utf-8")
    files[2].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    ready = threading.Event()
    real_check_ready = pool._ProcessLane.check_ready

    def spy(lane: pool._ProcessLane[object, object]) -> bool:
        up = real_check_ready(lane)
        if up:
            ready.set()
        return up

    monkeypatch.setattr(pool._ProcessLane, "check_ready", spy)
    candidates = (scan.Candidate(files[n % 3], str(n), explicit=False) for n in until(ready.is_set))
    work = partial(scan.check_item, target=Target(), api_version=None)
    found = list(imap_unordered(work, candidates, workers=2))
    assert ready.is_set()
    assert sorted(int(f.relative_path or "") for f in found) == list(range(len(found)))
    expected = [scan.check_candidate(scan.Candidate(f, "", False), Target(), None) for f in files]
    for finding in found:
        assert replace(finding, relative_path="") == expected[int(finding.relative_path or "") % 3]


def test_scan_hands_the_pool_a_function_that_pickles(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[Callable[[object], Finding]] = []

    def capture(func: Callable[[object], Finding], *_: object, **__: object) -> Iterator[Finding]:
        handed.append(func)
        return iter(())

    monkeypatch.setattr(scan, "imap_unordered", capture)
    assert list(scan.scan([Path("clip.mp4")], Target(), api_version="v1.3")) == []
    [func] = handed
    again = pickle.loads(pickle.dumps(func))
    finding = Finding(Path("x"), Verdict.SKIPPED, "subtitle_without_video", "skipped")
    assert again(finding) == finding
