"""``uploader-app manifest check``: exit 0 valid, 1 invalid, 2 usage; lines or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uploader_app.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "manifests"
GOOD = [
    {
        "index_id": "6298d673f1090f1100476d4c",
        "language": "en",
        "object": "s3://twelve-labs-docs/01.mp4",
    }
]


def test_valid_manifest_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(GOOD))
    assert main(["manifest", "check", str(path)]) == 0
    assert "Ready to send: 1 row(s), 0 warning(s)." in capsys.readouterr().out


def test_the_vendor_example_exits_1_naming_row_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "check", str(DATA / "vendor-guide-example.json")]) == 1
    out = capsys.readouterr().out
    assert out.startswith("error   Row 1, index_id (line 2): index_id '629d807aa9e2a3a33a92c00b1'")
    assert "Not ready to send: 1 error(s)" in out


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "check", "--json", str(DATA / "vendor-guide-example.json")]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["rows"] == 2
    (problem,) = report["problems"]
    assert (problem["row"], problem["field"], problem["code"], problem["line"]) == (
        1,
        "index_id",
        "index_id_invalid",
        2,
    )


def test_broken_json_gives_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"index_id": "x",}\n]\n')
    assert main(["manifest", "check", str(path)]) == 1
    assert "Line 2, column 20" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["manifest", "check"], "FILE"),
        (["manifest", "check", "/no/such/list.json"], "Cannot open /no/such/list.json"),
        (["manifest"], "ACTION"),
        (["manifest", "build", "s3://b-b/x"], "--index"),
        (["manifest", "build", "bucket/x", "--index", "i", "-o", "o.json"], "not a bucket"),
        (["manifest", "build", "s3://B_B/x", "--index", "i", "-o", "o.json"], "bucket name"),
        (["transfer"], "FILE"),
        (["transfer", "/no/such/list.json"], "Cannot open"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert words in capsys.readouterr().err
