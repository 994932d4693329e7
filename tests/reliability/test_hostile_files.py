"""The hostile-file corpus (tests/reliability/hostile_corpus.py) through ``check`` and the scan.

Outcome for every input: an answer within the time bound, no traceback, one row with a plain
reason, the verdict its kind calls for, and output that is valid UTF-8 (JSON for ``--json``).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.hostile_corpus import (
    TECHNICAL,
    Corpus,
    Fate,
    run_cli,
    strict_json,
)
from uploader_app.models import Target, Verdict
from uploader_app.validation.messages import valid_text
from uploader_app.validation.scan import scan

VERDICTS: dict[Fate, set[str]] = {
    "sent": {"ok", "warning"},
    "refused": {"rejected"},
    "skipped": {"skipped"},
}
# Characters that must never reach a terminal raw: they end or reorder the line.
LINE_BREAKERS = "\n\r\t\x0b\x0c\x1b\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"


@pytest.fixture
def corpus(hostile_corpus: Corpus) -> Corpus:
    return hostile_corpus


def _key(relative_path: str) -> str:
    """The corpus entry a row belongs to: the first name under the dropped folder."""
    return relative_path.split("/")[1]


def assert_plain(row: dict[str, Any]) -> None:
    """A reason a person can read, and what to do unless all is well: no program words."""
    for field in ("message", "hint"):
        text = row[field]
        assert text or (field == "hint" and row["verdict"] == "ok"), (field, row)
        assert not any(word in text for word in TECHNICAL), (field, text)
    assert row["message"].endswith("."), row["message"]


@pytest.mark.timeout(180)
def test_check_json_gives_every_hostile_file_its_verdict(corpus: Corpus) -> None:
    started = time.monotonic()
    code, out, err = run_cli("check", "--json", str(corpus.folder), timeout=150)
    elapsed = time.monotonic() - started
    assert b"Traceback" not in err, err
    rows = strict_json(out)
    assert code == 1  # some are rejected
    by_entry: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_entry.setdefault(_key(row["relative_path"]), []).append(row)
    for entry in corpus.entries:
        found = by_entry.pop(valid_text(entry.name), [])
        if entry.fate == "unlisted":
            assert not found, (entry.what, found)
            continue
        assert found, f"no row for {entry.what}"
        for row in found:
            assert row["verdict"] in VERDICTS[entry.fate], (entry.what, row)
            assert_plain(row)
    assert not by_entry, f"rows for files not in the corpus: {list(by_entry)}"
    fifo = next(r for r in rows if r["relative_path"] == "corpus/fifo.mp4")
    assert "special system file" in fifo["message"]
    assert fifo["hint"].startswith("It is left out; nothing needs doing")
    [deep] = [r for r in rows if r["code"] == "folder_unreadable"]
    assert "longer than this computer allows" in deep["message"]  # not "permission"
    print(f"\n{len(corpus.entries)} hostile files checked in {elapsed:.1f} s")


def test_check_lines_stay_one_line_per_file(corpus: Corpus) -> None:
    code, out, err = run_cli("check", str(corpus.folder), timeout=150)
    assert code == 1
    assert b"Traceback" not in err, err
    lines = out.decode("utf-8", "strict").split("\n")
    assert lines[-1] == ""
    *rows, summary = lines[:-1]
    for line in rows:
        assert not any(ch in line for ch in LINE_BREAKERS), repr(line)
    files = [line for line in rows if not line.lstrip().startswith("also:")]
    listed = sum(e.fate != "unlisted" for e in corpus.entries)
    assert len(files) == listed
    assert summary.startswith(f"{listed} files checked: ")


@pytest.mark.timeout(120)
def test_the_window_scan_judges_the_corpus_like_check(corpus: Corpus) -> None:
    # The Files tab runs this generator in a worker thread: every row comes, none hangs.
    verdicts = Counter(f.verdict for f in scan([corpus.folder], Target(), workers=2))
    fates = Counter(e.fate for e in corpus.entries)
    assert verdicts[Verdict.SKIPPED] == fates["skipped"]
    assert verdicts[Verdict.REJECTED] == fates["refused"]
    assert verdicts[Verdict.OK] + verdicts[Verdict.WARNING] == fates["sent"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom", "/dev/stdin", "fifo"])
def test_a_device_or_pipe_named_on_the_command_line_is_refused_at_once(
    device: str, tmp_path: Path
) -> None:
    if device == "fifo":
        os.mkfifo(tmp_path / "pipe.mp4")
        device = str(tmp_path / "pipe.mp4")
    elif not Path(device).exists():
        pytest.skip(f"no {device} here")
    started = time.monotonic()
    code, out, err = run_cli("check", "--json", device, timeout=30)
    [row] = strict_json(out)
    assert (code, row["verdict"], row["code"]) == (1, "rejected", "unreadable"), err
    assert "special system file" in row["message"]
    assert time.monotonic() - started < 20


def test_cancel_stops_a_scan_of_a_fifo_folder_at_once(tmp_path: Path) -> None:
    # Pipes everywhere: a scan that opened one would block; cancel must still end it.
    for n in range(50):
        os.mkfifo(tmp_path / f"pipe{n}.mp4")
    cancel = threading.Event()
    results = scan([tmp_path], Target(), workers=2, cancel=cancel)
    first = next(results)
    cancel.set()
    rest = list(results)
    assert first.verdict is Verdict.SKIPPED
    # Only the checks already under way finish (1 or 2 measured); ignoring cancel gives 49.
    assert len(rest) <= 10


@pytest.mark.soak  # 6 s here: make reliability runs it
@pytest.mark.timeout(180)
def test_a_folder_of_ten_thousand_entries(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(10_000):
        # Empty .mp4s (each refused), text files (skipped), a few links to nothing.
        name = f"clip{n:05d}.mp4" if n % 3 else f"note{n:05d}.txt"
        path = folder / name
        if n % 1000 == 7:
            path.symlink_to(f"gone{n}")
        else:
            path.touch()
    started = time.monotonic()
    code, out, err = run_cli("check", "--json", str(folder), timeout=170)
    elapsed = time.monotonic() - started
    rows = strict_json(out)
    assert len(rows) == 10_000, err
    verdicts = Counter(r["verdict"] for r in rows)
    # 6,666 empty .mp4s, 7 of them links to nothing (skipped, like the 3,334 text files).
    assert verdicts == {"rejected": 6_659, "skipped": 3_341}
    assert code == 1
    print(f"\n10,000 entries checked in {elapsed:.1f} s")


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A folder holding a locked video and a locked subfolder, readable by "nobody" up to them.

    Outside the test's own (private) temporary folder, so another user can reach it.
    """
    top = Path(tempfile.mkdtemp(prefix="locked-"))
    try:
        top.chmod(0o755)
        (top / "open.txt").write_text("readable")
        secret = top / "secret.mp4"
        secret.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(1000))
        inner = top / "private"
        inner.mkdir()
        (inner / "hidden-clip.mp4").write_bytes(b"x")
        secret.chmod(0)
        inner.chmod(0)
        yield top
    finally:
        for path in (top / "secret.mp4", top / "private"):
            path.chmod(stat.S_IRWXU)
        shutil.rmtree(top)


def _as_someone_else() -> list[str]:
    """How to run the check so that permissions apply: as "nobody" when we are root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root with no setpriv: file permissions do not apply")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.timeout(60)
def test_locked_files_and_folders_are_reported_not_fatal(locked: Path) -> None:
    # As root (as CI runs) chmod denies nothing, so the check runs as "nobody" instead.
    home = Path(tempfile.mkdtemp(prefix="home-"))
    home.chmod(0o777)
    try:
        env = {**os.environ, "UPLOADER_APP_HOME": str(home), "HOME": str(home)}
        command = [*_as_someone_else(), sys.executable, "-m", "uploader_app", "check", "--json"]
        proc = subprocess.run(
            [*command, str(locked)], env=env, capture_output=True, timeout=50, check=False
        )
    finally:
        shutil.rmtree(home)
    assert b"Traceback" not in proc.stderr, proc.stderr
    rows = {Path(r["path"]).name: r for r in strict_json(proc.stdout)}
    assert rows["secret.mp4"]["verdict"] == "rejected"
    assert "permission" in rows["secret.mp4"]["message"]
    assert rows["private"]["verdict"] == "skipped"
    assert rows["private"]["code"] == "folder_unreadable"
    assert rows["open.txt"]["verdict"] == "skipped"
    for row in rows.values():
        assert_plain(row)
    assert proc.returncode == 1
