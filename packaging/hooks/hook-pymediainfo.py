"""Bundle the libmediainfo that pymediainfo's wheel carries, and nothing else.

The stock hook only finds ``*.so`` files and, finding none in the Linux wheel (its library is
``libmediainfo.so.0``), falls back to the build machine's system library: a bundle that reads
nothing on a machine without it, or reads with another version than the tests used. pymediainfo
loads the file beside its ``__init__`` first (by these names), so that is where it goes.
"""

import sys
from pathlib import Path

from PyInstaller.utils.hooks import get_package_paths

if sys.platform == "win32":
    NAMES = ("MediaInfo.dll",)
elif sys.platform == "darwin":
    NAMES = ("libmediainfo.0.dylib", "libmediainfo.dylib")
else:
    NAMES = ("libmediainfo.so.0",)

_, package_dir = get_package_paths("pymediainfo")
found = [Path(package_dir) / name for name in NAMES if (Path(package_dir) / name).is_file()]
if not found:
    raise SystemExit(
        f"pymediainfo in {package_dir} carries none of {', '.join(NAMES)}: install its wheel "
        "(pip install --only-binary pymediainfo pymediainfo), not the source package"
    )
binaries = [(str(found[0]), "pymediainfo")]
