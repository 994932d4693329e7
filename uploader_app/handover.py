"""What a launcher hands the app on its command line: files and folders, or web addresses.

A desktop passes the files dropped on the app's icon as paths (``%F``) or as ``file://``
addresses (``%U``); a person may type ``uploader-app https://host/v.mp4``. Web addresses go to
the URL tab, everything else to the Files tab (docs/gui.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

# Addresses the URL tab checks: any other scheme is a file name that happens to hold a colon.
_WEB_SCHEMES = frozenset({"http", "https"})


def is_web_address(arg: str) -> bool:
    """``https://host/v.mp4`` (the scheme in any case), never a path such as ``C:\\v.mp4``."""
    parts = urlsplit(arg.strip())
    return parts.scheme.lower() in _WEB_SCHEMES and bool(parts.netloc)


def file_address_path(arg: str) -> Path | None:
    """The local path a ``file://`` address names (as a ``%U`` launcher passes it), else None."""
    parts = urlsplit(arg)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    if os.name == "nt":
        # urllib.request has this too, but loads http and email with it (docs/gui.md,
        # "Start-up"): ``/C:/My%20Videos/v.mp4`` -> ``C:\My Videos\v.mp4``.
        import nturl2path  # noqa: PLC0415

        return Path(nturl2path.url2pathname(parts.path))
    # The escapes are the name's bytes (a launcher escapes a Latin-1 name's é as %E9), decoded
    # as the system decodes file names, so a name that is not UTF-8 still finds its file.
    return Path(os.fsdecode(unquote_to_bytes(parts.path)))


def split_handed_over(args: list[str]) -> tuple[list[Path], list[str]]:
    """``args`` as (files and folders, web addresses), each in the order given."""
    paths: list[Path] = []
    urls: list[str] = []
    for arg in args:
        if is_web_address(arg):
            urls.append(arg.strip())
        else:
            paths.append(file_address_path(arg) or Path(arg))
    return paths, urls
