"""The CSV audit trail."""

from __future__ import annotations

import csv
from pathlib import Path

from uploader_app.jobs.export import COLUMNS, write_csv
from uploader_app.models import Job, JobState, Route, SourceKind


def test_every_job_one_row_with_ids_and_words(tmp_path: Path) -> None:
    jobs = [
        Job(
            1,
            SourceKind.FILE,
            "/videos/été/clip.mp4",
            "idx",
            JobState.READY,
            route=Route.TASK,
            size=10,
            duration=5.5,
            task_id="t1",
            video_id="v1",
            created_at=1_800_000_000.0,
            finished_at=1_800_000_060.0,
        ),
        Job(
            2,
            SourceKind.URL,
            "https://example.com/a%20b.mp4",
            "idx",
            JobState.FAILED,
            error_code="indexing_failed",
            error_message="Twelve Labs could not index a b.mp4.",
            error_hint="Retry it.",
        ),
    ]
    out = tmp_path / "sub" / "jobs.csv"
    assert write_csv(jobs, out) == 2
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["file"] == "clip.mp4"
    assert rows[0]["folder"] == "/videos/été"
    assert rows[0]["task_id"] == "t1"
    assert rows[0]["status"] == "ready"
    assert rows[0]["finished"] == "2027-01-15T08:01:00+00:00"
    assert rows[1]["file"] == "a b.mp4"
    assert rows[1]["url"] == "https://example.com/a%20b.mp4"
    assert rows[1]["message"].startswith("Twelve Labs could not")
    assert not list(tmp_path.glob("sub/.export-*"))  # no temporary file left
