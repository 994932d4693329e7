"""The retry policy: server-requested waits, backoff, what is retried and the total cap."""

from __future__ import annotations

import random

import pytest
from requests.structures import CaseInsensitiveDict

from uploader_app.api.errors import (
    ApiError,
    NetworkError,
    RateLimitedError,
    ServerError,
    error_from_answer,
)
from uploader_app.api.retry import RetryPolicy, rate_limit_wait, retry_after_wait

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def _headers(**values: str) -> CaseInsensitiveDict[str]:
    return CaseInsensitiveDict({k.replace("_", "-"): v for k, v in values.items()})


def _wait(message: str = "", **headers: str) -> float | None:
    return rate_limit_wait(_headers(**headers), message, now=lambda: NOW)


def test_retry_after_seconds() -> None:
    assert _wait(Retry_After="7") == 7.0


def test_retry_after_http_date() -> None:
    assert _wait(Retry_After="Fri, 15 Jan 2027 08:00:30 GMT") == 30.0


def test_retry_after_in_the_past_means_now() -> None:
    assert _wait(Retry_After="Fri, 15 Jan 2027 07:00:00 GMT") == 0.0


def test_ratelimit_reset_epoch_when_no_retry_after() -> None:
    assert _wait(X_Ratelimit_Reset=str(int(NOW) + 42)) == 42.0


def test_retry_after_wins_over_reset_and_message() -> None:
    wait = _wait(
        "Please try again later after 99 seconds.",
        Retry_After="3",
        X_Ratelimit_Reset=str(int(NOW) + 42),
    )
    assert wait == 3.0


def test_unparseable_retry_after_falls_back_to_reset() -> None:
    assert _wait(Retry_After="soon", X_Ratelimit_Reset=str(int(NOW) + 5)) == 5.0


def test_a_server_error_heeds_only_retry_after() -> None:
    # The vendor sends X-Ratelimit-* on every answer: a window reset hours away says nothing
    # about when a 503 goes away.
    far_reset = _headers(X_Ratelimit_Reset=str(int(NOW) + 6 * 3600))
    assert retry_after_wait(far_reset, now=lambda: NOW) is None
    both = _headers(Retry_After="7", X_Ratelimit_Reset=str(int(NOW) + 6 * 3600))
    assert retry_after_wait(both, now=lambda: NOW) == 7.0


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "You have exceeded the rate limit (50 requests per day). "
            "Please try again later after 30 seconds.",
            30.0,
        ),
        ("Please try again later after 2 minutes.", 120.0),
        ("Please try again later after 1 hour.", 3600.0),
        ("Please try again later after 2027-01-15T09:00:00Z.", 3600.0),
        ("Please try again in 1500ms", 1.5),
        ("You have exceeded the rate limit (50 requests per day).", None),
        ("", None),
    ],
)
def test_wait_from_message_text(message: str, expected: float | None) -> None:
    assert _wait(message) == expected


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(3))
    for retry, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        waits = {policy.backoff(retry) for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered


def test_server_wait_is_honoured() -> None:
    policy = RetryPolicy()
    error = RateLimitedError("too_many_requests", status=429, retry_after=12.5)
    assert policy.next_wait(error, retry=0, waited=0.0) == 12.5


def test_a_zero_server_wait_is_never_shorter_than_the_backoff() -> None:
    # X-Ratelimit-Reset read against a clock ahead of the service's gives 0 s.
    policy = RetryPolicy(base_delay=1.0, rng=random.Random(1))
    error = RateLimitedError("too_many_requests", status=429, retry_after=0.0)
    waits = [policy.next_wait(error, retry=n, waited=0.0) for n in range(3)]
    assert all(w is not None and w >= 0.5 * 2**n for n, w in enumerate(waits))


def test_long_server_wait_is_surfaced_not_slept() -> None:
    policy = RetryPolicy(max_total_wait=600.0)
    daily = RateLimitedError("too_many_requests", status=429, retry_after=20 * 3600.0)
    assert policy.next_wait(daily, retry=0, waited=0.0) is None


def test_total_wait_is_capped() -> None:
    policy = RetryPolicy(max_total_wait=10.0, max_attempts=100)
    error = ServerError("http_503", status=503, retry_after=4.0)
    assert policy.next_wait(error, retry=2, waited=6.0) == 4.0
    assert policy.next_wait(error, retry=3, waited=8.0) is None


def test_interactive_policy_gives_up_within_seconds() -> None:
    policy = RetryPolicy.interactive()
    error = NetworkError("connection_failed", before_sending=True)
    first = policy.next_wait(error, retry=0, waited=0.0)
    assert first is not None and first <= 1.0
    assert policy.next_wait(error, retry=1, waited=first) is None  # two attempts in all
    assert RetryPolicy().max_attempts > policy.max_attempts


def test_attempts_are_capped() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay=0.01)
    error = NetworkError("connection_reset", before_sending=False)
    assert policy.next_wait(error, retry=1, waited=0.0) is not None
    assert policy.next_wait(error, retry=2, waited=0.0) is None


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "video_resolution_too_low"),
        (400, "video_file_broken"),
        (400, "parameter_invalid"),
        (400, "parameter_not_provided"),
        (401, "api_key_invalid"),
        (400, "usage_limit_exceeded"),
        (404, "resource_not_exist"),
        (409, "index_name_already_exists"),
        (400, "task_cannot_be_deleted"),
    ],
)
def test_client_errors_are_not_retried(status: int, code: str) -> None:
    error = error_from_answer(status, f'{{"code": "{code}", "message": "x"}}'.encode())
    assert RetryPolicy().next_wait(error, retry=0, waited=0.0) is None


@pytest.mark.parametrize(
    "error",
    [
        error_from_answer(429, b'{"code": "too_many_requests", "message": "x"}'),
        error_from_answer(500, b""),
        error_from_answer(502, b"<html>bad gateway</html>"),
        error_from_answer(503, b'{"code": "service_unavailable"}'),
        error_from_answer(504, b""),
        NetworkError("network_timeout", before_sending=False),
        NetworkError("connection_reset", before_sending=False),
        NetworkError("connection_failed", before_sending=True),
    ],
)
def test_transient_failures_are_retried(error: ApiError) -> None:
    assert RetryPolicy().next_wait(error, retry=0, waited=0.0) is not None


def test_tls_failure_is_not_retried() -> None:
    error = NetworkError("tls_error", before_sending=True)
    assert RetryPolicy().next_wait(error, retry=0, waited=0.0) is None
