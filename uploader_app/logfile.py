"""One plain-text log file per day in ``app_home()/logs``, with the API key cut out of it.

Every line, traceback included, passes through :class:`RedactingFormatter`, which replaces each
secret registered with :func:`add_secret` (``keys.py`` registers every key it reads or saves),
any ``x-api-key`` header value and AWS's signing secrets (session token, signature,
credential) in headers and presigned links. Files are named by date and opened for appending, so the
window and a command-line run can write the same day's file without renaming each other's
(as a rotating handler would). Files older than :data:`KEEP_DAYS` are deleted at start-up.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import threading
from pathlib import Path

from uploader_app.config import APP_NAME, LOG_FORMAT, logs_dir

logger = logging.getLogger(__name__)

KEEP_DAYS = 30
FILE_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"
REDACTED = "[redacted]"
# Shorter values would cut ordinary words out of log lines; real keys are far longer.
MIN_SECRET_LENGTH = 8

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_HEADER = re.compile(r"""(x-api-key['"]?\s*[:=]\s*['"]?)([^'"\s,}]+)""", re.IGNORECASE)
# AWS's secrets in signed requests and presigned links: the session token, the signature and
# the credential scope (which names the access key id), as header or query values.
_AWS = re.compile(
    r"""((?:x-amz-security-token|x-amz-signature|x-amz-credential|credential|signature)"""
    r"""['"]?\s*[:=]\s*b?['"]?)([^'"\s,}&]+)""",
    re.IGNORECASE,
)
# Libraries whose DEBUG lines carry signed requests (botocore: headers with the session token,
# the canonical request) or whole presigned links (urllib3: every URL it opens). Their INFO
# and above stay in the log.
_CHATTY_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")
_FILE_NAME = re.compile(rf"{re.escape(APP_NAME)}-(\d{{4}}-\d{{2}}-\d{{2}})\.log")


def add_secret(value: str) -> None:
    """Never write ``value`` to a log again (in this process)."""
    if len(value) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    text = _HEADER.sub(rf"\g<1>{REDACTED}", text)
    return _AWS.sub(rf"\g<1>{REDACTED}", text)


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes secrets from the whole text (traceback included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class DailyFileHandler(logging.FileHandler):
    """Appends to ``<folder>/uploader-app-YYYY-MM-DD.log``, moving to a new file at midnight."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._day = dt.date.today()
        self._said_cannot_write = False
        # A file name in another encoding is logged with its odd bytes escaped, not dropped.
        super().__init__(
            self._path_for(self._day),
            mode="a",
            encoding="utf-8",
            errors="backslashreplace",
            delay=True,
        )

    def _path_for(self, day: dt.date) -> Path:
        return self.folder / f"{APP_NAME}-{day.isoformat()}.log"

    @property
    def path(self) -> Path:
        return Path(self.baseFilename)

    def emit(self, record: logging.LogRecord) -> None:
        today = dt.date.today()
        if today != self._day:
            self.acquire()
            try:
                self._day = today
                if self.stream is not None:
                    self.stream.close()
                    self.stream = None  # reopened lazily (delay=True)
                self.baseFilename = str(self._path_for(today))
            finally:
                self.release()
        if self.stream is None:
            # FileHandler opens a delayed file outside its own error handling, so a file that
            # cannot be opened would raise into whatever code was logging.
            try:
                self.stream = self._open()
            except OSError:
                self.handleError(record)
                return
        super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        """A file that cannot be opened or written (full disk, no permission): one sentence
        on stderr, not logging's traceback for every line. Other errors (a bad format string)
        are logging's usual report."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)
            return
        if not self._said_cannot_write:
            self._said_cannot_write = True
            sys.stderr.write(
                f"Cannot write the log file {self.baseFilename} "
                f"({error.strerror or error}); the app goes on without it.\n"
            )


def setup_logging(verbose: bool = False) -> Path:
    """Log to today's file (INFO, or DEBUG when ``verbose``) and to stderr (warnings, or
    everything when ``verbose``). Calling it again replaces what it set up. Returns the file.

    A folder that cannot be written is reported on stderr; the app runs on without a file.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_uploader_app", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(RedactingFormatter(LOG_FORMAT))
    _install(root, console)

    folder = logs_dir()
    daily = DailyFileHandler(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        daily.close()
        logger.warning(
            "Cannot write the log file in %s (%s); logging to the screen only.", folder, exc
        )
        return daily.path
    daily.setLevel(logging.DEBUG if verbose else logging.INFO)
    daily.setFormatter(RedactingFormatter(FILE_FORMAT))
    _install(root, daily)
    _prune(folder, dt.date.today() - dt.timedelta(days=KEEP_DAYS))
    return daily.path


def _install(root: logging.Logger, handler: logging.Handler) -> None:
    handler._uploader_app = True  # type: ignore[attr-defined]  # marks ours for a re-run
    root.addHandler(handler)


def _prune(folder: Path, before: dt.date) -> None:
    for path in folder.glob(f"{APP_NAME}-*.log"):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            continue
        try:
            day = dt.date.fromisoformat(match[1])
        except ValueError:
            continue
        if day < before:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:  # another user's file, a read-only folder: keep it
                logger.info("could not delete the old log %s: %s", path, exc)
