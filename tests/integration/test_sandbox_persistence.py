"""State across restarts, and the ``uploader-app sandbox`` command."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TEST_API_KEY
from tests.sandbox_http import Client, put_chunks, start_upload, terminal
from uploader_app.sandbox import multipart
from uploader_app.sandbox.records import UploadRecord
from uploader_app.sandbox.server import SandboxServer, banner, run_from_cli

Video = Callable[..., Path]

BIG_CHUNK = 64 * 1024  # few enough chunks for one batch of URLs


def settled(body: dict[str, Any]) -> bool:
    return body.get("status") in ("ready", "failed")


def _crash_after_the_last_report(
    data_dir: Path, data: bytes, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """Upload ``data`` in chunks and report them all, as a run killed right after the report
    saved the session as completed, before it joined the chunks; (upload id, asset id)."""
    server = SandboxServer(data_dir, api_key=TEST_API_KEY, speed=1000.0, chunk_size=BIG_CHUNK)
    server.start()
    try:
        with monkeypatch.context() as patch:
            patch.setattr(multipart, "_finish", lambda sandbox, upload: None)
            api = Client(server)
            session = start_upload(api, len(data), count=-(-len(data) // BIG_CHUNK))
            report = put_chunks(data, session["upload_urls"], BIG_CHUNK)
            path = f"/assets/multipart-uploads/{session['upload_id']}"
            assert api.post(path, json={"completed_chunks": report}).status_code == 200
        assert api.get(path).json()["status"] == "completed"
        assert api.get(f"/assets/{session['asset_id']}").json()["status"] == "processing"
    finally:
        server.stop()
    return session["upload_id"], session["asset_id"]


def test_a_restart_joins_the_chunks_a_crash_left_behind(
    tmp_path: Path, video: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "state"
    data = video("clip.mp4").read_bytes()
    upload_id, asset_id = _crash_after_the_last_report(data_dir, data, monkeypatch)
    assert (data_dir / "chunks" / upload_id).is_dir()

    second = SandboxServer(data_dir, api_key=TEST_API_KEY, speed=1000.0, chunk_size=BIG_CHUNK)
    second.start()
    try:
        api = Client(second)
        asset = api.wait(f"/assets/{asset_id}", settled)
        assert asset["status"] == "ready", asset
        assert asset["technical_metadata"]["video_width"] == 640
        assert requests.get(second.sandbox.file_url("assets", asset_id), timeout=10).content == (
            data
        )
        assert not (data_dir / "chunks" / upload_id).exists()
    finally:
        second.stop()


def test_a_restart_fails_a_completed_upload_whose_chunks_are_gone(
    tmp_path: Path, video: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "state"
    upload_id, asset_id = _crash_after_the_last_report(
        data_dir, video("clip.mp4").read_bytes(), monkeypatch
    )
    (data_dir / "chunks" / upload_id / "000001").unlink()

    second = SandboxServer(data_dir, api_key=TEST_API_KEY, speed=1000.0, chunk_size=BIG_CHUNK)
    second.start()
    try:
        api = Client(second)
        asset = api.wait(f"/assets/{asset_id}", settled)
        assert asset["status"] == "failed"
        assert "some of them are gone" in asset["error"]["message"]
        assert api.get(f"/assets/multipart-uploads/{upload_id}").json()["status"] == "failed"
        upload = second.sandbox.store.get(UploadRecord, upload_id)
        assert upload is not None and upload.status == "failed"
        assert not (data_dir / "chunks" / upload_id).exists()
    finally:
        second.stop()


def test_state_survives_a_restart(tmp_path: Path, video: Video) -> None:
    data_dir = tmp_path / "state"
    first = SandboxServer(data_dir, api_key=TEST_API_KEY, speed=20.0, chunk_size=1024)
    first.start()
    api = Client(first)
    index_id = api.index_id()
    assert api.put(f"/indexes/{index_id}", json={"index_name": "Mine"}).status_code == 200
    task_id = api.upload(index_id, video("clip.mp4")).json()["_id"]
    session = api.post(
        "/assets/multipart-uploads",
        json={"filename": "big.mp4", "type": "video", "total_size": 4096},
    ).json()
    put = requests.put(session["upload_urls"][0]["url"], data=b"z" * 1024, timeout=10)
    assert put.status_code == 200
    in_flight = api.get(f"/tasks/{task_id}").json()
    port = int(first.url.rsplit(":", 1)[1])
    first.stop()

    second = SandboxServer(data_dir, api_key=TEST_API_KEY, speed=20.0, port=port)
    second.start()
    try:
        api = Client(second)
        names = sorted(i["index_name"] for i in api.get("/indexes").json()["data"])
        assert names == ["Demo - Pegasus (analyze)", "Mine"]  # no second set of demo indexes
        task = api.get(f"/tasks/{task_id}").json()
        assert task["created_at"] == in_flight["created_at"]
        assert task["system_metadata"] == in_flight["system_metadata"]
        assert api.wait(f"/tasks/{task_id}", terminal)["status"] == "ready"
        status = api.get(f"/assets/multipart-uploads/{session['upload_id']}").json()
        assert status["status"] == "active"
        assert status["total_size"] == 4096
        # A URL signed before the restart works unchanged after it (same port), once.
        url = session["upload_urls"][1]["url"]
        assert requests.put(url, data=b"z" * 1024, timeout=10).status_code == 200
        assert requests.put(url, data=b"z" * 1024, timeout=10).status_code == 403
    finally:
        second.stop()


def test_the_cli_prints_its_url_and_key_first_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    plan = json.dumps({"rules": [{"path": "/v1.2/*", "fault": "status", "status": 503}]})
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "uploader_app", "sandbox", "--port", "0",
        "--data-dir", str(tmp_path / "cli"), "--api-key", "cli-key", "--speed", "100",
        "--faults", plan,
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Sandbox API at http://127.0.0.1:")
        assert first.rstrip().endswith("/v1.3 (also /v1.2) - API key: cli-key")
        base = first.split()[3]
        assert requests.get(f"{base}/indexes", headers={"x-api-key": "cli-key"}, timeout=10).ok
        v12 = base.replace("/v1.3", "/v1.2")
        assert (
            requests.get(f"{v12}/indexes", headers={"x-api-key": "cli-key"}, timeout=10).status_code
            == 503
        )
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
    assert code == 0


def test_the_cli_refuses_a_broken_fault_plan(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "uploader_app", "sandbox", "--port", "0",
        "--data-dir", str(tmp_path / "cli"), "--faults", '{"rules": [{"fault": "nope"}]}',
    ]  # fmt: skip
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "fault" in done.stderr


def test_on_all_addresses_the_banner_gives_the_loopback_url_and_a_warning(
    tmp_path: Path,
) -> None:
    server = SandboxServer(tmp_path / "wide", api_key="k", host="0.0.0.0")
    server.start()
    try:
        base = server.base_url()
        lines = banner(server, tmp_path / "wide", 1.0, faults=False)
        assert requests.get(f"{base}/indexes", headers={"x-api-key": "k"}, timeout=10).ok
    finally:
        server.stop()
    assert base.startswith("http://127.0.0.1:")
    text = "\n".join(lines)
    assert lines[0].startswith(f"Sandbox API at {base} ")
    assert f"export TWELVELABS_BASE_URL={base}" in text
    assert "0.0.0.0" not in text
    assert "other machines" in text and "unencrypted" in text


def test_a_local_host_gets_no_warning(tmp_path: Path) -> None:
    server = SandboxServer(tmp_path / "local", api_key="k")
    server.start()
    try:
        lines = banner(server, tmp_path / "local", 1.0, faults=True)
    finally:
        server.stop()
    assert not any("unencrypted" in line for line in lines)
    assert lines[-2].endswith("fault plan loaded")


def test_the_cli_sandbox_keeps_no_log_of_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tests read every request from the log, with its answer (about 8 KB for a page of
    ten indexes); the command runs for days under a polling app and reads none of it."""
    listening: list[tuple[SandboxServer, Any]] = []
    listen = SandboxServer.listen

    def spy(self: SandboxServer) -> Any:
        bound = listen(self)
        listening.append((self, bound))
        return bound

    monkeypatch.setattr(SandboxServer, "listen", spy)
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # only the main thread may set it
    args = argparse.Namespace(
        faults=None, data_dir=str(tmp_path / "cli"), api_key="cli-key", speed=100.0,
        host="127.0.0.1", port=0, s3_dir=None, s3_endpoint=None,
    )  # fmt: skip
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(run_from_cli(args)))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not listening and time.monotonic() < deadline:
            time.sleep(0.01)
        server = listening[0][0]
        for _ in range(3):
            answer = requests.get(
                f"{server.base_url()}/indexes", headers={"x-api-key": "cli-key"}, timeout=10
            )
            assert answer.ok
    finally:
        if listening:
            listening[0][1].shutdown()
        thread.join(timeout=10)
    assert codes == [0]
    assert not server.requests
    assert not server.request_records
    assert "Sandbox API at" in capsys.readouterr().out
