"""The uploads list's progress bars: drawn by the style in the cells that carry one."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from uploader_app.gui.task_model import PROGRESS_ROLE


class ProgressDelegate(QStyledItemDelegate):
    """Draws a progress bar in the cells that carry one (PROGRESS_ROLE), text elsewhere.

    The percentage sits beside the bar in the list's own text colour, never on the bar: over
    the fill some styles draw it in a colour that vanishes (white on a light bar, dark on a
    dark one).
    """

    def parts(self, option: QStyleOptionViewItem) -> tuple[QRect, QRect]:
        """Where the bar and the percentage go in this cell."""
        rect: QRect = option.rect
        room = option.fontMetrics.horizontalAdvance("100%") + 6
        inner = rect.adjusted(2, 3, -2, -3)
        text = QRect(inner.right() - room + 1, rect.top(), room, rect.height())
        bar = QRect(inner.left(), inner.top(), max(0, inner.width() - room - 2), inner.height())
        return bar, text

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        percent = index.data(PROGRESS_ROLE)
        if percent is None:
            super().paint(painter, option, index)
            return
        # The row's background (selection, alternate colour) first, as for any other cell.
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        widget = option.widget
        style = widget.style() if widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, widget)
        bar_rect, text_rect = self.parts(option)
        bar = QStyleOptionProgressBar()
        bar.rect = bar_rect
        bar.palette = option.palette
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = int(percent)
        bar.textVisible = False
        # Qt 6 reads the orientation from this flag; without it the bar is drawn upright.
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setPen(option.palette.color(role))
        painter.drawText(
            text_rect,
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            f"{percent}%",
        )
        painter.restore()
