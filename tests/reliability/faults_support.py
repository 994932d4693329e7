"""A small batch through the real engine, over real HTTP, against a sandbox fault plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.engine.cli_support import distinct_videos
from tests.integration.engine.support import (
    FAST_RETRY,
    TARGET,
    Events,
    index_id,
    make_engine,
    running,
)
from tests.reliability.invariants import Outcome, check_invariants
from uploader_app.api.client import ApiClient
from uploader_app.api.transport import Timeouts
from uploader_app.jobs.engine import Engine
from uploader_app.models import Job
from uploader_app.sandbox.server import SandboxServer

# Every rule in this package's plans hits the v1.3 API unless a test says otherwise.
TASKS = "/v1.3/tasks"


def rule(
    fault: str, path: str = TASKS, method: str | None = "POST", **fields: Any
) -> dict[str, Any]:
    """One fault rule (docs/sandbox.md "Fault injection")."""
    made: dict[str, Any] = {"fault": fault, "path": path, **fields}
    if method is not None:
        made["method"] = method
    return made


def short_timeouts(sandbox: SandboxServer, seconds: float) -> Callable[[], ApiClient]:
    """Clients whose every wait for the service gives up after ``seconds`` (the stall test)."""
    timeouts = Timeouts(connect=seconds, read=seconds, upload_read=seconds)
    return lambda: ApiClient(
        sandbox.base_url(), TEST_API_KEY, retry=FAST_RETRY, chunk_size=16 * 1024, timeout=timeouts
    )


@dataclass
class Batch:
    """``count`` distinct clips queued on one engine; ``run`` sends them, ``check`` ends the
    scenario with the shared invariants (tests/reliability/invariants.py)."""

    sandbox: SandboxServer
    engine: Engine
    events: Events
    index: str
    files: list[Path]
    jobs: list[Job]

    def run(self, timeout: float = 60.0, uploads: int = 2) -> None:
        with running(self.engine, uploads=uploads) as runner:
            assert runner.wait(timeout=timeout), "the batch did not settle"

    def check(self) -> Outcome:
        return self.check_with(None)

    def check_with(self, problem: str | None) -> Outcome:
        """The invariants while ``problem`` (the text the user was shown) holds the batch."""
        return check_invariants(
            self.engine.store,
            self.sandbox,
            self.index,
            names=[f.name for f in self.files],
            problem=problem,
        )

    def requests(self, method: str, path: str = TASKS) -> int:
        return self.sandbox.requests.count((method, path))


def batch(
    start_sandbox: StartSandbox,
    video_dir: Path,
    tmp_path: Path,
    *,
    faults: list[dict[str, Any]] | None = None,
    count: int = 3,
    sandbox_options: dict[str, Any] | None = None,
    clients: Callable[[SandboxServer], Callable[[], ApiClient]] | None = None,
    **engine_options: Any,
) -> Batch:
    """A sandbox with ``faults`` armed after the batch is queued (so the scan and the index
    look are not what breaks), an engine on it (its clients made by ``clients(sandbox)`` when
    given) and ``count`` queued clips."""
    sandbox = start_sandbox(**(sandbox_options or {}))
    events = Events()
    if clients is not None:
        engine_options["factory"] = clients(sandbox)
    engine = make_engine(sandbox, tmp_path / "home", events=events, **engine_options)
    index = index_id(sandbox)
    files = distinct_videos(tmp_path / "in", video_dir, count)
    jobs = engine.add_paths(files, index, target=TARGET)
    sandbox.clear_requests()
    sandbox.set_faults({"seed": 19, "rules": faults or []})
    return Batch(sandbox, engine, events, index, files, jobs)
