"""Fault matrix, the account: a key refused mid-batch and a plan's allowance used up. The
batch waits with the reason, and resumes once the key or the plan is fixed; every file ends
with one video (tests/reliability/invariants.py)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, run_json, start_cli
from tests.integration.engine.support import index_id, running, wait_until
from tests.reliability.faults_support import batch, rule
from tests.reliability.invariants import check_invariants
from uploader_app.models import JobState
from uploader_app.store import Store

NEW_KEY = "tlk_rotated-test-key-not-a-secret"


def test_a_key_refused_mid_batch_stops_with_the_reason_and_a_new_key_resumes(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: the key is revoked after two uploads; the CLI stops every upload with "API key
    # not accepted" and what to do (exit 3), the rest waiting; the same command with the new
    # key sends only what was left, one video per file.
    slow = {"rules": [rule("slow", delay=0.3)]}
    sandbox = start_sandbox(faults=slow)
    home = tmp_path / "home"
    env = cli_env(sandbox, home)
    index = index_id(sandbox)
    folder = tmp_path / "in"
    files = distinct_videos(folder, video_dir, 6)
    args = ("upload", "--index", index, "--wait", str(folder))
    proc = start_cli(env, *args, "--json")
    wait_until((home / "jobs.sqlite3").exists, timeout=30)
    store = Store(home / "jobs.sqlite3")
    wait_until(lambda: sum(1 for j in store.jobs() if j.task_id) >= 2, timeout=60)
    sandbox.sandbox.api_key = NEW_KEY  # revoked in the dashboard
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "API key not accepted" in err
    assert "Copy a current key from the Twelve Labs dashboard" in err
    assert "Traceback" not in err
    held = check_invariants(store, sandbox, index, names=[f.name for f in files], problem=err)
    assert held.count(JobState.READY) < len(files)  # it really stopped part-way

    sent_before = sandbox.requests.count(("POST", "/v1.3/tasks"))
    sandbox.set_faults(None)
    code, rows, err = run_json({**env, "TWELVELABS_API_KEY": NEW_KEY}, *args)
    assert code == 0, err
    assert [r["state"] for r in rows] == ["ready"] * len(files)
    outcome = check_invariants(store, sandbox, index, names=[f.name for f in files])
    assert outcome.count(JobState.READY) == len(files)
    sent_after = sandbox.requests.count(("POST", "/v1.3/tasks")) - sent_before
    assert sent_after == len(files) - sum(1 for j in held.jobs if j.task_id)


def test_usage_limit_stops_the_batch_with_the_plan_reason_and_resume_finishes_it(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: the plan's allowance runs out after the first upload; the job that met it waits
    # with "Plan limit reached" and what to do, nothing else is sent; once the plan renews,
    # Resume sends the rest, one video per file.
    run = batch(
        start_sandbox,
        video_dir,
        tmp_path,
        faults=[rule("usage_limit", skip=1)],
        count=3,
        concurrent_uploads=1,
    )
    with running(run.engine, uploads=1):
        wait_until(lambda: run.engine.problem is not None, timeout=60)
        wait_until(lambda: all(j.state is not JobState.UPLOADING for j in run.engine.jobs()))
    problem = run.engine.problem
    assert problem is not None and problem.code == "usage_limit_exceeded"
    assert problem.title == "Plan limit reached" and problem.hint
    held = run.check_with(problem.message)
    waiting = [j for j in held.jobs if j.state is JobState.NEEDS_ATTENTION]
    assert len(waiting) == 1 and "allowance" in waiting[0].error_message
    assert run.requests("POST") == 2  # the one that went through, the one refused

    run.sandbox.set_faults(None)
    run.engine.resume()
    run.run(uploads=1)
    assert run.check().count(JobState.READY) == 3
