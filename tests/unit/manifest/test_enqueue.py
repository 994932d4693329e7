"""Rows made into jobs (jobs/transfer.enqueue_rows): what the user is told about them."""

from __future__ import annotations

from pathlib import Path

from uploader_app.jobs.transfer import enqueue_rows
from uploader_app.store import Store

INDEX = "6298d673f1090f1100476d4c"


def _rows(count: int) -> list[dict[str, str]]:
    return [
        {
            "index_id": INDEX,
            "language": "en",
            "object": f"s3://media-west/{n:03d}.mp4",
            "transcription": f"s3://media-west/{n:03d}.srt",
        }
        for n in range(count)
    ]


def test_v13_says_once_that_transcriptions_are_not_sent(tmp_path: Path) -> None:
    """A built list of 400 videos with subtitles gave 400 sentences (one status-bar line)."""
    with Store(tmp_path / "jobs.sqlite3") as store:
        report = enqueue_rows(store, _rows(400), "v1.3")
    assert len(report.sent) == 400
    (note,) = report.notes
    assert note.startswith("API v1.3 takes no transcription with a video, so 400 videos")
    assert "000.srt, 001.srt, 002.srt and 397 more" in note
    assert len(note) < 200


def test_v13_names_the_one_transcription_not_sent(tmp_path: Path) -> None:
    with Store(tmp_path / "jobs.sqlite3") as store:
        report = enqueue_rows(store, _rows(1), "v1.3")
    assert report.notes == [
        "API v1.3 takes no transcription with a video, so 000.mp4 is sent without 000.srt."
    ]


def test_v12_sends_transcriptions_and_says_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "jobs.sqlite3") as store:
        report = enqueue_rows(store, _rows(3), "v1.2")
    assert report.notes == []
    assert [j.options["transcription"] for j in report.jobs] == [
        r["transcription"] for r in _rows(3)
    ]
