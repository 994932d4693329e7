"""`make test` on a clean machine installs the system libraries the build loads (Makefile)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("dpkg") is None, reason="Debian's packages"
)


def _system_packages() -> set[str]:
    database = subprocess.run(
        ["make", "-pn", "-C", str(ROOT), "system-deps"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    [line] = [x for x in database.splitlines() if x.startswith("SYSTEM_PACKAGES :=")]
    return set(line.split(":=", 1)[1].split())


def test_the_icon_renderers_cairo_is_a_listed_system_package() -> None:
    # cairosvg (make_icons.py, run by `make package`) opens the system's Cairo through cffi:
    # the package that owns the loaded file must be one the Makefile installs, not one that
    # happens to come along with another.
    import cairosvg

    assert cairosvg.svg2png(
        bytestring=b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    )
    maps = Path("/proc/self/maps").read_text(encoding="utf-8").splitlines()
    [library] = {line.split()[-1] for line in maps if "/libcairo.so" in line}
    owner = subprocess.run(
        ["dpkg", "-S", str(Path(library).resolve())],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split(":")[0]
    assert owner in _system_packages()
