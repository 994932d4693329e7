"""Shared fixtures: Qt runs offscreen, the sandbox runs on 127.0.0.1, videos come from ffmpeg."""

from __future__ import annotations

import logging
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.local_http import files_in, serving
from tests.media import VideoSpec, make_video

if TYPE_CHECKING:
    from tests.reliability.hostile_corpus import Corpus
    from tests.s3_emulator import S3Emulator
    from uploader_app.sandbox.server import SandboxServer

# A fake key for the sandbox: tests never see a real one.
TEST_API_KEY = "test-key-not-a-secret"


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture
def video(video_dir: Path, tmp_path: Path) -> Callable[..., Path]:
    """``video(name="clip.mp4", width=..., duration=...)`` makes a test video in tmp_path.

    Encodes are cached for the whole session, so asking for the same spec twice is free.
    """

    def factory(name: str | None = None, **spec: object) -> Path:
        made = make_video(video_dir, VideoSpec(**spec))  # type: ignore[arg-type]
        if name is None:
            return made
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # asking for the same name again replaces the file
        target.hardlink_to(made)
        return target

    return factory


StartSandbox = Callable[..., "SandboxServer"]


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[StartSandbox]:
    """``start_sandbox(**options)`` starts a sandbox on a free port of 127.0.0.1 with the test
    key, a fast task clock and a data folder of its own; every one is stopped after the test,
    and what crossed the wire is checked against the vendor's schemas."""
    from tests.vendor_contract import answer_problems, client_request_problems
    from uploader_app.sandbox.server import SandboxServer

    started: list[SandboxServer] = []

    def start(**options: Any) -> SandboxServer:
        options.setdefault("data_dir", tmp_path / f"sandbox-{len(started)}")
        options.setdefault("api_key", TEST_API_KEY)
        options.setdefault("speed", 1000.0)
        server = SandboxServer(**options)
        server.start()
        started.append(server)
        return server

    yield start
    # Whatever the test asserted, the app's client must have sent only what the vendor's
    # request schemas allow, and the sandbox answered only what its response schemas allow
    # (tests/vendor_contract.py).
    problems = [
        problem
        for server in started
        for records in [server.request_records]
        for problem in [*client_request_problems(records), *answer_problems(records)]
    ]
    for server in started:
        server.stop()
    assert not problems, "requests or answers the vendor's schemas refuse:\n" + "\n".join(problems)


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> SandboxServer:
    """A fresh sandbox server on a free port of 127.0.0.1, with a fast task clock."""
    return start_sandbox()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain web server over a folder, for ``video_url`` uploads: (base URL, the folder)."""
    folder = tmp_path / "web"
    folder.mkdir()
    with serving(files_in(folder)) as url:
        yield url, folder


@pytest.fixture(autouse=True, scope="session")
def _no_trust_store_injection() -> Iterator[None]:
    """The window switches truststore on at its first frame (docs/network.md); in this
    process that would change ``ssl`` for every later test, and for good (boto3's contexts
    then recurse). For the whole session: a window's first frame can come while pytest-qt
    processes events after a test's own patches are undone. Child processes (the CLI, the
    app, the bundle) do it for real."""
    import truststore

    real = truststore.inject_into_ssl
    truststore.inject_into_ssl = lambda: None
    yield
    truststore.inject_into_ssl = real


@pytest.fixture(autouse=True)
def _trust_store_not_yet_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: the trust store not switched on yet."""
    from uploader_app import network

    monkeypatch.setattr(network, "_done", False)


@pytest.fixture(autouse=True)
def _private_app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own app folder and an in-memory keychain: no test writes into the
    user's real settings, logs or keychain, nor sees a key set in the developer's shell."""
    import keyring

    from tests.memory_keyring import MemoryKeyring
    from uploader_app import keys

    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "app-home"))
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    # Child processes (CLI runs) get keyring's "no keychain" backend, never the real one.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr(keys, "_memory_key", None)
    monkeypatch.setattr(keys, "_early", None)  # a read started by an earlier test
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    root = logging.getLogger()
    level = root.level
    yield
    keyring.set_keyring(previous)
    # A CLI run inside a test installs the app's log handlers; the next test starts clean.
    for handler in [h for h in root.handlers if getattr(h, "_uploader_app", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _restore_exception_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that runs the app's main() installs its crash hooks (crash.py); undo that."""
    import sys
    import threading

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Emulator]:
    """One S3 emulator (moto server) per test process; ``s3`` resets it for each test."""
    from tests.s3_emulator import S3Emulator

    server = S3Emulator()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server: S3Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Emulator:
    """An empty S3 emulator, with boto3 in this process pointed at it by fake credentials."""
    from tests import s3_emulator

    s3_server.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_emulator.ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_emulator.SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_emulator.REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.url)
    # Never read the developer's own AWS files.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return s3_server


@pytest.fixture(scope="session")
def hostile_corpus(tmp_path_factory: pytest.TempPathFactory, video_dir: Path) -> Corpus:
    """The hostile-file corpus (tests/reliability/hostile_corpus.py), made once per session;
    tests read it and never change it."""
    from tests.reliability.hostile_corpus import build

    return build(tmp_path_factory.mktemp("hostile") / "corpus", video_dir)


@pytest.fixture(autouse=True)
def _no_real_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches real AWS: the developer's credentials, profiles and files are hidden
    and the EC2 metadata address (not loopback) is never asked. A v1.2 row left without a
    task reads its object with the default credentials (jobs/transfer.py), which in a test
    without the ``s3`` fixture meant real S3 or 169.254.169.254, from the engine's poller
    while the window closed."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture(autouse=True)
def _quick_second_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox indexes a test clip in milliseconds (its clock runs 1000 times fast), yet the
    poller looks at a new task again only a second after its first look (``interval_for`` in
    jobs/poller.py): most uploads run in this process waited that second out. Here a task less
    than 30 s on the service is looked at again after 0.2 s (the poller's shortest round);
    older ones keep the app's intervals. CLI runs in child processes keep the app's own."""
    from uploader_app.jobs import poller

    real = poller.interval_for
    monkeypatch.setattr(poller, "interval_for", lambda age: 0.2 if age < 30 else real(age))
