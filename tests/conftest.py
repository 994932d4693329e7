"""Shared fixtures: Qt runs offscreen, the sandbox runs on 127.0.0.1, videos come from ffmpeg."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.media import VideoSpec, make_video

if TYPE_CHECKING:
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


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A fresh sandbox server on a free port of 127.0.0.1, with a fast task clock."""
    from uploader_app.sandbox.server import SandboxServer

    server = SandboxServer(
        data_dir=tmp_path / "sandbox",
        api_key=TEST_API_KEY,
        speed=1000.0,
        host="127.0.0.1",
        port=0,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
