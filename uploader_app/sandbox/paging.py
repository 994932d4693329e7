"""Query parameters shared by the list endpoints: paging, sorting and date filters."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from werkzeug.datastructures import MultiDict

from uploader_app.sandbox.errors import parameter_invalid
from uploader_app.sandbox.records import MediaInfo

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PAGE_LIMIT = 10
MAX_PAGE_LIMIT = 50
RANGE_FILTERS = ("duration", "fps", "width", "height", "size")  # {gte, lte} on the media


@dataclass(frozen=True)
class Page:
    page: int
    limit: int

    def cut(self, items: Sequence[T]) -> tuple[list[T], dict[str, int]]:
        """This page's items and the vendor's ``page_info``."""
        start = (self.page - 1) * self.limit
        info = {
            "limit_per_page": self.limit,
            "page": self.page,
            "total_page": math.ceil(len(items) / self.limit),
            "total_results": len(items),
        }
        return list(items[start : start + self.limit]), info


def page_of(args: MultiDict[str, str]) -> Page:
    page = _positive_int(args, "page", 1)
    limit = _positive_int(args, "page_limit", DEFAULT_PAGE_LIMIT)
    if limit > MAX_PAGE_LIMIT:
        raise parameter_invalid("page_limit", detail=f"The maximum is {MAX_PAGE_LIMIT}.")
    return Page(page, limit)


def sort_items(
    items: list[T], args: MultiDict[str, str], keys: dict[str, Callable[[T], Any]]
) -> list[T]:
    """Sort by ``sort_by`` (default ``created_at``) in ``sort_option`` order (default desc)."""
    sort_by = args.get("sort_by", "created_at")
    if sort_by not in keys:
        raise parameter_invalid("sort_by", detail=f"Use one of: {', '.join(keys)}.")
    option = args.get("sort_option", "desc")
    if option not in ("asc", "desc"):
        raise parameter_invalid("sort_option", detail="Use asc or desc.")
    return sorted(items, key=keys[sort_by], reverse=option == "desc")


def since_filter(args: MultiDict[str, str], name: str) -> Callable[[float], bool]:
    """``created_at``/``updated_at``: "on the specified date at or after the given time"."""
    raw = args.get(name)
    if raw is None:
        return lambda _: True
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise parameter_invalid(name, detail="Use the RFC 3339 format.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)

    def keep(epoch: float) -> bool:
        when = datetime.fromtimestamp(epoch, UTC)
        return when >= moment and when.date() == moment.date()

    return keep


def number_arg(args: MultiDict[str, str], name: str) -> float | None:
    raw = args.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise parameter_invalid(name) from None


def _positive_int(args: MultiDict[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise parameter_invalid(name) from None
    if value < 1:
        raise parameter_invalid(name)
    return value


def media_filter(query: Mapping[str, Any]) -> Callable[[MediaInfo, Mapping[str, Any] | None], bool]:
    """The video lists' ``{gte, lte}`` ranges on the media and ``user_metadata`` filters.

    ``query`` holds typed values (``Call.query``, checked by spec.py). A metadata filter
    arrives as text ("?needsReview=true"); it matches a stored value that reads the same.
    """
    ranges = {name: query[name] for name in RANGE_FILTERS if name in query}
    wanted: Mapping[str, Any] = query.get("user_metadata") or {}

    def keep(media: MediaInfo, metadata: Mapping[str, Any] | None) -> bool:
        for name, bounds in ranges.items():
            value = getattr(media, name)
            if value < bounds.get("gte", value) or value > bounds.get("lte", value):
                return False
        stored = metadata or {}
        return all(key in stored and _same(stored[key], text) for key, text in wanted.items())

    return keep


def _same(stored: object, text: object) -> bool:
    if isinstance(stored, bool):
        return str(text).lower() == str(stored).lower()
    if isinstance(stored, (int, float)):
        try:
            return float(str(text)) == stored
        except ValueError:
            return False
    return str(stored) == str(text)
