"""Keep-awake: held while any upload runs, let go after the last; never fails an upload."""

from __future__ import annotations

import sys
import threading
import time
import warnings
from contextlib import AbstractContextManager
from typing import Any

import pytest
from wakepy import keep

from uploader_app.jobs import keepawake
from uploader_app.jobs.keepawake import KeepAwake


class _Mode(AbstractContextManager[Any]):
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __exit__(self, *exc: object) -> None:
        self.log.append("exit")


def test_first_upload_asks_last_one_lets_go(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []

    def enter() -> _Mode:
        log.append("enter")
        return _Mode(log)

    monkeypatch.setattr(keepawake, "_enter", enter)
    awake = KeepAwake()
    with awake.hold():
        with awake.hold():
            assert awake.holders == 2
        assert log == ["enter"]
    assert log == ["enter", "exit"]
    assert awake.holders == 0


def test_no_backend_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**kwargs: Any) -> Any:
        raise RuntimeError("no inhibitor here")

    monkeypatch.setattr(keep, "running", refuse)
    with KeepAwake().hold():
        pass  # the upload goes on


def test_disabled_never_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keepawake, "_enter", lambda: pytest.fail("asked"))
    with KeepAwake(enabled=False).hold():
        pass


def test_the_mode_is_entered_and_left_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[tuple[str, int]] = []

    class Mode(AbstractContextManager[Any]):
        def __exit__(self, *exc: object) -> None:
            threads.append(("exit", threading.get_ident()))

    def enter() -> Mode:
        threads.append(("enter", threading.get_ident()))
        return Mode()

    monkeypatch.setattr(keepawake, "_enter", enter)
    awake = KeepAwake()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with awake.hold():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with awake.hold():
            second_in.set()
            first_out.wait(5)

    # The first upload starts it on its thread, the second (another thread) ends it.
    runners = [threading.Thread(target=first), threading.Thread(target=second)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(10)
    assert [kind for kind, _ in threads] == ["enter", "exit"]
    assert threads[0][1] == threads[1][1]
    assert threads[0][1] not in {r.ident for r in runners}


def test_real_wakepy_gives_no_thread_warning() -> None:
    awake = KeepAwake()
    started = threading.Event()

    def hold_then_wait(release: threading.Event) -> None:
        with awake.hold():
            started.set()
            release.wait(5)

    release = threading.Event()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        holder = threading.Thread(target=hold_then_wait, args=(release,))
        holder.start()
        started.wait(5)
        with awake.hold():  # joins from this thread, then outlives the first holder
            release.set()
            holder.join(5)
    assert not [w for w in caught if "thread" in str(w.message).lower()]


def test_no_wakepy_costs_an_upload_no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # A build without wakepy (or one whose import fails on this OS) killed the keep-awake
    # thread, and then every upload waited the whole hand-off time to start and to end.
    monkeypatch.setitem(sys.modules, "wakepy", None)
    awake = KeepAwake()
    for _ in range(2):
        started = time.monotonic()
        with awake.hold():
            pass
        assert time.monotonic() - started < 1.0
