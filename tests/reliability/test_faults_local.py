"""Fault matrix, this computer: the disk fills up while the job list is written, and the
files change under the batch (deleted, renamed, grown while waiting). Each ends with the
shared invariants (tests/reliability/invariants.py).

A full disk is made with RLIMIT_FSIZE in the CLI's own process (no root, no tmpfs or loop
device needed): a write past the limit fails with EFBIG, which SQLite reports as an I/O error,
as it reports SQLITE_FULL on a full disk; the app must treat both alike (docs/engine.md)."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, run_json
from tests.integration.engine.support import TARGET, index_id
from tests.reliability.faults_support import batch
from tests.reliability.invariants import check_invariants
from uploader_app.jobs.events import JobNotice
from uploader_app.models import JobState, SourceKind
from uploader_app.store import NewJob, Store
from uploader_app.validation.fingerprint import compute_fingerprint


def _cli_with_file_limit(env: dict[str, str], limit: int, *args: str) -> tuple[int, str]:
    def limit_files() -> None:  # in the child, before the app starts
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "uploader_app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_files,
        check=False,
    )
    return done.returncode, done.stderr


def test_disk_full_while_the_store_is_written_stops_plainly_then_the_batch_finishes_once(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: the job list cannot grow past 100 kB mid-batch: the CLI stops every upload
    # with "Job list not saved" and what to do (exit 1, no crash report, no hang); the store
    # is intact; with space again the same command sends each file once.
    sandbox = start_sandbox()
    home = tmp_path / "home"
    env = cli_env(sandbox, home)
    index = index_id(sandbox)
    folder = tmp_path / "in"
    files = distinct_videos(folder, video_dir, 6)
    args = ("upload", "--index", index, "--wait", str(folder))
    code, err = _cli_with_file_limit(env, 100_000, *args)
    assert code == 1, err
    assert "Job list not saved: The app could not save its list of uploads" in err
    assert "Free some disk space" in err
    assert "Traceback" not in err and not (home / "crash-reports").exists()
    store = Store(home / "jobs.sqlite3")
    assert store.integrity_ok()
    code, rows, err = run_json(env, *args)
    assert code == 0, err
    assert {r["state"] for r in rows} == {"ready"}
    outcome = check_invariants(store, sandbox, index, names=[f.name for f in files])
    assert outcome.count(JobState.READY) == 6


def test_disk_full_before_the_first_job_is_saved_sends_nothing(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: not even the queue can be saved: exit 1 with the reason, nothing sent.
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    folder = tmp_path / "in"
    distinct_videos(folder, video_dir, 20)
    code, err = _cli_with_file_limit(env, 40_000, "upload", "--index", index, str(folder))
    assert code == 1, err
    assert "Job list not saved" in err and "Free some disk space" in err
    assert "Traceback" not in err
    assert ("POST", "/v1.3/tasks") not in sandbox.requests


def test_files_deleted_renamed_or_grown_before_their_turn_end_plainly_and_their_fix_works(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: a file grown while it waited is checked again and sent as it is now (told);
    # a deleted and a renamed one fail with "no longer in" and the way out; putting the
    # first back and adding the second from where it is now sends each once. (A file still
    # growing during its upload: test_engine_controls.py.)
    run = batch(
        start_sandbox,
        video_dir,
        tmp_path,
        count=4,
        concurrent_uploads=1,
    )
    fine, deleted, renamed, grown = run.files
    kept = shutil.copy(deleted, tmp_path / "kept.mp4")
    deleted.unlink()
    moved = renamed.rename(renamed.with_name("renamed later.mp4"))
    with grown.open("ab") as fh:
        fh.write(b"\0" * 4096)
    run.run(uploads=1)
    by_name = {j.name: j for j in run.engine.jobs()}
    for name in (deleted.name, renamed.name):
        assert by_name[name].error_code == "source_missing"
        assert "no longer in" in by_name[name].error_message
        assert "add it again from where it is now" in by_name[name].error_hint
    assert by_name[grown.name].state is JobState.READY
    assert by_name[grown.name].size == grown.stat().st_size
    assert any("changed since it was added" in n.message for n in run.events.of(JobNotice))
    assert by_name[fine.name].state is JobState.READY

    shutil.move(kept, deleted)
    run.engine.retry([by_name[deleted.name].id])
    [again] = run.engine.add_paths([moved], run.index, target=TARGET)
    assert again.state is JobState.QUEUED, again
    run.run(uploads=1)
    names = [fine.name, deleted.name, moved.name, grown.name]
    outcome = check_invariants(run.engine.store, run.sandbox, run.index, names=names)
    assert outcome.count(JobState.READY) == 4


def test_a_file_added_again_from_elsewhere_is_sent_with_its_own_fingerprint(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: a file that grew before its turn was sent as grown, so its job holds the grown
    # content's fingerprint (and takes it as its key when it starts: docs/engine.md, "Dedup");
    # the original copy, added again from another place, must carry the copy's own
    # fingerprint and size, never the grown file's (recovery would take the grown file's
    # video for this one), and the grown file's job keeps its own.
    run = batch(start_sandbox, video_dir, tmp_path, count=1)
    [clip] = run.files
    original = Path(shutil.copy(clip, tmp_path / "original copy.mp4"))
    with clip.open("ab") as fh:
        fh.write(b"\0" * 4096)
    run.run(uploads=1)
    [sent] = run.engine.jobs()
    assert sent.state is JobState.READY and sent.fingerprint == compute_fingerprint(clip)
    [again] = run.engine.add_paths([original], run.index, target=TARGET, force=True)
    assert again.name == original.name
    assert again.fingerprint == compute_fingerprint(original)
    assert again.size == original.stat().st_size
    [grown] = run.engine.store.jobs(ids=[sent.id])
    assert grown.fingerprint == sent.fingerprint and grown.state is JobState.READY


def test_disk_full_while_a_control_command_changes_the_list_says_so_plainly(
    tmp_path: Path,
) -> None:
    # Outcome: `cancel --all` on a long list, with the disk full after a few changes: exit 1
    # with the reason and what to do, never a crash report; what was changed stays changed.
    home = tmp_path / "home"
    home.mkdir()
    with Store(home / "jobs.sqlite3") as store:
        store.add(
            [
                NewJob(SourceKind.FILE, f"/videos/clip {n:03}.mp4", "index", dedup_key=f"k{n}")
                for n in range(300)
            ]
        )
    env = {**os.environ, "UPLOADER_APP_HOME": str(home)}
    code, err = _cli_with_file_limit(env, 40_000, "cancel", "--all")
    assert code == 1, err
    assert "Job list not saved" in err and "Free some disk space" in err
    assert not (home / "crash-reports").exists()
    with Store(home / "jobs.sqlite3") as store:
        assert store.integrity_ok()
        assert store.counts()[JobState.QUEUED] > 0  # it really stopped part-way


def test_disk_full_when_the_job_list_is_first_made_says_so_plainly(tmp_path: Path) -> None:
    # Outcome: not even a new, empty job list can be written: exit 1 (as mid-batch, not the
    # exit 3 of a damaged list) with the reason and what to do.
    env = {**os.environ, "UPLOADER_APP_HOME": str(tmp_path / "home")}
    code, err = _cli_with_file_limit(env, 2_000, "status")
    assert code == 1, err
    assert "Job list not saved" in err and "Free some disk space" in err
    assert "Traceback" not in err
