"""The "Send to" bar: which index the videos go to, what it looks at, and its limits.

Indexes are listed from the API in a worker (the GUI thread never waits on the network);
F5 or the refresh button lists them again; "New index…" creates one. The last index chosen is
remembered and chosen again when it still exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from uploader_app.gui import text
from uploader_app.gui.background import run_in_background
from uploader_app.gui.controls import labelled, shortcut
from uploader_app.gui.text import problem_text
from uploader_app.models import Index, Target
from uploader_app.validation.messages import count

if TYPE_CHECKING:
    from uploader_app.api.client import ApiClient


LAST_INDEX_KEY = "index/last"
ClientFactory = Callable[[], "ApiClient"]


@dataclass(frozen=True)
class Listing:
    indexes: list[Index]
    api_version: str


def list_indexes(client_factory: ClientFactory) -> Listing:
    with client_factory() as client:
        return Listing(list(client.iter_indexes()), client.version)


class IndexPicker(QWidget):
    """``index_changed(index or None, api version)`` whenever the chosen index changes;
    ``listed(ids)`` with every index id of the account after each listing (or creation);
    ``listing_failed(words)`` when the indexes could not be listed."""

    index_changed = Signal(object, str)
    listed = Signal(list)
    listing_failed = Signal(str)

    def __init__(
        self, client_factory: ClientFactory, state: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._client_factory = client_factory
        self._state = state
        self._indexes: list[Index] = []
        self._api_version = "v1.3"
        self._loading = False
        self._again = False  # a refresh asked for while one was under way
        # Said until the person chooses: the index chosen before is gone from the service.
        self._gone_note = ""
        # Learnt while the listing under way was read, which may predate both: a gone index
        # must not come back with it, nor an index just created be dropped (and called gone).
        self._gone_since: set[str] = set()
        self._created_since: list[Index] = []
        self._build()

    def _build(self) -> None:
        style = self.style()
        label = QLabel("Send to:")
        self.combo = QComboBox()
        self.combo.setObjectName("indexCombo")
        self.combo.setAccessibleName("Index to send videos to")
        self.combo.setMinimumContentsLength(24)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        label.setBuddy(self.combo)
        self.combo.currentIndexChanged.connect(self._on_chosen)
        self.models_label = QLabel()
        self.models_label.setAccessibleName("Models of the chosen index")
        self.limits_label = QLabel()
        self.limits_label.setAccessibleName("Limits of the chosen index")
        self.limits_label.setEnabled(False)  # the quieter, secondary colour of the palette
        self.status_label = QLabel()
        self.status_label.setAccessibleName("Index list status")
        self.status_label.setWordWrap(True)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.refresh_button = labelled(
            QToolButton(),
            "",
            "Refresh the list of indexes",
            "Refresh the list of indexes (F5)",
            self.refresh,
        )
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.new_button = labelled(
            QToolButton(),
            "New index…",
            "Create a new index",
            "Create a new index to send videos to",
            self.create_index,
        )
        self.new_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.new_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_FileDialogNewFolder))
        shortcut(
            QKeySequence.StandardKey.Refresh, self, self.refresh, Qt.ShortcutContext.WindowShortcut
        )

        top = QHBoxLayout()
        top.addWidget(label)
        top.addWidget(self.combo)
        top.addWidget(self.models_label)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.new_button)
        second = QHBoxLayout()
        second.addSpacing(label.sizeHint().width() + 6)
        second.addWidget(self.limits_label)
        second.addWidget(self.status_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(second)

    # ---- state ---------------------------------------------------------------------------

    @property
    def current(self) -> Index | None:
        number = self.combo.currentIndex()
        return self._indexes[number] if 0 <= number < len(self._indexes) else None

    @property
    def indexes(self) -> list[Index]:
        """Every index of the account, as last listed."""
        return list(self._indexes)

    @property
    def api_version(self) -> str:
        return self._api_version

    def target(self) -> Target | None:
        index = self.current
        return Target.for_index(index) if index is not None else None

    def limits_text(self) -> str:
        index = self.current
        return text.limits_line(index, self._api_version) if index is not None else ""

    # ---- actions -------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        if self._loading:
            # The listing under way may have started before what asked for this one (an index
            # deleted meanwhile): one more follows it.
            self._again = True
            return
        self._loading = True
        self._gone_since.clear()
        self._created_since.clear()
        self.refresh_button.setEnabled(False)
        if not self._gone_note:  # those words stay until the person chooses
            self.status_label.setText("Looking up your indexes…")
        factory = self._client_factory
        run_in_background(lambda: list_indexes(factory), self._on_listed, self._on_failed, self)

    @Slot()
    def create_index(self) -> None:
        # Loaded when first opened, with its dialog classes (docs/gui.md, "Start-up").
        from uploader_app.gui.new_index import NewIndexDialog  # noqa: PLC0415

        dialog = NewIndexDialog(self._client_factory, self._api_version, self)
        if dialog.exec() and dialog.created is not None:
            self._gone_note = ""  # the person chose where the videos go
            self._state.setValue(LAST_INDEX_KEY, dialog.created.id)
            if self._loading:
                self._created_since.append(dialog.created)
            self._show([*self._indexes, dialog.created], dialog.created.id)

    def forget(self, index_id: str) -> None:
        """The service said this index is gone (an upload to it, or the engine's check): it
        leaves the list now, and the list is asked for again (other indexes may be gone too)."""
        if self._loading:  # the listing under way may name it (the first one, say)
            self._gone_since.add(index_id)
        if index_id not in (i.id for i in self._indexes):
            return  # already gone from the list: every row to it says so, one listing is enough
        current = self.current
        wanted = current.id if current is not None and current.id != index_id else ""
        self._show([i for i in self._indexes if i.id != index_id], wanted)
        self.refresh()

    def _on_listed(self, listing: Listing) -> None:
        self._loading = False
        self.refresh_button.setEnabled(True)
        self._api_version = listing.api_version
        wanted = self.current.id if self.current else self._state.value(LAST_INDEX_KEY, "")
        indexes = [i for i in listing.indexes if i.id not in self._gone_since]
        listed = {i.id for i in indexes}
        indexes += [i for i in self._created_since if i.id not in listed]
        self._show(indexes, str(wanted or ""))
        self._refresh_again()

    def _on_failed(self, error: BaseException) -> None:
        self._loading = False
        self.refresh_button.setEnabled(True)
        words = problem_text(error)
        # The words about a gone index stay: the person must still learn where videos go.
        failed = f"Could not list your indexes. {words}"
        self.status_label.setText(" ".join(part for part in (self._gone_note, failed) if part))
        self.listing_failed.emit(words)
        self._refresh_again()

    def _refresh_again(self) -> None:
        if self._again:
            self._again = False
            self.refresh()

    def _show(self, indexes: list[Index], wanted: str) -> None:
        before = self.current
        self.combo.blockSignals(True)
        self._indexes = sorted(indexes, key=lambda i: i.name.casefold())
        self.combo.clear()
        for index in self._indexes:
            self.combo.addItem(index.name, index.id)
        ids = [i.id for i in self._indexes]
        self.combo.setCurrentIndex(ids.index(wanted) if wanted in ids else 0)
        self.combo.blockSignals(False)
        if before is not None and before.id not in ids:
            # Not chosen by the person: another index now takes the videos, so it is said.
            then = f"videos now go to {self.current.name}" if self.current else "none is left"
            self._gone_note = f"The index {before.name} is no longer on the service: {then}."
        empty = "" if self._indexes else "No index yet: create one with New index… to send videos."
        self.status_label.setText(" ".join(part for part in (self._gone_note, empty) if part))
        self._describe()
        self.listed.emit(ids)
        if self.current != before:
            self.index_changed.emit(self.current, self._api_version)

    @Slot(int)
    def _on_chosen(self, _number: int) -> None:
        if self._gone_note:
            self._gone_note = ""
            self.status_label.setText("")
        index = self.current
        if index is not None:
            self._state.setValue(LAST_INDEX_KEY, index.id)
        self._describe()
        self.index_changed.emit(index, self._api_version)

    def _describe(self) -> None:
        index = self.current
        self.models_label.setText(text.model_summary(index) if index else "")
        self.limits_label.setText(self.limits_text())
        self.combo.setToolTip(f"{index.name}: {count(index.video_count, 'video')}" if index else "")
