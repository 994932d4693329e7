"""Answers folded into the client's types: v1.2 ``metadata`` and v1.3 ``system_metadata``."""

from __future__ import annotations

from uploader_app.api.types import parse_video


def test_a_v12_video_answer_gives_its_size_and_length() -> None:
    video = parse_video(
        {
            "_id": "v1",
            "metadata": {"filename": "01.mp4", "duration": 5.0, "size": 1186848, "fps": 25},
        }
    )
    assert (video.filename, video.duration, video.size) == ("01.mp4", 5.0, 1186848)


def test_a_v13_video_answer_without_size_leaves_it_unknown() -> None:
    video = parse_video({"_id": "v1", "system_metadata": {"filename": "01.mp4", "duration": 5}})
    assert video.size is None and video.duration == 5.0
