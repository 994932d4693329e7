"""The hostile corpus dropped on the window's Files tab, as a person drags a desktop folder.

Outcome: every row is checked within the bound, each shows its status in words on one line,
only the usable videos are ticked to send, and nothing is left "checking".
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests.gui.test_files_tab import _drop
from tests.reliability.hostile_corpus import TECHNICAL, Corpus
from tests.reliability.test_hostile_files import LINE_BREAKERS
from uploader_app.gui.files_tab import FilesTab
from uploader_app.gui.findings_model import Column
from uploader_app.models import Target


@pytest.mark.timeout(120)
def test_dropping_the_hostile_folder_on_the_files_tab(
    qtbot: QtBot, hostile_corpus: Corpus, tmp_path: Path
) -> None:
    corpus = hostile_corpus
    fates = Counter(e.fate for e in corpus.entries)
    listed = fates["sent"] + fates["refused"] + fates["skipped"]
    tab = FilesTab(QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(tab)
    tab.set_index("idx1", Target(listens_to_audio=True), "v1.3", "Videos of 4 s to 2 h")
    tab.show()

    _drop(tab, [corpus.folder])

    def done() -> None:
        tally = tab.model.tally()
        assert tally.total == listed and tally.checked == listed and not tab.checking

    qtbot.waitUntil(done, timeout=90_000)
    tally = tab.model.tally()
    assert tally.ready + tally.warnings == fates["sent"]
    assert tally.cannot == fates["refused"]
    assert tally.skipped == fates["skipped"]
    # Only videos that can go are ticked (some start unticked: copies of one another).
    assert 0 < tally.to_send <= fates["sent"]
    model = tab.model
    for row in range(model.rowCount()):
        status = model.data(model.index(row, Column.STATUS))
        assert status, row
        assert not any(word in status for word in TECHNICAL), status
        assert not any(ch in status for ch in LINE_BREAKERS), repr(status)
        name = model.data(model.index(row, Column.NAME))
        assert "\n" not in name and "\r" not in name, repr(name)  # one line per file
    assert tab.upload_button.isEnabled()
