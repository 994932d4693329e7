"""Per-endpoint request counting with the vendor's ``X-Ratelimit-*`` headers.

The vendor counts per endpoint over fixed windows and answers 429 ``too_many_requests`` past
the limit (docs/api-notes.md §5). ``POST /tasks`` and ``POST /indexes/{id}/indexed-assets``
share one category there, and so they do here. The sandbox's default limit is generous so
that normal use and tests never hit it; fault injection produces 429s on purpose.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 600
WINDOW_SECONDS = 60.0
_SHARED = {"tasks.create": "index_content", "indexed_assets.create": "index_content"}


@dataclass(frozen=True)
class Quota:
    limit: int
    used: int
    reset: float  # epoch second the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.reset - now))

    def headers(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(self.remaining),
            "X-Ratelimit-Used": str(self.used),
            "X-Ratelimit-Reset": str(math.ceil(self.reset)),
        }


class RateLimiter:
    def __init__(self, limit: int = DEFAULT_LIMIT, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # category -> (window start, count)

    def count(self, endpoint: str, now: float) -> Quota:
        """Count one request to ``endpoint``; ``used > limit`` means it must be refused."""
        category = _SHARED.get(endpoint, endpoint)
        with self._lock:
            start, used = self._windows.get(category, (now, 0))
            if now - start >= self.window:
                start, used = now, 0
            used += 1
            self._windows[category] = (start, used)
        return Quota(self.limit, used, start + self.window)
