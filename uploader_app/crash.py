"""Crash reports: an uncaught error leaves a readable report, never the key, and the next
start points to it (docs/packaging.md).

A bundled app has no terminal to show a traceback in and its users would not read one, so the
hook writes the details to a file in the user's data folder and tells the person, in plain
words, where it is and what to do with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TextIO

from uploader_app import __version__, config, logfile
from uploader_app.models import without_password

logger = logging.getLogger(__name__)

REPORTS_FOLDER = "crash-reports"
# The name of the newest report already pointed out, so a report is announced once.
ANNOUNCED_FILE = "announced"
# Old reports are deleted beyond this many: one crash a day must not fill a disk.
KEEP_REPORTS = 10
# Options whose value is a secret: the command line in a report shows them with the value cut
# (docs/packaging.md). tests/unit/test_crash.py fails when the parser grows a key-like option
# missing here.
SECRET_OPTIONS = ("--api-key",)
_installed_in: Path | None = None


def reports_dir() -> Path:
    return config.app_home() / REPORTS_FOLDER


def install(directory: Path | None = None) -> None:
    """Write a report for every uncaught error, in the main thread and in other threads."""
    global _installed_in  # noqa: PLW0603 - one hook, one folder per process
    _installed_in = directory or reports_dir()
    # keys.py registers every key it reads from the keychain; the environment's is read here
    # because a crash can come before anything asks keys.py. Only the environment: opening
    # the keychain at every start would be slow, and on macOS may ask for a password.
    env_key = os.environ.get(config.ENV_API_KEY, "").strip()
    if env_key:
        logfile.add_secret(env_key)
    sys.excepthook = _on_uncaught
    threading.excepthook = _on_thread_error


def _on_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):  # the person pressed Ctrl+C: not a crash
        _tell("Stopped.")
        return
    path = write_report(exc_type, exc, tb, directory=_installed_in or reports_dir())
    _tell(_problem_message(path, "The app ran into an unexpected problem."))


def _on_thread_error(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "a background task"
    path = write_report(
        args.exc_type,
        args.exc_value,
        args.exc_traceback,
        directory=_installed_in or reports_dir(),
        where=f"thread {name}",
    )
    _tell(_problem_message(path, "A background task ran into an unexpected problem."))


def _problem_message(path: Path | None, what: str) -> str:
    if path is None:
        return f"{what} No report could be saved: check that your home folder has free space."
    return f"{what} A report was saved to {path}. Please send it to whoever supports the app."


def _tell(message: str) -> None:
    # A windowed bundle on Windows has no stderr at all.
    stream: TextIO | None = sys.stderr
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            print(message, file=stream, flush=True)


def write_report(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    *,
    directory: Path,
    where: str = "main thread",
) -> Path | None:
    """Write one report and return its path; None when no folder would take it."""
    # The log file's redaction: registered keys and x-api-key header values.
    text = logfile.redact(format_report(exc_type, exc, tb, where=where))
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = f"crash-{stamp}-{os.getpid()}.txt"
    # The data folder first; a fresh private folder in the temporary folder when it cannot be
    # written (a full or read-only home), so the report still exists somewhere the message can
    # point to. Private and new: a shared name there may belong to another user of the machine.
    try:
        _save(directory / name, text)
    except OSError:
        try:
            import tempfile  # noqa: PLC0415 - see format_report

            fallback = Path(tempfile.mkdtemp(prefix=f"{config.APP_NAME}-{REPORTS_FOLDER}-"))
            _save(fallback / name, text)
        except OSError:
            return None
        return fallback / name
    _prune(directory)
    return directory / name


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    # A file name that is not UTF-8 reaches Python as lone surrogates (in sys.argv and in
    # messages): written escaped, as the traceback module shows them.
    partial.write_text(text, encoding="utf-8", errors="backslashreplace")
    partial.replace(path)


def format_report(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    *,
    where: str = "main thread",
) -> str:
    """The report's text (not yet redacted): what happened first, the details below."""
    # Loaded by a crash, not at every start (docs/gui.md, "Start-up").
    import platform  # noqa: PLC0415

    try:
        summary = str(exc).strip() or "(no message)"
    except Exception:  # an error's own __str__ may fail; the report must not
        summary = "(its message could not be read)"
    lines = [
        f"{config.APP_DISPLAY_NAME} ran into an unexpected problem.",
        "Please send this file to whoever supports the app. It holds no API key.",
        "",
        f"What happened: {exc_type.__name__}: {summary}",
        f"Where: {where}",
        f"When (UTC): {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}",
        f"App version: {__version__}",
        f"Bundled app: {'yes' if getattr(sys, 'frozen', False) else 'no'}",
        f"System: {platform.platform()}",
        f"Python: {platform.python_version()}",
        f"Command: {' '.join(_command_line(sys.argv))}",
        "",
        "Details for the developers:",
        "".join(traceback.format_exception(exc_type, exc, tb)).rstrip(),
        "",
    ]
    return "\n".join(lines)


def _command_line(argv: Iterable[str]) -> list[str]:
    """The program's name and its arguments, secrets cut: a secret option's value and the
    password of a ``user:password@`` address. The full path of the program says nothing new."""
    args = list(argv)
    if not args:
        return []
    shown = [Path(args[0]).name]
    value_is_secret = False
    for arg in args[1:]:
        if value_is_secret:
            shown.append(logfile.REDACTED)
            value_is_secret = False
            continue
        name, equals, value = arg.partition("=")
        if _is_secret_option(name):
            if equals:
                shown.append(f"{name}={logfile.REDACTED}")
            else:
                shown.append(arg)
                value_is_secret = True
        elif equals and name.startswith("--"):
            shown.append(f"{name}={without_password(value)}")
        else:
            shown.append(without_password(arg))
    return shown


def _is_secret_option(name: str) -> bool:
    # argparse takes any unambiguous prefix of a long option ("--api" for "--api-key").
    return (
        len(name) > 2 and name.startswith("--") and any(o.startswith(name) for o in SECRET_OPTIONS)
    )


def _reports(folder: Path) -> list[Path]:
    # The names start with a UTC time stamp, so they sort oldest first.
    return sorted(folder.glob("crash-*.txt"))


def _prune(folder: Path) -> None:
    for old in _reports(folder)[:-KEEP_REPORTS]:
        with contextlib.suppress(OSError):
            old.unlink()


def pending_report(directory: Path | None = None) -> Path | None:
    """The newest report not yet pointed out to the person, if any."""
    folder = directory or reports_dir()
    reports = _reports(folder)
    if not reports:
        return None
    try:
        announced = (folder / ANNOUNCED_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        announced = ""
    newest = reports[-1]
    return newest if newest.name > announced else None


def mark_announced(report: Path) -> None:
    """Remember that ``report`` was pointed out, so the next start stays quiet about it."""
    try:
        (report.parent / ANNOUNCED_FILE).write_text(report.name, encoding="utf-8")
    except OSError as exc:  # the notice shows again next time; nothing worse
        logger.warning("could not note that %s was shown: %s", report, exc)


def announce_pending(stream: TextIO | None, directory: Path | None = None) -> Path | None:
    """Tell a command-line user where the last crash's report is (once); return it."""
    report = pending_report(directory)
    if report is None:
        return None
    if stream is not None:
        print(
            f"The app ran into an unexpected problem last time. Its report is {report}: please "
            "send it to whoever supports the app.",
            file=stream,
        )
    mark_announced(report)
    return report
