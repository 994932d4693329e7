"""The one check every fault, kill and soak scenario ends with (issue 19).

1. Every job is terminal, or waits for the user with a reason it can read (``needs_attention``
   with a message; ``paused`` is the user's own reason; while a batch problem such as a refused
   key stops every upload, the jobs it holds back wait for the reason the user was shown).
   Nothing is left half-way.
2. Exactly one video per file in the index: no file has two videos (no duplicate), every job
   the engine calls sent has its video there, and the index holds no video no job knows (a
   lost answer that was sent again would leave one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from uploader_app.api.client import ApiClient
from uploader_app.models import Job, JobState, TaskStatus
from uploader_app.sandbox.server import SandboxServer
from uploader_app.store import Store

# The engine's word that the file's video is (or is becoming) a video of the index.
SENT = frozenset({JobState.ON_SERVICE, JobState.READY, JobState.ALREADY_IN_INDEX})
WAITING = frozenset({JobState.NEEDS_ATTENTION, JobState.PAUSED})
# Not claimed (queued) or not followed (on the service) while a batch problem stops the work.
HELD_BACK = frozenset({JobState.QUEUED, JobState.ON_SERVICE})


@dataclass(frozen=True)
class Outcome:
    """What the check saw, for a scenario's own assertions and its printed figures."""

    jobs: list[Job]
    videos: Counter[str]  # file name -> live videos (tasks and indexed assets) in the index

    def count(self, state: JobState) -> int:
        return sum(1 for j in self.jobs if j.state is state)


def index_videos(sandbox: SandboxServer, index_id: str, version: str = "v1.3") -> dict[str, str]:
    """Every live (not failed) task and indexed asset of the index: id -> file name."""
    found: dict[str, str] = {}
    # The key the sandbox takes now (a test may have changed it, as a revoked key would).
    with ApiClient(sandbox.base_url(version), sandbox.sandbox.api_key) as client:
        for task in client.iter_tasks(index_id, page_limit=50):
            if task.status is not TaskStatus.FAILED:
                found[task.id] = task.filename or ""
        if version != "v1.2":
            for asset in client.iter_indexed_assets(index_id, page_limit=50):
                if asset.status != "failed":
                    found[asset.id] = asset.filename or ""
    return found


def check_invariants(
    store: Store,
    sandbox: SandboxServer,
    index_id: str,
    *,
    version: str = "v1.3",
    names: Sequence[str] | None = None,
    problem: str | None = None,
) -> Outcome:
    """Assert the two invariants above for the jobs of ``index_id`` (``names``: the files the
    scenario queued, each of which must have a job; ``problem``: what the user was told
    stopped the batch, if something did); returns what was seen."""
    assert store.integrity_ok(), "the job store fails PRAGMA integrity_check"
    jobs = [j for j in store.jobs() if j.index_id == index_id]
    if names is not None:
        assert sorted(j.name for j in jobs) == sorted(names), "a file was lost or queued twice"
    for job in jobs:
        where = f"job {job.id} ({job.name}) is {job.state}"
        if job.state in WAITING:
            assert job.state is JobState.PAUSED or job.error_message, f"{where} with no reason"
        elif problem is not None and job.state in HELD_BACK:
            assert problem.strip(), f"{where}, held back by a problem nobody was told"
        else:
            assert job.state.is_terminal, f"{where}: left half-way"
        if job.state in (JobState.FAILED, JobState.REJECTED):
            assert job.error_message and job.error_hint, f"{where} with no reason or way out"
    videos = index_videos(sandbox, index_id, version)
    per_name = Counter(videos.values())
    twice = {name: n for name, n in per_name.items() if n > 1}
    assert not twice, f"files with more than one video in the index: {twice}"
    ours = {j.task_id or j.indexed_asset_id for j in jobs if j.state in SENT} - {None}
    unknown = {vid: name for vid, name in videos.items() if vid not in ours}
    # already_in_index jobs point at a video (video_id), not at an object they created.
    adopted = {j.name for j in jobs if j.state is JobState.ALREADY_IN_INDEX}
    unknown = {vid: name for vid, name in unknown.items() if name not in adopted}
    assert not unknown, f"videos in the index that no sent job holds: {unknown}"
    missing = [j.name for j in jobs if j.state in SENT and per_name[j.name] != 1]
    assert not missing, f"sent jobs whose video is not in the index once: {missing}"
    return Outcome(jobs, per_name)
