"""Error parsing and the plain-language table: every documented code has sentences."""

from __future__ import annotations

import pytest

from uploader_app.api import errors
from uploader_app.api.errors import (
    ApiError,
    AuthError,
    CancelledError,
    InsecureUrlError,
    InvalidRequestError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    StorageUrlError,
    UsageLimitError,
    VideoRejectedError,
    error_from_answer,
    parse_error_body,
    redact,
    storage_error,
)
from uploader_app.api.messages import MESSAGES, STATUS_MESSAGES, message_for
from uploader_app.config import ENV_API_KEY, ENV_BASE_URL, ENV_PROXY

# Every code listed in docs/api-notes.md §5 (general, /indexes, /tasks, others seen).
DOCUMENTED_CODES = [
    "parameter_invalid",
    "parameter_not_provided",
    "parameter_unknown",
    "resource_not_exist",
    "api_key_invalid",
    "api_allowed_for_paid_plan",
    "api_not_allowed",
    "unauthorized",
    "region_not_allowed",
    "request_canceled_or_timed_out",
    "too_many_requests",
    "tags_not_allowed",
    "api_upgrade_required",
    "index_option_cannot_be_changed",
    "index_engine_cannot_be_changed",
    "index_name_already_exists",
    "video_resolution_too_low",
    "video_resolution_too_high",
    "video_resolution_invalid_aspect_ratio",
    "video_duration_too_short",
    "video_duration_too_long",
    "video_file_broken",
    "task_cannot_be_deleted",
    "usage_limit_exceeded",
    "video_filesize_too_large",
    "index_not_exists",
    "index_not_supported_for_search",
    "index_not_supported_for_generate",
    "search_option_not_supported",
    "search_page_token_expired",
    "token_limit_exceeded",
    "audio_filesize_too_large",
    "media_filesize_too_large",
    "unsupported_media_type",
    "batch_not_terminal",
    "redirect_uri_invalid",
    "audio_file_broken",
    "unsupported_file_type",
    "content_type_invalid",
]
OWN_CODES = [
    "network_timeout",
    "connection_failed",
    "dns_failed",
    "connection_reset",
    "tls_error",
    "tls_untrusted",
    "tls_wrong_host",
    "tls_expired",
    "proxy_auth_required",
    "proxy_failed",
    "invalid_response",
    "insecure_url",
    "address_invalid",
    "cancelled",
    "upload_session_ended",
    "no_api_key",
    "api_key_malformed",
    "api_version_unsupported",
    "file_changed",
    "already_claimed",
    "storage_url_refused",
    "storage_busy",
]


@pytest.mark.parametrize("code", DOCUMENTED_CODES + OWN_CODES)
def test_every_code_has_plain_sentences(code: str) -> None:
    text = MESSAGES[code]
    for sentence in (text.title, text.user_message, text.hint):
        assert sentence.strip()
        # No code names or jargon leak into what the user reads; the environment variables
        # are how the CLI is set up, so they are named.
        plain = sentence.replace(ENV_API_KEY, "").replace(ENV_BASE_URL, "").replace(ENV_PROXY, "")
        assert "_" not in plain
        # The CLI has no Settings window: the words must fit the CLI and the GUI alike.
        assert "Settings" not in sentence
    assert text.user_message.endswith(".")
    assert text.hint.endswith(".")


@pytest.mark.parametrize(
    "code", ["api_key_invalid", "unauthorized", "no_api_key", "api_key_malformed"]
)
def test_key_hints_name_both_ways_to_set_the_key(code: str) -> None:
    hint = MESSAGES[code].hint
    assert ENV_API_KEY in hint
    assert "the app's settings" in hint


@pytest.mark.parametrize(
    "code",
    [
        "insecure_url",
        "address_invalid",
        "connection_failed",
        "dns_failed",
        "api_version_unsupported",
    ],
)
def test_address_hints_name_both_ways_to_set_the_address(code: str) -> None:
    hint = MESSAGES[code].hint
    assert ENV_BASE_URL in hint
    assert "the app's settings" in hint


def test_no_sentence_is_left_over() -> None:
    assert set(MESSAGES) == set(DOCUMENTED_CODES + OWN_CODES)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "api_key_invalid", AuthError),
        (401, "unauthorized", AuthError),
        (403, "api_allowed_for_paid_plan", PermissionDeniedError),
        (403, "region_not_allowed", PermissionDeniedError),
        (404, "resource_not_exist", NotFoundError),
        (400, "index_not_exists", NotFoundError),
        (429, "too_many_requests", RateLimitedError),
        (400, "video_duration_too_short", VideoRejectedError),
        (400, "video_filesize_too_large", VideoRejectedError),
        (400, "audio_file_broken", VideoRejectedError),
        (413, "media_filesize_too_large", VideoRejectedError),
        (400, "unsupported_media_type", VideoRejectedError),
        (400, "usage_limit_exceeded", UsageLimitError),
        (400, "parameter_invalid", InvalidRequestError),
        (400, "index_name_already_exists", InvalidRequestError),
        (400, "task_cannot_be_deleted", InvalidRequestError),
        (504, "request_canceled_or_timed_out", ServerError),
        (500, "internal_error", ServerError),
    ],
)
def test_codes_map_to_classes(status: int, code: str, cls: type[ApiError]) -> None:
    error = error_from_answer(status, f'{{"code": "{code}", "message": "why"}}'.encode())
    assert type(error) is cls
    assert (error.code, error.message, error.status) == (code, "why", status)
    assert error.title == message_for(code, status).title


def test_vendor_message_and_sentences_are_on_the_error() -> None:
    error = error_from_answer(
        400,
        b'{"code": "video_resolution_too_low", "message": "The resolution 320x240 is too low.",'
        b' "docs_url": "https://docs.example/errors"}',
    )
    assert isinstance(error, VideoRejectedError)
    assert error.title == "Video resolution too low"
    assert "higher resolution" in error.hint
    assert "320x240" in str(error)
    assert "HTTP 400" in str(error)


@pytest.mark.parametrize(
    ("status", "body", "cls", "title"),
    [
        (502, b"<html>Bad Gateway</html>", ServerError, STATUS_MESSAGES[502].title),
        (503, b"", ServerError, STATUS_MESSAGES[503].title),
        (401, b"", AuthError, MESSAGES["api_key_invalid"].title),
        (404, b"not json", NotFoundError, MESSAGES["resource_not_exist"].title),
        (418, b"[1, 2]", InvalidRequestError, STATUS_MESSAGES[400].title),
        (599, b"{}", ServerError, STATUS_MESSAGES[500].title),
        (429, b"", RateLimitedError, MESSAGES["too_many_requests"].title),
    ],
)
def test_empty_or_non_json_bodies_fall_back_on_status(
    status: int, body: bytes, cls: type[ApiError], title: str
) -> None:
    error = error_from_answer(status, body)
    assert type(error) is cls
    assert error.code == f"http_{status}"
    assert error.title == title


def test_unknown_code_falls_back_on_status() -> None:
    error = error_from_answer(400, b'{"code": "brand_new_code", "message": "m"}')
    assert isinstance(error, InvalidRequestError)
    assert error.code == "brand_new_code"
    assert error.title == STATUS_MESSAGES[400].title


def test_parse_error_body_ignores_wrong_types() -> None:
    assert parse_error_body(b'{"code": 5, "message": null}') == (None, "")
    assert parse_error_body(b"") == (None, "")


def test_message_for_unknown_everything_is_generic() -> None:
    assert message_for(None, None) == STATUS_MESSAGES[400]


def test_redact() -> None:
    assert (
        redact("key=abc123 and abc123", "abc123") == f"key={errors.REDACTED} and {errors.REDACTED}"
    )
    assert redact("nothing", None) == "nothing"


@pytest.mark.parametrize(
    "error",
    [
        CancelledError(),
        InsecureUrlError("insecure_url", "refusing"),
        NetworkError("tls_error", "bad cert", before_sending=True),
        error_from_answer(429, b'{"code": "too_many_requests", "message": "later"}'),
    ],
)
def test_str_and_repr_name_the_code(error: ApiError) -> None:
    assert error.code in str(error)
    assert error.code in repr(error)
    assert type(error).__name__ in repr(error)


@pytest.mark.parametrize(
    ("seconds", "phrase"),
    [
        (60, "about 1 minute."),
        (90, "about 2 minutes."),
        (3590, "about 1 hour."),
        (3600, "about 1 hour."),
        (3 * 3600, "about 3 hours."),
        (6 * 3600, "about 6 hours."),
        (5400, "about 1.5 hours."),
    ],
)
def test_a_long_wait_is_told_in_the_hint(seconds: float, phrase: str) -> None:
    error = RateLimitedError("too_many_requests", status=429, retry_after=seconds)
    assert phrase in error.hint
    assert error.retry_after == seconds


def test_a_short_wait_keeps_the_table_hint() -> None:
    error = RateLimitedError("too_many_requests", status=429, retry_after=5)
    assert error.hint == MESSAGES["too_many_requests"].hint


@pytest.mark.parametrize(
    ("status", "s3_code", "kind", "retryable"),
    [
        (403, "AccessDenied", StorageUrlError, False),
        (403, "SignatureDoesNotMatch", StorageUrlError, False),
        (400, "ExpiredToken", StorageUrlError, False),
        (400, "RequestTimeout", ServerError, True),
        (503, "SlowDown", ServerError, True),
        (500, "InternalError", ServerError, True),
    ],
)
def test_storage_xml_errors_are_mapped(
    status: int, s3_code: str, kind: type[ApiError], retryable: bool
) -> None:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{s3_code}</Code><Message>words</Message></Error>"
    ).encode()
    error = storage_error(status, body)
    assert type(error) is kind
    assert error.retryable is retryable
    assert s3_code in error.message
    # Never "your account is not allowed" for a refused storage link.
    assert "account is not" not in error.user_message.lower()


# What truststore puts in ``verify_code``: OpenSSL's X509_V_ERR_* on Linux, the Security
# framework's OSStatus on macOS, the certificate chain policy's HRESULT on Windows.
@pytest.mark.parametrize(
    ("verify_code", "code"),
    [
        (20, "tls_untrusted"),  # Linux: unable to get local issuer certificate
        (10, "tls_expired"),
        (62, "tls_wrong_host"),
        (-67843, "tls_untrusted"),  # macOS: errSecNotTrusted
        (-67818, "tls_expired"),  # errSecCertificateExpired
        (-67819, "tls_expired"),  # errSecCertificateNotValidYet
        (-67602, "tls_wrong_host"),  # errSecHostNameMismatch
        (0x800B0109, "tls_untrusted"),  # Windows: CERT_E_UNTRUSTEDROOT
        (0x800B010A, "tls_untrusted"),  # CERT_E_CHAINING
        (0x800B0101, "tls_expired"),  # CERT_E_EXPIRED
        (0x800B010F, "tls_wrong_host"),  # CERT_E_CN_NO_MATCH
        (0x80092010, "tls_error"),  # CRYPT_E_REVOKED: no words of its own
    ],
)
def test_a_refused_certificate_is_told_by_its_reason_on_every_system(
    verify_code: int, code: str
) -> None:
    import ssl

    import requests
    import urllib3.exceptions

    refused = ssl.SSLCertVerificationError("certificate verify failed")
    refused.verify_code = verify_code
    pool = urllib3.HTTPSConnectionPool("127.0.0.1")  # named only; nothing connects
    wrapped = urllib3.exceptions.MaxRetryError(
        pool, "/v1.3/indexes", urllib3.exceptions.SSLError(refused)
    )
    error = errors.error_from_exception(requests.exceptions.SSLError(wrapped))
    assert error.code == code
