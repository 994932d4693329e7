"""API-specific dataclasses (pages, assets, multipart sessions) and JSON → model parsing.

Shared shapes (Index, Task) live in :mod:`uploader_app.models`; the parsers that fold the
v1.1/v1.2/v1.3 JSON into them live here, next to the other answers they resemble.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from uploader_app.api.errors import InvalidResponseError
from uploader_app.models import Index, IndexModel, Task, TaskStatus

T = TypeVar("T")
Json = dict[str, Any]

MAX_PAGE_LIMIT = 50  # the API's cap on page_limit
MAX_PRESIGNED_URLS = 50  # the API's cap per presigned-urls request
# The user_metadata key that carries the app's content fingerprint of the file (v1.3).
FINGERPRINT_KEY = "uploader_fingerprint"


@dataclass(frozen=True)
class PageInfo:
    page: int
    limit_per_page: int
    total_page: int
    total_results: int

    @classmethod
    def from_api(cls, data: Json | None, *, items: int) -> PageInfo:
        data = data or {}
        return cls(
            page=int(data.get("page") or 1),
            limit_per_page=int(data.get("limit_per_page") or items),
            total_page=int(data.get("total_page") or 1),
            total_results=int(data.get("total_results") or items),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page_info: PageInfo

    @property
    def has_next(self) -> bool:
        return bool(self.items) and self.page_info.page < self.page_info.total_page


@dataclass(frozen=True)
class CreatedTask:
    """The answer to ``POST /tasks``. ``reused`` is True when an earlier attempt whose
    answer was lost had already created the task (no second upload was made)."""

    id: str
    video_id: str | None = None
    reused: bool = False


@dataclass(frozen=True)
class Video:
    """An indexed video (``GET /indexes/{id}/videos/{video_id}``); it exists once its task
    or indexed asset is ``ready``."""

    id: str
    filename: str | None = None
    duration: float | None = None
    size: int | None = None  # bytes, where the answer gives it (v1.2 ``metadata.size``)
    user_metadata: Json = field(default_factory=dict)
    created_at: str | None = None
    indexed_at: str | None = None


@dataclass(frozen=True)
class TaskStatusCounts:
    """v1.2 ``GET /tasks/status``: how many tasks of an index are in each state."""

    index_id: str
    ready: int
    validating: int
    pending: int
    failed: int
    total: int


@dataclass(frozen=True)
class Asset:
    id: str
    status: str  # processing | ready | failed
    method: str | None = None  # direct | url | multipart
    filename: str | None = None
    file_type: str | None = None
    created_at: str | None = None
    size: int | None = None
    duration: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class PresignedUrl:
    chunk_index: int  # 1-based
    url: str
    expires_at: str | None = None


@dataclass(frozen=True)
class UploadSession:
    """A multipart upload session. Keep it (e.g. ``dataclasses.asdict``) to resume later."""

    upload_id: str
    asset_id: str
    chunk_size: int
    total_chunks: int
    total_size: int
    upload_headers: dict[str, str] = field(default_factory=dict)  # sent with every chunk PUT
    expires_at: str | None = None
    # The source file's st_mtime_ns when the session was opened (jobs/multipart.py): a
    # resume of a file rewritten since, even at the same size, starts over.
    source_mtime_ns: int | None = None


@dataclass(frozen=True)
class ChunkState:
    index: int
    status: str  # completed | pending | failed
    error: str | None = None


@dataclass(frozen=True)
class MultipartStatus:
    upload_id: str
    status: str  # active | completed | failed | expired
    chunks: tuple[ChunkState, ...]
    chunks_completed: int
    chunks_failed: int
    chunks_pending: int
    total_size: int
    uploaded_size: int
    page_info: PageInfo


@dataclass(frozen=True)
class CompletedChunk:
    """A chunk sent to its presigned URL; ``proof`` is the ETag the storage answered."""

    chunk_index: int
    proof: str
    chunk_size: int


@dataclass(frozen=True)
class ChunkReport:
    asset_id: str
    processed_chunks: int
    duplicate_chunks: int
    total_completed: int
    url: str | None = None  # set once every chunk is reported


@dataclass(frozen=True)
class IndexedAsset:
    id: str
    asset_id: str | None
    status: str  # pending | queued | indexing | ready | failed
    filename: str | None = None
    duration: float | None = None
    created_at: str | None = None
    indexed_at: str | None = None


# ---- JSON → dataclasses -------------------------------------------------------------------


def need_str(data: Json, key: str) -> str:
    """A required string field; a missing one means the answer is not what the API sends."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidResponseError("invalid_response", f"answer has no {key!r} field")
    return value


def _opt_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def parse_index(data: Json) -> Index:
    """v1.3 ``models[]``, v1.2 ``engines[]`` and v1.1 ``engine_id`` all become IndexModel."""
    models: list[IndexModel] = []
    for m in data.get("models") or []:
        models.append(IndexModel.from_api(m.get("model_name", ""), m.get("model_options") or ()))
    for e in data.get("engines") or []:
        models.append(IndexModel.from_api(e.get("engine_name", ""), e.get("engine_options") or ()))
    if not models and data.get("engine_id"):
        models.append(IndexModel.from_api(data["engine_id"], data.get("index_options") or ()))
    return Index(
        id=need_str(data, "_id"),
        name=str(data.get("index_name") or ""),
        models=tuple(models),
        addons=tuple(data.get("addons") or ()),
        video_count=int(data.get("video_count") or 0),
        total_duration=float(data.get("total_duration") or 0.0),
        created_at=data.get("created_at"),
        expires_at=data.get("expires_at"),
    )


def parse_task(data: Json) -> Task:
    """v1.3 ``system_metadata`` and v1.2 ``metadata`` both fill filename/duration/size."""
    meta: Json = data.get("system_metadata") or data.get("metadata") or {}
    text = str(data.get("status") or "")
    try:
        status = TaskStatus(text)
    except ValueError:
        # Never an error that breaks a whole page: the caller shows it as in progress.
        status = TaskStatus.UNKNOWN
    return Task(
        status_text=text,
        id=need_str(data, "_id"),
        index_id=str(data.get("index_id") or ""),
        status=status,
        video_id=data.get("video_id") or None,
        filename=meta.get("filename"),
        duration=_opt_float(meta.get("duration")),
        width=_opt_int(meta.get("width")),
        height=_opt_int(meta.get("height")),
        created_at=data.get("created_at"),
        updated_at=data.get("updated_at"),
    )


def parse_video(data: Json) -> Video:
    """v1.3 ``system_metadata``/``user_metadata``; v1.2 has one ``metadata``."""
    meta: Json = data.get("system_metadata") or data.get("metadata") or {}
    user = data.get("user_metadata")
    return Video(
        id=need_str(data, "_id"),
        filename=meta.get("filename"),
        duration=_opt_float(meta.get("duration")),
        size=_opt_int(meta.get("size")),
        user_metadata=dict(user) if isinstance(user, dict) else {},
        created_at=data.get("created_at"),
        indexed_at=data.get("indexed_at"),
    )


def parse_asset(data: Json) -> Asset:
    error = data.get("error")
    if isinstance(error, dict):
        error = error.get("message") or error.get("code")
    technical: Json = data.get("technical_metadata") or {}
    return Asset(
        id=need_str(data, "_id"),
        status=str(data.get("status") or ""),
        method=data.get("method"),
        filename=data.get("filename"),
        file_type=data.get("file_type"),
        created_at=data.get("created_at"),
        size=_opt_int(data.get("size", technical.get("file_size_bytes"))),
        duration=_opt_float(data.get("duration")),
        error=str(error) if error else None,
    )


def parse_presigned(items: list[Json] | None) -> tuple[PresignedUrl, ...]:
    return tuple(
        PresignedUrl(int(u["chunk_index"]), str(u["url"]), u.get("expires_at")) for u in items or ()
    )


def parse_indexed_asset(data: Json) -> IndexedAsset:
    meta: Json = data.get("system_metadata") or {}
    return IndexedAsset(
        id=need_str(data, "_id"),
        asset_id=data.get("asset_id"),
        status=str(data.get("status") or ""),
        filename=meta.get("filename"),
        duration=_opt_float(meta.get("duration")),
        created_at=data.get("created_at"),
        indexed_at=data.get("indexed_at"),
    )
