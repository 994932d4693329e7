"""The "New index" dialog: name, model and what it looks at (docs/gui.md, "New index").

Apart from the "Send to" bar, so the window's first frame loads no dialog classes
(docs/gui.md, "Start-up").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from uploader_app.gui.background import run_in_background
from uploader_app.gui.controls import explain
from uploader_app.gui.text import problem_text
from uploader_app.models import Index, IndexModel

if TYPE_CHECKING:
    from uploader_app.gui.index_picker import ClientFactory


@dataclass(frozen=True)
class ModelChoice:
    label: str
    names: dict[str, str]  # API version -> model name
    sound_option: dict[str, str]  # API version -> the option that indexes speech and sound


# What the vendor offers for new indexes (docs/gui.md, "New index"): v1.3 names the models
# marengo3.0 and pegasus1.2; v1.2 names its engines and calls sound "conversation".
MODELS = (
    ModelChoice(
        "Marengo: find moments by searching (recommended)",
        {"v1.3": "marengo3.0", "v1.2": "marengo2.6"},
        {"v1.3": "audio", "v1.2": "conversation"},
    ),
    ModelChoice(
        "Pegasus: summaries and answers about each video",
        {"v1.3": "pegasus1.2", "v1.2": "pegasus1.1"},
        {"v1.3": "audio", "v1.2": "conversation"},
    ),
)


class NewIndexDialog(QDialog):
    """Name, model and what it looks at; created in a worker, problems shown in the dialog."""

    def __init__(
        self, client_factory: ClientFactory, api_version: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New index")
        self._client_factory = client_factory
        self._api_version = api_version
        self.created: Index | None = None
        intro = QLabel(
            "An index holds the videos you send, ready to search or analyse. Pick what it "
            "should do and what it should pay attention to."
        )
        intro.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Index name")
        self.name_edit.setPlaceholderText("e.g. Marketing interviews")
        self.model_combo = QComboBox()
        self.model_combo.setAccessibleName("Model")
        for choice in MODELS:
            self.model_combo.addItem(choice.label)
        self.sight_box = QCheckBox("What is seen (people, objects, text on screen)")
        self.sight_box.setAccessibleName("Index what is seen")
        self.sight_box.setChecked(True)
        self.sound_box = QCheckBox("What is heard (speech and sounds)")
        self.sound_box.setAccessibleName("Index what is heard")
        self.sound_box.setChecked(True)
        self.problem_label = QLabel()
        self.problem_label.setAccessibleName("Problem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: palette(link)")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create")
        self.create_button.setAccessibleName("Create the index")
        self.buttons.accepted.connect(self._create)
        self.buttons.rejected.connect(self.reject)
        self.name_edit.textChanged.connect(self._update)
        self.sight_box.toggled.connect(self._update)
        self.sound_box.toggled.connect(self._update)
        form = QFormLayout()
        form.addRow("&Name:", self.name_edit)
        form.addRow("&Model:", self.model_combo)
        form.addRow("Looks at:", self.sight_box)
        form.addRow("", self.sound_box)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self._busy = False
        self._update()

    def models(self) -> list[IndexModel]:
        choice = MODELS[self.model_combo.currentIndex()]
        version = self._api_version
        options = []
        if self.sight_box.isChecked():
            options.append("visual")
        if self.sound_box.isChecked():
            options.append(choice.sound_option[version])
        return [IndexModel(choice.names[version], tuple(options))]

    @Slot()
    def _update(self) -> None:
        reason = None
        if not self.name_edit.text().strip():
            reason = "Give the index a name."
        elif not (self.sight_box.isChecked() or self.sound_box.isChecked()):
            reason = "Tick at least one of what is seen or what is heard."
        if self._busy:
            reason = reason or "Creating the index…"
        explain(self.create_button, reason)

    @Slot()
    def _create(self) -> None:
        name, models = self.name_edit.text().strip(), self.models()
        factory = self._client_factory

        def create() -> Index:
            with factory() as client:
                return client.create_index(name, models)

        self._busy = True
        self._update()
        self.problem_label.setText("Creating the index…")
        run_in_background(create, self._on_created, self._on_failed, self)

    def _on_created(self, index: Index) -> None:
        self._busy = False
        self.created = index
        self.accept()

    def _on_failed(self, error: BaseException) -> None:
        self._busy = False
        self._update()
        self.problem_label.setText(f"The index was not created. {problem_text(error)}")
