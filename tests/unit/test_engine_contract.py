"""The engine takes the app's settings as they are (the contract the window codes against)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from uploader_app.api.client import ApiClient
from uploader_app.jobs.engine import DEFAULT_MULTIPART_OVER, Engine, Totals
from uploader_app.jobs.events import EngineEvent
from uploader_app.models import JobState
from uploader_app.settings import AppSettings
from uploader_app.store import Store


def _never() -> ApiClient:
    raise AssertionError("no request expected")


def test_engine_runs_on_app_settings_and_starts_empty(tmp_path: Path) -> None:
    seen: list[EngineEvent] = []
    engine = Engine(Store(tmp_path / "jobs.sqlite3"), AppSettings(), _never, seen.append)
    assert engine.settings.concurrent_uploads == 2
    assert engine.jobs() == []
    assert engine.totals() == Totals({}, 0, 0, None, None)
    assert engine.claim_upload("w") is None
    assert engine.pause(None) == []
    assert seen == []
    assert DEFAULT_MULTIPART_OVER == 200_000_000
    assert not JobState.PAUSED.is_active
    assert not JobState.PAUSED.is_terminal
    assert JobState.ALREADY_IN_INDEX.is_terminal


def test_settings_changed_at_run_time_apply_at_once(tmp_path: Path) -> None:
    engine = Engine(Store(tmp_path / "jobs.sqlite3"), AppSettings(), _never)
    engine.settings = replace(AppSettings(), poll_budget_per_minute=7, bandwidth_cap=1000)
    engine.poll_once()  # nothing on the service: no request
    assert engine._poller.budget == 7
