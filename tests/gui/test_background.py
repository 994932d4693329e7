"""Work off the GUI thread: batches, the flush marker, failures, cancel, one-off calls."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from uploader_app.gui.background import (
    FLUSH,
    Stream,
    cancel_all,
    hold,
    release,
    run_in_background,
)


def test_items_arrive_in_batches_on_the_gui_thread(qtbot: QtBot) -> None:
    seen: list[tuple[list[int], bool]] = []
    gui = QThread.currentThread()
    stream = Stream(lambda _cancel: range(1000))
    stream.batch.connect(lambda items: seen.append((items, QThread.currentThread() is gui)))
    with qtbot.waitSignal(stream.finished, timeout=5000):
        stream.start()
    assert [n for items, _ in seen for n in items] == list(range(1000))
    assert len(seen) < 1000  # batched, not one signal per item
    assert all(on_gui for _, on_gui in seen)
    assert stream.done


def test_flush_hands_over_before_slow_work(qtbot: QtBot) -> None:
    release = threading.Event()

    def produce(_cancel: threading.Event) -> Iterator[object]:
        yield "listed"
        yield FLUSH
        release.wait(10)  # a slow first probe
        yield "checked"

    seen: list[list[object]] = []
    stream = Stream(produce)
    stream.batch.connect(seen.append)
    stream.start()
    qtbot.waitUntil(lambda: seen == [["listed"]], timeout=2000)  # before the slow part ends
    release.set()
    qtbot.waitUntil(lambda: stream.done, timeout=5000)
    assert seen == [["listed"], ["checked"]]


def test_a_failure_keeps_what_came_before(qtbot: QtBot) -> None:
    def produce(_cancel: threading.Event) -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    seen: list[list[int]] = []
    errors: list[object] = []
    stream = Stream(produce)
    stream.batch.connect(seen.append)
    stream.failed.connect(errors.append)
    with qtbot.waitSignal(stream.finished, timeout=5000):
        stream.start()
    assert seen == [[1]]
    assert isinstance(errors[0], OSError)


def test_cancel_stops_the_producer(qtbot: QtBot) -> None:
    def produce(cancel: threading.Event) -> Iterator[int]:
        number = 0
        while not cancel.is_set():
            number += 1
            yield number
            cancel.wait(0.001)

    stream = Stream(produce)
    stream.start()
    qtbot.wait(50)
    with qtbot.waitSignal(stream.finished, timeout=5000):
        cancel_all()
    assert stream.done


def test_run_in_background_gives_the_result_or_the_error(qtbot: QtBot) -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    run_in_background(lambda: 6 * 7, results.append, errors.append)

    def boom() -> int:
        raise ValueError("no")

    run_in_background(boom, results.append, errors.append)
    qtbot.waitUntil(lambda: results == [42] and len(errors) == 1, timeout=5000)
    assert isinstance(errors[0], ValueError)


def test_an_item_never_waits_for_the_next_one(qtbot: QtBot) -> None:
    """Two results close together, then a slow one: the second must show within a batch
    interval, not when the slow one ends (a URL check can take its whole timeout)."""
    release = threading.Event()

    def produce(_cancel: threading.Event) -> Iterator[str]:
        yield "first"
        yield "second"
        release.wait(10)
        yield "slow"

    seen: list[str] = []
    stream = Stream(produce)
    stream.batch.connect(seen.extend)
    stream.start()
    try:
        qtbot.waitUntil(lambda: seen == ["first", "second"], timeout=1000)
    finally:
        release.set()
    qtbot.waitUntil(lambda: stream.done, timeout=5000)
    assert seen == ["first", "second", "slow"]


def test_held_work_starts_only_when_released(qtbot: QtBot) -> None:
    ran: list[str] = []
    results: list[str] = []
    hold()
    try:
        for name in ("first", "second"):

            def work(name: str = name) -> str:
                ran.append(name)
                return name

            run_in_background(work, results.append, print)
        qtbot.wait(200)
        assert ran == []  # not started while the window paints its first frame
    finally:
        release()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    assert sorted(ran) == ["first", "second"]  # each on its own thread: either may run first


def test_cancel_all_drops_held_work(qtbot: QtBot) -> None:
    ran: list[int] = []
    hold()
    run_in_background(lambda: ran.append(1), print, print)
    cancel_all()
    release()
    qtbot.wait(200)
    assert ran == []
