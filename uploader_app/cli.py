"""Command-line front end. Each subcommand's flags are a contract (see the issues)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from uploader_app import __version__, crash
from uploader_app.config import LOG_FORMAT

JOB_COMMANDS = frozenset(
    {"upload", "url", "status", "retry", "cancel", "pause", "resume", "export"}
)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use 0 to 65535 (0 picks one)")
    return port


def _speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        speed = 0.0
    if not speed > 0 or speed == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a speed: use a number above 0")
    return speed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uploader-app",
        description="Check videos and send them to the Twelve Labs video-indexing API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = sub.add_parser(
        "sandbox",
        help="run the local stand-in for the Twelve Labs API (no account, no network)",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument("--port", type=_port, default=4010, help="port (0 picks a free one)")
    sandbox.add_argument("--data-dir", help="folder for uploads and state (kept across restarts)")
    sandbox.add_argument("--api-key", help="the only key accepted (default: the demo key)")
    sandbox.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        help="task clock factor: 1 is a realistic pace, 1000 finishes in milliseconds",
    )
    sandbox.add_argument(
        "--s3-dir",
        help="folder standing in for S3 in transfer manifests: s3://bucket/key is DIR/bucket/key",
    )
    sandbox.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help="S3 API that transfer manifests are read from (an S3 emulator; AWS credentials "
        "from the usual AWS_* settings)",
    )
    sandbox.add_argument(
        "--faults",
        help="fault-injection plan: a JSON file or inline JSON (see docs/sandbox.md)",
    )

    check = sub.add_parser("check", help="check videos locally before sending them")
    target = check.add_mutually_exclusive_group()
    target.add_argument("--index", metavar="ID", help="read the limits from this index's models")
    target.add_argument(
        "--model",
        choices=["marengo", "pegasus", "both"],
        help="check against this model's limits (default: marengo)",
    )
    check.add_argument("--audio", action="store_true", help="the index needs an audio track")
    check.add_argument("--json", action="store_true", help="print a JSON array instead of lines")
    check.add_argument("paths", nargs="+", metavar="PATH", help="video files or folders")
    _add_account_commands(sub)

    # Upload jobs: upload, url, status, retry, cancel, pause, resume, export.
    from uploader_app.jobs.cli_args import add_job_commands

    add_job_commands(sub)

    _add_manifest_commands(sub)
    return parser


def _add_account_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """login, logout, indexes and indexes create (uploader_app/jobs/account.py)."""
    sub.add_parser(
        "login", help="enter your Twelve Labs API key (checked, then kept in the keychain)"
    )
    sub.add_parser("logout", help="remove the saved API key")
    indexes = sub.add_parser("indexes", help="list your indexes, or create one")
    indexes.add_argument("--json", action="store_true", help="print a JSON array")
    actions = indexes.add_subparsers(dest="indexes_command", metavar="ACTION")
    create = actions.add_parser("create", help="create an index")
    create.add_argument("name", metavar="NAME", help="the index's name (unique in the account)")
    create.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="MODEL",
        help="model to index with, e.g. marengo3.0 or pegasus1.2 (repeat for both)",
    )
    create.add_argument(
        "--option",
        action="append",
        choices=["visual", "audio"],
        help="what the models look at (repeat; default: visual and audio)",
    )
    create.add_argument("--json", action="store_true", help="print the new index as JSON")


def _add_manifest_commands(sub: Any) -> None:
    """``manifest check|build`` and ``transfer`` (cloud-to-cloud lists, docs/manifests.md)."""
    manifest = sub.add_parser("manifest", help="check or build an S3 transfer manifest (JSON)")
    actions = manifest.add_subparsers(dest="manifest_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="check every row of a manifest; sends nothing")
    check.add_argument("file", metavar="FILE", help="the manifest (.json)")
    check.add_argument("--json", action="store_true", help="print a JSON report")
    check.add_argument(
        "--account", action="store_true", help="also check the index ids exist in your account"
    )
    check.add_argument(
        "--bucket",
        action="store_true",
        help="also read S3: objects exist, sizes, transcriptions parse (your AWS credentials)",
    )
    check.add_argument("--profile", help="AWS profile for --bucket (default: your default one)")
    build = actions.add_parser("build", help="list a bucket and write a manifest of its videos")
    build.add_argument("source", metavar="s3://BUCKET/PREFIX", help="where the videos are")
    build.add_argument("--index", required=True, metavar="ID", help="index to send them to")
    build.add_argument("--language", default="en", help="language spoken (default: en)")
    build.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    build.add_argument("--profile", help="AWS profile (default: your default credentials)")

    transfer = sub.add_parser("transfer", help="send a manifest's S3 videos to their indexes")
    transfer.add_argument("file", metavar="FILE", help="the manifest (.json), checked first")
    transfer.add_argument("--wait", action="store_true", help="also wait until indexed")
    transfer.add_argument("--json", action="store_true", help="print a JSON array at the end")
    transfer.add_argument(
        "--profile", help="AWS profile for the links API v1.3 fetches (default: your default)"
    )


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        if exc.code and argv[:1] == ["check"]:
            from uploader_app.jobs.check import dash_name_hint

            hint = dash_name_hint(argv[1:])
            if hint:
                print(hint, file=sys.stderr)
        return int(exc.code or 0)
    crash.announce_pending(sys.stderr)
    if args.command == "sandbox":
        if args.api_key:
            # The sandbox's own key is as secret as a real one to whoever chose it: kept out of
            # a crash report's traceback as keys.py keeps the account's out (docs/packaging.md).
            from uploader_app.logfile import add_secret

            add_secret(args.api_key)
        # The sandbox stands in for the vendor: it logs to the screen, not into the app's log.
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format=LOG_FORMAT,
            stream=sys.stderr,
        )
        from uploader_app.sandbox.server import run_from_cli

        return run_from_cli(args)
    from uploader_app.logfile import setup_logging

    setup_logging(verbose=args.verbose)
    if args.command == "check":
        from uploader_app.jobs.check import run_check

        return run_check(args)
    if args.command in ("login", "logout", "indexes"):
        from uploader_app.jobs import account

        runner = {
            "login": account.run_login,
            "logout": account.run_logout,
            "indexes": account.run_indexes,
        }[args.command]
        return runner(args)
    if args.command in JOB_COMMANDS:
        from uploader_app.jobs.commands import run_job_command

        return run_job_command(args)
    if args.command == "manifest":
        from uploader_app.jobs.manifests import run_manifest_build, run_manifest_check

        if args.manifest_command == "build":
            return run_manifest_build(args)
        return run_manifest_check(args)
    if args.command == "transfer":
        from uploader_app.jobs.transfer_command import run_transfer

        return run_transfer(args)
    parser.print_help()
    return 0
