"""The client's foundation: the requester, the version, and the helpers every endpoint uses.

``ApiClient`` (client.py) is assembled from endpoint groups: indexes, tasks and videos in
client.py, assets, multipart uploads and indexed assets in assets.py.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from uploader_app.api.body import (
    CHUNK_SIZE,
    FileRange,
    StreamingBody,
)
from uploader_app.api.errors import (
    AuthError,
    InvalidRequestError,
)
from uploader_app.api.requester import (
    Recover,
    Requester,
    RetryListener,
    Sleep,
    interruptible_sleep,
    json_object,
)
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.transport import Timeouts, make_session, versioned_base_url
from uploader_app.api.types import (
    Json,
)
from uploader_app.config import Settings, api_key_well_formed

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left unset (None or empty sequences)."""
    return {k: v for k, v in values.items() if v is not None and v not in ((), [])}


class ClientBase:
    """The connection to the Twelve Labs API; the API version is read from the base URL.

    A base URL without a version gets ``/v1.3``; one naming a version other than v1.2 or v1.3
    raises ConfigError, and an empty key AuthError (``no_api_key``), a key with quotes, spaces or
    non-ASCII characters AuthError (``api_key_malformed``), before anything is sent.
    ``retry`` defaults to the patient upload policy; pass ``RetryPolicy.interactive()`` for a
    one-off read someone waits on. ``sleep(seconds, cancel)`` is how the client waits between
    retries (tests pass a recording one). Methods that upload take ``progress`` (bytes of the
    file sent) and ``cancel`` (a ``threading.Event`` checked between chunks and during waits).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = interruptible_sleep,
        session: requests.Session | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if not api_key:
            raise AuthError("no_api_key", "no API key is set")
        if not api_key_well_formed(api_key):
            # Caught here, the one place every caller passes, rather than as a crash deep in
            # http.client at the first request.
            raise AuthError("api_key_malformed", "the API key holds characters no key has")
        self.base_url, self.version = versioned_base_url(base_url)
        self.chunk_size = chunk_size
        self._http = Requester(
            self.base_url,
            api_key,
            timeout=timeout or Timeouts(),
            retry=retry or RetryPolicy(),
            sleep=sleep,
            session=session or make_session(),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Self:
        """``kwargs`` as for the constructor, e.g. ``retry=RetryPolicy.interactive()``."""
        return cls(settings.base_url, settings.api_key or "", **kwargs)

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r}, version={self.version!r})"

    def close(self) -> None:
        self._http.close()

    def set_retry_policy(self, policy: RetryPolicy) -> None:
        self._http.retry = policy

    def set_retry_listener(self, listener: RetryListener | None) -> None:
        """``listener(error, seconds)`` is called before each wait for a retry."""
        self._http.on_retry = listener

    @property
    def clock_offset(self) -> float:
        """The service's clock minus this computer's, in seconds (whole seconds: the Date
        header's precision), as of the last answer; 0 before any."""
        return self._http.clock_offset

    def set_cancel(self, cancel: threading.Event | None) -> None:
        """The cancel event of every call that is given none (CancelledError once set)."""
        self._http.cancel = cancel

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- request building helpers -----------------------------------------------------------

    def _create(
        self,
        path: str,
        body: StreamingBody,
        parse: Callable[[Json], T],
        cancel: threading.Event | None,
        recover: Recover[T] | None,
    ) -> T:
        """A POST that creates something: never sent again after an ambiguous failure unless
        ``recover`` (the caller's look-up) found nothing (docs/api-client.md, "Duplicates")."""
        return self._http.call(
            "POST",
            path,
            body=body,
            cancel=cancel,
            parse=lambda r: parse(json_object(r)),
            recover=recover,
            idempotent=False,
        )

    def _file_range(self, path: Path) -> FileRange:
        return FileRange.whole(path)

    @staticmethod
    def _mime(name: str, default: str = "application/octet-stream") -> str:
        return mimetypes.guess_type(name)[0] or default

    def _model_word(self) -> str:
        """v1.2 says ``engine`` where v1.3 says ``model`` (engines[], engine_family…)."""
        return "engine" if self.version == "v1.2" else "model"

    def _require_version(self, version: str, feature: str) -> None:
        if self.version != version:
            raise InvalidRequestError(
                "api_upgrade_required" if version > self.version else "parameter_unknown",
                f"{feature} needs API {version}; the server address uses {self.version}",
            )
