"""The CLI's views: content-check progress (plain lines off a terminal, nothing with --json),
names shown as written."""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console

from uploader_app.jobs import commands
from uploader_app.jobs.events import JobChanged, JobProgress
from uploader_app.jobs.sending import View
from uploader_app.models import Job, JobState, SourceKind


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


def _terminal_view(out: io.StringIO) -> View:
    view = View(out, quiet=False)
    view.console = Console(file=out, force_terminal=True, width=120)
    return view


def test_names_with_brackets_are_shown_as_written_on_a_terminal() -> None:
    out = io.StringIO()
    view = _terminal_view(out)
    with view.fingerprints() as shown:
        shown(1, 1, "[final] holiday.mp4")  # was drawn as " holiday.mp4"
    assert "[final] holiday.mp4" in out.getvalue()
    # A link's %-decoded name may hold "[/x]", which rich read as a closing tag and crashed on.
    url = "https://videos.example/take%20%5B%2Fx%5D%20final.mp4"
    job = Job(1, SourceKind.URL, url, "idx", JobState.QUEUED)
    with view.live([job.id]):
        view(JobChanged(replace(job, state=JobState.UPLOADING, size=100)))
        view(JobProgress(job.id, 50, 100, None, None))
        view(JobChanged(replace(job, state=JobState.ON_SERVICE)))
    assert "take [/x] final.mp4: on the service" in out.getvalue()


def test_the_status_table_shows_such_names_as_written() -> None:
    out = io.StringIO()
    url = "https://videos.example/take%20%5B%2Fx%5D%20final.mp4"
    job = Job(1, SourceKind.URL, url, "idx", JobState.QUEUED)
    Console(file=out, force_terminal=True, width=120).print(commands._table([job]))
    assert "take [/x] final.mp4" in out.getvalue()
