"""Names and paths Windows cannot use, found while a drop is scanned.

The service does not care what a file is called, and the app also runs on Linux and macOS,
so a name Windows refuses is only a warning: the file can be sent from here, but copying the
folder to a Windows computer or a shared drive would fail (docs/validation.md, "Names Windows
cannot use").
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

# Device names Windows reserves in every folder, with or without an extension ("nul.mp4").
RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in range(1, 10)}
    | {f"lpt{n}" for n in range(1, 10)}
)
# Longest full path classic Windows programs open (MAX_PATH is 260 with the closing NUL).
MAX_PATH = 259
_FORBIDDEN = re.compile(r'[<>:"|?*\\\x00-\x1f]')


def name_problem(name: str) -> str | None:
    """Why Windows would refuse this one file or folder name, or None."""
    stem = name.split(".", 1)[0].rstrip(" ").lower()
    if stem in RESERVED:
        return f"“{stem.upper()}” is a name Windows keeps for a device"
    bad = _FORBIDDEN.search(name)
    if bad is not None:
        char = bad.group()
        shown = "a line break or control character" if char < " " else f"the character {char}"
        return f"it contains {shown}, which Windows does not allow in names"
    if name.endswith((".", " ")):
        return "it ends with a dot or a space, which Windows removes"
    return None


def path_problem(parts: tuple[str, ...], full_length: int) -> str | None:
    """The first problem of a path found in a drop: a bad part, then its whole length."""
    for part in parts:
        problem = name_problem(part)
        if problem is not None:
            return problem if part == parts[-1] else f"its folder “{part}”: {problem}"
    if full_length > MAX_PATH:
        return (
            f"its full path is {full_length:,} characters long; many Windows programs stop "
            f"at {MAX_PATH + 1}"
        )
    return None


def case_clashes(names: list[str]) -> dict[str, str]:
    """Names that differ only in upper/lower case, each mapped to the first one it clashes with.

    Windows (and macOS by default) treats them as one name, so one file would overwrite the
    other when the folder is copied there.
    """
    first: dict[str, str] = {}
    clashes: dict[str, str] = {}
    for name in names:
        key = name.casefold()
        if key in first:
            clashes[name] = first[key]
            clashes.setdefault(first[key], name)
        else:
            first[key] = name
    return clashes
