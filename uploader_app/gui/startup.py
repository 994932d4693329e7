"""From start to a window: settings, the key (or the welcome screen, or demo mode), the engine.

Demo jobs live in their own store beside the demo sandbox's data, so the sandbox's task and
video ids never mix with a real account's (docs/gui.md, "Demo mode").
"""

from __future__ import annotations

import gc
import logging
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QWidget

from uploader_app import config, crash, keys, network
from uploader_app.gui import background, file_open
from uploader_app.gui.account import (
    FOUND_KEY_NOTE,
    Account,
    demo_base_url,
    demo_failure_text,
    demo_folder,
    demo_listener,
    start_demo_sandbox,
)
from uploader_app.gui.main_window import MainWindow
from uploader_app.gui.places import window_state
from uploader_app.gui.workers import EngineHost
from uploader_app.logfile import setup_logging
from uploader_app.settings import AppSettings, read_settings, save_settings_file

if TYPE_CHECKING:
    from uploader_app.jobs.engine import Engine
    from uploader_app.jobs.events import EngineEvent
    from uploader_app.keys import KeychainRead
    from uploader_app.sandbox.server import SandboxServer
    from uploader_app.store import Store, StoreError

logger = logging.getLogger(__name__)

STORE_NAME = "jobs.sqlite3"
# A window that is never painted (shown minimised, on a locked screen) must still upload: the
# work held for its first frame starts after this long anyway.
FIRST_PAINT_FALLBACK_MS = 2000
# How often the wait for the keychain's answer looks whether it is still wanted (seconds).
KEYCHAIN_WAIT_STEP = 0.1


def store_path(account: Account) -> Path:
    """Where the account's job list is kept (the store makes the folder)."""
    folder = demo_folder() if account.demo else config.app_home()
    return folder / STORE_NAME


def make_host(
    account: Account, settings: AppSettings, store: Callable[[], Store] | None = None
) -> EngineHost:
    """The engine for this account (over what ``store`` opens, else its job list), in a host
    that runs it on QThread workers; built on first use, after the first frame."""
    path = store_path(account)

    def make_engine(on_event: Callable[[EngineEvent], None]) -> Engine:
        # Loaded with the engine, after the window's first frame (docs/gui.md, "Start-up").
        from uploader_app.api.client import ApiClient  # noqa: PLC0415
        from uploader_app.jobs.engine import Engine  # noqa: PLC0415
        from uploader_app.store import Store  # noqa: PLC0415

        def client() -> ApiClient:
            return ApiClient(account.base_url, account.key)

        return Engine(store() if store else Store(path), settings, client, on_event)

    return EngineHost(make_engine, uploads=settings.concurrent_uploads)


class AfterFirstPaint(QObject):
    """Calls ``then`` once, as soon as ``window``'s first frame is painted, or after
    ``FIRST_PAINT_FALLBACK_MS`` if it never is."""

    def __init__(self, window: QWidget, then: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._then: Callable[[], None] | None = then
        window.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, self, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._then is not None:
            watched.removeEventFilter(self)
            # After this event: the frame is finished and on screen before the work starts.
            QTimer.singleShot(0, self, self._run)
        return False

    @Slot()
    def _run(self) -> None:
        # After the fallback too: left installed, every later event of the window (each mouse
        # move) would pass through this Python filter for the window's whole life.
        self._window.removeEventFilter(self)
        then, self._then = self._then, None
        if then is not None:
            then()


class Session(QObject):
    """The window of the current account; a new key opens a new window for it."""

    def __init__(
        self,
        app: QApplication,
        settings: AppSettings,
        account: Account,
        demo_server: SandboxServer | None,
        log_file: Path | None = None,
        *,
        first_read: KeychainRead | None = None,
    ) -> None:
        super().__init__(app)
        self._log_file = log_file
        # The app's first start opened the demo without asking the keychain: asked after
        # the first frame, a key an earlier install left there opens the account.
        self._first_read = first_read
        self._settings = settings
        self._demo_server = demo_server
        self.window: MainWindow | None = None
        # Why the window's job list could not be used, learnt when the engine is built.
        self._job_list_problems: list[StoreError] = []
        app.aboutToQuit.connect(self._on_quit)
        self.open(account)

    def open(self, account: Account) -> MainWindow:
        """Build and show the window; its background work (earlier jobs, the index list, the
        upload and polling workers, the demo sandbox) starts once its first frame is painted,
        so the window appears sooner (docs/gui.md, "Start-up")."""
        background.hold()
        path = store_path(account)
        problems: list[StoreError] = []

        def open_job_list() -> Store:
            # With the engine, after the first frame; a list that cannot be used leaves the
            # engine an empty one in memory, and _start_work says why.
            from uploader_app.gui import job_list  # noqa: PLC0415 - see docs/gui.md

            store, problem = job_list.open_store(path)
            problems.extend([problem] if problem is not None else [])
            return store

        host = make_host(account, self._settings, open_job_list)
        window = MainWindow(account, self._settings, host, window_state(), log_file=self._log_file)
        window.account_changed.connect(self._on_account_changed)
        self._job_list_problems = problems
        self.window = window
        window.show()
        window.picker.refresh()
        AfterFirstPaint(window, lambda: self._start_work(window))
        return window

    def _start_work(self, window: MainWindow) -> None:
        gc.enable()  # off since the entry point, for the start (__main__.py)
        # Before the window's first connection, which is held until now (docs/network.md).
        network.use_system_trust_store()
        first_read, self._first_read = self._first_read, None
        if first_read is not None:
            _read_after_first_frame(first_read, self._on_key_found, self)
        read = window.account.keychain_read
        if read is None:
            self._start_engine(window)
            return
        # The key this app saved in the keychain, read now that the window is drawn; the
        # engine waits for it, so no earlier upload resumes without it (docs/gui.md).
        _when_read(read, lambda key: self._on_saved_key(window, key), self)

    def _on_key_found(self, key: str) -> None:
        window = self.window
        if window is None or not window.account.demo or not window.isVisible():
            return  # a key was entered meanwhile, or the demo closed (the app is quitting)
        if window.host.unsent_jobs():
            # Found late (a keychain waiting to be unlocked) while demo videos are on their
            # way: switching would ask to close the window nobody asked to close.
            logger.info("the keychain holds a key from an earlier install: used next start")
            window.statusBar().showMessage(
                "Your API key was found in this computer's password store (keychain): the "
                "app uses it from its next start, after the demo's uploads.",
                60_000,
            )
            return
        logger.info("the keychain holds a key from an earlier install: it is used")
        self._on_account_changed(Account(self._settings.base_url, key, key_note=FOUND_KEY_NOTE))

    def _on_saved_key(self, window: MainWindow, key: str | None) -> None:
        if key or self.window is not window or not window.isVisible():
            self._start_engine(window)
            return
        logger.warning("the keychain gave no API key, though this app saved one there")
        try:
            window.stop_sending(
                "Your API key could not be read from this computer's password store "
                "(keychain): it may be locked, or the key was removed from it. Unlock the "
                "keychain and start the app again, or enter your key again.",
                ("Enter API key…", lambda: window.open_settings(focus_key=True)),
            )
        finally:
            # The files handed over are still checked; the index list says it has no key.
            background.release()

    def _start_engine(self, window: MainWindow) -> None:
        # Not for a window closed meanwhile, or replaced by another account's: its host has
        # been shut down and must stay so. Started first: the held work needs its engine.
        try:
            if self.window is window and window.isVisible():
                window.host.start()
                window.show_tray()
                self._say_job_list_problem(window)
        finally:
            # Even when the engine cannot be built (a damaged job list): the index list and
            # the demo do not need it, and the task list's own call then says the problem.
            background.release()

    def _say_job_list_problem(self, window: MainWindow) -> None:
        """The job list the engine was built on could not be used: the window says why, with
        the fix, and does not send (docs/gui.md, "Start-up")."""
        problems = self._job_list_problems
        if not problems:
            return
        from uploader_app.gui import job_list  # noqa: PLC0415 - loaded by the engine already

        problem, path = problems[0], store_path(window.account)
        fix = None
        if job_list.is_damaged(problem):
            fix = ("Start a new list", lambda: self._start_new_list(window, path))
        elif job_list.may_pass(problem):
            # The window opens again on the job list, which is tried afresh.
            fix = ("Try again", lambda: self._open_again(window))
        window.stop_sending(job_list.store_problem_text(problem, path), fix)

    def _open_again(self, window: MainWindow) -> None:
        """The window opened again on the job list, with the files and addresses its tabs
        held (those given on the command line, which nothing could send until now)."""
        paths, urls = window.held_sources()
        self._on_account_changed(window.account)
        again = self.window
        if again is None or again is window:
            return
        if urls:
            again.add_urls(urls)
        if paths:
            again.add_paths(paths)

    def _start_new_list(self, window: MainWindow, path: Path) -> None:
        """The damaged job list set aside, the window opens again on a new, empty one."""
        from uploader_app.gui import job_list  # noqa: PLC0415 - loaded by the engine already

        try:
            kept = job_list.set_aside(path)
        except OSError as error:
            logger.error("setting the damaged job list %s aside failed: %r", path, error)
            window.stop_sending(
                f"The damaged list of uploads, {path}, could not be moved aside. Move it to "
                "another folder yourself, then start the app again."
            )
            return
        logger.warning("the damaged job list %s was kept as %s", path, kept)
        self._open_again(window)
        if self.window is not None and self.window is not window:
            self.window.statusBar().showMessage(
                f"A new list of uploads was started; the damaged one is kept as {kept}.", 60_000
            )

    @Slot(object)
    def _on_account_changed(self, account: Account) -> None:
        old = self.window
        if old is None or not old.close():
            return  # the user chose to stay (uploads running)
        self._settings = old.settings
        if not account.demo:
            self._stop_demo()
            if self._settings.demo_mode:
                self._settings = replace(self._settings, demo_mode=False)
                background.run_in_background(
                    lambda: save_settings_file(self._settings), _ignore, _log_failure
                )
        self.open(account)

    def start_demo(self, listener: socket.socket) -> None:
        """Load and start the demo sandbox in a worker, after the window is shown; until it
        serves, calls to its address wait in ``listener``'s queue."""

        def failed(error: BaseException) -> None:
            # Closed, calls to the demo's address fail at once with "cannot reach"; left open,
            # each would wait in the port's queue for its whole read timeout (a minute).
            listener.close()
            self._on_demo_failed(error)

        background.run_in_background(
            lambda: start_demo_sandbox(listener=listener), self._on_demo_started, failed, self
        )

    def _on_demo_started(self, server: SandboxServer) -> None:
        window = self.window
        if window is None or not window.account.demo:
            server.stop()  # a key was entered meanwhile: the demo is over
            return
        self._demo_server = server

    def _on_demo_failed(self, error: BaseException) -> None:
        logger.error("the demo sandbox did not start: %r", error)
        # Not on the window of a key entered meanwhile: that account has nothing to do with it.
        if self.window is not None and self.window.account.demo:
            text = demo_failure_text(
                error, demo_folder(), self._log_file, then="start the app again"
            )
            self.window.show_banner(text, offer_settings=False)

    def _stop_demo(self) -> None:
        if self._demo_server is not None:
            self._demo_server.stop()
            self._demo_server = None

    @Slot()
    def _on_quit(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """After the window closed: stop what is still running in the background."""
        background.cancel_all()
        self._stop_demo()

    @property
    def demo_server(self) -> SandboxServer | None:
        return self._demo_server


def _ignore(_result: object) -> None:
    return None


def _when_read(
    read: KeychainRead, then: Callable[[str | None], None], parent: QObject
) -> background.Stream:
    """Start ``read`` and call ``then`` with its key (None without one) in the GUI thread.

    Waited for in steps that a cancel ends (``background.cancel_all`` at quit): a keychain
    that waits for a person to unlock it must neither keep the app from quitting nor leave
    a running thread behind, which aborts the process (docs/gui.md, "Start-up").
    """

    def wait(cancel: threading.Event) -> Iterator[str | None]:
        while not read.wait(KEYCHAIN_WAIT_STEP):
            if cancel.is_set():
                return
        yield read.result()

    stream = background.Stream(wait, parent)
    stream.batch.connect(lambda items: then(items[0]))
    stream.failed.connect(lambda _error: then(None))
    stream.start(now=True)
    return stream


def _read_after_first_frame(
    read: KeychainRead, found: Callable[[str], None], parent: QObject
) -> background.Stream:
    """Start ``read`` and call ``found`` with the key it finds, if any, in the GUI thread."""

    def answered(key: str | None) -> None:
        if key:
            found(key)

    return _when_read(read, answered, parent)


def _log_failure(error: BaseException) -> None:
    logger.error("saving the settings failed: %r", error)


def start(
    app: QApplication, paths: Sequence[Path], *, demo: bool, urls: Sequence[str] = ()
) -> Session | None:
    """Show the window (after the welcome screen when no key is known), with ``paths`` in the
    Files tab and ``urls`` in the URL tab; None if the welcome screen was closed."""
    first_read = keys.first_start_read()  # before the log file makes the app's folder
    log_file = setup_logging()
    opened = file_open.FileOpenFilter(app)
    if file_open.DESKTOP_SENDS_OPEN_EVENTS:
        app.installEventFilter(opened)
    loaded = read_settings()
    settings = loaded.settings
    saved_key = keys.saved_key_read()
    info = keys.load_key() if saved_key is None and first_read is None else None
    server: SandboxServer | None = None
    listener: socket.socket | None = None
    account: Account | None = None
    demo_problem = ""
    if saved_key is not None:
        account = Account(settings.base_url, saved_key)
    elif info is not None and info.key:
        account = Account(settings.base_url, info.key)
    elif demo or settings.demo_mode:
        try:
            listener = demo_listener()
        except OSError as error:
            # No port on 127.0.0.1 for the demo: the welcome screen says so and still takes
            # a key, rather than the start ending in a crash report.
            logger.error("no loopback port for the demo: %r", error)
            demo_problem = demo_failure_text(error, demo_folder(), log_file, then="try again")
        else:
            account = Account(demo_base_url(listener), config.SANDBOX_DEMO_KEY, demo=True)
    if account is None:
        from uploader_app.gui import welcome as first_start  # noqa: PLC0415 - first start only

        # The key is tested with the service from the welcome screen, which may stay up long.
        network.use_system_trust_store()
        gc.enable()
        welcome = first_start.WelcomeDialog(settings.base_url, log_file=log_file)
        if demo_problem:
            welcome.problem_label.setText(demo_problem)
        waits: list[background.Stream] = []
        if first_read is not None:
            read, first_read = first_read, None
            AfterFirstPaint(
                welcome,
                lambda: waits.append(_read_after_first_frame(read, welcome.use_saved_key, welcome)),
            )
        accepted = welcome.exec()
        for wait in waits:
            # Its answer is no longer wanted, and its thread must not outlive the screen.
            wait.cancel()
            wait.wait()
        if not accepted or welcome.account is None:
            if welcome.demo_server is not None:
                welcome.demo_server.stop()
            app.removeEventFilter(opened)
            return None
        account, server = welcome.account, welcome.demo_server
    remember_demo = account.demo and not settings.demo_mode
    if remember_demo:
        settings = replace(settings, demo_mode=True)
    session = Session(app, settings, account, server, log_file, first_read=first_read)
    if remember_demo:
        # Next start goes straight to demo mode, until a key is entered. Saved after the
        # first frame, with the other held work.
        background.run_in_background(lambda: save_settings_file(settings), _ignore, _log_failure)
    if listener is not None:
        session.start_demo(listener)
    window = session.window
    if window is not None:
        if loaded.problems:
            window.show_banner(" ".join(loaded.problems), offer_settings=True)
        if urls:
            window.add_urls(urls)
        if paths or opened.pending:
            window.add_paths([*paths, *opened.pending])
        if crash.pending_report() is not None:
            from uploader_app.gui import crash_notice  # noqa: PLC0415 - after a crash only

            crash_notice.offer_crash_report(window)
    opened.pending.clear()
    opened.window = lambda: session.window
    return session
