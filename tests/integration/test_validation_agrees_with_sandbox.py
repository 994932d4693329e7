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
from tests.media import (
    long_spec,
    make_png,
    make_protected,
    make_recording,
    make_truncated,
    make_video,
)
from uploader_app.cli import main
from uploader_app.models import Finding, Index, IndexModel, Target, Verdict
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
    "video_protected": "video_file_broken",
    "video_codec_unsupported": "video_file_broken",
}

# How each API version names an index's models in POST /indexes.
MODEL_FIELDS = {
    "v1.3": ("models", "model_name", "model_options"),
    "v1.2": ("engines", "engine_name", "engine_options"),
}


def create_index(
    sandbox: SandboxServer, model: str, options: list[str], version: str = "v1.3"
) -> str:
    key, name_key, options_key = MODEL_FIELDS[version]
    answer = requests.post(
        f"{sandbox.base_url(version)}/indexes",
        headers={"x-api-key": TEST_API_KEY},
        json={
            "index_name": f"{model}-{'-'.join(options)}",
            key: [{name_key: model, options_key: options}],
        },
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["_id"])


def send(
    sandbox: SandboxServer, index_id: str, path: Path, version: str = "v1.3"
) -> requests.Response:
    with path.open("rb") as fh:
        return requests.post(
            f"{sandbox.base_url(version)}/tasks",
            headers={"x-api-key": TEST_API_KEY},
            data={"index_id": index_id},
            files={"video_file": (path.name, fh)},
            timeout=30,
        )


def files_to_try(video: Video, video_dir: Path, tmp_path: Path) -> list[Path]:
    text = tmp_path / "text.mp4"
    text.write_text("not a video\n", encoding="utf-8")
    empty = tmp_path / "empty.mp4"
    empty.touch()
    whole = video("whole.mp4", faststart=True, duration=6.0)
    return [
        video("ok.mp4"),
        video("rotated.mov", container="mov", width=1280, height=720, rotate=90),
        video("near.mkv", container="mkv", duration=4.0),
        video("short.mp4", duration=3.0),
        video("small.webm", container="webm", width=320, height=240),
        # The same spec as test_verdicts_on_real_files, so the session cache encodes it once.
        video("huge.mp4", width=3842, height=2160, fps=1.0, duration=5.0, audio=False),
        # Over what any source allows (3842 above is only over the /tasks instructions' 4K).
        video("giant.mp4", width=5186, height=2160, fps=1.0, duration=5.0, audio=False),
        make_recording(video_dir, "webm", 6.0),
        make_protected(video_dir),
        video("wide.mp4", width=1000, height=360),
        video("silent.avi", container="avi", audio=False),
        video("silent.mp4", audio=False),
        video("sound.mp4", video=False),
        make_video(video_dir, long_spec(3_700.0)),
        make_truncated(whole, tmp_path / "cut.mp4", keep=0.5),
        text,
        empty,
        make_png(tmp_path / "poster.mp4"),
    ]


# Every code a video can be refused with at upload, whatever the index (no_audio_track depends
# on the index and is checked per case below).
CODES_EVERY_INDEX_SEES = {
    "video_resolution_too_low",
    "video_resolution_too_high",
    "video_resolution_invalid_aspect_ratio",
    "video_duration_too_short",
    "video_file_broken",
    "no_video_track",
    "not_a_video",
}


@pytest.mark.parametrize(
    "case",
    [
        ("v1.3", "marengo3.0", ["visual", "audio"], Verdict.WARNING),
        ("v1.3", "pegasus1.2", ["visual", "audio"], Verdict.WARNING),
        ("v1.3", "marengo3.0", ["visual"], Verdict.OK),
        ("v1.3", "marengo3.0", ["audio"], Verdict.REJECTED),
        # v1.2 words: "conversation" is read as "audio" by the client and the sandbox alike.
        ("v1.2", "marengo2.6", ["visual", "conversation"], Verdict.WARNING),
        ("v1.2", "marengo2.6", ["conversation"], Verdict.REJECTED),
    ],
)
def test_sandbox_agrees_with_the_local_check(
    sandbox: SandboxServer,
    video: Video,
    video_dir: Path,
    tmp_path: Path,
    case: tuple[str, str, list[str], Verdict],
) -> None:
    version, model, options, silent = case  # silent: the verdict on a video with no sound
    index_id = create_index(sandbox, model, options, version)
    target = Target.for_index(
        Index(id=index_id, name="x", models=(IndexModel.from_api(model, options),))
    )
    outcomes: dict[str, Finding] = {}
    for path in files_to_try(video, video_dir, tmp_path):
        local = evaluate(probe_file(path), target)
        answer = send(sandbox, index_id, path, version)
        if local.verdict is Verdict.REJECTED:
            assert answer.status_code == 400, (path.name, local.code, answer.text)
            expected = OUR_CODES_AS_VENDOR.get(local.code or "", local.code)
            assert answer.json()["code"] == expected, (path.name, answer.json())
        else:
            # A warning (near a limit, or a silent video the picture still indexes) is sent.
            assert answer.status_code == 200, (path.name, local.message, answer.text)
        outcomes[path.name] = local
    assert {Verdict.OK, Verdict.WARNING, Verdict.REJECTED} <= {f.verdict for f in outcomes.values()}
    assert {f.code for f in outcomes.values()} >= CODES_EVERY_INDEX_SEES
    assert outcomes["silent.mp4"].verdict is silent
    assert outcomes["silent.mp4"].code == (None if silent is Verdict.OK else "no_audio_track")


def point_cli_at(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    """Make `uploader-app check --index` read indexes from the sandbox in ``version``."""
    monkeypatch.setenv("TWELVELABS_BASE_URL", sandbox.base_url(version))
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)


def test_check_reads_the_index_models_from_the_api(
    sandbox: SandboxServer,
    video_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_cli_at(sandbox, monkeypatch, "v1.3")
    marengo = create_index(sandbox, "marengo3.0", ["visual", "audio"])
    pegasus = create_index(sandbox, "pegasus1.2", ["visual", "audio"])
    long = make_video(video_dir, long_spec(3_700.0))
    assert main(["check", "--index", marengo, str(long)]) == 0
    assert main(["check", "--index", pegasus, str(long)]) == 1
    assert "[video_duration_too_long]" in capsys.readouterr().out
    assert main(["check", "--index", "0000000000000000deadbeef", str(long)]) == 2
    reading, error = capsys.readouterr().err.splitlines()
    assert reading == "Reading index 0000000000000000deadbeef…"
    assert error.startswith("Could not read index 0000000000000000deadbeef: ")


def test_check_reads_a_v12_index_in_v13_words(
    sandbox: SandboxServer,
    video: Video,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_cli_at(sandbox, monkeypatch, "v1.2")
    listens_only = create_index(sandbox, "marengo2.6", ["conversation"], "v1.2")
    also_watches = create_index(sandbox, "marengo2.6", ["visual", "conversation"], "v1.2")
    silent = video("silent.mp4", audio=False)
    assert main(["check", "--index", listens_only, str(silent)]) == 1
    assert f"rejected  {silent}: [no_audio_track]" in capsys.readouterr().out
    assert main(["check", "--index", also_watches, str(silent)]) == 0
    assert f"warning   {silent}: [no_audio_track]" in capsys.readouterr().out
