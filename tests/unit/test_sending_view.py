"""The content check's progress on the CLI: plain lines off a terminal, nothing with --json."""

from __future__ import annotations

import io

from uploader_app.jobs.sending import View


def test_plain_lines_are_spaced_and_the_last_one_is_always_said() -> None:
    out = io.StringIO()
    with View(out, quiet=False).fingerprints() as shown:
        for done in range(1, 1001):
            shown(done, 1000, f"clip{done}.mp4")
    lines = out.getvalue().splitlines()
    assert lines[0] == "Checking files: 1 of 1000"
    assert lines[-1] == "Checking files: 1000 of 1000"
    assert len(lines) == 2  # not one line per file


def test_json_keeps_stdout_for_its_array() -> None:
    out = io.StringIO()
    with View(out, quiet=True).fingerprints() as shown:
        shown(1, 1, "a.mp4")
    assert out.getvalue() == ""
