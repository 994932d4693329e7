"""Fault matrix, no way to the service when a batch starts: a name that does not resolve, and
no network at all (nothing listening). The command says so in plain words and sends nothing;
the same command once the network is back sends every file once."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, run_cli, run_json
from tests.integration.engine.support import index_id
from tests.reliability.invariants import check_invariants
from uploader_app.models import JobState
from uploader_app.store import Store


def _unreachable(err: str) -> None:
    assert "Traceback" not in err and "Error" not in err.split(":", maxsplit=1)[0], err
    assert "connection" in err.lower() or "network" in err.lower(), err


def test_a_name_that_does_not_resolve_stops_before_anything_is_queued(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: DNS failure at start: exit 1 with what to check, no job queued.
    home = tmp_path / "home"
    env = cli_env(start_sandbox(), home)
    env["TWELVELABS_BASE_URL"] = "https://api.uploader-test.invalid/v1.3"
    folder = tmp_path / "in"
    distinct_videos(folder, video_dir, 2)
    code, _out, err = run_cli(env, "upload", "--index", "6298d673f1090f1100476d4c", str(folder))
    assert code == 1, err
    _unreachable(err)
    store = home / "jobs.sqlite3"
    assert not store.exists() or not Store(store).jobs()


def test_no_network_at_start_then_the_same_command_sends_each_file_once(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: nothing answers at the service's address: exit 1, nothing sent; when it is
    # back, the same command sends every file once and they are ready.
    first = start_sandbox()
    index = index_id(first)
    port = int(first.url.rsplit(":", 1)[1])
    home = tmp_path / "home"
    env = cli_env(first, home)
    first.stop()
    folder = tmp_path / "in"
    files = distinct_videos(folder, video_dir, 2)
    args = ("upload", "--index", index, "--wait", str(folder))
    code, _out, err = run_cli(env, *args)
    assert code == 1, err
    _unreachable(err)
    with socket.socket() as probe:  # the port is still free: nothing else took it meanwhile
        probe.bind(("127.0.0.1", port))
    back = start_sandbox(data_dir=tmp_path / "sandbox-0", port=port)
    code, rows, err = run_json(env, *args)
    assert code == 0, err
    assert [r["state"] for r in rows] == ["ready"] * 2
    outcome = check_invariants(
        Store(home / "jobs.sqlite3"), back, index, names=[f.name for f in files]
    )
    assert outcome.count(JobState.READY) == 2
