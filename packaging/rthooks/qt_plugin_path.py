"""Point Qt at the bundle's own plugins, without importing Qt (Linux bundles).

This replaces PyInstaller's PySide6 run-time hook there, which imports QtCore at every start
(0.1-0.3 s, measured by packaging/figures.py) to register a qt.conf that the PySide6 wheels'
relocatable Qt does not need: Qt finds ``plugins/`` beside its own library. What that hook did
and still matters is kept: a QT_PLUGIN_PATH inherited from the desktop (KDE sets one) must not
make the bundled Qt load the system's plugins, built for another Qt version.
"""

import os
import sys
from pathlib import Path

os.environ["QT_PLUGIN_PATH"] = str(Path(sys._MEIPASS) / "PySide6" / "Qt" / "plugins")
