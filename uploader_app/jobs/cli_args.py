"""The job subcommands' arguments, kept apart from the engine so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import re
from typing import Any

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_UNITS |= {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def parse_size(text: str) -> int:
    """``20MB`` → 20 000 000; ``1.5GiB``, ``500kb`` and plain bytes too (argparse type)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: use e.g. 20MB, 1.5GB or 500KiB")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def add_job_commands(sub: Any) -> None:
    """The job subcommands, added to the CLI's subparsers (``sub``)."""
    upload = sub.add_parser("upload", help="check videos and send them to an index")
    upload.add_argument("--index", required=True, metavar="ID", help="the index to add them to")
    upload.add_argument("--language", help="spoken language (API v1.2 only), e.g. en")
    upload.add_argument(
        "--multipart-over",
        type=parse_size,
        metavar="SIZE",
        help="send files over SIZE (e.g. 20MB) by resumable multipart upload (API v1.3)",
    )
    upload.add_argument("--wait", action="store_true", help="also wait until indexed")
    upload.add_argument("--json", action="store_true", help="print a JSON array at the end")
    upload.add_argument("paths", nargs="+", metavar="PATH", help="video files or folders")

    url = sub.add_parser("url", help="have the service fetch videos from web addresses")
    url.add_argument("--index", required=True, metavar="ID", help="the index to add them to")
    url.add_argument("--wait", action="store_true", help="also wait until indexed")
    url.add_argument("--json", action="store_true", help="print a JSON array at the end")
    url.add_argument("urls", nargs="+", metavar="URL", help="direct links to video files")

    status = sub.add_parser("status", help="list the upload jobs and where each one stands")
    status.add_argument("--watch", action="store_true", help="refresh until nothing moves")
    status.add_argument("--json", action="store_true", help="print a JSON array")

    for name, text in (
        ("retry", "send failed or cancelled jobs again"),
        ("cancel", "give up on jobs (videos already sent stay in the index)"),
        ("pause", "pause jobs; resume continues them"),
        ("resume", "continue paused jobs"),
    ):
        control = sub.add_parser(name, help=text)
        control.add_argument("ids", nargs="*", type=int, metavar="JOB", help="job numbers")
        control.add_argument("--all", action="store_true", help="every job")

    export = sub.add_parser("export", help="write every job to a CSV file")
    export.add_argument("file", metavar="FILE.csv", help="where to write it")
