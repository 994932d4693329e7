"""Dataclasses and enums shared by every layer (no Qt, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit


class ModelFamily(StrEnum):
    MARENGO = "marengo"
    PEGASUS = "pegasus"

    @classmethod
    def of(cls, model_name: str) -> ModelFamily | None:
        """Family from a model or engine name such as ``marengo3.0``.

        Matched on the prefix because the vendor bumps versions often (docs/api-notes.md §2).
        """
        name = model_name.strip().lower()
        for family in cls:
            if name.startswith(family.value):
                return family
        return None


class UploadKind(StrEnum):
    """How a video reaches the service; each kind has its own size limit."""

    TASK_FILE = "task_file"  # POST /tasks with video_file (local file up to 2 GB)
    MULTIPART = "multipart"  # v1.3 multipart asset upload (local file up to 10 GB)
    URL = "url"  # POST /tasks with video_url (the service fetches it)


class Verdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    REJECTED = "rejected"
    SKIPPED = "skipped"


class TaskStatus(StrEnum):
    """Statuses of a video indexing task (v1.3 enum; v1.1/v1.2 use a subset)."""

    UPLOADING = "uploading"
    VALIDATING = "validating"
    PENDING = "pending"
    QUEUED = "queued"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"
    # One the service sent that this app does not know (the spec types status as a free
    # string): treated as still in progress, its text kept in ``Task.status_text``.
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.READY, TaskStatus.FAILED)


# v1.1/v1.2 option names in the v1.3 vocabulary (docs/api-notes.md §2: "conversation" became audio;
# text_in_video and logo were folded into visual). The client and the sandbox both fold with
# this table, so a local verdict and the server's agree on v1.2 indexes too.
LEGACY_OPTIONS = {"conversation": "audio", "text_in_video": "visual", "logo": "visual"}


@dataclass(frozen=True)
class IndexModel:
    name: str
    options: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, name: str, options: Iterable[str]) -> IndexModel:
        """A model as any API version names it, with its options in v1.3 words."""
        return cls(name, tuple(dict.fromkeys(LEGACY_OPTIONS.get(o, o) for o in options)))

    @property
    def family(self) -> ModelFamily | None:
        return ModelFamily.of(self.name)


@dataclass(frozen=True)
class Index:
    id: str
    name: str
    models: tuple[IndexModel, ...] = ()
    addons: tuple[str, ...] = ()
    video_count: int = 0
    total_duration: float = 0.0
    created_at: str | None = None
    expires_at: str | None = None

    @property
    def families(self) -> frozenset[ModelFamily]:
        return frozenset(f for m in self.models if (f := m.family) is not None)

    @property
    def needs_audio(self) -> bool:
        """True when every model of the index is set to index audio only.

        An index with ``visual`` on any model can still use a silent video, so audio is
        required only when no model looks at the picture.
        """
        if not self.models:
            return False
        return all("audio" in m.options and "visual" not in m.options for m in self.models)

    @property
    def listens_to_audio(self) -> bool:
        """True when any model of the index uses the ``audio`` option.

        A silent video is still indexed by its picture when a model also uses ``visual``, so
        it is not rejected (see ``needs_audio``), but the user is warned that its speech and
        sound part of the index will be empty.
        """
        return any("audio" in m.options for m in self.models)


@dataclass(frozen=True)
class Target:
    """What a video is checked against: the upload route and the index's models."""

    kind: UploadKind = UploadKind.TASK_FILE
    families: frozenset[ModelFamily] = frozenset({ModelFamily.MARENGO})
    require_audio: bool = False  # a video without sound is rejected
    listens_to_audio: bool = False  # a video without sound gets a warning (picture only)
    # The index's model names ("marengo3.0"): limits differ per version. Empty when the
    # version is unknown (``check --model``), which validation treats as "maybe the newest".
    models: tuple[str, ...] = ()

    @classmethod
    def for_index(cls, index: Index, kind: UploadKind = UploadKind.TASK_FILE) -> Target:
        return cls(
            kind=kind,
            families=index.families or frozenset({ModelFamily.MARENGO}),
            require_audio=index.needs_audio,
            listens_to_audio=index.listens_to_audio,
            models=tuple(m.name for m in index.models),
        )


@dataclass(frozen=True)
class ProbeResult:
    """What pymediainfo found in one file. Sizes in bytes, durations in seconds."""

    path: Path
    size: int
    container: str | None = None
    has_video: bool = False
    video_codec: str | None = None
    width: int | None = None  # as displayed: rotation already applied
    height: int | None = None
    rotation: float = 0.0
    display_aspect: float | None = None
    duration: float | None = None
    frame_rate: float | None = None
    frame_rate_mode: str | None = None  # "CFR" or "VFR"
    audio_tracks: int = 0
    audio_codec: str | None = None
    is_truncated: bool = False
    is_image: bool = False
    error: str | None = None  # set when the file could not be read at all
    # What the file is when it is not a video, in plain words ("a PNG picture", "a text
    # document"), from its first bytes or from MediaInfo's format name.
    content: str | None = None
    # Which video track was measured (1-based, in file order) out of how many: a cover
    # picture or a small preview beside the main video is never the one judged.
    video_tracks: int = 0
    video_track: int | None = None
    text_tracks: int = 0  # subtitle tracks inside the file
    # The whole file's length (General), which can differ from the picture's ``duration``
    # when the sound outlasts the picture.
    container_duration: float | None = None
    # Why ``duration`` is only an estimate (a bare stream with no container), else None.
    duration_note: str | None = None
    # A Matroska header's stated length when its frames last much more or less (seconds);
    # ``duration`` is then the frames' length.
    header_duration: float | None = None
    encrypted: bool = False  # copy protection (DRM): nobody without the key can decode it
    codec_problem: str | None = None  # why the picture cannot be decoded, in plain words
    # The code of a picture format MediaInfo does not recognise: maybe undecodable, maybe
    # only unknown to MediaInfo (a warning, not a refusal).
    codec_unrecognised: str | None = None
    # Written live (Matroska/WebM with no total size): a cut end is where recording stopped.
    live_recording: bool = False
    zero_tail: bool = False  # the end of the file is all zero bytes: never filled in
    still_writing: bool = False  # the file changed while it was being checked


@dataclass(frozen=True)
class Issue:
    """One problem (or near miss) found in a file; a Finding keeps all of them."""

    code: str
    verdict: Verdict  # REJECTED or WARNING
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Finding:
    """One verdict on one file, in words a non-technical person understands."""

    path: Path
    verdict: Verdict
    code: str | None
    message: str  # what is wrong (or "Ready to upload.")
    hint: str = ""  # what to do about it
    probe: ProbeResult | None = None
    relative_path: str | None = None  # relative to the dropped folder, when scanned
    # Every problem found, worst first; ``code``/``message``/``hint`` repeat the first one.
    issues: tuple[Issue, ...] = field(default=())
    transcription: Path | None = None  # clip.srt / clip.vtt found beside the video


def upload_filename(name: str) -> str:
    """The name a file is uploaded under, which the service then lists the video by.

    The upload form's encoding (the browsers' rules, which urllib3 follows) sends a line break
    as "%0A" and a quote as "%22", servers read a backslash as an escape and drop it, and other
    control characters are not allowed in a header at all: such a name would reach the service
    changed, and the look-up by name after a lost answer would miss the video and send it
    again (docs/api-client.md, "File names on the wire"). Those characters are replaced here.
    """
    swapped = "".join(_UPLOAD_NAME_SWAPS.get(ch, ch) for ch in name)
    # A "%22" already in the name reads, to a receiver that undoes that encoding (werkzeug
    # does for %22), as a quote: its "%" goes too, so the name has one reading.
    return _ENCODED_LOOKALIKE.sub("_", swapped)


_ENCODED_LOOKALIKE = re.compile(r"%(?=0[ad]|22)", re.IGNORECASE)
_UPLOAD_NAME_SWAPS = {
    **{chr(code): " " for code in (*range(0x20), 0x7F, 0x85, 0x2028, 0x2029)},
    '"': "'",
    "\\": "_",
}


def url_filename(url: str) -> str:
    """A URL's last path segment, %-decoded: the file name the service gives a URL upload
    (**assumption**, as the sandbox does; the vendor does not document it). Empty for an
    address too malformed to split."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return unquote(PurePosixPath(path).name)


def without_password(url: str) -> str:
    """``url`` with the password of a ``user:password@`` in it masked (``user:***@``): how a
    stored address is shown; the service is still sent the whole address."""
    match = _USERINFO.match(url)
    if match is None or ":" not in match["userinfo"]:
        return url
    user = match["userinfo"].partition(":")[0]
    return f"{match['scheme']}{user}:***@{url[match.end() :]}"


# The scheme, then everything before the last "@" of the host part (as urlsplit reads it).
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#]*)@")


@dataclass(frozen=True)
class UrlFinding:
    """The verdict on one video URL, checked before the service is asked to fetch it.

    ``duration``, ``width`` and ``height`` are known only when the server let us read the
    parts of the file that hold them (range requests); ``size`` when it said so.
    """

    url: str
    verdict: Verdict
    code: str | None
    message: str
    hint: str
    content_type: str | None
    size: int | None
    duration: float | None
    width: int | None
    height: int | None
    filename: str


@dataclass(frozen=True)
class Task:
    """A video indexing task as the API reports it (v1.2 and v1.3 shapes folded)."""

    id: str
    index_id: str
    status: TaskStatus
    video_id: str | None = None
    filename: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    status_text: str = ""  # the status as the service wrote it

    @property
    def status_label(self) -> str:
        return self.status_text or str(self.status)


@dataclass(frozen=True)
class UploadProgress:
    sent: int
    total: int


class JobState(StrEnum):
    """Where one upload job stands (docs/engine.md, "States")."""

    QUEUED = "queued"
    CHECKING = "checking"
    UPLOADING = "uploading"
    ON_SERVICE = "on_service"  # the service validates, queues or indexes it
    READY = "ready"
    ALREADY_IN_INDEX = "already_in_index"  # the same file is already a video in the index
    FAILED = "failed"
    REJECTED = "rejected"  # refused by the local check, never sent
    PAUSED = "paused"
    CANCELLED = "cancelled"
    NEEDS_ATTENTION = "needs_attention"  # key refused, quota used up, index deleted

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """Work remains that needs nobody: a runner or the poller will move it on."""
        return self in _ACTIVE


_TERMINAL = frozenset(
    {
        JobState.READY,
        JobState.ALREADY_IN_INDEX,
        JobState.FAILED,
        JobState.REJECTED,
        JobState.CANCELLED,
    }
)
_ACTIVE = frozenset({JobState.QUEUED, JobState.CHECKING, JobState.UPLOADING, JobState.ON_SERVICE})


class SourceKind(StrEnum):
    FILE = "file"
    URL = "url"
    MANIFEST_ROW = "manifest_row"


class Route(StrEnum):
    """How a job's video reaches its index (docs/engine.md, "Routes")."""

    TASK = "task"  # POST /tasks with the file
    ASSET = "asset"  # v1.3 multipart asset upload, then POST /indexes/{id}/indexed-assets
    URL = "url"  # POST /tasks with video_url
    TRANSFER = "transfer"  # a v1.2 /tasks/transfers manifest row


@dataclass(frozen=True)
class Job:
    """One video on its way into one index, as the store keeps it."""

    id: int
    source_kind: SourceKind
    source: str  # a local path or a URL
    index_id: str
    state: JobState
    route: Route | None = None
    size: int | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fingerprint: str | None = None
    server_status: str | None = None
    bytes_sent: int = 0
    task_id: str | None = None
    video_id: str | None = None
    asset_id: str | None = None
    upload_id: str | None = None
    indexed_asset_id: str | None = None
    error_code: str | None = None
    error_message: str = ""
    error_hint: str = ""
    attempts: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0
    finished_at: float | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The name the service lists the video by: the file's (as :func:`upload_filename`
        sends it), or a URL's last path segment (%-decoded)."""
        if self.source_kind is SourceKind.FILE:
            return upload_filename(Path(self.source).name)
        if self.source_kind is SourceKind.MANIFEST_ROW:
            # An S3 key is not a URL: "#", "?" and "%" are part of the object's name.
            return self.source.rpartition("/")[2]
        return url_filename(self.source) or _site(self.source) or without_password(self.source)

    @property
    def shown_source(self) -> str:
        """The path or address as people see it: an address's password masked."""
        if self.source_kind is SourceKind.URL:
            return without_password(self.source)
        return self.source

    @property
    def folder(self) -> str:
        """The folder of a file, or the site of a URL."""
        if self.source_kind is SourceKind.FILE:
            return str(Path(self.source).parent)
        if self.source_kind is SourceKind.MANIFEST_ROW:
            return self.source.removeprefix("s3://").partition("/")[0]  # the bucket
        return _site(self.source)


def _site(url: str) -> str:
    """The host and port: a user:password@ before them is not for showing. Empty for an
    address too malformed to split (a refused one is stored too)."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2]
    except ValueError:
        return ""


# Job options of a v1.2 manifest row whose transfer POST got no answer: it may have reached
# the service, and the app looks for its task (UNSURE_KEY); or the app cut it off itself
# before its last byte, so nothing went out (CUT_KEY). Here, not in jobs/transfer.py, so the
# window's words for them load no engine module (docs/manifests.md, "Sending").
SENT_KEY = "transfer_sent"  # the transfer went through: the row waits for its task
UNSURE_KEY = "transfer_unsure"
CUT_KEY = "transfer_cut"
