"""The once-per-batch check of key and index: every answer becomes a BatchProblem in words."""

from __future__ import annotations

from pathlib import Path

from tests.integration.engine.support import FAST_RETRY, Events, index_id, make_engine
from uploader_app.api.client import ApiClient
from uploader_app.jobs.events import BatchProblem, BatchProblemCleared
from uploader_app.sandbox.server import SandboxServer


def _problems(events: Events) -> list[str]:
    return [e.code for e in events.of(BatchProblem)]


def test_a_good_key_and_index_clear_a_problem(sandbox: SandboxServer, tmp_path: Path) -> None:
    events = Events()
    engine = make_engine(sandbox, tmp_path, events=events)
    engine.preflight("0" * 24)
    assert _problems(events) == ["index_missing"]
    engine.preflight(index_id(sandbox))
    assert events.of(BatchProblemCleared)


def test_a_refused_key_is_a_batch_problem(sandbox: SandboxServer, tmp_path: Path) -> None:
    events = Events()

    def factory() -> ApiClient:
        return ApiClient(sandbox.base_url(), "not-the-sandbox-key", retry=FAST_RETRY)

    make_engine(sandbox, tmp_path, events=events, factory=factory).preflight(index_id(sandbox))
    assert _problems(events) == ["api_key_invalid"]


def test_a_malformed_key_is_a_batch_problem_not_an_exception(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """A key pasted with curly quotes is refused while the client is built; before, that
    refusal escaped preflight as an exception instead of the banner's words."""
    events = Events()

    def factory() -> ApiClient:
        return ApiClient(sandbox.base_url(), "\u201ckey\u201d", retry=FAST_RETRY)

    make_engine(sandbox, tmp_path, events=events, factory=factory).preflight(index_id(sandbox))
    [problem] = events.of(BatchProblem)
    assert problem.code == "api_key_malformed"
    assert problem.message and "{" not in problem.message
