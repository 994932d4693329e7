"""Buttons and keys the tabs and the index bar make the same way (docs/ux.md, "Habits").

Every control gets an accessible name and a tooltip; a button that cannot be pressed says why
in its tooltip; each tab's primary action counts what it sends ("Upload 36 videos").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLineEdit,
    QPushButton,
    QStyle,
    QWidget,
)

from uploader_app.validation.messages import count

Keys = QKeySequence | QKeySequence.StandardKey | Qt.Key | str


Button = TypeVar("Button", bound=QAbstractButton)


def labelled(widget: Button, label: str, name: str, tip: str, slot: Callable[[], object]) -> Button:
    """``widget`` with its words, accessible name, tooltip and action."""
    widget.setText(label)
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    widget.clicked.connect(slot)
    return widget


def button(label: str, name: str, tip: str, slot: Callable[[], object]) -> QPushButton:
    return labelled(QPushButton(), label, name, tip, slot)


def shortcut(
    keys: Keys,
    owner: QWidget,
    slot: Callable[[], object],
    context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetWithChildrenShortcut,
) -> QShortcut:
    """``keys`` call ``slot`` while the focus is in ``owner`` (or as ``context`` says)."""
    sequence = keys if isinstance(keys, QKeySequence) else QKeySequence(keys)
    made = QShortcut(sequence, owner)
    made.setContext(context)
    made.activated.connect(slot)
    return made


def explain(widget: QAbstractButton, reason: str | None, ready_tip: str = "") -> None:
    """Enabled without a reason; otherwise disabled, with the reason as its tooltip."""
    widget.setEnabled(reason is None)
    widget.setToolTip(reason or ready_tip)


def upload_button(object_name: str, slot: Callable[[], object]) -> QPushButton:
    """A tab's primary action; its words come from :func:`show_upload`."""
    widget = QPushButton()
    widget.setObjectName(object_name)
    widget.setDefault(True)
    widget.setIcon(widget.style().standardIcon(QStyle.StandardPixmap.SP_ArrowUp))
    widget.clicked.connect(slot)
    return widget


def show_upload(widget: QPushButton, to_send: int, reason: str | None) -> None:
    """ "Upload 36 videos", enabled, or "Upload" with why it cannot be pressed yet."""
    noun = count(to_send, "video")
    widget.setText(f"Upload {noun}" if to_send else "Upload")
    widget.setAccessibleName(f"Upload {noun}")
    explain(widget, reason, f"Send {noun} to the chosen index (Enter)")


def focus_unless_typing(widget: QWidget) -> None:
    """Give ``widget`` the focus, unless a person is typing somewhere (a search, an address):
    their next keys, and an Enter, would land on ``widget`` instead."""
    # Imported here: their classes' enums are not needed for the first frame (docs/gui.md).
    from PySide6.QtWidgets import QAbstractSpinBox, QPlainTextEdit, QTextEdit  # noqa: PLC0415

    current = QApplication.focusWidget()
    if not isinstance(current, QLineEdit | QAbstractSpinBox | QPlainTextEdit | QTextEdit):
        widget.setFocus(Qt.FocusReason.OtherFocusReason)


def plain_enter(event: QKeyEvent) -> bool:
    """Enter or Return with no modifier but the keypad's."""
    return event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() in (
        Qt.KeyboardModifier.NoModifier,
        Qt.KeyboardModifier.KeypadModifier,
    )
