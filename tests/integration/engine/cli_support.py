"""Running the real CLI in a child process against a test sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import TEST_API_KEY
from tests.media import VideoSpec, make_padded, make_video
from uploader_app.sandbox.server import SandboxServer


def cli_env(sandbox: SandboxServer, home: Path, version: str = "v1.3") -> dict[str, str]:
    return {
        **os.environ,
        "UPLOADER_APP_HOME": str(home),
        "TWELVELABS_BASE_URL": sandbox.base_url(version),
        "TWELVELABS_API_KEY": TEST_API_KEY,
        "UPLOADER_APP_LOOKUP_GRACE": "1",
    }


def start_cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "uploader_app", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = start_cli(env, *args)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def run_json(env: dict[str, str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code, out, err = run_cli(env, *args, "--json")
    return code, json.loads(out) if out.strip() else [], err


def distinct_videos(
    folder: Path, cache: Path, count: int, spec: VideoSpec | None = None
) -> list[Path]:
    """``count`` playable videos with different content (a different zero tail each)."""
    source = make_video(cache, spec or VideoSpec(duration=5.0, faststart=True))
    folder.mkdir(parents=True, exist_ok=True)
    size = source.stat().st_size
    return [make_padded(source, folder / f"clip{n:02d}.mp4", size + 1 + n) for n in range(count)]
