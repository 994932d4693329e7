"""Icons for verdicts and states: Qt's standard icons, drawn by the style at any scale."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from uploader_app.models import Verdict

_VERDICT_PIXMAPS = {
    Verdict.OK: QStyle.StandardPixmap.SP_DialogApplyButton,
    Verdict.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Verdict.REJECTED: QStyle.StandardPixmap.SP_MessageBoxCritical,
    Verdict.SKIPPED: QStyle.StandardPixmap.SP_MessageBoxInformation,
}


@cache
def verdict_icon(verdict: Verdict) -> QIcon:
    """✓, ⚠, ✕ or ⓘ for a check's verdict (needs a running QApplication)."""
    return QApplication.style().standardIcon(_VERDICT_PIXMAPS[verdict])
