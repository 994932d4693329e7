"""The one place that sends a request, retries it, waits, and parses the answer.

``Requester.call`` turns every failure into an :mod:`uploader_app.api.errors` error, applies the
one retry policy, and for non-idempotent calls asks ``recover`` for the object a lost attempt
may have created before sending again (docs/api-client.md, "Duplicates").
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from uploader_app.api.body import StreamingBody
from uploader_app.api.errors import (
    ApiError,
    CancelledError,
    InvalidResponseError,
    NetworkError,
    RateLimitedError,
    ServerError,
    error_from_answer,
    error_from_exception,
    storage_error,
)
from uploader_app.api.retry import RetryPolicy, rate_limit_wait, retry_after_wait
from uploader_app.api.transport import Timeouts, check_key_safe
from uploader_app.api.types import Json, Page, PageInfo

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T")
Sleep = Callable[[float, threading.Event | None], None]
RetryListener = Callable[[ApiError, float], None]
# Given the time the first attempt began, the object a lost attempt created, or None.
Recover = Callable[[float], R | None]


def interruptible_sleep(seconds: float, cancel: threading.Event | None) -> None:
    """Sleep, waking up at once when ``cancel`` is set."""
    if cancel is None:
        time.sleep(seconds)
    else:
        cancel.wait(seconds)


def check_cancel(cancel: threading.Event | None, *, acted: bool = False) -> None:
    """Stop if asked; ``acted``: an earlier try of the call may have been acted on."""
    if cancel is not None and cancel.is_set():
        error = CancelledError()
        error.may_have_acted = acted
        raise error


def json_object(response: requests.Response) -> Json:
    """The answer's JSON object; an empty, cut or non-JSON body is InvalidResponseError."""
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        raise InvalidResponseError(
            "invalid_response",
            f"{response.status_code} answer is not JSON ({len(response.content)} bytes)",
        ) from exc
    if not isinstance(data, dict):
        raise InvalidResponseError("invalid_response", "answer is not a JSON object")
    return data


def object_parser(parse: Callable[[Json], T]) -> Callable[[requests.Response], T]:
    return lambda response: parse(json_object(response))


def page_parser(parse: Callable[[Json], T]) -> Callable[[requests.Response], Page[T]]:
    def parse_page(response: requests.Response) -> Page[T]:
        data = json_object(response)
        items = tuple(parse(item) for item in data.get("data") or ())
        return Page(items, PageInfo.from_api(data.get("page_info"), items=len(items)))

    return parse_page


def iter_pages(fetch: Callable[[int], Page[T]]) -> Iterator[T]:
    """Every item of a paged list, fetching page 1, 2, … until the last one."""
    page = 1
    while True:
        result = fetch(page)
        yield from result.items
        if not result.has_next:
            return
        page += 1


def loggable(url: str) -> str:
    # Presigned storage URLs carry their signature in the query, and a user:password@ in the
    # address carries a password: keep both out of logs.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


class Requester:
    """Sends requests for one base URL and key with the session, timeouts and retry policy."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: Timeouts,
        retry: RetryPolicy,
        sleep: Sleep,
        session: requests.Session,
    ) -> None:
        check_key_safe(base_url)
        self.base_url = base_url
        self._api_key = api_key
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._session = session
        # Told of every wait before a retry, so a view can say "next try in 45 s".
        self.on_retry: RetryListener | None = None
        # The cancel event of every call that names none: the engine sets a job's for the
        # whole run, so a pause stops any request's retry waits, not only the upload's.
        self.cancel: threading.Event | None = None
        # The service's clock minus ours, in seconds, from the last answer's Date header (0
        # until one came): look-ups compare our times with the times the service writes.
        self.clock_offset = 0.0

    def __repr__(self) -> str:
        return f"Requester(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[requests.Response], R],
        params: Mapping[str, Any] | None = None,
        json_body: Json | None = None,
        body: StreamingBody | None = None,
        cancel: threading.Event | None = None,
        recover: Recover[R] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        send_key: bool = True,
        idempotent: bool = True,
    ) -> R:
        """Send until success, a non-retryable error, or the retry budget is spent.

        A call that is not ``idempotent`` (it creates something) is never sent again after
        an ambiguous failure without ``recover``: from that failure on, ``recover`` is asked
        before every re-send and before giving up for the object a lost attempt may have
        created (given the time the first attempt started); the request is only sent again
        when it returns None. Without ``recover`` the ambiguous failure is raised.
        """
        # requests is loaded at the first call, not at import: the window shows sooner
        # (docs/gui.md, "Start-up").
        from requests.structures import CaseInsensitiveDict  # noqa: PLC0415

        cancel = cancel if cancel is not None else self.cancel
        url = path if "://" in path else self.base_url + path
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(extra_headers or {})
        if send_key:
            check_key_safe(url)
            headers["x-api-key"] = self._api_key
        data: bytes | StreamingBody | None = body
        # The caller's headers win: storage signs the upload_headers the service gave
        # (a Content-Type among them), and any other value breaks the signature.
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif body is not None:
            headers.setdefault("Content-Type", body.content_type)
        read_timeout = self.timeout.upload_read if body is not None else self.timeout.read
        started = time.time()
        retries = 0
        waited = 0.0
        # Once one attempt may have been acted on, every later re-send (and the final raise)
        # is preceded by a look-up: a later failure that is not ambiguous (a reset mid-body)
        # says nothing about what the earlier attempt made, which may only show up now.
        ambiguous_seen = False
        acted = False
        while True:
            check_cancel(cancel, acted=acted)
            try:
                return self._attempt(
                    method,
                    url=url,
                    params=params,
                    headers=headers,
                    data=data,
                    read_timeout=read_timeout,
                    parse=parse,
                    storage=not send_key,
                )
            except CancelledError as stopped:
                stopped.may_have_acted = acted  # a stop mid-body; an earlier try may have
                raise
            except ApiError as error:
                failure = error
            # The last try's failure is what is raised, but an earlier try may be the one the
            # service acted on (a lost answer, then refusals): the caller needs to know.
            acted = acted or self._ambiguous(failure, body)
            failure.may_have_acted = acted
            if not idempotent and self._ambiguous(failure, body):
                if recover is None:
                    raise failure
                ambiguous_seen = True
            lookup = recover if ambiguous_seen else None
            wait = self.retry.next_wait(failure, retries, waited)
            logger.info(
                "%s %s failed (%s, attempt %d)%s",
                method,
                loggable(url),
                failure.code,
                retries + 1,
                f"; retrying in {wait:.2f} s" if wait is not None else "",
            )
            if wait is not None:
                if self.on_retry is not None:
                    self.on_retry(failure, wait)
                self._sleep(wait, cancel)
                check_cancel(cancel, acted=acted)
                waited += wait
                retries += 1
            found = lookup(started) if lookup is not None else None
            if found is not None:
                return found
            if wait is None:
                raise failure

    def _attempt(
        self,
        method: str,
        *,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        data: bytes | StreamingBody | None,
        read_timeout: float,
        parse: Callable[[requests.Response], R],
        storage: bool = False,
    ) -> R:
        """One request; every failure leaves as an ApiError with the key redacted.

        ``storage``: the URL is a presigned storage URL, whose errors are S3's XML.
        """
        import requests  # noqa: PLC0415 - loaded by call() already

        logger.debug("%s %s params=%s", method, loggable(url), params)
        begin = time.monotonic()
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                # urllib3 passes each chunk to sendall(), which takes memoryviews too;
                # requests' hints only name bytes.
                data=cast("Iterable[bytes] | bytes | None", data),
                headers=headers,
                timeout=(self.timeout.connect, read_timeout),
                allow_redirects=False,  # a redirect must not carry the key elsewhere
            )
        except requests.RequestException as exc:
            raise error_from_exception(exc, secret=self._api_key) from None
        logger.debug(
            "%s %s -> %d (%.3f s, %d bytes)",
            method,
            loggable(url),
            response.status_code,
            time.monotonic() - begin,
            len(response.content),
        )
        if not storage:
            self._note_clock(response.headers.get("Date"))
        if not 200 <= response.status_code < 300:
            if storage:
                raise storage_error(response.status_code, response.content)
            error = error_from_answer(response.status_code, response.content, secret=self._api_key)
            if isinstance(error, RateLimitedError):
                error.set_retry_after(rate_limit_wait(response.headers, error.message))
            elif isinstance(error, ServerError):
                error.set_retry_after(retry_after_wait(response.headers))
            raise error
        try:
            return parse(response)
        except (KeyError, TypeError, ValueError) as exc:
            # A 2xx whose JSON lacks what the API documents: as bad as a cut answer.
            raise InvalidResponseError("invalid_response", f"unexpected answer: {exc!r}") from exc

    def _note_clock(self, date: str | None) -> None:
        if not date:
            return
        import email.utils  # noqa: PLC0415 - loaded with the first answer (api/retry.py)

        try:
            service = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        self.clock_offset = service - time.time()

    @staticmethod
    def _ambiguous(error: ApiError, body: StreamingBody | None) -> bool:
        """Could the service have acted on the request although it did not say so?

        No when it refused (429, any 4xx), when the connection failed before the request was
        out, or when the body was not fully sent (a server acts on complete requests only).
        """
        if isinstance(error, RateLimitedError) or not error.retryable:
            return False
        if isinstance(error, NetworkError):
            if error.before_sending:
                return False
            return body is None or body.completed
        return True
