"""The one retry policy of the client: what is retried, how long to wait, when to give up.

Retried: 429, 5xx, timeouts, dropped connections, cut or unreadable answers. Never retried:
``video_*``, ``parameter_*``, ``api_key_invalid``, ``usage_limit_exceeded`` and every other 4xx
(the error classes carry ``retryable``). Waits grow exponentially with jitter, capped, unless
the service says how long to wait: ``Retry-After`` on any answer; on a 429 also
``X-Ratelimit-Reset``, then a number in the ``too_many_requests`` message. A wait that does not
fit in what is left of the total budget is not slept: the error is raised so the user sees
"try again after …" at once.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from uploader_app.api.errors import ApiError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # tries in all, the first one included
    base_delay: float = 1.0  # first backoff (seconds), doubled on each retry
    max_delay: float = 60.0  # cap of one backoff wait
    max_total_wait: float = 600.0  # cap of all waits for one call
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def interactive(cls) -> RetryPolicy:
        """For a one-off read someone is waiting on (``check --index``, a settings test):
        one quick retry, then the error, within a few seconds instead of a minute."""
        return cls(max_attempts=2, base_delay=0.5, max_delay=1.0, max_total_wait=5.0)

    def backoff(self, retry: int) -> float:
        """Wait before retry number ``retry`` (0-based): "equal jitter", half fixed, half random.

        The random half spreads the clients a rate limit hit at the same moment.
        """
        ceiling = min(self.max_delay, self.base_delay * 2.0**retry)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def next_wait(self, error: ApiError, retry: int, waited: float) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to raise it now.

        ``retry`` is how many retries were already made, ``waited`` the seconds already spent
        waiting for this call.
        """
        if not error.retryable or retry + 1 >= self.max_attempts:
            return None
        # Never shorter than the backoff: a server wait of 0 s (an ``X-Ratelimit-Reset`` read
        # against a clock that runs ahead of the service's) must not give back-to-back tries.
        wait = self.backoff(retry)
        if error.retry_after is not None:
            wait = max(wait, error.retry_after)
        if waited + wait > self.max_total_wait:
            return None
        return wait


_NUMBER_WITH_UNIT = re.compile(
    r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)?\b",
    re.IGNORECASE,
)
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")
_UNIT_SECONDS = {"m": 60.0, "h": 3600.0}


def retry_after_wait(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """The ``Retry-After`` header (seconds or HTTP date) in seconds, or None.

    The only wait a 5xx answer is taken to ask for: the vendor sends ``X-Ratelimit-*`` on every
    answer, and the reset of the rate-limit window says nothing about when a failing service
    recovers. ``headers`` must be case-insensitive (requests' ``CaseInsensitiveDict``).
    """
    retry_after = headers.get("Retry-After")
    return _parse_retry_after(retry_after.strip(), now()) if retry_after else None


def rate_limit_wait(
    headers: Mapping[str, str], message: str, *, now: Callable[[], float] = time.time
) -> float | None:
    """How long a 429 asked us to wait, in seconds, or None when it did not say.

    Order: ``Retry-After`` (seconds or HTTP date), ``X-Ratelimit-Reset`` (epoch seconds, the
    v1.2 rate-limit docs), then the ``{retry_after}`` the ``too_many_requests`` message embeds
    (an RFC 3339 time or a number with an optional unit; a bare number means seconds).
    """
    seconds = retry_after_wait(headers, now=now)
    if seconds is not None:
        return seconds
    reset = headers.get("X-Ratelimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now())
        except ValueError:
            pass
    return _wait_in_message(message, now())


def _parse_retry_after(value: str, now: float) -> float | None:
    if value.isdigit():
        return float(value)
    # Here, not at module level: email.utils with calendar and locale is start-up time the
    # window does not need before its first answer (docs/gui.md, "Start-up").
    import email.utils  # noqa: PLC0415

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _wait_in_message(message: str, now: float) -> float | None:
    if not message:
        return None
    stamp = _RFC3339.search(message)
    if stamp:
        when = datetime.fromisoformat(stamp.group(0).replace(" ", "T"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    # Only the text after "after" (the vendor's template) or "in" is the wait; the limit
    # itself ("(50 requests per day)") comes earlier in the sentence.
    tail = re.search(r"\bafter\b(.*)", message, re.IGNORECASE | re.DOTALL) or re.search(
        r"\bin\b(.*)", message, re.IGNORECASE | re.DOTALL
    )
    if tail is None:
        return None
    match = _NUMBER_WITH_UNIT.search(tail.group(1))
    if not match:
        return None
    number = float(match.group(1))
    unit = (match.group(2) or "s").lower()
    if unit.startswith("ms") or unit.startswith("milli"):
        return number / 1000
    return number * _UNIT_SECONDS.get(unit[0], 1.0)
