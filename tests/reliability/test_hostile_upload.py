"""``upload`` of the hostile corpus against the sandbox: refused files are reported and never
sent, every usable video is sent exactly once, under its own name, and the JSON stays UTF-8."""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos
from tests.integration.engine.support import (
    TARGET,
    client_factory,
    index_id,
    make_engine,
    running,
)
from tests.reliability.hostile_corpus import TECHNICAL, Corpus, run_cli, strict_json
from uploader_app import models
from uploader_app.api import client as api_client
from uploader_app.models import JobState, upload_filename
from uploader_app.validation.messages import valid_text


@pytest.mark.timeout(300)
def test_upload_sends_the_usable_files_once_and_reports_the_rest(
    start_sandbox: StartSandbox, hostile_corpus: Corpus, tmp_path: Path
) -> None:
    corpus = hostile_corpus
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    code, out, err = run_cli(
        "upload", "--index", index, "--wait", "--json", str(corpus.folder), env=env, timeout=280
    )
    assert b"Traceback" not in err, err
    rows = strict_json(out)
    assert code == 1, err  # some files are refused
    by_name = {Path(r["path"]).name: r for r in rows}
    expected_sent = {valid_text(e.name) for e in corpus.entries if e.fate == "sent"}
    # good-link.mp4 is a symlink to plain.mp4: one file, so one job under one of its names.
    [alias] = {"plain.mp4", "good-link.mp4"} - set(by_name)
    expected_sent.remove(alias)
    refused = {valid_text(e.name) for e in corpus.entries if e.fate == "refused"}
    # A job for each video and each refused file; skipped things (pipes, devices, notes) none.
    assert set(by_name) == expected_sent | refused
    states = Counter(r["state"] for r in rows)
    wrong = [r for r in rows if (r["state"] == "ready") != (Path(r["path"]).name in expected_sent)]
    assert not wrong, [(r["path"], r["code"], r["message"], r["hint"]) for r in wrong]
    assert states == {"ready": len(expected_sent), "rejected": len(refused)}, states
    for name in refused:
        row = by_name[name]
        assert row["task_id"] is None and row["video_id"] is None
        assert row["message"] and row["hint"], row
        assert not any(word in row["message"] + row["hint"] for word in TECHNICAL), row
    with client_factory(sandbox)() as client:
        tasks = list(client.iter_tasks(index))
    sent_names = Counter(t.filename for t in tasks)
    # Exactly one task per usable file, listed under the name the app looks it up by
    # (line breaks, quotes and backslashes swapped: models.upload_filename).
    assert sum(sent_names.values()) == len(expected_sent)
    assert set(sent_names) == {upload_filename(name) for name in expected_sent}
    assert "line break.mp4" in sent_names
    print(f"\n{len(expected_sent)} sent, {len(refused)} refused of {len(corpus.entries)} inputs")


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "name", ["line\nbreak.mp4", "back\\slash.mp4", 'say "hi".mp4', "100%22off.mp4", "a%0Db.mp4"]
)
def test_a_lost_answer_for_an_odd_name_is_found_not_sent_twice(
    name: str, start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # The look-up after a lost answer asks the service for the task by the file's name: it
    # must ask for the name the upload form really carried.
    sandbox = start_sandbox(
        faults={
            "rules": [{"method": "POST", "path": "/v1.3/tasks", "fault": "lost_answer", "times": 1}]
        }
    )
    engine = make_engine(sandbox, tmp_path / "home", grace=1.0)
    index = index_id(sandbox)
    [clip] = distinct_videos(tmp_path / "in", video_dir, 1)
    path = clip.rename(clip.with_name(name))
    [job] = engine.add_paths([path], index, target=TARGET)
    with running(engine) as runner:
        assert runner.wait(timeout=90)
    assert engine.job(job.id).state is JobState.READY
    with client_factory(sandbox)() as client:
        [task] = list(client.iter_tasks(index))
    assert task.filename == engine.job(job.id).name


@pytest.mark.timeout(120)
def test_a_request_an_older_version_made_under_the_raw_name_is_found_after_an_upgrade(
    start_sandbox: StartSandbox,
    video_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A version before names were swapped sent 'say "hi".mp4' as it is (the sandbox lists it
    # so), then stopped before the answer; the upgraded app must find that task, not send
    # the file again under 'say 'hi'.mp4'.
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home", grace=1.0)
    index = index_id(sandbox)
    [clip] = distinct_videos(tmp_path / "in", video_dir, 1)
    path = clip.rename(clip.with_name('say "hi".mp4'))
    [job] = engine.add_paths([path], index, target=TARGET)
    engine.store.update(job.id, create_started=time.time() - 1)
    with monkeypatch.context() as old_version:
        old_version.setattr(api_client, "upload_filename", lambda name: name)
        with client_factory(sandbox)() as client:
            client.create_task_from_file(index, path, fingerprint=job.fingerprint)
    with running(engine) as runner:
        assert runner.wait(timeout=90)
    assert engine.job(job.id).state is JobState.READY
    with client_factory(sandbox)() as client:
        assert [t.filename for t in client.iter_tasks(index)] == ['say "hi".mp4']


def _in_a_terminal(*args: str, env: dict[str, str], timeout: float = 90) -> tuple[int, str]:
    """The program run with a terminal as its output, as a person runs it (bars, tables)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uploader_app", *args], stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    out = b""
    with contextlib.suppress(OSError):  # EIO once the program has ended
        while chunk := os.read(master, 65536):
            out += chunk
    os.close(master)
    return proc.wait(timeout), out.decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX terminal")
@pytest.mark.timeout(180)
def test_a_name_in_square_brackets_is_shown_as_written_in_a_terminal(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # The bar and the status table read "[...]" as their own markup: "[draft] clip.mp4" showed
    # as " clip.mp4" (and a URL named "[%2Fx].mp4" made them raise).
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    [clip] = distinct_videos(tmp_path / "in", video_dir, 1)
    path = clip.rename(clip.with_name("[draft] [bold]clip.mp4"))
    code, out = _in_a_terminal("upload", "--index", index_id(sandbox), "--wait", str(path), env=env)
    assert "Traceback" not in out, out
    assert code == 0, out
    code, out = _in_a_terminal("status", env=env)
    assert "Traceback" not in out, out
    assert "[draft] [bold]clip.mp4" in out
    assert code == 0


@pytest.mark.timeout(180)
def test_a_video_an_older_version_sent_under_the_raw_name_is_already_in_the_index(
    start_sandbox: StartSandbox,
    video_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = start_sandbox()
    index = index_id(sandbox)
    [clip] = distinct_videos(tmp_path / "in", video_dir, 1)
    path = clip.rename(clip.with_name('say "hi".mp4'))
    with monkeypatch.context() as old_version:
        for module in (api_client, models):
            old_version.setattr(module, "upload_filename", lambda name: name)
        old = make_engine(sandbox, tmp_path / "old-home")
        old.add_paths([path], index, target=TARGET)
        with running(old) as runner:
            assert runner.wait(timeout=90)
    # The upgraded app on another computer (its own store) is given the same file.
    engine = make_engine(sandbox, tmp_path / "home")
    [job] = engine.add_paths([path], index, target=TARGET)
    with running(engine) as runner:
        assert runner.wait(timeout=90)
    assert engine.job(job.id).state is JobState.ALREADY_IN_INDEX
    with client_factory(sandbox)() as client:
        assert [t.filename for t in client.iter_tasks(index)] == ['say "hi".mp4']
