"""GUI fixtures: window state in a per-test QSettings file, never the user's; an engine host
over a real store and the sandbox, and a task panel to show it in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY, StartSandbox
from uploader_app.api.client import ApiClient
from uploader_app.gui.task_panel import TaskPanel
from uploader_app.gui.workers import EngineHost
from uploader_app.jobs.engine import Engine, EngineOptions
from uploader_app.jobs.events import EngineEvent
from uploader_app.models import Job, JobState
from uploader_app.sandbox.server import SandboxServer
from uploader_app.store import Store

MakeHost = Callable[..., EngineHost]


# A test that leaves videos unsent and lets pytest-qt close its window at teardown would meet
# the modal "still uploading" question with nobody to answer it: the run hangs (seen in a
# full-suite run). Unanswered after this long, it takes the default, "Keep them for next time".
# Tests that answer it do so within 20 ms of its showing (test_task_panel.py); four tests that
# leave it waited 3 s each at teardown before this was 1 s.
UNANSWERED_CLOSE_SECONDS = 1.0


@pytest.fixture(autouse=True)
def _close_dialog_never_waits_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QTimer

    from uploader_app.gui.close_dialog import CloseDialog

    exec_dialog = CloseDialog.exec

    def exec_with_default(dialog: CloseDialog) -> int:
        def keep() -> None:
            try:
                if dialog.isVisible():
                    dialog.keep_button.click()
            except RuntimeError:  # already closed and deleted: the test answered it
                pass

        QTimer.singleShot(round(UNANSWERED_CLOSE_SECONDS * 1000), keep)
        return exec_dialog(dialog)

    monkeypatch.setattr(CloseDialog, "exec", exec_with_default)


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


def first_index(server: SandboxServer) -> str:
    """The id of one of the sandbox's demo indexes."""
    with ApiClient(server.base_url(), TEST_API_KEY) as client:
        return client.list_indexes().items[0].id


@pytest.fixture
def make_host(tmp_path: Path, qtbot: QtBot) -> Iterator[MakeHost]:
    """``make_host(server, uploads=2, store=..., grace=1.0, **settings)``: a started host; every
    host is shut down (keeping its jobs) after the test. A paused or stopped upload's request
    is looked for over ``grace`` seconds before it is sent again, 1 s as in the engine tests
    (the app's 15 s made each such test wait them out)."""
    hosts: list[EngineHost] = []

    def make(
        server: SandboxServer,
        *,
        uploads: int = 2,
        store: Path | None = None,
        grace: float = 1.0,
        **settings: Any,
    ) -> EngineHost:
        path = store or tmp_path / "jobs.sqlite3"
        config = EngineOptions(concurrent_uploads=uploads, **settings)

        def make_engine(on_event: Callable[[EngineEvent], None]) -> Engine:
            return Engine(
                Store(path),
                config,
                lambda: ApiClient(server.base_url(), TEST_API_KEY),
                on_event=on_event,
                grace=grace,
            )

        host = EngineHost(make_engine, uploads=uploads)
        hosts.append(host)
        host.start()
        return host

    yield make
    for host in hosts:
        if host.running:
            host.shutdown(keep=True)


@pytest.fixture
def panel_for(qtbot: QtBot) -> Callable[[EngineHost], TaskPanel]:
    def make(host: EngineHost) -> TaskPanel:
        panel = TaskPanel(host)
        qtbot.addWidget(panel)
        panel.resize(1200, 400)
        panel.show()
        qtbot.waitUntil(lambda: panel.loaded, timeout=5000)
        return panel

    return make


def wait_for_state(qtbot: QtBot, panel: TaskPanel, job_id: int, *states: JobState) -> Job:
    """Wait until the list (not the store) shows the job in one of ``states``."""

    def shown() -> bool:
        row = panel.model.row_of(job_id)
        return row is not None and panel.model.job_at(row).state in states

    qtbot.waitUntil(shown, timeout=30_000)
    row = panel.model.row_of(job_id)
    assert row is not None
    return panel.model.job_at(row)


@dataclass
class Rig:
    """A sandbox, one of its indexes, a started host over a store, and the panel showing it."""

    server: SandboxServer
    index_id: str
    host: EngineHost
    panel: TaskPanel

    def add(self, *paths: Path) -> list[Job]:
        """Queue files as the Files tab does, and wake the workers."""
        jobs = self.host.engine.add_paths(list(paths), self.index_id)
        self.host.wake()
        return jobs


MakeRig = Callable[..., Rig]


@pytest.fixture
def rig(
    start_sandbox: StartSandbox,
    make_host: MakeHost,
    panel_for: Callable[[EngineHost], TaskPanel],
) -> MakeRig:
    """``rig(**engine_options)``: a fresh sandbox with a host and panel over it."""

    def make(**options: Any) -> Rig:
        server = start_sandbox()
        host = make_host(server, **options)
        return Rig(server, first_index(server), host, panel_for(host))

    return make
