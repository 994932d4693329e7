"""The task list model: in-place updates, batched progress, filters, and Qt's model rules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from pytestqt.qtbot import QtBot

from tests.gui.helpers import Recorder, make_job
from uploader_app.gui.job_text import format_eta, format_speed, state_words
from uploader_app.gui.task_model import (
    JOB_ROLE,
    PROGRESS_ROLE,
    Category,
    Column,
    TaskFilterProxy,
    TaskTableModel,
)
from uploader_app.jobs.events import (
    BatchProblem,
    BatchProblemCleared,
    JobChanged,
    JobNotice,
    JobProgress,
    JobsRemoved,
)
from uploader_app.models import UNSURE_KEY, JobState


@pytest.fixture
def model(qtmodeltester: Any) -> TaskTableModel:
    model = TaskTableModel(flush_ms=10_000)  # flushed by hand in tests
    model.load([make_job(1), make_job(2, JobState.READY, video_id="vid-2")])
    qtmodeltester.check(model)
    return model


def test_new_jobs_insert_rows_and_changes_touch_their_row_only(
    model: TaskTableModel, qtmodeltester: Any
) -> None:
    seen = Recorder(model)
    model.apply_events([JobChanged(make_job(3)), JobChanged(make_job(4))])
    assert seen.inserted == [(2, 3)]  # one insert for a burst of new jobs
    model.apply_event(JobChanged(make_job(1, JobState.UPLOADING, bytes_sent=10)))
    assert seen.changed_rows() == {0}
    assert seen.resets == 0
    assert model.data(model.index(0, Column.STATE)) == "Uploading"
    assert model.data(model.index(0, Column.NAME)) == "clip-1.mp4"
    qtmodeltester.check(model)


def test_progress_is_held_until_the_flush_and_then_one_change_per_row(
    model: TaskTableModel,
) -> None:
    model.apply_event(JobChanged(make_job(1, JobState.UPLOADING)))
    seen = Recorder(model)
    for sent in range(0, 1000, 10):
        model.apply_event(JobProgress(1, sent, 1000, speed=2_500_000.0, eta=130.0))
    assert seen.changed == []
    model.flush_progress()
    assert seen.changed_rows() == {0}
    assert len(seen.changed) == 1
    assert model.data(model.index(0, Column.PROGRESS), PROGRESS_ROLE) == 99
    assert model.data(model.index(0, Column.SPEED)) == "2.5 MB/s"
    assert model.data(model.index(0, Column.ETA)) == "about 3 min left"


def test_the_flush_timer_applies_progress_by_itself(qtbot: QtBot) -> None:
    model = TaskTableModel(flush_ms=20)
    model.load([make_job(1, JobState.UPLOADING)])
    model.apply_event(JobProgress(1, 500, 1000, speed=None, eta=None))
    qtbot.waitUntil(lambda: model.data(model.index(0, Column.PROGRESS)) == "50%", timeout=2000)


def test_late_progress_never_drags_a_finished_row_back(model: TaskTableModel) -> None:
    model.apply_event(JobChanged(make_job(1, JobState.UPLOADING)))
    model.apply_event(JobProgress(1, 400, 1000, speed=1e6, eta=1.0))
    model.apply_event(JobChanged(make_job(1, JobState.ON_SERVICE, server_status="indexing")))
    model.flush_progress()
    assert model.data(model.index(0, Column.PROGRESS), PROGRESS_ROLE) is None
    assert model.data(model.index(0, Column.SPEED)) == ""
    assert model.data(model.index(0, Column.STATE)) == (
        "Indexing on Twelve Labs… (usually 5–15 min)"
    )


def test_indexing_estimate_learns_from_this_index(model: TaskTableModel) -> None:
    model.apply_events(
        [
            JobChanged(make_job(3, JobState.ON_SERVICE, server_status="indexing", updated_at=0)),
            JobChanged(make_job(1, JobState.ON_SERVICE, server_status="indexing", updated_at=0)),
        ]
    )
    seen = Recorder(model)
    model.apply_event(JobChanged(make_job(3, JobState.READY, updated_at=180.0)))
    assert 0 in seen.changed_rows()  # the other row on that index gets the new estimate
    assert model.data(model.index(0, Column.STATE)) == (
        "Indexing on Twelve Labs… (usually about 3 min)"
    )


def test_counts_follow_states_and_removal(model: TaskTableModel) -> None:
    counts: list[dict[Category, int]] = []
    model.counts_changed.connect(lambda: counts.append(model.counts()))
    assert model.counts()[Category.ACTIVE] == 1
    assert model.counts()[Category.DONE] == 1
    model.apply_event(JobChanged(make_job(1, JobState.FAILED, error_message="Too short.")))
    assert counts[-1][Category.FAILED] == 1
    assert counts[-1][Category.ACTIVE] == 0
    model.remove_jobs([1])
    assert model.rowCount() == 1
    assert model.counts()[Category.ALL] == 1
    assert model.row_of(2) == 0
    model.apply_event(JobChanged(make_job(1, JobState.FAILED)))  # a late event for it
    assert model.rowCount() == 1


def test_jobs_the_engine_removed_leave_the_list(model: TaskTableModel) -> None:
    model.apply_events(
        [JobChanged(make_job(2, JobState.READY, video_id="vid-2")), JobsRemoved((1,))]
    )
    assert model.rowCount() == 1
    assert model.row_of(2) == 0
    assert model.counts()[Category.ALL] == 1


def test_notice_and_reason_show_in_the_reason_column(model: TaskTableModel) -> None:
    model.apply_event(JobNotice(1, "Twelve Labs asked us to slow down; next try in 40 s"))
    assert model.data(model.index(0, Column.REASON)).startswith("Twelve Labs asked us")
    failed = make_job(1, JobState.FAILED, error_message="The video is too short.")
    model.apply_event(JobChanged(replace(failed, error_hint="Use a clip of at least 4 s.")))
    assert model.data(model.index(0, Column.REASON)) == (
        "The video is too short. Use a clip of at least 4 s."
    )
    assert model.data(model.index(1, Column.IDS)) == "video id vid-2"


def test_a_batch_problem_speaks_on_the_waiting_rows(model: TaskTableModel) -> None:
    seen = Recorder(model)
    problem = BatchProblem(
        "no_network",
        "Waiting for the network…",
        "This computer is offline.",
        "Uploads continue by themselves.",
    )
    model.apply_event(problem)
    assert seen.changed_rows() == {0}  # the ready row does not wait for anything
    assert model.data(model.index(0, Column.STATE)) == "Waiting for the network…"
    assert model.data(model.index(1, Column.STATE)) == "Ready"
    model.apply_event(BatchProblemCleared())
    assert model.data(model.index(0, Column.STATE)) == "Waiting to upload"


def test_proxy_filters_by_category_and_search(model: TaskTableModel, qtmodeltester: Any) -> None:
    proxy = TaskFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.set_category(Category.DONE)
    assert proxy.rowCount() == 1
    assert proxy.data(proxy.index(0, 0), JOB_ROLE).id == 2
    proxy.set_category(Category.ALL)
    proxy.set_search("CLIP-1")
    assert [proxy.data(proxy.index(r, 0), JOB_ROLE).id for r in range(proxy.rowCount())] == [1]
    proxy.set_search("vid-2")  # ids are searchable too
    assert proxy.rowCount() == 1
    proxy.set_search("")
    proxy.sort(Column.STATE, Qt.SortOrder.AscendingOrder)
    assert proxy.data(proxy.index(0, Column.STATE)) == "Waiting to upload"
    model.apply_event(JobChanged(make_job(1, JobState.NEEDS_ATTENTION)))
    proxy.set_category(Category.NEEDS_YOU)
    assert proxy.rowCount() == 1
    assert not proxy.index(0, 0).parent().isValid()
    assert model.rowCount(QModelIndex()) == 2


def test_words() -> None:
    assert format_eta(30) == "under a minute left"
    assert format_eta(61) == "about 2 min left"
    assert format_eta(3 * 3600 + 60) == "about 3 h 1 min left"
    assert format_eta(None) == ""
    assert format_speed(12_300_000) == "12 MB/s"
    assert state_words(make_job(1, JobState.QUEUED, bytes_sent=5)) == "Waiting to continue"
    assert state_words(make_job(1, JobState.ON_SERVICE, server_status="pending")) == (
        "Waiting its turn on Twelve Labs…"
    )
    # A v1.2 manifest row whose transfer got no answer: not "Checking the video…".
    unsure = make_job(1, JobState.CHECKING, options={UNSURE_KEY: "1"})
    assert state_words(unsure) == "Not known whether it was sent; asking Twelve Labs…"


def test_batch_share_only_grows_and_resets_when_idle(model: TaskTableModel) -> None:
    model.apply_event(JobChanged(make_job(1, JobState.UPLOADING)))
    model.apply_event(JobChanged(make_job(3, JobState.QUEUED)))
    model.apply_event(JobProgress(1, 500, 1000, speed=None, eta=None))
    model.flush_progress()
    assert model.batch_bytes() == (500, 2000)
    model.apply_event(JobChanged(make_job(1, JobState.ON_SERVICE, bytes_sent=1000)))
    assert model.batch_bytes() == (1000, 2000)  # sent counts whole once on the service
    model.apply_event(JobChanged(make_job(1, JobState.READY)))
    assert model.batch_bytes() == (1000, 2000)  # and stays counted when ready
    model.apply_event(JobChanged(make_job(3, JobState.CANCELLED)))
    assert model.batch_bytes() == (0, 0)  # nothing active: the next batch starts afresh


def test_index_names_replace_ids_once_known(model: TaskTableModel) -> None:
    assert model.data(model.index(0, Column.INDEX)) == "idx-1"
    seen = Recorder(model)
    model.add_index_names({"idx-1": "Marketing interviews"})
    assert model.data(model.index(0, Column.INDEX)) == "Marketing interviews"
    assert seen.changed_rows() == {0, 1}
    model.add_index_names({"idx-1": "Marketing interviews"})  # nothing new: no repaint
    assert len(seen.changed) == 2


def test_sorting_reorders_the_model_and_keeps_selections_on_their_jobs(
    model: TaskTableModel, qtmodeltester: Any
) -> None:
    model.apply_events(
        [
            JobChanged(make_job(3, JobState.FAILED)),
            JobChanged(make_job(4, JobState.UPLOADING)),
        ]
    )
    proxy = TaskFilterProxy()
    proxy.setSourceModel(model)
    kept = QPersistentModelIndex(model.index(model.row_of(2) or 0, Column.NAME))
    proxy.sort(Column.STATE, Qt.SortOrder.AscendingOrder)  # problems first, done last
    assert [model.job_at(r).id for r in range(4)] == [3, 4, 1, 2]
    assert [model.row_of(i) for i in (3, 4, 1, 2)] == [0, 1, 2, 3]
    assert kept.row() == 3  # a selected row follows its job
    assert proxy.data(proxy.index(0, Column.STATE)) == "Failed"
    proxy.sort(Column.NAME, Qt.SortOrder.DescendingOrder)
    assert [model.job_at(r).id for r in range(4)] == [4, 3, 2, 1]
    model.apply_event(JobChanged(make_job(1, JobState.READY)))  # updates find the moved row
    assert model.data(model.index(3, Column.STATE)) == "Ready"
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)
