"""The Manifest tab: open, build, edit, check and send a list of videos stored in Amazon S3.

Every cell with a problem is marked, with the reason and the fix in its tooltip; edits go
through the document's history (Undo/Redo); an invalid list cannot be sent, and Send takes the
user to its first error instead (docs/manifests.md).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from uploader_app.gui import controls, text
from uploader_app.gui.background import Stream, run_in_background
from uploader_app.gui.manifest_model import Column, ManifestModel
from uploader_app.manifest.checks import BucketError, Severity
from uploader_app.manifest.document import ManifestDocument
from uploader_app.manifest.uris import UriProblem, parse_s3_uri
from uploader_app.validation.messages import count

if TYPE_CHECKING:
    from uploader_app.manifest.build import BuildResult

logger = logging.getLogger(__name__)

LAST_FOLDER_KEY = "manifest/last_folder"
# The AWS profile typed in "Build from S3 bucket…": its name only; the credentials stay in
# the user's own AWS files (docs/manifests.md, "Sending").
AWS_PROFILE_KEY = "manifest/aws_profile"
JSON_FILTER = "Manifests (*.json);;All files (*)"


class ManifestTab(QWidget):
    """``send_requested(list[dict])``: the rows of a valid manifest, to send."""

    send_requested = Signal(list)

    def __init__(self, state: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._index_id: str | None = None
        self._sending = False
        self.model = ManifestModel()
        self.model.checked.connect(self._refresh)
        self.setAcceptDrops(True)
        self._build()
        self._refresh()

    def _build(self) -> None:
        intro = QLabel(
            "Send a list of videos already stored in Amazon S3. Open the list you downloaded "
            "from the Twelve Labs dashboard (or drop it here), or build one from a bucket."
        )
        intro.setWordWrap(True)
        self.open_button = self._button("&Open list…", "Open a manifest (.json)", self.open_dialog)
        self.build_button = self._button(
            "&Build from S3 bucket…", "List a bucket's videos and their subtitles", self.build
        )
        self.save_button = self._button("&Save", "Save the list", self.save)
        self.save_as_button = self._button("Save &as…", "Save the list as a new file", self.save_as)
        files = QHBoxLayout()
        for button in (self.open_button, self.build_button, self.save_button, self.save_as_button):
            files.addWidget(button)
        files.addStretch(1)
        # Shown where it applies: a send of an opened list (not only a built one) makes its
        # v1.3 links with it, so it must not be a setting hidden in the Build dialog.
        self.profile = QLineEdit(str(self._state.value(AWS_PROFILE_KEY, "") or ""))
        self.profile.setPlaceholderText("default")
        self.profile.setAccessibleName("AWS profile")
        self.profile.setToolTip(
            "The AWS profile (in ~/.aws) whose credentials make the links to your S3 videos "
            "when the index uses API v1.3. Empty: your default credentials. Only the name is "
            "kept by the app."
        )
        self.profile.setMaximumWidth(self.fontMetrics().horizontalAdvance("M" * 14))
        self.profile.editingFinished.connect(self._remember_profile)
        profile_label = QLabel("AWS &profile:")
        profile_label.setBuddy(self.profile)
        files.addWidget(profile_label)
        files.addWidget(self.profile)

        self.set_index_button = self._button(
            "Set &index…", "Set the index of the selected rows", self.ask_index
        )
        self.set_language_button = self._button(
            "Set &language…", "Set the spoken language of the selected rows", self.ask_language
        )
        self.add_button = self._button("Add &row", "Add an empty row", self.add_row)
        self.remove_button = self._button(
            "&Remove rows", "Remove the selected rows from the list", self.remove_selected
        )
        self.undo_button = self._button("&Undo", "Undo the last change", self.undo)
        self.redo_button = self._button("Re&do", "Redo the change undone", self.redo)
        edits = QHBoxLayout()
        for button in (
            self.set_index_button,
            self.set_language_button,
            self.add_button,
            self.remove_button,
            self.undo_button,
            self.redo_button,
        ):
            edits.addWidget(button)
        edits.addStretch(1)

        self.table = QTableView()
        self.table.setAccessibleName("Manifest rows")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # One line per row, long S3 paths cut in the middle: the file name at the end matters.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((Column.OBJECT, 260), (Column.TRANSCRIPTION, 220)):
            self.table.setColumnWidth(column, width)
        self.table.setColumnWidth(Column.INDEX, 200)
        self.table.setColumnWidth(Column.LANGUAGE, 80)

        self.summary = QLabel()
        self.summary.setAccessibleName("Manifest check")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.send_button = QPushButton()
        self.send_button.setAccessibleName("Send the list")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.send_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(files)
        layout.addLayout(edits)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        for keys, action in (
            (QKeySequence.StandardKey.Undo, self.undo),
            (QKeySequence.StandardKey.Redo, self.redo),
            (QKeySequence.StandardKey.Delete, self.remove_selected),
            (QKeySequence.StandardKey.Save, self.save),
        ):
            controls.shortcut(keys, self, action)

    def _button(self, label: str, tip: str, action: Any) -> QPushButton:
        # The accessible name is the label without its mnemonic and ellipsis.
        return controls.button(label, label.replace("&", "").rstrip("…"), tip, action)

    # ---- what the window tells the tab ---------------------------------------------------

    def set_index(self, index_id: str | None) -> None:
        """The index chosen at the top: the default for new rows, builds and "Set index"."""
        self._index_id = index_id

    @Slot(list)
    def set_account_indexes(self, ids: list[str]) -> None:
        """Every index id of the account, as the window listed them."""
        self.model.set_account_indexes(frozenset(ids))

    @property
    def aws_profile(self) -> str | None:
        """The AWS profile that makes v1.3 links for a send (None: the default credentials)."""
        return self.profile.text().strip() or None

    @Slot()
    def _remember_profile(self) -> None:
        self._state.setValue(AWS_PROFILE_KEY, self.profile.text().strip())

    def set_sending(self, sending: bool) -> None:
        self._sending = sending
        self._refresh()

    # ---- opening and saving --------------------------------------------------------------

    @Slot()
    def open_dialog(self) -> None:
        if not self._may_discard():
            return
        folder = str(self._state.value(LAST_FOLDER_KEY, str(Path.home())))
        name, _ = QFileDialog.getOpenFileName(self, "Open a manifest", folder, JSON_FILTER)
        if name:
            self.open_file(Path(name))

    def open_file(self, path: Path) -> bool:
        try:
            document = ManifestDocument.load(path)
        except OSError as exc:
            QMessageBox.warning(
                self,
                "Cannot open the list",
                f"{path.name} could not be opened: {exc.strerror or exc}. "
                "Check that the file is there and can be read.",
            )
            return False
        self._state.setValue(LAST_FOLDER_KEY, str(path.parent))
        self.model.set_document(document)
        self.focus_first_error()
        return True

    @Slot()
    def save(self) -> None:
        if self.model.document.path is None:
            self.save_as()
            return
        self._write(self.model.document.path)

    @Slot()
    def save_as(self) -> None:
        current = self.model.document.path
        folder = str(self._state.value(LAST_FOLDER_KEY, str(Path.home())))
        start = str(current) if current else str(Path(folder) / "manifest.json")
        name, _ = QFileDialog.getSaveFileName(self, "Save the list as", start, JSON_FILTER)
        if name:
            self._write(Path(name))

    def _write(self, path: Path) -> None:
        try:
            self.model.document.save(path)
        except OSError as exc:
            QMessageBox.warning(
                self,
                "Not saved",
                f"The list could not be saved to {path}: {exc.strerror or exc}. "
                "Choose a folder you can write to.",
            )
            return
        self._state.setValue(LAST_FOLDER_KEY, str(path.parent))
        self._refresh()

    def _may_discard(self) -> bool:
        if not self.model.document.modified:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            "The list has changes that are not saved. Open another one anyway?",
        )
        return answer == QMessageBox.StandardButton.Yes

    # ---- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_json(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _dropped_json(event)
        if path is not None and self._may_discard():
            event.acceptProposedAction()
            self.open_file(path)

    # ---- edits ---------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    @Slot()
    def ask_index(self) -> None:
        value, ok = QInputDialog.getText(
            self, "Set index", "Index id for the selected rows:", text=self._index_id or ""
        )
        if ok:
            self.set_on_selected("index_id", value.strip())

    @Slot()
    def ask_language(self) -> None:
        value, ok = QInputDialog.getText(
            self, "Set language", "Two-letter language code (en, fr, ko…):", text="en"
        )
        if ok:
            self.set_on_selected("language", value.strip())

    def set_on_selected(self, name: str, value: str) -> None:
        """Bulk edit: one undoable step for every selected row."""
        rows = self.selected_rows()
        if rows:
            self.model.set_field(rows, name, value)
            self._reselect(rows)

    @Slot()
    def add_row(self) -> None:
        row = {"index_id": self._index_id or "", "language": "en", "object": "s3://"}
        at = len(self.model.document.rows)
        self.model.add_row(row)
        self.table.setCurrentIndex(self.model.index(at, Column.OBJECT))
        self.table.edit(self.model.index(at, Column.OBJECT))

    @Slot()
    def remove_selected(self) -> None:
        rows = self.selected_rows()
        if rows:
            self.model.remove_rows(rows)

    @Slot()
    def undo(self) -> None:
        self.model.undo()

    @Slot()
    def redo(self) -> None:
        self.model.redo()

    def _reselect(self, rows: list[int]) -> None:
        selection = self.table.selectionModel()
        for row in rows:
            selection.select(
                self.model.index(row, 0),
                selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
            )

    # ---- build from a bucket -------------------------------------------------------------

    @Slot()
    def build(self) -> None:
        if not self._may_discard():
            return
        dialog = BuildDialog(self._index_id or "", self, profile=self.aws_profile or "")
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_rows is not None:
            self.profile.setText(dialog.profile.text().strip())
            self._remember_profile()
            self.model.set_document(ManifestDocument.from_rows(dialog.result_rows.rows))
            notes = [f"{n.message} {n.hint}" for n in dialog.result_rows.notes]
            if notes:
                QMessageBox.information(self, "Built, with notes", "\n\n".join(notes))

    # ---- sending -------------------------------------------------------------------------

    @Slot()
    def send(self) -> None:
        """Send a valid list; for an invalid one, go to its first error instead."""
        if not self.model.document.rows:
            return
        if not self.model.valid:
            self.focus_first_error()
            return
        self.send_requested.emit([dict(r) for r in self.model.document.rows])

    def focus_first_error(self) -> None:
        problem = self.model.first_error()
        if problem is None:
            return
        cell = self.model.cell_of(problem)
        if cell.isValid():
            self.table.setCurrentIndex(cell)
            self.table.scrollTo(cell)
            self.table.setFocus()
        self._refresh()
        self.summary.setText(f"{self.summary.text()} {problem.hint}")

    # ---- what the tab shows --------------------------------------------------------------

    def _refresh(self) -> None:
        document = self.model.document
        rows = len(document.rows)
        errors = sum(p.severity is Severity.ERROR for p in self.model.problems)
        warnings = len(self.model.problems) - errors
        name = document.path.name if document.path else "A new list"
        changed = " (not saved)" if document.modified else ""
        if not rows and not self.model.problems:
            self.summary.setText("No list yet: open one, drop a .json file here, or build one.")
        elif errors:
            first = self.model.first_error()
            where = f" First: {first.where}: {first.message}" if first else ""
            self.summary.setText(
                f"{name}{changed}: {count(errors, 'problem')} to fix before sending.{where}"
            )
        else:
            also = f", {count(warnings, 'warning')}" if warnings else ""
            self.summary.setText(f"{name}{changed}: {count(rows, 'row')} ready{also}.")
        self.send_button.setText(f"Send {count(rows, 'video')}" if rows else "Send")
        self.send_button.setEnabled(bool(rows) and not self._sending)
        self.send_button.setToolTip(
            "Fix the marked problems first; Send shows the first one." if errors else ""
        )
        self.save_button.setEnabled(document.readable or bool(rows))
        self.undo_button.setEnabled(document.can_undo)
        self.undo_button.setToolTip(f"Undo: {document.undo_label}" if document.can_undo else "")
        self.redo_button.setEnabled(document.can_redo)
        for button in (self.set_index_button, self.set_language_button, self.remove_button):
            button.setEnabled(bool(rows))
        # A file that is not a JSON list has no rows to add to: saving would replace its text.
        self.add_button.setEnabled(document.readable or document.modified)


class BuildDialog(QDialog):
    """Bucket address, index and language in; the built rows out (``result_rows``)."""

    def __init__(self, index_id: str, parent: QWidget | None = None, *, profile: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Build a list from an S3 bucket")
        self.result_rows: BuildResult | None = None
        self._call: Stream | None = None
        self.address = QLineEdit()
        self.address.setPlaceholderText("s3://my-bucket/videos/")
        self.address.setAccessibleName("Bucket address")
        self.index = QLineEdit(index_id)
        self.index.setAccessibleName("Index id")
        self.language = QLineEdit("en")
        self.language.setAccessibleName("Language")
        self.profile = QLineEdit(profile)
        self.profile.setPlaceholderText("default")
        self.profile.setAccessibleName("AWS profile")
        form = QFormLayout()
        form.addRow("Bucket and folder:", self.address)
        form.addRow("Index id:", self.index)
        form.addRow("Language spoken:", self.language)
        form.addRow("AWS profile:", self.profile)
        self.status = QLabel(
            "Your own AWS credentials are used to list the bucket, and to make the links the "
            "service fetches on API v1.3. Videos are listed with the .srt or .vtt file of the "
            "same name beside them."
        )
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Build status")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setAccessibleName("Listing the bucket")
        self.busy.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Build")
        ok.setAccessibleName("Build the list")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

    @Slot()
    def start(self) -> None:
        address = self.address.text().strip()
        bucket, _, prefix = address.removeprefix("s3://").partition("/")
        checked = parse_s3_uri(f"s3://{bucket}/x") if address.startswith("s3://") else None
        if checked is None or isinstance(checked, UriProblem):
            reason = checked.message if isinstance(checked, UriProblem) else ""
            self.status.setText(
                f"That is not a bucket address. {reason} Write it as s3://bucket/folder/."
            )
            return
        index_id, language = self.index.text().strip(), self.language.text().strip() or "en"
        profile = self.profile.text().strip() or None
        self.buttons.setEnabled(False)
        self.busy.show()
        self.status.setText(f"Listing {address} …")

        def work() -> BuildResult:
            # boto3 takes longer to import than the window takes to show: only when asked.
            from uploader_app.manifest.bucket import S3Access  # noqa: PLC0415
            from uploader_app.manifest.build import build_from_bucket  # noqa: PLC0415

            return build_from_bucket(S3Access(profile), bucket, prefix, index_id, language)

        self._call = run_in_background(work, self._done, self._failed, self)

    def _done(self, result: BuildResult) -> None:
        self.busy.hide()
        self.buttons.setEnabled(True)
        if not result.rows:
            self.status.setText(
                f"No videos there ({count(result.listed, 'object')} listed). "
                "Check the bucket and folder."
            )
            return
        self.result_rows = result
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.busy.hide()
        self.buttons.setEnabled(True)
        if isinstance(error, BucketError):
            self.status.setText(f"{error.message} {error.hint}")
        else:
            logger.warning("building from a bucket failed: %r", error)
            self.status.setText(f"The bucket could not be listed. {text.problem_text(error)}")


def _dropped_json(event: QDragEnterEvent | QDropEvent) -> Path | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    if len(paths) == 1 and paths[0].suffix.lower() == ".json":
        return paths[0]
    return None
