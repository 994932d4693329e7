"""The sandbox's state and the services the endpoint handlers share.

One ``Sandbox`` per server: the store, the task clock, the folders uploads land in, the
secret that signs chunk URLs, and the background threads that fetch ``video_url``s.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from uploader_app.sandbox.errors import ApiError, resource_not_exist
from uploader_app.sandbox.lifecycle import READY, Clock, status_at
from uploader_app.sandbox.records import (
    IndexedAssetRecord,
    IndexRecord,
    TaskRecord,
    new_id,
)
from uploader_app.sandbox.store import Store

logger = logging.getLogger(__name__)

# The vendor picks the chunk size; its docs do not state it. 64 MiB is a realistic S3-style
# part size (the SDK's helper works with whatever the server returns).
DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024

# A first-time user gets one index per model family to pick from.
DEMO_INDEXES = (
    ("Demo - Marengo (search)", [{"name": "marengo3.0", "options": ["visual", "audio"]}]),
    ("Demo - Pegasus (analyze)", [{"name": "pegasus1.2", "options": ["visual", "audio"]}]),
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class Sandbox:
    def __init__(
        self,
        data_dir: Path,
        api_key: str,
        speed: float = 1.0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        s3_dir: Path | None = None,
        *,
        upload_headers: dict[str, str] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be above 0")
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1 byte")
        self.data_dir = data_dir
        self.api_key = api_key
        self.clock = Clock(speed)
        self.chunk_size = chunk_size
        self.s3_dir = s3_dir
        # Headers every chunk PUT must carry as given (multipart upload_headers).
        self.upload_headers = dict(upload_headers or {})
        self.spool = data_dir / "spool"
        self.media = data_dir / "media"
        # Leftovers of uploads cut off by a crash are never resumed (POST /tasks is not).
        shutil.rmtree(self.spool, ignore_errors=True)
        self.spool.mkdir(parents=True, exist_ok=True)
        self.media.mkdir(parents=True, exist_ok=True)
        self.store = Store(data_dir / "sandbox.db")
        self._secret = bytes.fromhex(self.store.meta("url_secret", lambda: os.urandom(32).hex()))
        self.base_url = ""  # the server sets it once it listens
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()  # requests start downloads from many threads
        self._closing = threading.Event()
        if self.store.meta("seeded", lambda: "no") == "no":
            self._seed_demo()

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    def _seed_demo(self) -> None:
        now = self.clock.now()
        for n, (name, models) in enumerate(DEMO_INDEXES):
            created = now + n / 1000  # distinct, so sorting by created_at is stable
            self.store.put(IndexRecord(new_id(), name, models, [], created, created))
        self.store.set_meta("seeded", "yes")

    def background(self, work: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=work, name=name, daemon=True)
        with self._threads_lock:
            # Started under the lock: a thread not yet started is not alive, and another
            # call's pruning would drop it.
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)

    def background_threads(self) -> list[threading.Thread]:
        """The background threads started so far that were still running at the last start."""
        with self._threads_lock:
            return list(self._threads)

    def close(self) -> None:
        self._closing.set()
        for thread in self.background_threads():
            thread.join(timeout=5)
        self.store.close()

    def index(self, index_id: str, status: int = 400) -> IndexRecord:
        found = self.store.get(IndexRecord, index_id)
        if found is None:
            raise resource_not_exist(index_id, "indexes", status)
        return found

    def put_in_index(
        self,
        record: TaskRecord | IndexedAssetRecord,
        status: int = 400,
        media_folder: str | None = None,
    ) -> None:
        """Store a new record of an index, unless DELETE /indexes got there first.

        A create checks the index, then judges the file for a long while without the store
        lock; the index may be deleted meanwhile. The check is made again with the insert, as
        one step, so no record outlives its index; when the index is gone, the media kept for
        the record in ``media_folder`` go too and the caller answers the index's not-found error.
        """
        try:
            with self.store.atomic():
                self.index(record.index_id, status)
                self.store.put(record)
        except ApiError:
            if media_folder is not None:
                self.forget(media_folder, record.id)
            raise

    def keep(self, spooled: Path, folder: str, record_id: str, filename: str) -> Path:
        """Move a spooled upload to its permanent place, named after the client's file."""
        target_dir = self.media / folder / record_id
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / (_UNSAFE.sub("_", Path(filename).name).strip() or "video")
        spooled.replace(target)
        return target

    def forget(self, folder: str, record_id: str) -> None:
        shutil.rmtree(self.media / folder / record_id, ignore_errors=True)

    def index_stats(self, index_id: str) -> tuple[int, float]:
        """Videos and seconds indexed so far (ready tasks whose video was not deleted, and
        ready indexed assets). Reads only the index's own records, and copies none."""
        now = self.clock.now()

        def tally(items: Iterable[TaskRecord | IndexedAssetRecord]) -> tuple[int, float]:
            seconds = [
                i.media.duration
                for i in items
                if status_at(i.phases, now)[0] == READY
                and not (isinstance(i, TaskRecord) and i.video_deleted)
            ]
            return len(seconds), sum(seconds)

        tasks = self.store.read(TaskRecord, tally, index_id=index_id)
        assets = self.store.read(IndexedAssetRecord, tally, index_id=index_id)
        return tasks[0] + assets[0], round(tasks[1] + assets[1], 3)

    def file_url(self, folder: str, record_id: str) -> str:
        return f"{self.base_url}/_files/{folder}/{record_id}"

    def sign(self, upload_id: str, chunk_index: int, nonce: str, expires: int) -> str:
        message = f"{upload_id}/{chunk_index}/{nonce}/{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def check_signature(
        self, upload_id: str, chunk_index: int, nonce: str, expires: int, signature: str
    ) -> bool:
        expected = self.sign(upload_id, chunk_index, nonce, expires)
        return hmac.compare_digest(expected, signature)
