"""Build the Debian package from the bundle: ``dist/uploader-app_<version>_<arch>.deb``.

It installs the bundle in /opt/uploader-app, a command in /usr/bin, a launcher that takes
dropped videos, and the icons in the hicolor theme. Every file belongs to the package and the
app writes nothing under /opt, so removing it leaves nothing behind. The desktop's own file
triggers (desktop-file-utils, hicolor-icon-theme) refresh the menus and icon caches, so the
package needs no install scripts (docs/packaging.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from uploader_app import __version__
from uploader_app.config import APP_DISPLAY_NAME, APP_ID, APP_NAME

ROOT = Path(__file__).resolve().parents[1]
INSTALL_DIR = Path("/opt") / APP_NAME
# Sizes the hicolor theme has folders for; 1024 is only for the macOS .icns.
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
# What the launcher accepts: the containers the checker reads (docs/validation.md), by the
# MIME types desktops give them (shared-mime-info names).
VIDEO_MIME_TYPES = (
    "video/mp4",
    "video/x-m4v",
    "video/quicktime",
    "video/x-matroska",
    "video/webm",
    "video/x-msvideo",
    "video/avi",
    "video/mpeg",
    "video/mp2t",
    "video/x-flv",
    "video/3gpp",
    "video/3gpp2",
    "video/ogg",
    "video/x-ms-wmv",
    "video/x-ms-asf",
)
# Libraries the bundle's Qt loads from the system rather than carrying (X11/Wayland and GL
# stacks must match the user's display server and drivers).
DEPENDS = (
    "libc6 (>= 2.31)",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libdbus-1-3",
)


def desktop_entry() -> str:
    """The launcher: ``%F`` hands every dropped or opened video to the window's Files tab."""
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            f"Name={APP_DISPLAY_NAME}",
            "GenericName=Video Uploader",
            "Comment=Check videos and send them to the Twelve Labs video-indexing API",
            f"Exec={APP_NAME} %F",
            f"TryExec={APP_NAME}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=AudioVideo;Video;",
            f"MimeType={';'.join(VIDEO_MIME_TYPES)};",
            "Keywords=upload;index;video;Twelve Labs;",
            # X11 matches windows to launchers by class: Qt sets it to the program's name.
            f"StartupWMClass={APP_NAME}",
            "StartupNotify=true",
            "",
        ]
    )


def control(architecture: str, installed_kib: int) -> str:
    return "\n".join(
        [
            f"Package: {APP_NAME}",
            f"Version: {__version__}",
            f"Architecture: {architecture}",
            "Maintainer: Video Indexing Uploader maintainers <uploader-app@localhost>",
            f"Installed-Size: {installed_kib}",
            f"Depends: {', '.join(DEPENDS)}",
            "Section: video",
            "Priority: optional",
            f"Description: {APP_DISPLAY_NAME}",
            " Checks videos on this computer and sends them to the Twelve Labs",
            " video-indexing API without writing code. Includes a local demo server.",
            "",
        ]
    )


def stage(root: Path, bundle: Path, icons: Path, architecture: str) -> None:
    """Lay out the package's files under ``root`` as they land on the user's disk."""
    opt = root / INSTALL_DIR.relative_to("/")
    shutil.copytree(bundle, opt, symlinks=True)
    command = root / "usr" / "bin" / APP_NAME
    command.parent.mkdir(parents=True)
    command.symlink_to(INSTALL_DIR / APP_NAME)
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    (share / "applications" / f"{APP_ID}.desktop").write_text(desktop_entry(), encoding="utf-8")
    hicolor = share / "icons" / "hicolor"
    for size in HICOLOR_SIZES:
        folder = hicolor / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copyfile(icons / "png" / f"{size}.png", folder / f"{APP_ID}.png")
    scalable = hicolor / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copyfile(ROOT / "resources" / "icon.svg", scalable / f"{APP_ID}.svg")
    for path in root.rglob("*"):
        # dpkg keeps modes as they are here; a umask of 077 would hide the app from users.
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    files = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    installed_kib = sum(p.stat().st_size for p in files) // 1024 + 1
    debian = root / "DEBIAN"
    debian.mkdir(mode=0o755)
    (debian / "control").write_text(control(architecture, installed_kib), encoding="utf-8")


def build(bundle: Path, icons: Path, out: Path, architecture: str) -> Path:
    deb = out / f"{APP_NAME}_{__version__}_{architecture}.deb"
    with tempfile.TemporaryDirectory(prefix="deb-", dir=out) as scratch:
        root = Path(scratch) / "root"
        stage(root, bundle, icons, architecture)
        # zstd: 2 s here for the size gzip reaches in 10 s; xz saves a further quarter but
        # takes almost 4 minutes. dpkg reads zstd since Debian 12 and Ubuntu 18.04.
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(root), str(deb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / APP_NAME)
    parser.add_argument("--icons", type=Path, default=ROOT / "build" / "icons")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    architecture = subprocess.run(
        ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
    ).stdout.strip()
    print(build(args.bundle, args.icons, args.out, architecture))
    return 0


if __name__ == "__main__":
    sys.exit(main())
