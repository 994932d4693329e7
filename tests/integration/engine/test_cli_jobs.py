"""The job commands of the CLI, run as a user would, in child processes."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, run_cli, run_json
from tests.integration.engine.support import client_factory, index_id


def test_upload_wait_json_then_status_and_export(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    folder = tmp_path / "in"
    files = distinct_videos(folder, video_dir, 3)
    (folder / "notes.txt").write_text("not a video")
    code, rows, err = run_json(env, "upload", "--index", index, "--wait", str(folder))
    assert code == 0, err
    assert sorted(r["path"] for r in rows) == sorted(str(f) for f in files)
    assert all(r["state"] == "ready" and r["task_id"] and r["video_id"] for r in rows)
    assert all({"code", "message"} <= set(r) for r in rows)
    code, status_rows, _ = run_json(env, "status")
    assert code == 0
    assert [r["task_id"] for r in status_rows] == [r["task_id"] for r in rows]
    code, out, _ = run_cli(env, "status", "--watch")  # nothing moves: returns at once
    assert code == 0
    assert out.count("\tready\t") == 3
    out_csv = tmp_path / "jobs.csv"
    code, out, _ = run_cli(env, "export", str(out_csv))
    assert "3 jobs" in out
    assert code == 0
    with out_csv.open(encoding="utf-8-sig") as fh:
        exported = list(csv.DictReader(fh))
    assert [r["task_id"] for r in exported] == [r["task_id"] for r in rows]
    assert {r["status"] for r in exported} == {"ready"}
    # The same command again sends nothing new.
    code, again, _ = run_json(env, "upload", "--index", index, "--wait", str(folder))
    assert code == 0
    assert [r["task_id"] for r in again] == [r["task_id"] for r in rows]
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 3


def test_exit_codes(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    short = video("short.mp4", duration=1.0)
    code, rows, _ = run_json(env, "upload", "--index", index, str(short))
    assert code == 1
    assert rows[0]["state"] == "rejected"
    assert rows[0]["message"]
    code, _, err = run_cli(env, "upload", "--index", index, str(tmp_path / "nope.mp4"))
    assert code == 2
    assert "nope.mp4" in err
    code, _, err = run_cli(
        {**env, "TWELVELABS_API_KEY": "wrong"}, "upload", "--index", index, str(short)
    )
    assert code == 3
    assert "key" in err.lower()
    assert "Traceback" not in err
    code, _, err = run_cli(env, "upload", "--index", "nonexistent0000", str(short))
    assert code == 3
    assert "index" in err.lower()
    code, _, err = run_cli(env, "upload", "--index", index, "--multipart-over", "lots", str(short))
    assert code == 2
    code, _, err = run_cli(env, "retry")
    assert code == 2
    code, _, err = run_cli(env, "pause", "999")
    assert code == 2
