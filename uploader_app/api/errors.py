"""Typed errors of the API client, each with plain-language sentences for the user.

Every failure a caller can see is an :class:`ApiError`: a non-2xx answer (parsed into the
vendor's ``{code, message}``), a network failure, an unreadable answer, a refused insecure
URL or a cancel. The sentences come from the one table in :mod:`uploader_app.api.messages`.
"""

from __future__ import annotations

import json
import re
import ssl
from typing import TYPE_CHECKING, Any

from uploader_app.api.messages import message_for, retry_hint

if TYPE_CHECKING:
    import requests

REDACTED = "[redacted]"


class ApiError(Exception):
    """Base of every client error.

    ``code`` is the vendor's code (or one of ours, see messages.py; ``http_<status>`` when the
    answer had none), ``message`` the vendor's own text, ``status`` the HTTP status when there
    was an answer. ``title``, ``user_message`` and ``hint`` are for the user. ``retry_after`` is
    the wait the service asked for, in seconds, when it said so.
    """

    retryable = False
    # Set on the error a call finally raises: whether this try or an earlier one of the same
    # call may have been acted on (an ambiguous failure, docs/api-client.md "Duplicates").
    may_have_acted = False

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        status: int | None = None,
        retry_after: float | None = None,
        user_message: str | None = None,
    ) -> None:
        text = message_for(code, status)
        self.code = code
        self.message = message
        self.status = status
        self.title = text.title
        # The table's sentence, unless the caller knows the specifics (a file name, a version).
        self.user_message = user_message or text.user_message
        self.hint = text.hint
        self.set_retry_after(retry_after)
        super().__init__(code, message, status)

    def set_retry_after(self, seconds: float | None) -> None:
        """Record the wait the service asked for; the hint then says when to come back."""
        self.retry_after = seconds
        if seconds is not None and seconds >= 60:
            self.hint = retry_hint(seconds)

    def __str__(self) -> str:
        where = f", HTTP {self.status}" if self.status is not None else ""
        detail = f": {self.message}" if self.message else ""
        return f"{self.title} ({self.code}{where}){detail}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"message={self.message!r})"
        )


class AuthError(ApiError):
    """The key was refused (401, ``api_key_invalid``, ``unauthorized``), or none is set
    (``no_api_key``, ours: raised before anything is sent)."""


class PermissionDeniedError(ApiError):
    """The key is valid but the account may not do this (plan, region, feature)."""


class NotFoundError(ApiError):
    """The index, task, asset or upload does not exist."""


class InvalidRequestError(ApiError):
    """Any other 4xx: a parameter, a name clash, a state that forbids the operation."""


class VideoRejectedError(ApiError):
    """The service refused the file itself (``video_*``, ``audio_*``, size, type)."""


class UsageLimitError(ApiError):
    """The plan's allowance is used up (``usage_limit_exceeded``); waiting minutes won't help."""


class RateLimitedError(ApiError):
    """429 ``too_many_requests``; ``retry_after`` says how long the service wants us to wait."""

    retryable = True


class ServerError(ApiError):
    """5xx or ``request_canceled_or_timed_out``: the service failed, a retry may succeed."""

    retryable = True


class InvalidResponseError(ApiError):
    """A 2xx answer whose body is empty, cut short or not the JSON we expected."""

    retryable = True


class AlreadyClaimedError(InvalidResponseError):
    """The service answered with an object another job already holds (in the job store).

    One POST creates one object, so this means an earlier duplicate look-up handed this
    upload's object to someone else. Not retried (a re-send would upload again) and not
    returned as a success: two uploads must never report the same task.
    """

    retryable = False

    def __init__(self, object_id: str) -> None:
        super().__init__(
            "already_claimed",
            f"the service answered with {object_id}, which another upload already reported",
            user_message=f"The upload was received as {object_id}, but another upload of a "
            "file with the same name was already matched to it.",
        )
        self.object_id = object_id


class NetworkError(ApiError):
    """No answer: timeout, DNS, refused or dropped connection, TLS failure.

    ``before_sending`` is True when the failure happened while connecting, so the service
    cannot have acted on the request (safe to re-send even a non-idempotent POST).
    """

    retryable = True

    def __init__(self, code: str, message: str = "", *, before_sending: bool) -> None:
        super().__init__(code, message)
        self.before_sending = before_sending
        # A certificate problem or a proxy asking for a password does not fix itself in a
        # few seconds.
        self.retryable = not code.startswith("tls_") and code != "proxy_auth_required"


class StorageUrlError(ApiError):
    """Storage refused a presigned chunk URL (S3 ``AccessDenied``, an expired request, a bad
    signature): the fix is a fresh URL from the service, not the user's account."""


class InsecureUrlError(ApiError):
    """The key would be sent over plain HTTP to a host that is not this computer."""


class ConfigError(ApiError):
    """The settings cannot work, found before anything is sent (an unsupported API version)."""


class FileChangedError(ApiError):
    """The file being sent changed (size or modification time), vanished or could not be
    read mid-upload.

    Not retried: sending it again would send a different file (or fail the same way). Not an
    OSError on purpose, so urllib3 lets it out of the body iterator instead of calling it a
    dropped connection.
    """

    def __init__(self, filename: str, message: str = "") -> None:
        super().__init__(
            "file_changed",
            message,
            user_message=f"{filename} changed while it was being sent: it was written to, "
            "moved or could not be read.",
        )
        self.filename = filename


class CancelledError(ApiError):
    """The caller's cancel event was set; the request stopped between chunks or waits."""

    def __init__(self) -> None:
        super().__init__("cancelled")


_BY_CODE: dict[str, type[ApiError]] = {
    "api_key_invalid": AuthError,
    "unauthorized": AuthError,
    "api_allowed_for_paid_plan": PermissionDeniedError,
    "api_not_allowed": PermissionDeniedError,
    "region_not_allowed": PermissionDeniedError,
    "resource_not_exist": NotFoundError,
    "index_not_exists": NotFoundError,
    "too_many_requests": RateLimitedError,
    "request_canceled_or_timed_out": ServerError,
    "usage_limit_exceeded": UsageLimitError,
    "media_filesize_too_large": VideoRejectedError,
    "unsupported_media_type": VideoRejectedError,
    "unsupported_file_type": VideoRejectedError,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitedError,
}


def error_class(code: str, status: int) -> type[ApiError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code.startswith(("video_", "audio_")):
        return VideoRejectedError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return InvalidRequestError


def parse_error_body(content: bytes) -> tuple[str | None, str]:
    """``(code, message)`` from an error body; ``(None, "")`` when it is empty or not JSON."""
    try:
        data: Any = json.loads(content)
    except ValueError:
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    code = data.get("code")
    message = data.get("message")
    return (
        code if isinstance(code, str) and code else None,
        message if isinstance(message, str) else "",
    )


# S3's error codes for a presigned PUT (docs/engine.md, "Storage errors"): a refused URL is
# replaced, a busy or slow store is retried like a 5xx.
_S3_URL_REFUSED = frozenset(
    {
        "AccessDenied",
        "ExpiredToken",
        "RequestExpired",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "TokenRefreshRequired",
    }
)
_S3_BUSY = frozenset({"RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable"})
_S3_CODE = re.compile(rb"<Code>([A-Za-z]+)</Code>")
_S3_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")


def storage_error(status: int, content: bytes) -> ApiError:
    """The typed error for a storage (S3) answer to a chunk PUT, from its XML error body."""
    code_match = _S3_CODE.search(content)
    message_match = _S3_MESSAGE.search(content)
    s3_code = code_match.group(1).decode() if code_match else f"http_{status}"
    message = s3_code
    if message_match:
        message += ": " + message_match.group(1).decode(errors="replace")
    if s3_code in _S3_URL_REFUSED or status == 403:
        return StorageUrlError("storage_url_refused", message, status=status)
    if s3_code in _S3_BUSY or status >= 500 or status == 408:
        return ServerError("storage_busy", message, status=status)
    return error_from_answer(status, content)


def error_from_answer(status: int, content: bytes, *, secret: str | None = None) -> ApiError:
    """The typed error for a non-2xx answer; an unknown or missing code falls back on status.

    ``secret`` (the API key) is cut out of the vendor's message before anything keeps it.
    """
    code, message = parse_error_body(content)
    code = code or f"http_{status}"
    return error_class(code, status)(code, redact(message, secret), status=status)


def error_from_exception(exc: requests.RequestException, *, secret: str | None = None) -> ApiError:
    """The typed error for a request that got no (complete) answer (``secret`` redacted)."""
    # Loaded by whoever raised ``exc``; not at import, so the window starts without them.
    import requests  # noqa: PLC0415
    from urllib3.exceptions import (  # noqa: PLC0415
        NameResolutionError,
        NewConnectionError,
        ProxyError,
    )

    text = redact(str(exc), secret)
    cause = _root_cause(exc)
    if isinstance(exc, requests.exceptions.ProxyError) or isinstance(cause, ProxyError):
        # The proxy's refusal of the tunnel comes as "Tunnel connection failed: 407 …".
        code = "proxy_auth_required" if " 407" in text else "proxy_failed"
        return NetworkError(code, text, before_sending=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(_tls_code(exc), text, before_sending=True)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NetworkError("network_timeout", text, before_sending=True)
    if isinstance(exc, requests.exceptions.Timeout):
        return NetworkError("network_timeout", text, before_sending=False)
    if isinstance(cause, NameResolutionError):
        return NetworkError("dns_failed", text, before_sending=True)
    if isinstance(cause, NewConnectionError):
        return NetworkError("connection_failed", text, before_sending=True)
    return NetworkError("connection_reset", text, before_sending=False)


# The verify results that have a fix of their own (docs/network.md), as truststore reports
# them on each system: OpenSSL's X509_V_ERR_* (Linux), the Security framework's OSStatus
# (macOS, negative) and the certificate chain policy's HRESULT (Windows, 0x800B01xx). The
# three ranges do not overlap.
# Not yet valid, expired: both usually a wrong clock, or a stale certificate.
_TLS_EXPIRED = {9, 10, -67818, -67819, 0x800B0101}
# An issuer this computer does not trust.
_TLS_UNTRUSTED = {2, 18, 19, 20, 21, 27, -67843, 0x800B0109, 0x800B010A, 0x800B010D, 0x800B0112}
# The name, or the IP address, of the server is not on it.
_TLS_WRONG_HOST = {62, 64, -67602, 0x800B010F}


def _tls_code(exc: BaseException) -> str:
    """``tls_expired``, ``tls_untrusted``, ``tls_wrong_host``, or ``tls_error`` for the rest
    (no TLS on the other side, an old protocol, a handshake cut short)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            number = seen.verify_code
            if number in _TLS_EXPIRED:
                return "tls_expired"
            if number in _TLS_WRONG_HOST:
                return "tls_wrong_host"
            if number in _TLS_UNTRUSTED:
                return "tls_untrusted"
            return "tls_error"
        inner = getattr(seen, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in seen.args if isinstance(a, BaseException)), None)
        seen = inner or seen.__cause__ or seen.__context__
    return "tls_error"


def _root_cause(exc: BaseException) -> BaseException:
    """The urllib3 error inside requests' wrappers (``MaxRetryError.reason``, ``args[0]``)."""
    seen: BaseException = exc
    for _ in range(5):
        inner = getattr(seen, "reason", None)
        if not isinstance(inner, BaseException) and seen.args:
            inner = seen.args[0]
        if not isinstance(inner, BaseException):
            break
        seen = inner
    return seen


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced (logs and error texts)."""
    if not secret:
        return text
    return text.replace(secret, REDACTED)
