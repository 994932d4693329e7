"""The window's code, tests and docs cite files of this repository only: a citation of a file
that is not here (a planning note, a guide kept elsewhere) points the reader nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CITED = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")


def _citing_files() -> list[Path]:
    files = [*ROOT.joinpath("uploader_app", "gui").glob("*.py")]
    files += [
        *ROOT.joinpath("tests", "gui").glob("*.py"),
        *ROOT.joinpath("tests", "e2e").glob("*.py"),
    ]
    files += [ROOT / "docs" / name for name in ("gui.md", "task-list.md", "ux.md")]
    return sorted(files)


def _exists(cited: str, where: Path) -> bool:
    candidates = (ROOT / cited, ROOT / "docs" / cited, where.parent / cited)
    return any(path.is_file() for path in candidates)


@pytest.mark.parametrize("path", _citing_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cited_document_is_in_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    missing = sorted({m for m in CITED.findall(text) if not _exists(m, path)})
    assert not missing, f"{path.relative_to(ROOT)} cites {missing}, which are not in this repo"
