"""Names and paths Windows refuses, in plain words (warnings in a scan)."""

from __future__ import annotations

import pytest

from uploader_app.validation.winnames import case_clashes, name_problem, path_problem


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("CON.mp4", "“CON” is a name Windows keeps"),
        ("nul", "“NUL” is a name Windows keeps"),
        ("com1.backup.mov", "“COM1”"),
        ("LPT9 .mp4", "“LPT9”"),
        ('say "hi".mp4', 'the character "'),
        ("a|b.mp4", "the character |"),
        ("why?.mp4", "the character ?"),
        ("back\\slash.mp4", "the character \\"),
        ("two\nlines.mp4", "a line break or control character"),
        ("clip.mp4.", "ends with a dot or a space"),
        ("clip.mp4 ", "ends with a dot or a space"),
    ],
)
def test_names_windows_refuses(name: str, says: str) -> None:
    problem = name_problem(name)
    assert problem is not None
    assert says in problem


@pytest.mark.parametrize(
    "name", ["clip.mp4", "CONTRACT.mp4", "com10.mp4", "console.mov", "ümlaut.mkv"]
)
def test_names_windows_takes(name: str) -> None:
    assert name_problem(name) is None


def test_a_folder_in_the_path_is_named() -> None:
    assert path_problem(("Drop", "aux", "clip.mp4"), 40) == (
        "its folder “aux”: “AUX” is a name Windows keeps for a device"
    )


def test_a_long_path_is_a_problem_only_over_259_characters() -> None:
    assert path_problem(("clip.mp4",), 259) is None
    assert "260" in (path_problem(("clip.mp4",), 260) or "")


def test_case_clashes_pair_both_names() -> None:
    assert case_clashes(["A.mp4", "b.mp4", "a.MP4"]) == {"a.MP4": "A.mp4", "A.mp4": "a.MP4"}
