"""v1.3 multipart uploads: sessions, presigned chunk URLs, chunk reports and assembly.

Chunk URLs point at the sandbox itself (``/_uploads/{upload_id}/{chunk_index}``) and work like
S3 presigned URLs: no API key, an HMAC signature and an expiry in the query, single use, and an
``ETag`` (the quoted MD5 of the bytes) in the answer.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
from functools import partial
from pathlib import Path

from werkzeug.wrappers import Response

from uploader_app.models import UploadKind
from uploader_app.sandbox.errors import (
    ApiError,
    parameter_invalid,
    parameter_not_provided,
    resource_not_exist,
)
from uploader_app.sandbox.judge import judge_asset
from uploader_app.sandbox.lifecycle import ASSET_PROCESSING_SECONDS
from uploader_app.sandbox.paging import page_of
from uploader_app.sandbox.records import AssetRecord, ChunkState, UploadRecord, new_id
from uploader_app.sandbox.routing import (
    ONLY_V13,
    Call,
    Route,
    bool_field,
    json_response,
    metadata_field,
)
from uploader_app.sandbox.service import Sandbox
from uploader_app.sandbox.shapes import Json, rfc3339
from uploader_app.validation.limits import MAX_IMAGE_SIZE, MAX_SIZE

logger = logging.getLogger(__name__)

SESSION_SECONDS = 24 * 3600  # "The upload session expired after 24 hours"
URL_SECONDS = 3600  # "URLs expire after one hour"
INITIAL_URLS = 10  # the first batch; more come from .../presigned-urls
MAX_URLS = 50
READ_SIZE = 256 * 1024
TYPES = ("video", "audio", "image")


def _upload(sandbox: Sandbox, upload_id: str) -> UploadRecord:
    upload = sandbox.store.get(UploadRecord, upload_id)
    if upload is None:
        raise resource_not_exist(upload_id, "multipart uploads", 404)
    if upload.status == "active" and sandbox.clock.now() > upload.expires:
        upload.status = "expired"
    return upload


def _chunk_dir(sandbox: Sandbox, upload_id: str) -> Path:
    return sandbox.data_dir / "chunks" / upload_id


def _urls(sandbox: Sandbox, upload: UploadRecord, start: int, count: int) -> list[Json]:
    expires = int(sandbox.clock.now() + URL_SECONDS)
    urls = []
    for index in range(start, min(upload.total_chunks, start + count - 1) + 1):
        nonce = os.urandom(8).hex()
        signature = sandbox.sign(upload.id, index, nonce, expires)
        urls.append(
            {
                "chunk_index": index,
                "url": f"{sandbox.base_url}/_uploads/{upload.id}/{index}"
                f"?n={nonce}&e={expires}&sig={signature}",
                "expires_at": rfc3339(expires),
            }
        )
    return urls


def create(call: Call) -> Response:
    sandbox = call.sandbox
    body = call.json()
    missing = [k for k in ("filename", "type", "total_size") if body.get(k) in (None, "")]
    if missing:
        raise parameter_not_provided(*missing)
    filename, media_type, total = body["filename"], body["type"], body["total_size"]
    if not isinstance(filename, str):
        raise parameter_invalid("filename")
    if media_type not in TYPES:
        raise parameter_invalid("type", detail="Use video, audio or image.")
    if not isinstance(total, int) or isinstance(total, bool) or total < 1:
        raise parameter_invalid("total_size", detail="Give the file size in bytes.")
    limit = MAX_IMAGE_SIZE if media_type == "image" else MAX_SIZE[UploadKind.MULTIPART]
    if total > limit:
        code = "video_filesize_too_large" if media_type == "video" else "media_filesize_too_large"
        raise ApiError(
            400, code, f"The file is too large: {total} bytes. The maximum is {limit} bytes."
        )
    now = sandbox.clock.now()
    chunk_size = sandbox.chunk_size
    total_chunks = math.ceil(total / chunk_size)
    asset = AssetRecord(
        id=new_id(),
        method="multipart",
        created=now,
        filename=filename,
        file_type=f"{media_type}/*",
        enable_hls=bool_field(body.get("enable_hls"), "enable_hls", False),
        enable_thumbnail=bool_field(body.get("enable_thumbnail"), "enable_thumbnail", False),
        user_metadata=metadata_field(body.get("user_metadata")),
    )
    upload = UploadRecord(
        id=new_id(),
        asset_id=asset.id,
        filename=filename,
        media_type=media_type,
        total_size=total,
        chunk_size=chunk_size,
        total_chunks=total_chunks,
        created=now,
        updated=now,
        expires=now + SESSION_SECONDS,
    )
    sandbox.store.put(asset)
    sandbox.store.put(upload)
    _chunk_dir(sandbox, upload.id).mkdir(parents=True, exist_ok=True)
    logger.info("multipart upload %s: %d bytes in %d chunks", upload.id, total, total_chunks)
    return json_response(
        {
            "upload_id": upload.id,
            "asset_id": asset.id,
            "upload_urls": _urls(sandbox, upload, 1, INITIAL_URLS),
            "upload_headers": dict(sandbox.upload_headers),
            "chunk_size": chunk_size,
            "total_chunks": total_chunks,
            "expires_at": rfc3339(upload.expires),
        },
        201,
    )


def list_incomplete(call: Call) -> Response:
    sandbox = call.sandbox
    page = page_of(call.request.args)
    now = sandbox.clock.now()
    items = sandbox.store.all(UploadRecord, lambda u: u.status == "active" and now <= u.expires)
    items.sort(key=lambda u: u.created, reverse=True)
    data, info = page.cut(items)
    return json_response(
        {
            "data": [
                {
                    "upload_id": u.id,
                    "status": u.status,
                    "total_size": u.total_size,
                    "chunk_size": u.chunk_size,
                    "total_chunks": u.total_chunks,
                    "created_at": rfc3339(u.created),
                    "expires_at": rfc3339(u.expires),
                }
                for u in data
            ],
            "page_info": info,
        }
    )


def status(call: Call, upload_id: str) -> Response:
    sandbox = call.sandbox
    upload = _upload(sandbox, upload_id)
    page = page_of(call.request.args)
    chunks = [
        (i, upload.chunks.get(str(i), ChunkState())) for i in range(1, upload.total_chunks + 1)
    ]
    data, info = page.cut(chunks)
    completed = [c for _, c in chunks if c.status == "completed"]
    failed = sum(1 for _, c in chunks if c.status == "failed")
    return json_response(
        {
            "upload_id": upload.id,
            "status": upload.status,
            "uploaded_chunks": [_chunk_info(i, c) for i, c in data],
            "chunks_completed": len(completed),
            "chunks_failed": failed,
            "chunks_pending": upload.total_chunks - len(completed) - failed,
            "page_info": info,
            "total_size": upload.total_size,
            "uploaded_size": sum(c.size for c in completed),
            "created_at": rfc3339(upload.created),
            "updated_at": rfc3339(upload.updated),
        }
    )


def _chunk_info(index: int, chunk: ChunkState) -> Json:
    info: Json = {"index": index, "status": chunk.status}
    if chunk.status == "completed" and chunk.uploaded_at is not None:
        info["uploaded_at"] = rfc3339(chunk.uploaded_at)
    if chunk.updated is not None:
        info["updated_at"] = rfc3339(chunk.updated)
    if chunk.status == "failed" and chunk.error:
        info["error"] = chunk.error
    return info


def report(call: Call, upload_id: str) -> Response:
    sandbox = call.sandbox
    upload = _upload(sandbox, upload_id)
    if upload.status not in ("active", "completed"):
        raise parameter_invalid(detail=f"The upload session {upload_id} is {upload.status}.")
    reported = call.json().get("completed_chunks")
    if not isinstance(reported, list) or not reported:
        raise parameter_not_provided("completed_chunks")
    for item in reported:
        _check_report(item, upload.total_chunks)
    now = sandbox.clock.now()
    processed = duplicates = 0
    assemble = False

    def change(record: UploadRecord) -> None:
        nonlocal processed, duplicates, assemble
        if record.status == "completed":
            # The vendor ignores duplicate reports: a client whose answer to the final report
            # was lost sends it again and must get the url, not an error.
            duplicates = len(reported)
            return
        for item in reported:
            key = str(item["chunk_index"])
            chunk = record.chunks.setdefault(key, ChunkState())
            if chunk.status == "completed":
                duplicates += 1
                continue
            chunk.updated = now
            if chunk.etag is None:
                chunk.status, chunk.error = "failed", "The chunk was reported but never uploaded."
            elif item["proof"] != chunk.etag.strip('"'):
                # The ETag without its quotes, as the vendor's SDK reports it.
                chunk.status, chunk.error = "failed", "The proof does not match the chunk's ETag."
            elif item["chunk_size"] != chunk.size:
                chunk.status = "failed"
                chunk.error = f"The chunk has {chunk.size} bytes, not {item['chunk_size']}."
            else:
                chunk.status, chunk.error, chunk.uploaded_at = "completed", None, now
                processed += 1
        record.updated = now
        if _completed(record) == record.total_chunks:
            # Only the report that completes the session assembles it: a concurrent report
            # sees "completed" and counts its chunks as duplicates.
            record.status = "completed"
            assemble = True

    upload = sandbox.store.update(UploadRecord, upload_id, change) or upload
    body: Json = {
        "asset_id": upload.asset_id,
        "processed_chunks": processed,
        "duplicate_chunks": duplicates,
        "total_completed": _completed(upload),
    }
    if assemble:
        _finish(sandbox, upload)
    if upload.status == "completed":
        body["url"] = sandbox.file_url("assets", upload.asset_id)
    return json_response(body)


def _completed(upload: UploadRecord) -> int:
    return sum(1 for c in upload.chunks.values() if c.status == "completed")


def _check_report(item: object, total_chunks: int) -> None:
    if not isinstance(item, dict):
        raise parameter_invalid("completed_chunks")
    for key in ("chunk_index", "proof", "proof_type", "chunk_size"):
        if key not in item:
            raise parameter_not_provided(f"completed_chunks.{key}")
    index = item["chunk_index"]
    if not isinstance(index, int) or not 1 <= index <= total_chunks:
        raise parameter_invalid(
            "chunk_index", detail=f"Chunks are numbered from 1 to {total_chunks}."
        )
    if item["proof_type"] != "etag":
        raise parameter_invalid("proof_type", detail="The only proof type is etag.")
    if not isinstance(item["proof"], str) or not isinstance(item["chunk_size"], int):
        raise parameter_invalid("proof", "chunk_size")


def _finish(sandbox: Sandbox, upload: UploadRecord) -> None:
    """Join the chunks into the asset's file, then judge it like a direct upload.

    Runs once per session: the report that marked it completed calls it, or ``resume_finishing``
    after a restart. The asset stays ``processing`` until this is done, so whatever goes wrong
    here fails the asset: left alone, it would be processing forever.
    """
    assembled = sandbox.spool / f"{upload.id}.assembled"
    try:
        _assemble(sandbox, upload, assembled)
    except Exception:
        assembled.unlink(missing_ok=True)
        _fail(sandbox, upload, "The chunks could not be joined and checked. Upload the file again.")
        raise


def _assemble(sandbox: Sandbox, upload: UploadRecord, assembled: Path) -> None:
    chunk_dir = _chunk_dir(sandbox, upload.id)
    with assembled.open("wb") as out:
        for index in range(1, upload.total_chunks + 1):
            with (chunk_dir / f"{index:06d}").open("rb") as part:
                shutil.copyfileobj(part, out, 4 * 1024 * 1024)
    size = assembled.stat().st_size
    path = sandbox.keep(assembled, "assets", upload.asset_id, upload.filename)
    verdict = judge_asset(path, upload.filename, MAX_SIZE[UploadKind.MULTIPART])
    error = verdict.message or None
    if size != upload.total_size:
        error = f"The chunks add up to {size} bytes, not the announced {upload.total_size}."
    ready_at = sandbox.clock.now() + sandbox.clock.scaled(ASSET_PROCESSING_SECONDS)

    def finish_asset(asset: AssetRecord) -> None:
        asset.media = verdict.media
        asset.ready_at = ready_at
        asset.failed = error is not None
        asset.error = error

    if sandbox.store.update(AssetRecord, upload.asset_id, finish_asset) is None:
        sandbox.forget("assets", upload.asset_id)  # the asset was deleted meanwhile
    # The chunks go last: until the asset is settled, a restart can join them again.
    shutil.rmtree(chunk_dir, ignore_errors=True)
    logger.info("multipart upload %s complete: asset %s", upload.id, upload.asset_id)


def _fail(sandbox: Sandbox, upload: UploadRecord, error: str) -> None:
    """The session and its asset fail (the chunk files are gone or unreadable)."""
    now = sandbox.clock.now()

    def fail_asset(asset: AssetRecord) -> None:
        asset.ready_at, asset.failed, asset.error = now, True, error

    def fail_upload(record: UploadRecord) -> None:
        record.status, record.updated = "failed", now

    sandbox.store.update(AssetRecord, upload.asset_id, fail_asset)
    sandbox.store.update(UploadRecord, upload.id, fail_upload)
    shutil.rmtree(_chunk_dir(sandbox, upload.id), ignore_errors=True)


def resume_finishing(sandbox: Sandbox) -> None:
    """At start-up: settle the completed uploads a previous run stopped before it finished.

    ``report`` saves the session as completed before ``_finish`` joins the chunks, so a run
    killed in between leaves an asset with no ``ready_at``. Its chunks are joined again when
    they are all still there; otherwise the asset fails with an error that says why.
    """

    def unsettled(upload: UploadRecord) -> bool:
        asset = sandbox.store.get(AssetRecord, upload.asset_id)
        return asset is not None and asset.ready_at is None

    for upload in sandbox.store.all(UploadRecord, lambda u: u.status == "completed"):
        if not unsettled(upload):
            shutil.rmtree(_chunk_dir(sandbox, upload.id), ignore_errors=True)
            continue
        chunk_dir = _chunk_dir(sandbox, upload.id)
        if all((chunk_dir / f"{i:06d}").is_file() for i in range(1, upload.total_chunks + 1)):
            logger.info("multipart upload %s: joining its chunks again", upload.id)
            sandbox.background(partial(_finish_quietly, sandbox, upload), f"finish-{upload.id}")
        else:
            logger.warning("multipart upload %s: its chunks are gone", upload.id)
            _fail(
                sandbox,
                upload,
                "The sandbox stopped while joining the chunks, and some of them are gone. "
                "Upload the file again.",
            )


def _finish_quietly(sandbox: Sandbox, upload: UploadRecord) -> None:
    try:
        _finish(sandbox, upload)
    except Exception:  # _finish failed the asset; nobody waits for this thread's answer
        logger.exception("multipart upload %s could not be finished", upload.id)


def presigned_urls(call: Call, upload_id: str) -> Response:
    sandbox = call.sandbox
    upload = _upload(sandbox, upload_id)
    if upload.status != "active":
        raise parameter_invalid(detail=f"The upload session {upload_id} is {upload.status}.")
    body = call.json()
    start, count = body.get("start"), body.get("count")
    if start is None or count is None:
        raise parameter_not_provided(*[k for k in ("start", "count") if body.get(k) is None])
    if not isinstance(start, int) or not 1 <= start <= upload.total_chunks:
        raise parameter_invalid(
            "start", detail=f"Chunks are numbered from 1 to {upload.total_chunks}."
        )
    if not isinstance(count, int) or not 1 <= count <= MAX_URLS:
        raise parameter_invalid("count", detail=f"Ask for 1 to {MAX_URLS} URLs.")
    urls = _urls(sandbox, upload, start, count)
    now = sandbox.clock.now()
    return json_response(
        {
            "upload_id": upload.id,
            "start_index": start,
            "count": len(urls),
            "upload_urls": urls,
            "generated_at": rfc3339(now),
            "expires_at": rfc3339(now + URL_SECONDS),
        }
    )


def s3_error(status_code: int, code: str, message: str) -> Response:
    """An answer of the storage service as S3 gives it: XML, not the API's JSON."""
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(body, status=status_code, content_type="application/xml")


def put_chunk(call: Call, upload_id: str, chunk_index: int) -> Response:
    """The presigned URL: store the bytes, answer with their ETag, like S3."""
    sandbox = call.sandbox
    args = call.request.args
    nonce, signature = args.get("n", ""), args.get("sig", "")
    try:
        expires = int(args.get("e", "0"))
    except ValueError:
        expires = 0
    if not sandbox.check_signature(upload_id, chunk_index, nonce, expires, signature):
        return s3_error(403, "SignatureDoesNotMatch", "The request signature is not valid.")
    if sandbox.clock.now() > expires:
        return s3_error(403, "AccessDenied", "Request has expired")
    # S3 signs the headers the service listed in upload_headers: any other value (our own
    # Content-Type, say) breaks the signature.
    for name, value in sandbox.upload_headers.items():
        if call.request.headers.get(name) != value:
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
    claimed = False

    def claim(record: UploadRecord) -> None:
        # Claimed before the body is read: a second PUT on the same URL is refused at once.
        nonlocal claimed
        if record.status == "active" and nonce not in record.used_nonces:
            record.used_nonces.append(nonce)
            claimed = True

    sandbox.store.update(UploadRecord, upload_id, claim)
    if not claimed:
        return s3_error(403, "AccessDenied", "This URL has already been used or the upload ended.")
    part = _chunk_dir(sandbox, upload_id) / f"{chunk_index:06d}"
    incoming = part.with_suffix(f".{nonce}")
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    stream = call.request.stream
    try:
        with incoming.open("wb") as out:
            while block := stream.read(READ_SIZE):
                digest.update(block)
                out.write(block)
                size += len(block)
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    etag = f'"{digest.hexdigest()}"'
    now = sandbox.clock.now()

    def store_chunk(record: UploadRecord) -> None:
        # Under the store lock, so a report cannot complete the chunk between check and move.
        chunk = record.chunks.setdefault(str(chunk_index), ChunkState())
        if chunk.status == "completed" or record.status != "active":
            incoming.unlink()  # a reported chunk is final; a late re-upload must not change it
            return
        incoming.replace(part)
        chunk.status, chunk.etag, chunk.size, chunk.updated = "pending", etag, size, now
        chunk.error = None
        record.updated = now

    if sandbox.store.update(UploadRecord, upload_id, store_chunk) is None:
        incoming.unlink(missing_ok=True)
    return Response(b"", status=200, headers={"ETag": etag})


ROUTES = [
    Route("/assets/multipart-uploads", "POST", "multipart.create", create, ONLY_V13),
    Route("/assets/multipart-uploads", "GET", "multipart.list", list_incomplete, ONLY_V13),
    Route("/assets/multipart-uploads/<upload_id>", "GET", "multipart.status", status, ONLY_V13),
    Route("/assets/multipart-uploads/<upload_id>", "POST", "multipart.report", report, ONLY_V13),
    Route(
        "/assets/multipart-uploads/<upload_id>/presigned-urls",
        "POST",
        "multipart.presigned_urls",
        presigned_urls,
        ONLY_V13,
    ),
    Route("/_uploads/<upload_id>/<int:chunk_index>", "PUT", "uploads.put", put_chunk, api=False),
]
