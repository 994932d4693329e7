"""Building and checking manifests against a real S3 emulator (moto server on 127.0.0.1)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.s3_emulator import S3Emulator
from uploader_app.cli import main
from uploader_app.jobs import manifests as manifest_cli
from uploader_app.manifest import build as build_module
from uploader_app.manifest.bucket import S3Access
from uploader_app.manifest.build import build_from_bucket
from uploader_app.manifest.checks import check_document
from uploader_app.manifest.document import ManifestDocument

INDEX = "6298d673f1090f1100476d4c"
SRT = b"1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n2\n00:00:02,500 --> 00:00:04,000\nBye.\n"
VTT = b"WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello there.\n"


def test_build_pairs_subtitles_keeps_videos_only_and_reads_every_page(
    s3: S3Emulator,
) -> None:
    bucket = s3.bucket("media-west")
    # S3 pages hold at most 1,000 objects; pages of 50 prove the paging on fewer uploads.
    keys = [f"clips/{n:04d}.mp4" for n in range(120)]
    extras = {
        "clips/0001.srt": SRT,
        "clips/0002.VTT": VTT,
        "clips/0003.srt": SRT,
        "clips/0003.vtt": VTT,  # both: .srt wins, as for local files
        "clips/notes.txt": b"x",
        "clips/cover.jpg": b"x",
        "other/9999.mp4": b"x",  # outside the prefix
    }
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put(bucket, k, b"\x00" * 16), keys))
        list(pool.map(lambda kv: s3.put(bucket, kv[0], kv[1]), extras.items()))
    seen: list[int] = []
    result = build_from_bucket(
        S3Access(), bucket, "clips/", INDEX, "en", on_progress=seen.append, page_size=50
    )
    assert result.listed == 120 + 6
    assert seen == [50, 100, 126]
    assert [r["object"] for r in result.rows] == [f"s3://{bucket}/{k}" for k in keys]
    by_key = {r["object"]: r.get("transcription") for r in result.rows}
    assert by_key[f"s3://{bucket}/clips/0001.mp4"] == f"s3://{bucket}/clips/0001.srt"
    assert by_key[f"s3://{bucket}/clips/0002.mp4"] == f"s3://{bucket}/clips/0002.VTT"
    assert by_key[f"s3://{bucket}/clips/0003.mp4"] == f"s3://{bucket}/clips/0003.srt"
    assert by_key[f"s3://{bucket}/clips/0004.mp4"] is None
    assert result.transcriptions == 3
    assert result.notes == []
    assert all(r["index_id"] == INDEX and r["language"] == "en" for r in result.rows)


def test_build_warns_outside_us_west_2_and_leaves_out_oversized_videos(
    s3: S3Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3.bucket("media-europe", region="eu-west-1")
    s3.put(bucket, "small.mp4", b"\x00" * 10)
    s3.put(bucket, "huge.mp4", b"\x00" * 101)
    monkeypatch.setattr(build_module, "MAX_OBJECT_SIZE", 100)
    result = build_from_bucket(S3Access(), bucket, "", INDEX, "fr")
    assert [r["object"] for r in result.rows] == [f"s3://{bucket}/small.mp4"]
    assert result.left_out == 1
    region_note, size_note = result.notes
    assert "eu-west-1" in region_note.message and "us-west-2" in region_note.message
    assert "huge.mp4" in size_note.message and "left out" in size_note.message


def test_cli_build_writes_a_valid_manifest_that_check_accepts(
    s3: S3Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = s3.bucket("media-west")
    s3.put(bucket, "a/01.mp4", b"\x00" * 10)
    s3.put(bucket, "a/01.srt", SRT)
    s3.put(bucket, "a/02.mov", b"\x00" * 10)
    out = tmp_path / "list.json"
    code = main(["manifest", "build", f"s3://{bucket}/a/", "--index", INDEX, "-o", str(out)])
    assert code == 0, capsys.readouterr()
    assert json.loads(out.read_text()) == [
        {
            "index_id": INDEX,
            "language": "en",
            "object": f"s3://{bucket}/a/01.mp4",
            "transcription": f"s3://{bucket}/a/01.srt",
        },
        {"index_id": INDEX, "language": "en", "object": f"s3://{bucket}/a/02.mov"},
    ]
    assert "2 video(s), 1 with a transcription" in capsys.readouterr().out
    assert main(["manifest", "check", "--bucket", str(out)]) == 0
    assert "Ready to send: 2 row(s)" in capsys.readouterr().out


def test_cli_build_splits_long_lists(
    s3: S3Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest_cli, "MAX_ROWS", 2)
    bucket = s3.bucket("media-west")
    for n in range(5):
        s3.put(bucket, f"{n}.mp4", b"\x00")
    assert (
        main(
            [
                "manifest",
                "build",
                f"s3://{bucket}",
                "--index",
                INDEX,
                "-o",
                str(tmp_path / "l.json"),
            ]
        )
        == 0
    )
    parts = sorted(p.name for p in tmp_path.glob("l-*.json"))
    assert parts == ["l-1.json", "l-2.json", "l-3.json"]
    assert [len(json.loads((tmp_path / p).read_text())) for p in parts] == [2, 2, 1]


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("missing bucket", "There is no bucket named 'no-such-bucket'"),
        ("no permission", "not allowed to list the bucket"),
        ("wrong key", "AWS refused your credentials"),
        ("no credentials", "No AWS credentials were found"),
        ("unknown profile", "no AWS profile named 'work'"),
        ("broken AWS settings", "aws-config cannot be read"),
        ("not a bucket address", "not a bucket address"),
    ],
)
def test_cli_build_gives_a_plain_reason_when_s3_cannot_be_read(  # noqa: PLR0917 (fixtures)
    s3: S3Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    words: str,
) -> None:
    bucket = s3.bucket("media-west")
    s3.put(bucket, "01.mp4", b"\x00")
    source, extra = f"s3://{bucket}/", []
    if setup == "missing bucket":
        source = "s3://no-such-bucket/"
    elif setup == "no permission":
        key, secret = s3.user("viewer", actions=["s3:GetObject"])  # may read, not list
        s3.require_auth()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    elif setup == "wrong key":
        s3.user("someone", actions=["s3:*"])
        s3.require_auth()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
    elif setup == "no credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    elif setup == "unknown profile":
        extra = ["--profile", "work"]
    elif setup == "broken AWS settings":
        broken = tmp_path / "aws-config"
        broken.write_text("[default\nregion = us-west-2\n")  # no closing bracket
        monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))
    else:
        source = "https://example.com/videos"
    out = tmp_path / "list.json"
    code = main(["manifest", "build", source, "--index", INDEX, "-o", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert "Traceback" not in err and "ClientError" not in err and "403" not in err
    assert not out.exists()


def test_cli_build_with_a_permitted_user_works_with_auth_on(
    s3: S3Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3.bucket("media-west")
    s3.put(bucket, "01.mp4", b"\x00")
    key, secret = s3.user("lister", actions=["s3:ListBucket", "s3:GetObject"])
    s3.require_auth()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    out = tmp_path / "list.json"
    assert main(["manifest", "build", f"s3://{bucket}", "--index", INDEX, "-o", str(out)]) == 0
    assert len(json.loads(out.read_text())) == 1


def test_check_with_the_bucket_reads_objects_and_transcriptions(s3: S3Emulator) -> None:
    bucket = s3.bucket("media-west")
    s3.put(bucket, "01.mp4", b"\x00" * 10)
    s3.put(bucket, "01.srt", SRT)
    s3.put(bucket, "02.mp4", b"\x00" * 10)
    s3.put(bucket, "02.srt", b"this is not a subtitle file\n")
    s3.put(bucket, "03.mp4", b"\x00" * 10)
    s3.put(bucket, "03.vtt", b"1\n00:00:00,500 --> 00:00:02,000\nSRT in a .vtt\n")

    def entry(n: str, sub: str | None = None) -> dict[str, str]:
        made = {"index_id": INDEX, "language": "en", "object": f"s3://{bucket}/{n}.mp4"}
        if sub is not None:
            made["transcription"] = f"s3://{bucket}/{n}.{sub}"
        return made

    rows = [
        entry("01", "srt"),
        entry("02", "srt"),
        entry("03", "vtt"),
        entry("04"),
        entry("05", "srt"),
    ]
    document = ManifestDocument(json.dumps(rows, indent=2).encode())
    assert check_document(document) == []  # nothing wrong that the file alone can show
    problems = check_document(document, objects=S3Access())
    assert [(p.row, p.field, p.code) for p in problems] == [
        (2, "transcription", "transcription_content"),
        (3, "transcription", "transcription_content"),
        (4, "object", "object_missing"),
        (5, "object", "object_missing"),
        (5, "transcription", "transcription_missing"),
    ]
    assert "SRT format" in problems[0].message
    assert "WebVTT" in problems[1].message


def test_check_with_the_bucket_reads_a_transcription_with_a_long_or_odd_name(
    s3: S3Emulator,
) -> None:
    """S3 keys run to 1,024 bytes and may hold any character: the content check must not
    depend on the name being a valid local file name (it once crashed on a long one)."""
    bucket = s3.bucket("media-west")
    long_name = "n" * 300
    s3.put(bucket, f"{long_name}.mp4", b"\x00" * 10)
    s3.put(bucket, f"{long_name}.srt", SRT)
    s3.put(bucket, "what?.mp4", b"\x00" * 10)
    s3.put(bucket, "what?.srt", b"not a subtitle\n")
    rows = [
        {
            "index_id": INDEX,
            "language": "en",
            "object": f"s3://{bucket}/{name}.mp4",
            "transcription": f"s3://{bucket}/{name}.srt",
        }
        for name in (long_name, "what?")
    ]
    document = ManifestDocument(json.dumps(rows).encode())
    problems = check_document(document, objects=S3Access())
    assert [(p.row, p.field, p.code) for p in problems] == [
        (2, "transcription", "transcription_content")
    ]


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--index", "Coding", "--index: index_id 'Coding' has 6 characters"),
        ("--language", "English", "'en' (English)"),
    ],
)
def test_cli_build_refuses_a_wrong_index_or_language_before_listing(  # noqa: PLR0917 (fixtures)
    s3: S3Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    words: str,
) -> None:
    """A wrong --index or --language is a usage error said once, not a file of N bad rows."""
    bucket = s3.bucket("media-west")
    s3.put(bucket, "01.mp4", b"\x00")
    arguments = {"--index": INDEX, "--language": "en", option: value}
    out = tmp_path / "list.json"
    options = [word for pair in arguments.items() for word in pair]
    code = main(["manifest", "build", f"s3://{bucket}", "-o", str(out), *options])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert "Listed" not in err  # refused before the bucket was read
    assert not out.exists()


def test_cli_build_says_plainly_when_the_file_cannot_be_written(
    s3: S3Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = s3.bucket("media-west")
    s3.put(bucket, "01.mp4", b"\x00")
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "list.json"  # a folder that is a file: no one can write there
    code = main(["manifest", "build", f"s3://{bucket}", "--index", INDEX, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "could not be written" in err and "Traceback" not in err
