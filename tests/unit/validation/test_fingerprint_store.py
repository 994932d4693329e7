"""Fingerprints kept in a store: written in batches, found again by a new cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from uploader_app.validation import fingerprint as module
from uploader_app.validation.fingerprint import FingerprintCache, Remembered


class _Store:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int, int, int], str] = {}
        self.writes = 0

    def known_fingerprint(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None:
        return self.rows.get((path, size, mtime_ns, inode))

    def remember_fingerprints(self, rows: Sequence[Remembered]) -> None:
        self.writes += 1
        for path, size, mtime_ns, inode, fingerprint in rows:
            self.rows[(path, size, mtime_ns, inode)] = fingerprint


def test_new_fingerprints_are_written_together_and_found_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = []
    for n in range(5):
        path = tmp_path / f"{n}.mp4"
        path.write_bytes(bytes([n]) * 100)
        files.append(path)
    store = _Store()
    first = FingerprintCache(store=store)
    digests = [first.fingerprint(p) for p in files]
    assert store.writes == 0  # batched: nothing per file
    first.flush()
    assert store.writes == 1 and len(store.rows) == 5
    read: list[Path] = []
    real = module.compute_fingerprint

    def counting(path: Path) -> str:
        read.append(path)
        return real(path)

    monkeypatch.setattr(module, "compute_fingerprint", counting)
    second = FingerprintCache(store=store)
    assert [second.fingerprint(p) for p in files] == digests
    assert read == []
