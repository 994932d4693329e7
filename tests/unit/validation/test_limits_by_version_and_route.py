"""Limits keyed on model version and upload route; where sources disagree, a warning."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from uploader_app.models import Finding, ModelFamily, ProbeResult, Target, UploadKind, Verdict
from uploader_app.validation.limits import limits_for, model_version
from uploader_app.validation.rules import evaluate

GOOD = ProbeResult(
    path=Path("clip.mp4"),
    size=5_000_000,
    container="MPEG-4",
    has_video=True,
    width=1920,
    height=1080,
    duration=60.0,
    audio_tracks=1,
)
TASKS, ASSETS = UploadKind.TASK_FILE, UploadKind.MULTIPART


def judge(models: tuple[str, ...], kind: UploadKind, **changes: object) -> Finding:
    families = frozenset(f for m in models if (f := ModelFamily.of(m)) is not None)
    target = Target(kind=kind, families=families or frozenset({ModelFamily.MARENGO}), models=models)
    return evaluate(replace(GOOD, **changes), target)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "version"),
    [("marengo3.0", 3.0), ("marengo2.7", 2.7), ("Pegasus1.2", 1.2), ("marengo", None)],
)
def test_model_version_is_read_from_the_name(name: str, version: float | None) -> None:
    assert model_version(name) == version


@pytest.mark.parametrize(
    ("models", "kind", "width", "verdict"),
    [
        # The /tasks instructions say 3840x2160 for every model; Marengo 3.0's page 5184x2160.
        (("marengo2.7",), TASKS, 4096, Verdict.REJECTED),
        (("marengo3.0",), TASKS, 4096, Verdict.WARNING),
        ((), TASKS, 4096, Verdict.WARNING),  # version unknown: maybe 3.0
        (("marengo3.0",), ASSETS, 4096, Verdict.OK),  # the route the 2026 spec describes
        (("marengo2.7",), ASSETS, 4096, Verdict.REJECTED),
        (("marengo3.0",), TASKS, 5186, Verdict.REJECTED),  # over what any source allows
        (("marengo3.0",), ASSETS, 5186, Verdict.REJECTED),
    ],
)
def test_resolution_by_version_and_route(
    models: tuple[str, ...], kind: UploadKind, width: int, verdict: Verdict
) -> None:
    finding = judge(models, kind, width=width, height=2160)
    assert finding.verdict is verdict
    assert finding.code == (None if verdict is Verdict.OK else "video_resolution_too_high")


def test_a_resolution_only_some_sources_allow_names_them() -> None:
    finding = judge(("marengo3.0",), TASKS, width=4096, height=2160)
    assert finding.message == (
        "Picture maybe too large: 4096x2160 pixels. The upload instructions allow at most "
        "3840x2160, but the vendor's Marengo 3.0 documents allow up to 5184x2160."
    )
    assert finding.hint.startswith("It may be refused.")


@pytest.mark.parametrize(
    ("models", "kind", "hours", "verdict", "code"),
    [
        (("marengo2.7",), TASKS, 2.5, Verdict.REJECTED, "video_duration_too_long"),
        (("marengo3.0",), TASKS, 2.5, Verdict.WARNING, "video_duration_too_long"),
        (("marengo3.0",), ASSETS, 2.5, Verdict.OK, None),
        (("marengo3.0",), ASSETS, 3.9, Verdict.WARNING, "near_duration_max"),
        (("marengo3.0",), TASKS, 4.1, Verdict.REJECTED, "video_duration_too_long"),
        (("pegasus1.2",), ASSETS, 1.5, Verdict.REJECTED, "video_duration_too_long"),
        (("marengo3.0", "pegasus1.2"), ASSETS, 1.5, Verdict.REJECTED, "video_duration_too_long"),
    ],
)
def test_duration_by_version_and_route(
    models: tuple[str, ...], kind: UploadKind, hours: float, verdict: Verdict, code: str | None
) -> None:
    finding = judge(models, kind, duration=hours * 3600)
    assert (finding.verdict, finding.code) == (verdict, code)


def test_a_length_only_some_sources_allow_says_why() -> None:
    finding = judge(("marengo3.0",), TASKS, duration=9_000.0)
    assert finding.message == (
        "Maybe too long: 2 hours 30 minutes. Videos for Marengo can be at most 2 hours long; "
        "the vendor's Marengo 3.0 documents allow up to 4 hours."
    )


def test_the_strictest_model_of_an_index_binds() -> None:
    both = limits_for(
        Target(
            kind=ASSETS,
            families=frozenset({ModelFamily.MARENGO, ModelFamily.PEGASUS}),
            models=("marengo3.0", "pegasus1.2"),
        )
    )
    assert (both.duration.max_seconds, both.agreed_max_seconds) == (3_600.0, 3_600.0)
    assert both.max_long_side == 5_184
