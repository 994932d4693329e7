"""Job snapshots and a recorder of a model's signals, shared by the GUI tests."""

from __future__ import annotations

from typing import Any

from uploader_app.gui.task_model import TaskTableModel
from uploader_app.models import Job, JobState, SourceKind


def make_job(job_id: int, state: JobState = JobState.QUEUED, **fields: Any) -> Job:
    fields.setdefault("size", 1000)
    return Job(
        id=job_id,
        source_kind=SourceKind.FILE,
        source=f"/videos/clip-{job_id}.mp4",
        index_id="idx-1",
        state=state,
        **fields,
    )


class Recorder:
    """Every structural signal of a model, to prove updates happen in place."""

    def __init__(self, model: TaskTableModel) -> None:
        self.resets = 0
        self.inserted: list[tuple[int, int]] = []
        self.changed: list[tuple[int, int, int, int]] = []
        model.modelReset.connect(self._reset)
        model.rowsInserted.connect(lambda _p, a, b: self.inserted.append((a, b)))
        model.dataChanged.connect(
            lambda tl, br, _roles=(): self.changed.append(
                (tl.row(), br.row(), tl.column(), br.column())
            )
        )

    def _reset(self) -> None:
        self.resets += 1

    def changed_rows(self) -> set[int]:
        return {row for first, last, _a, _b in self.changed for row in range(first, last + 1)}
