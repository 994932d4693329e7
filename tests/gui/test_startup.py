"""From start to a window: demo mode, a saved key, and leaving demo mode with a real key."""

from __future__ import annotations

import errno
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY
from uploader_app import config, keys
from uploader_app.gui import background, job_list, startup
from uploader_app.gui.account import Account
from uploader_app.gui.app import apply_theme, display_available
from uploader_app.gui.main_window import MainWindow
from uploader_app.gui.settings_dialog import Saved
from uploader_app.gui.startup import Session, start
from uploader_app.gui.welcome import WelcomeDialog
from uploader_app.handover import split_handed_over
from uploader_app.jobs.events import BatchProblem, BatchProblemCleared
from uploader_app.sandbox.server import SandboxServer
from uploader_app.settings import AppSettings, load_settings_file, save_settings_file
from uploader_app.store import Store, StoreError, StoreWriteError


@pytest.fixture
def sessions(qtbot: QtBot) -> Iterator[list[Session]]:
    started: list[Session] = []
    yield started
    for session in started:
        if session.window is not None:
            session.window.close()
        session.shutdown()


def _start(
    sessions: list[Session], paths: list[Path], *, demo: bool, urls: list[str] | None = None
) -> Session:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    session = start(app, paths, demo=demo, urls=urls or [])
    assert session is not None
    sessions.append(session)
    return session


def test_demo_mode_opens_the_window_with_the_files_given(
    qtbot: QtBot, sessions: list[Session], video: Callable[..., Path]
) -> None:
    clip = video("clip.mp4")
    session = _start(sessions, [clip], demo=True)
    window = session.window
    assert window is not None and window.account.demo
    assert window.demo_strip.isVisible()
    # The window is up before the sandbox is loaded; calls to its address wait until it serves.
    loaded_before_show = session.demo_server is not None
    assert not loaded_before_show
    qtbot.waitUntil(lambda: session.demo_server is not None, timeout=20_000)
    assert session.demo_server is not None
    assert window.account.base_url == session.demo_server.base_url("v1.3")
    qtbot.waitUntil(window.files_tab.upload_button.isEnabled, timeout=20_000)
    assert [r.path for r in window.files_tab.model.rows] == [clip]
    assert window.files_tab.upload_button.text() == "Upload 1 video"
    assert load_settings_file().demo_mode  # the next start goes straight to the demo
    assert (config.app_home() / "demo-sandbox" / "jobs.sqlite3").exists()


def test_workers_start_after_the_first_frame(
    qtbot: QtBot, sessions: list[Session], sandbox: SandboxServer
) -> None:
    keys.save_key(TEST_API_KEY)
    save_settings_file(AppSettings(base_url=sandbox.base_url()))
    session = _start(sessions, [], demo=False)
    window = session.window
    assert window is not None and window.isVisible()
    # Nothing competes with the first frame: no upload or polling thread, no index listing.
    assert not window.host.running
    assert window.picker.current is None
    qtbot.waitUntil(lambda: window.host.running, timeout=5_000)
    qtbot.waitUntil(lambda: window.picker.current is not None, timeout=15_000)


def test_a_saved_key_opens_the_account_without_welcome(
    qtbot: QtBot, sessions: list[Session], sandbox: SandboxServer
) -> None:
    keys.save_key(TEST_API_KEY)
    save_settings_file(AppSettings(base_url=sandbox.base_url()))
    session = _start(sessions, [], demo=True)  # a key wins over demo mode
    window = session.window
    assert window is not None and not window.account.demo
    assert session.demo_server is None
    assert not window.demo_strip.isVisible()
    qtbot.waitUntil(lambda: window.picker.current is not None, timeout=15_000)
    assert (config.app_home() / "jobs.sqlite3").exists()


def test_a_saved_key_is_read_after_the_first_frame_and_the_engine_waits_for_it(
    qtbot: QtBot, sessions: list[Session], sandbox: SandboxServer
) -> None:
    keys.save_key(TEST_API_KEY)
    save_settings_file(AppSettings(base_url=sandbox.base_url()))
    session = _start(sessions, [], demo=False)
    window = session.window
    assert window is not None and not window.account.demo
    # Built for the account before its key is read: the keychain is asked after the frame.
    read = window.account.keychain_read
    assert read is not None and not read._started.is_set()
    assert not window.host.running
    qtbot.waitUntil(lambda: window.host.running, timeout=10_000)
    assert read._started.is_set() and window.account.key == TEST_API_KEY
    qtbot.waitUntil(lambda: window.picker.current is not None, timeout=15_000)
    assert window.tabs.isEnabled() and not window.banner.isVisible()


def test_a_saved_key_the_keychain_no_longer_gives_is_asked_for_again(
    qtbot: QtBot, sessions: list[Session], sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    """Removed with the OS's password manager, or a keychain that stays locked: the window
    says so with the fix, and nothing is sent (or resumed) without a key."""
    import keyring

    keys.save_key(TEST_API_KEY)
    save_settings_file(AppSettings(base_url=sandbox.base_url()))
    keyring.delete_password(keys.SERVICE, keys.USERNAME)  # behind the app's back
    clip = video("clip.mp4")
    session = _start(sessions, [clip], demo=False)
    window = session.window
    assert window is not None
    qtbot.waitUntil(window.stop_fix_button.isVisible, timeout=10_000)
    assert "could not be read from this computer's password store" in window.banner_label.text()
    assert window.stop_fix_button.text() == "Enter API key…"
    assert not window.tabs.isEnabled() and not window.host.running
    # The files handed over are still listed and checked.
    qtbot.waitUntil(lambda: bool(window.files_tab.model.rows), timeout=10_000)
    assert [r.path for r in window.files_tab.model.rows] == [clip]
    opened: list[bool] = []
    window.open_settings = lambda *, focus_key=False: opened.append(focus_key)  # type: ignore[method-assign]
    window.stop_fix_button.click()
    assert opened == [True]


def test_a_first_start_opens_the_demo_at_once_and_then_a_key_left_in_the_keychain(
    qtbot: QtBot,
    sessions: list[Session],
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No app folder yet: the demo opens without asking the keychain; a key an earlier
    install left there is found after the first frame and opens the account's window."""
    import keyring

    keyring.set_password(keys.SERVICE, keys.USERNAME, TEST_API_KEY)
    monkeypatch.setenv("TWELVELABS_BASE_URL", sandbox.base_url())
    assert not config.app_home().exists()
    session = _start(sessions, [], demo=True)
    demo_window = session.window
    assert demo_window is not None and demo_window.account.demo
    qtbot.waitUntil(lambda: session.window is not demo_window, timeout=10_000)
    window = session.window
    assert window is not None and not window.account.demo
    assert window.account.key == TEST_API_KEY
    # The window changed by itself: it says why.
    assert "API key saved in this computer's password store" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.picker.current is not None, timeout=15_000)


def test_a_key_found_late_while_demo_videos_are_on_their_way_waits_for_the_next_start(
    qtbot: QtBot,
    sessions: list[Session],
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A keychain waiting to be unlocked answers late: the demo window is not closed under
    the person's uploads (that would ask to close a window nobody asked to close)."""
    import keyring

    chain = keyring.get_keyring()
    keyring.set_password(keys.SERVICE, keys.USERNAME, TEST_API_KEY)
    unlocked = threading.Event()
    real_get = chain.get_password

    def get_password(service: str, username: str) -> str | None:
        unlocked.wait(20)
        return real_get(service, username)

    monkeypatch.setattr(chain, "get_password", get_password)
    monkeypatch.setenv("TWELVELABS_BASE_URL", sandbox.base_url())
    session = _start(sessions, [], demo=True)
    window = session.window
    assert window is not None and window.account.demo
    qtbot.waitUntil(lambda: window.host.running, timeout=10_000)
    monkeypatch.setattr(window.host, "unsent_jobs", lambda: [1])  # demo videos on their way
    unlocked.set()
    note = config.app_home() / keys.STATE_FILE
    qtbot.waitUntil(lambda: "from its next start" in window.statusBar().currentMessage())
    assert session.window is window and window.account.demo
    assert note.read_text() == "saved"  # the next start opens the account


def test_a_first_start_without_a_key_anywhere_stays_in_the_demo(
    qtbot: QtBot, sessions: list[Session]
) -> None:
    session = _start(sessions, [], demo=True)
    window = session.window
    assert window is not None and window.account.demo
    note = config.app_home() / keys.STATE_FILE
    qtbot.waitUntil(note.exists, timeout=10_000)
    assert note.read_text() == "none"
    assert session.window is window and window.account.demo


# Loopback ports nothing listens on: a call there is refused at once.
NOWHERE, ELSEWHERE = "http://127.0.0.1:9", "http://127.0.0.1:7"


@dataclass
class LockedKeychain:
    """A keychain whose read waits for a person to unlock it (at most 20 s here)."""

    asked: threading.Event = field(default_factory=threading.Event)  # the read is waiting
    unlocked: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def locked_keychain(monkeypatch: pytest.MonkeyPatch) -> Iterator[LockedKeychain]:
    import keyring

    chain = keyring.get_keyring()
    locked = LockedKeychain()
    real_get = chain.get_password

    def get_password(service: str, username: str) -> str | None:
        locked.asked.set()
        locked.unlocked.wait(20)
        return real_get(service, username)

    monkeypatch.setattr(chain, "get_password", get_password)
    yield locked
    locked.unlocked.set()
    # Its note is written to this test's app folder, not the next test's.
    for thread in threading.enumerate():
        if thread.name == "keychain":
            thread.join(10)


def _still_running(before: frozenset[background.Stream] = frozenset()) -> list[background.Stream]:
    """Background threads still running, other than those running ``before``."""
    return [s for s in background._RUNNING - before if s._thread.isRunning()]


def test_quitting_while_the_keychain_waits_to_be_unlocked_ends_at_once(
    qtbot: QtBot, sessions: list[Session], locked_keychain: LockedKeychain
) -> None:
    """Neither a wait for the keychain at quit nor its thread left running, which aborts the
    process ("QThread: Destroyed while thread is still running")."""
    keys.save_key(TEST_API_KEY)
    save_settings_file(AppSettings(base_url=NOWHERE))
    session = _start(sessions, [], demo=False)
    window = session.window
    assert window is not None
    qtbot.waitUntil(locked_keychain.asked.is_set, timeout=10_000)
    window.close()
    began = time.monotonic()
    session.shutdown()  # what quitting does (aboutToQuit)
    assert time.monotonic() - began < 2
    assert _still_running() == []


def test_a_key_found_after_the_demo_window_was_closed_opens_no_window(
    qtbot: QtBot,
    sessions: list[Session],
    locked_keychain: LockedKeychain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app's first start: the person closed the demo (the app quits) before the keychain
    answered; the key left there by an earlier install must not open a window again."""
    import keyring

    keyring.set_password(keys.SERVICE, keys.USERNAME, TEST_API_KEY)
    monkeypatch.setenv("TWELVELABS_BASE_URL", NOWHERE)
    session = _start(sessions, [], demo=True)
    demo_window = session.window
    assert demo_window is not None and demo_window.account.demo
    qtbot.waitUntil(locked_keychain.asked.is_set, timeout=10_000)
    demo_window.close()
    shown = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    locked_keychain.unlocked.set()
    qtbot.waitUntil(lambda: not background._RUNNING, timeout=10_000)
    assert session.window is demo_window
    assert {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()} <= shown


def test_a_new_address_while_the_keychain_waits_does_not_stop_the_window(
    qtbot: QtBot, sessions: list[Session], locked_keychain: LockedKeychain
) -> None:
    """The window opened for the new address waits for the same read; it is never given an
    empty key, nor does the GUI thread wait for the keychain."""
    keys.save_key(TEST_API_KEY)
    save_settings_file(AppSettings(base_url=NOWHERE))
    session = _start(sessions, [], demo=False)
    window = session.window
    assert window is not None
    read = window.account.keychain_read
    qtbot.waitUntil(locked_keychain.asked.is_set, timeout=10_000)
    began = time.monotonic()
    window._apply_settings(Saved(replace(window.settings, base_url=ELSEWHERE)))
    assert time.monotonic() - began < 2
    again = session.window
    assert again is not None and again is not window
    assert again.account.base_url == ELSEWHERE
    assert again.account.keychain_read is read


def test_closing_the_welcome_screen_while_the_keychain_waits_leaves_no_thread_running(
    qtbot: QtBot, sessions: list[Session], locked_keychain: LockedKeychain
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    assert not config.app_home().exists()

    def close_welcome() -> None:
        shown = [w for w in app.topLevelWidgets() if isinstance(w, WelcomeDialog)]
        if locked_keychain.asked.is_set() and shown and shown[0].isVisible():
            shown[0].reject()
        else:
            QTimer.singleShot(20, close_welcome)

    before = frozenset(_still_running())
    QTimer.singleShot(0, close_welcome)
    assert start(app, [], demo=False) is None
    assert _still_running(before) == []


def test_a_first_start_welcome_screen_takes_a_key_left_in_the_keychain(
    qtbot: QtBot,
    sessions: list[Session],
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring

    keyring.set_password(keys.SERVICE, keys.USERNAME, TEST_API_KEY)
    monkeypatch.setenv("TWELVELABS_BASE_URL", sandbox.base_url())
    assert not config.app_home().exists()
    session = _start(sessions, [], demo=False)  # returns once the welcome screen is done
    window = session.window
    assert window is not None and not window.account.demo
    assert window.account.key == TEST_API_KEY
    assert "API key saved in this computer's password store" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.picker.current is not None, timeout=15_000)


def test_a_key_entered_in_demo_mode_reopens_the_window_for_the_account(
    qtbot: QtBot, sessions: list[Session], sandbox: SandboxServer
) -> None:
    session = _start(sessions, [], demo=True)
    qtbot.waitUntil(lambda: session.demo_server is not None, timeout=20_000)
    demo_window, server = session.window, session.demo_server
    assert demo_window is not None and server is not None

    demo_window.account_changed.emit(Account(sandbox.base_url(), TEST_API_KEY))

    window = session.window
    assert window is not None and window is not demo_window
    assert not window.account.demo and not window.demo_strip.isVisible()
    assert session.demo_server is None
    qtbot.waitUntil(lambda: not load_settings_file().demo_mode, timeout=5_000)


def test_a_key_entered_while_the_demo_loads_stops_the_demo(
    qtbot: QtBot, sessions: list[Session], sandbox: SandboxServer
) -> None:
    session = _start(sessions, [], demo=True)
    demo_window = session.window
    assert demo_window is not None and session.demo_server is None
    port = int(demo_window.account.base_url.rsplit(":", 1)[1].split("/")[0])

    demo_window.account_changed.emit(Account(sandbox.base_url(), TEST_API_KEY))

    last = [0.0]

    def demo_port_closed() -> bool:
        # Each look leaves a connection in the port's queue until the sandbox serves: five a
        # second at most, so a slow start never fills the queue (whose timeouts said nothing).
        if time.monotonic() - last[0] < 0.2:
            return False
        last[0] = time.monotonic()
        return _refused(port)

    qtbot.waitUntil(demo_port_closed, timeout=20_000)
    assert session.demo_server is None


def test_a_broken_settings_file_is_said_in_the_window(
    sessions: list[Session],
) -> None:
    config.settings_path().parent.mkdir(parents=True, exist_ok=True)
    config.settings_path().write_text("concurrent_uploads = 'many'\n")
    session = _start(sessions, [], demo=True)
    assert session.window is not None
    assert session.window.banner.isVisible()
    assert "concurrent_uploads" in session.window.banner_label.text()


def test_dark_theme_is_dark_where_the_platform_cannot_switch(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, style = QPalette(app.palette()), app.style().name()
    try:
        apply_theme(app, "dark")
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 128
        assert app.palette().color(QPalette.ColorRole.Text).lightness() > 128
    finally:
        app.setStyle(style)
        app.setPalette(palette)


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({}, "win32", True),
        ({}, "darwin", True),
    ],
)
def test_display_available(env: dict[str, str], platform: str, expected: bool) -> None:
    assert display_available(env, platform) is expected


def _port_of(base_url: str) -> int:
    port = urlsplit(base_url).port
    assert port is not None
    return port


def _refused(port: int) -> bool:
    """Nothing listens on ``port``: only a refusal says so. A connection that times out (the
    queue of a port still open is full) says nothing."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def test_a_demo_that_cannot_start_says_so_and_closes_its_port(
    qtbot: QtBot, sessions: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: object) -> SandboxServer:
        raise OSError("something the app has no words for")

    monkeypatch.setattr("uploader_app.gui.startup.start_demo_sandbox", broken)
    session = _start(sessions, [], demo=True)
    window = session.window
    assert window is not None
    qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
    # No cause the app knows: the log file (by its place) says why.
    assert window.log_file is not None
    assert window.banner_label.text().startswith(
        f"The demo could not start. The log file {window.log_file} says why. Start the app again"
    )
    # Calls to the demo's address are refused at once instead of waiting a minute each.
    assert _refused(_port_of(window.account.base_url))


def test_a_demo_failing_after_a_key_was_entered_leaves_the_account_window_alone(
    qtbot: QtBot,
    sessions: list[Session],
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed: list[str] = []

    def broken(**_kwargs: object) -> SandboxServer:
        failed.append("demo")
        raise OSError("read-only file system")

    monkeypatch.setattr("uploader_app.gui.startup.start_demo_sandbox", broken)
    session = _start(sessions, [], demo=True)
    demo_window = session.window
    assert demo_window is not None
    demo_window.account_changed.emit(Account(sandbox.base_url(), TEST_API_KEY))
    window = session.window
    assert window is not None and not window.account.demo
    qtbot.waitUntil(lambda: failed == ["demo"], timeout=10_000)
    qtbot.wait(300)  # the failure's answer reaches the GUI thread
    assert not window.banner.isVisible()


def test_after_the_fallback_the_window_events_no_longer_pass_the_first_paint_filter(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    class Counting(startup.AfterFirstPaint):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            seen.append(int(event.type().value))
            return super().eventFilter(watched, event)

    monkeypatch.setattr(startup, "FIRST_PAINT_FALLBACK_MS", 50)
    widget = QWidget()  # never shown: never painted, as a window shown minimised
    qtbot.addWidget(widget)
    ran: list[str] = []
    Counting(widget, lambda: ran.append("work"))
    qtbot.waitUntil(lambda: ran == ["work"], timeout=5000)
    seen.clear()
    widget.setWindowTitle("shown later")  # sends the widget events
    widget.show()
    qtbot.waitExposed(widget)
    widget.repaint()
    assert seen == []
    assert ran == ["work"]


def test_the_window_trusts_the_os_store_before_its_first_connection_not_before_its_first_frame(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """truststore loads ssl, urllib3 and requests: after the first frame, before the held work
    (the index list, the uploads) makes a connection (docs/network.md)."""
    from uploader_app import network
    from uploader_app.gui import background

    # Whether the trust store was on at each release of the held work (a window of an
    # earlier test may release too: every release must come after the trust store).
    trusted_at_release: list[bool] = []
    release = background.release

    def trusted() -> bool:
        return network._done

    def released() -> None:
        trusted_at_release.append(trusted())
        release()

    monkeypatch.setattr(background, "release", released)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    session = start(app, [], demo=True)
    assert session is not None and session.window is not None
    window = session.window
    try:
        assert not trusted()  # the window is built and shown without it
        qtbot.waitUntil(lambda: window.host.running, timeout=10_000)
        assert trusted()
        assert trusted_at_release and all(trusted_at_release[-1:])
    finally:
        window.close()
        session.shutdown()


def test_garbage_collection_is_back_on_once_the_window_is_drawn(qtbot: QtBot) -> None:
    """The entry point turns it off for the start (__main__.py); left off, a long session
    would grow by every reference cycle it ever made."""
    import gc

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    gc.disable()
    try:
        session = start(app, [], demo=True)
        assert session is not None and session.window is not None
        window = session.window
        try:
            qtbot.waitUntil(gc.isenabled, timeout=10_000)
        finally:
            window.close()
            session.shutdown()
    finally:
        gc.enable()


def test_a_job_list_that_cannot_be_opened_still_lets_the_held_work_run(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine is built after the first frame now; if that fails (a damaged job list), the
    work held for the first frame (the index list, the demo) must still start, instead of a
    window stuck on "Connecting…"."""
    from uploader_app.gui.workers import EngineHost
    from uploader_app.store import StoreError

    def make_host(account: Account, settings: AppSettings, store: object = None) -> EngineHost:
        def broken(_on_event: object) -> object:
            raise StoreError("the job list is damaged")

        return EngineHost(broken)  # type: ignore[arg-type]

    monkeypatch.setattr(startup, "make_host", make_host)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    with qtbot.captureExceptions() as exceptions:
        session = start(app, [], demo=True)
        assert session is not None and session.window is not None
        window = session.window
        try:
            qtbot.waitUntil(lambda: session.demo_server is not None, timeout=15_000)
            qtbot.waitUntil(lambda: bool(window.picker.indexes), timeout=15_000)
        finally:
            session.shutdown()
            window.hide()
    # Still reported, as any unexpected error, for the person who helps.
    assert any(isinstance(e[1], StoreError) for e in exceptions)


def test_web_addresses_on_the_command_line_go_to_the_url_tab(
    qtbot: QtBot, sessions: list[Session], video: Callable[..., Path]
) -> None:
    """``uploader-app https://…/v.mp4 clip.mp4``: the addresses are checked in the URL tab as a
    paste would be, the file in the Files tab; no row says a file is gone."""
    clip = video("clip.mp4")
    addresses = ["http://127.0.0.1:9/a.mp4", "HTTPS://127.0.0.1:9/b.mp4"]
    paths, urls = split_handed_over([addresses[0], str(clip), addresses[1]])
    session = _start(sessions, paths, demo=True, urls=urls)
    window = session.window
    assert window is not None
    assert [r.url for r in window.url_tab.model.rows] == addresses
    # The files' rows come once the first frame is painted (docs/gui.md, "Start-up").
    qtbot.waitUntil(lambda: window.files_tab.model.rowCount() == 1, timeout=20_000)
    assert [r.path for r in window.files_tab.model.rows] == [clip]
    assert window.shown_tab() is window.files_tab
    assert window.statusBar().currentMessage() == "2 web addresses added to the URL tab."
    # Each address gets the URL check's own verdict, as a pasted one does.
    qtbot.waitUntil(
        lambda: all(r.finding is not None for r in window.url_tab.model.rows), timeout=20_000
    )
    qtbot.waitUntil(lambda: window.files_tab.model.tally().checked == 1, timeout=20_000)
    assert "no longer there" not in window.files_tab.model.rows[0].status


def test_only_web_addresses_show_the_url_tab(qtbot: QtBot, sessions: list[Session]) -> None:
    paths, urls = split_handed_over(["https://127.0.0.1:9/lecture.mp4"])
    session = _start(sessions, paths, demo=True, urls=urls)
    window = session.window
    assert window is not None
    assert window.shown_tab() is window.url_tab
    assert [r.url for r in window.url_tab.model.rows] == ["https://127.0.0.1:9/lecture.mp4"]
    assert window.files_tab.model.rowCount() == 0


def _job_list_problem(qtbot: QtBot, window: MainWindow) -> str:
    # The job list is opened with the engine, after the window's first frame.
    qtbot.waitUntil(lambda: window.host.running, timeout=10_000)
    assert window.banner.isVisible()
    assert not window.tabs.isEnabled()  # nothing can be queued into a list not kept
    return window.banner_label.text()


def test_a_damaged_job_list_opens_the_window_with_what_to_do(
    qtbot: QtBot, sessions: list[Session]
) -> None:
    """No crash report: the window says where the file is and what to do; the file is left
    as it was, and nothing can be sent meanwhile."""
    damaged = config.app_home() / "demo-sandbox" / "jobs.sqlite3"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not a job list " * 400)
    session = _start(sessions, [], demo=True)
    window = session.window
    assert window is not None
    assert _job_list_problem(qtbot, window) == (
        f"The app cannot read its list of uploads, {damaged}: the file is damaged. Start a "
        "new list: the damaged one is kept beside it, for whoever helps you. Nothing can be "
        "sent until then."
    )
    assert damaged.read_bytes() == b"not a job list " * 400
    # What clears an engine problem does not clear this one.
    window.host.event.emit(BatchProblemCleared())
    assert window.banner.isVisible()
    qtbot.waitUntil(lambda: session.demo_server is not None, timeout=20_000)
    assert window.banner.isVisible() and not window.tabs.isEnabled()

    # Its fix: the damaged file is kept aside, and the window opens on a new list.
    assert window.stop_fix_button.isVisible()
    assert window.stop_fix_button.text() == "Start a new list"
    window.stop_fix_button.click()
    again = session.window
    assert again is not None and again is not window
    qtbot.waitUntil(lambda: again.host.running, timeout=10_000)
    [kept] = damaged.parent.glob("jobs.sqlite3.damaged-*")
    assert kept.read_bytes() == b"not a job list " * 400
    assert not again.banner.isVisible() and again.tabs.isEnabled()
    assert again.statusBar().currentMessage() == (
        f"A new list of uploads was started; the damaged one is kept as {kept}."
    )
    assert again.host.engine.store.path == damaged  # a real list again, in its place


def test_a_full_disk_at_start_opens_the_window_with_what_to_do(
    qtbot: QtBot, sessions: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store refusing its first write as a full disk does (the real one, with
    # RLIMIT_FSIZE: tests/reliability/test_faults_local.py, for the command line).
    full = True

    def full_disk(path: Path) -> Store:
        if full and str(path) != ":memory:":
            raise StoreWriteError(f"{path} could not be written (is the disk full?)")
        return Store(path)

    monkeypatch.setattr(job_list, "Store", full_disk)
    session = _start(sessions, [], demo=True)
    window = session.window
    assert window is not None
    folder = config.app_home() / "demo-sandbox"
    said = (
        f"The app cannot open its list of uploads: the disk that holds {folder} is full. "
        "Free some space on it, then press Try again. Nothing can be sent until then; "
        "your earlier uploads are kept in that file, untouched."
    )
    assert _job_list_problem(qtbot, window) == said
    assert window.stop_fix_button.text() == "Try again"

    window.stop_fix_button.click()  # still full: the window says so again
    still = session.window
    assert still is not None and still is not window
    assert _job_list_problem(qtbot, still) == said

    full = False  # space freed
    still.stop_fix_button.click()
    freed = session.window
    assert freed is not None and freed is not still
    qtbot.waitUntil(lambda: freed.host.running, timeout=10_000)
    assert not freed.banner.isVisible() and freed.tabs.isEnabled()
    assert freed.host.engine.store.path == folder / "jobs.sqlite3"


def test_a_job_list_folder_or_version_the_app_cannot_use_is_said_plainly(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "a file" / "jobs.sqlite3"
    blocked.parent.write_text("")
    with pytest.raises(StoreError) as no_folder:
        Store(blocked)
    assert job_list.store_problem_text(no_folder.value, blocked).startswith(
        f"The app cannot keep its list of uploads in {blocked.parent}: the folder cannot be "
        "used. Check that it exists and that you may change it, then press Try again."
    )
    assert job_list.may_pass(no_folder.value) and not job_list.is_damaged(no_folder.value)
    newer = tmp_path / "jobs.sqlite3"
    Store(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError) as too_new:
        Store(newer)
    said = job_list.store_problem_text(too_new.value, newer)
    assert said == (
        f"The app cannot use its list of uploads, {newer}: a newer version of the app wrote "
        "it. Install that version or a newer one to see those uploads. Nothing can be sent "
        "until then; your earlier uploads are kept in that file, untouched."
    )
    assert not job_list.may_pass(too_new.value) and not job_list.is_damaged(too_new.value)


def test_no_port_for_the_demo_at_start_says_so_on_the_welcome_screen(
    qtbot: QtBot, sessions: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Demo mode saved, but 127.0.0.1 gives no port: the welcome screen says why and still
    takes a key, instead of the start ending in a crash report."""
    save_settings_file(AppSettings(demo_mode=True))

    def no_port() -> socket.socket:
        with socket.socket() as sock:
            sock.bind(("192.0.2.1", 0))  # not this computer's address: refused as loopback is
        raise AssertionError("bound an address this computer does not have")

    shown: list[str] = []

    def exec_welcome(dialog: WelcomeDialog) -> int:
        shown.append(dialog.problem_label.text())
        return 0  # closed

    monkeypatch.setattr(startup, "demo_listener", no_port)
    monkeypatch.setattr(WelcomeDialog, "exec", exec_welcome)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    assert start(app, [], demo=False) is None
    assert len(shown) == 1 and shown[0].startswith(
        "The demo could not start: this computer did not let the app open a port on its own "
        "address (127.0.0.1)"
    )


def test_a_job_list_the_app_may_not_open_is_never_called_damaged(
    qtbot: QtBot, sessions: list[Session], tmp_path: Path
) -> None:
    """SQLite's "cannot open" (here: a folder where the file should be; for a person, a file
    or folder they may not change) is no damaged file: no "Start a new list" that would move
    it aside, but Try again once it is fixed."""
    blocked = config.app_home() / "demo-sandbox" / "jobs.sqlite3"
    blocked.mkdir(parents=True)
    session = _start(sessions, [], demo=True)
    window = session.window
    assert window is not None
    assert _job_list_problem(qtbot, window).startswith(
        f"The app may not change its list of uploads, {blocked}. Check that you may change "
        "that file and its folder"
    )
    assert window.stop_fix_button.text() == "Try again"
    window.stop_fix_button.click()
    assert blocked.is_dir() and not list(blocked.parent.glob("jobs.sqlite3.damaged-*"))

    # A list opened read-only (as a file the person may not change is) is no damaged one.
    readonly = tmp_path / "jobs.sqlite3"
    Store(readonly).close()
    db = sqlite3.connect(f"file:{readonly}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as refused:
        db.execute("PRAGMA user_version = 1")
    db.close()
    error = StoreError("cannot write")
    error.__cause__ = refused.value
    assert job_list.may_pass(error) and not job_list.is_damaged(error)


def test_a_job_list_folder_that_a_full_disk_cannot_make_is_said_to_be_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first start on a full disk: making the folder fails as the system says (ENOSPC),
    which is no folder the person should check."""
    path = tmp_path / "home" / "jobs.sqlite3"

    def full(self: Path, *_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "mkdir", full)
    with pytest.raises(StoreError) as caught:
        Store(path)
    monkeypatch.undo()
    assert job_list.store_problem_text(caught.value, path) == (
        f"The app cannot open its list of uploads: the disk that holds {path.parent} is full. "
        "Free some space on it, then press Try again. Nothing can be sent until then."
    )
    assert job_list.may_pass(caught.value) and not job_list.is_damaged(caught.value)


def test_another_problem_never_hides_why_the_job_list_cannot_be_used(
    qtbot: QtBot, sessions: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demo that fails too (its folder is the job list's) or an engine problem: their words
    join the job list's in the banner, whose button still fits the words beside it."""
    damaged = config.app_home() / "demo-sandbox" / "jobs.sqlite3"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not a job list " * 400)

    def broken(**_kwargs: object) -> SandboxServer:
        raise OSError("something the app has no words for")

    monkeypatch.setattr("uploader_app.gui.startup.start_demo_sandbox", broken)
    session = _start(sessions, [], demo=True)
    window = session.window
    assert window is not None
    why = _job_list_problem(qtbot, window)
    qtbot.waitUntil(
        lambda: "The demo could not start" in window.banner_label.text(), timeout=10_000
    )
    assert why in window.banner_label.text()
    window.host.event.emit(BatchProblem("no_network", "No network", "Offline.", ""))
    assert _job_list_problem(qtbot, window) == f"No network. Offline.\n{why}"
    assert window.stop_fix_button.isVisible()
    assert window.stop_fix_button.text() == "Start a new list"


def test_try_again_at_start_keeps_what_the_command_line_handed_over(
    qtbot: QtBot,
    sessions: list[Session],
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Videos dropped on the app's icon while the disk was full are still there once Try
    again opens the window on the freed disk: nothing could send them before."""
    full = True

    def full_disk(path: Path) -> Store:
        if full and str(path) != ":memory:":
            raise StoreWriteError(f"{path} could not be written (is the disk full?)")
        return Store(path)

    monkeypatch.setattr(job_list, "Store", full_disk)
    clip = video("clip.mp4")
    session = _start(sessions, [clip], demo=True, urls=["https://127.0.0.1:9/a.mp4"])
    window = session.window
    assert window is not None
    qtbot.waitUntil(lambda: window.files_tab.model.rowCount() == 1, timeout=20_000)
    full = False
    window.stop_fix_button.click()
    again = session.window
    assert again is not None and again is not window and again.tabs.isEnabled()
    assert [r.url for r in again.url_tab.model.rows] == ["https://127.0.0.1:9/a.mp4"]
    qtbot.waitUntil(lambda: again.files_tab.model.rowCount() == 1, timeout=20_000)
    assert [r.path for r in again.files_tab.model.rows] == [clip]
