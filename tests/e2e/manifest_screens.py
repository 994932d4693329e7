"""Screenshots of the Manifest tab: the vendor guide's list with its error marked, and a list
being built from a bucket. ``python -m tests.e2e.manifest_screens [FOLDER]`` (default
docs/screenshots); look at each picture before committing it
(docs/ux.md, "How the window's code is built").

The window runs in this process on a sandbox in demo mode, S3 is a moto server, both on
127.0.0.1; Qt draws offscreen, so no display is needed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from tests.s3_emulator import ACCESS_KEY, REGION, SECRET_KEY, S3Emulator
from uploader_app.gui.account import Account
from uploader_app.gui.main_window import MainWindow
from uploader_app.gui.manifest_tab import BuildDialog
from uploader_app.gui.startup import make_host
from uploader_app.manifest.document import ManifestDocument
from uploader_app.sandbox.server import SandboxServer
from uploader_app.settings import AppSettings

GUIDE = Path(__file__).resolve().parents[1] / "data" / "manifests" / "vendor-guide-example.json"


def settle(app: QApplication, ms: int = 400) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def grab(widget: QWidget, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(path))
    return path


def shoot(out: Path) -> list[Path]:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    taken = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ["UPLOADER_APP_HOME"] = str(root / "home")
        s3 = S3Emulator()
        s3.start()
        os.environ.update(
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_DEFAULT_REGION=REGION,
            AWS_ENDPOINT_URL=s3.url,
        )
        bucket = s3.bucket("marketing-videos")
        for n in range(400):
            s3.put(bucket, f"interviews/{n:03d}.mp4", b"\x00")
        server = SandboxServer(root / "sandbox", speed=100.0)
        server.start()
        try:
            account = Account(server.base_url(), server.api_key, demo=True)
            settings = AppSettings(base_url=server.base_url())
            host = make_host(account, settings)
            window = MainWindow(account, settings, host, QSettings(str(root / "w.ini")))
            host.start()
            window.show()
            window.picker.refresh()
            settle(app, 1500)
            window.show_tab(window.manifest_tab)
            manifest = root / "transfer.json"
            manifest.write_bytes(GUIDE.read_bytes())
            window.manifest_tab.open_file(manifest)
            window.manifest_tab.send_button.click()  # refused: the first error is shown
            settle(app)
            taken.append(grab(window, out / "manifest-errors.png"))

            dialog = BuildDialog(window.picker.current.id if window.picker.current else "", window)
            dialog.address.setText(f"s3://{bucket}/interviews/")
            dialog.show()
            dialog.start()
            settle(app, 50)
            taken.append(grab(dialog, out / "manifest-build.png"))
            while dialog.isVisible():
                settle(app, 100)
            assert dialog.result_rows is not None
            window.manifest_tab.model.set_document(
                ManifestDocument.from_rows(dialog.result_rows.rows)
            )
            settle(app)
            taken.append(grab(window, out / "manifest-built.png"))
            host.shutdown(keep=False)
            window.files_tab.shutdown()
            window.url_tab.shutdown()
        finally:
            server.stop()
            s3.stop()
    return taken


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")
    for path in shoot(target):
        print(path)
