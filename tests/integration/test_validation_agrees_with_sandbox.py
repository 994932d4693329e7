"""The local check and the sandbox judge files with the same rules and codes.

Each file is checked locally (probe_file + evaluate) and sent to the sandbox's POST /tasks: a
file the validator passes is accepted, one it rejects is refused with the same code. Our own
codes that the vendor lacks are answered as ``video_file_broken`` (uploader_app/sandbox/judge.py).
The check CLI's --index also reads the index's models from the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from tests.conftest import TEST_API_KEY
from tests.media import long_spec, make_truncated, make_video
from uploader_app.cli import main
from uploader_app.models import Index, IndexModel, Target, Verdict
from uploader_app.validation.probe import probe_file
from uploader_app.validation.rules import evaluate

if TYPE_CHECKING:
    from uploader_app.sandbox.server import SandboxServer

Video = Callable[..., Path]
OUR_CODES_AS_VENDOR = {
    "not_a_video": "video_file_broken",
    "no_video_track": "video_file_broken",
    "unreadable": "video_file_broken",
    "no_audio_track": "video_file_broken",
}


def create_index(sandbox: SandboxServer, model: str, options: list[str]) -> str:
    answer = requests.post(
        f"{sandbox.base_url('v1.3')}/indexes",
        headers={"x-api-key": TEST_API_KEY},
        json={
            "index_name": f"{model}-{'-'.join(options)}",
            "models": [{"model_name": model, "model_options": options}],
        },
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["_id"])


def send(sandbox: SandboxServer, index_id: str, path: Path) -> requests.Response:
    with path.open("rb") as fh:
        return requests.post(
            f"{sandbox.base_url('v1.3')}/tasks",
            headers={"x-api-key": TEST_API_KEY},
            data={"index_id": index_id},
            files={"video_file": (path.name, fh)},
            timeout=30,
        )


def files_to_try(video: Video, video_dir: Path, tmp_path: Path) -> list[Path]:
    text = tmp_path / "text.mp4"
    text.write_text("not a video\n", encoding="utf-8")
    whole = video("whole.mp4", faststart=True, duration=6.0)
    return [
        video("ok.mp4"),
        video("rotated.mov", container="mov", width=1280, height=720, rotate=90),
        video("near.mkv", container="mkv", duration=4.0),
        video("short.mp4", duration=3.0),
        video("small.webm", container="webm", width=320, height=240),
        video("wide.mp4", width=1000, height=360),
        video("silent.avi", container="avi", audio=False),
        video("sound.mp4", video=False),
        make_video(video_dir, long_spec(3_700.0)),
        make_truncated(whole, tmp_path / "cut.mp4", keep=0.5),
        text,
    ]


@pytest.mark.parametrize(
    "index_models",
    [
        ("marengo3.0", ["visual", "audio"]),
        ("pegasus1.2", ["visual", "audio"]),
        ("marengo3.0", ["audio"]),
    ],
)
def test_sandbox_agrees_with_the_local_check(
    sandbox: SandboxServer,
    video: Video,
    video_dir: Path,
    tmp_path: Path,
    index_models: tuple[str, list[str]],
) -> None:
    model, options = index_models
    index_id = create_index(sandbox, model, options)
    target = Target.for_index(
        Index(id=index_id, name="x", models=(IndexModel(model, tuple(options)),))
    )
    outcomes = set()
    for path in files_to_try(video, video_dir, tmp_path):
        local = evaluate(probe_file(path), target)
        answer = send(sandbox, index_id, path)
        if local.verdict is Verdict.REJECTED:
            assert answer.status_code == 400, (path.name, local.code, answer.text)
            expected = OUR_CODES_AS_VENDOR.get(local.code or "", local.code)
            assert answer.json()["code"] == expected, (path.name, answer.json())
        else:
            assert answer.status_code == 200, (path.name, local.message, answer.text)
        outcomes.add(local.verdict)
    assert {Verdict.OK, Verdict.WARNING, Verdict.REJECTED} <= outcomes


def test_check_reads_the_index_models_from_the_api(
    sandbox: SandboxServer,
    video_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TWELVELABS_BASE_URL", sandbox.base_url("v1.3"))
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)
    marengo = create_index(sandbox, "marengo3.0", ["visual", "audio"])
    pegasus = create_index(sandbox, "pegasus1.2", ["visual", "audio"])
    long = make_video(video_dir, long_spec(3_700.0))
    assert main(["check", "--index", marengo, str(long)]) == 0
    assert main(["check", "--index", pegasus, str(long)]) == 1
    assert "[video_duration_too_long]" in capsys.readouterr().out
    assert main(["check", "--index", "0000000000000000deadbeef", str(long)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Could not read index 0000000000000000deadbeef: ")
