"""What the sandbox keeps: one dataclass per stored resource, all JSON-friendly."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from uploader_app.models import Index, IndexModel


def new_id() -> str:
    """A 24-hex id shaped like the vendor's (MongoDB ObjectId: 4 bytes of time, 8 random)."""
    return f"{int(time.time()):08x}{os.urandom(8).hex()}"


@dataclass
class IndexRecord:
    KIND: ClassVar[str] = "index"
    id: str
    name: str
    models: list[dict[str, Any]]  # [{"name": "marengo3.0", "options": ["visual", "audio"]}]
    addons: list[str]
    created: float
    updated: float

    def as_index(self) -> Index:
        """The shared model the validation rules take (v1.2 option names folded to v1.3)."""
        models = tuple(IndexModel.from_api(m["name"], m["options"]) for m in self.models)
        return Index(id=self.id, name=self.name, models=models, addons=tuple(self.addons))


@dataclass
class MediaInfo:
    """What the sandbox learnt about an uploaded video (from the probe, or synthetic)."""

    filename: str
    size: int = 0
    duration: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    container: str | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    audio_tracks: int = 0
    path: str | None = None  # the stored file, when there is one


@dataclass
class TaskRecord:
    KIND: ClassVar[str] = "task"
    id: str
    index_id: str
    video_id: str
    created: float
    media: MediaInfo
    # Status -> epoch second it starts; the current status is derived from the clock.
    phases: dict[str, float]
    source: str  # "file", "url" or "transfer"
    video_url: str | None = None
    enable_video_stream: bool = True
    user_metadata: dict[str, Any] | None = None
    language: str | None = None
    transcription: str | None = None  # stored file path or URL (v1.2)
    error_code: str | None = None
    error_message: str | None = None
    fetching: bool = False  # a URL download is still running
    object_uri: str | None = None  # s3:// object of a transfer row
    # DELETE /indexes/{id}/videos/{video_id} ran: the task may now be deleted (spec).
    video_deleted: bool = False


@dataclass
class AssetRecord:
    KIND: ClassVar[str] = "asset"
    id: str
    method: str  # direct, url or multipart
    created: float
    filename: str
    file_type: str
    media: MediaInfo | None = None
    ready_at: float | None = None  # when processing ends (None while the upload runs)
    failed: bool = False
    error: str | None = None
    url: str | None = None
    enable_hls: bool = False
    enable_thumbnail: bool = False
    user_metadata: dict[str, Any] | None = None
    fetching: bool = False


@dataclass
class ChunkState:
    status: str = "pending"  # pending (PUT done, not reported), completed, failed
    etag: str | None = None
    size: int = 0
    uploaded_at: float | None = None
    updated: float | None = None
    error: str | None = None


@dataclass
class UploadRecord:
    KIND: ClassVar[str] = "upload"
    id: str
    asset_id: str
    filename: str
    media_type: str
    total_size: int
    chunk_size: int
    total_chunks: int
    created: float
    updated: float
    expires: float
    status: str = "active"  # active, completed, failed, expired
    chunks: dict[str, ChunkState] = field(default_factory=dict)  # "1".."N" (JSON keys)
    used_nonces: list[str] = field(default_factory=list)  # presigned URLs are single-use


@dataclass
class IndexedAssetRecord:
    KIND: ClassVar[str] = "indexed_asset"
    id: str
    index_id: str
    asset_id: str
    created: float
    media: MediaInfo
    phases: dict[str, float]
    enable_video_stream: bool = False
    user_metadata: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None


Record = IndexRecord | TaskRecord | AssetRecord | UploadRecord | IndexedAssetRecord
RECORD_TYPES: tuple[type[Any], ...] = (
    IndexRecord,
    TaskRecord,
    AssetRecord,
    UploadRecord,
    IndexedAssetRecord,
)
