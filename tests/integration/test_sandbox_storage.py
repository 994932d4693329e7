"""The sandbox's chunk PUTs are as strict as S3: signed upload headers, unquoted proofs,
XML errors (plain requests, not the app's client)."""

from __future__ import annotations

import hashlib
import os

import requests

from tests.conftest import StartSandbox
from tests.sandbox_http import CHUNK, TIMEOUT, Client, start_upload

SIGNED = {"Content-Type": "binary/octet-stream"}


def test_a_put_without_the_signed_headers_is_refused(start_sandbox: StartSandbox) -> None:
    api = Client(start_sandbox(chunk_size=CHUNK, upload_headers=SIGNED))
    session = start_upload(api, CHUNK * 2)
    assert session["upload_headers"] == SIGNED
    [first, second] = session["upload_urls"][:2]
    data = os.urandom(CHUNK)
    refused = requests.put(
        first["url"], data=data, headers={"Content-Type": "application/octet-stream"},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert refused.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in refused.content
    taken = requests.put(second["url"], data=data, headers=SIGNED, timeout=TIMEOUT)
    assert taken.status_code == 200


def test_a_quoted_proof_does_not_match(start_sandbox: StartSandbox) -> None:
    api = Client(start_sandbox(chunk_size=CHUNK))
    session = start_upload(api, CHUNK)
    data = os.urandom(CHUNK)
    etag = requests.put(session["upload_urls"][0]["url"], data=data, timeout=TIMEOUT).headers[
        "ETag"
    ]
    assert etag == f'"{hashlib.md5(data).hexdigest()}"'
    report = {"chunk_index": 1, "proof": etag, "proof_type": "etag", "chunk_size": CHUNK}
    path = f"/assets/multipart-uploads/{session['upload_id']}"
    assert api.post(path, json={"completed_chunks": [report]}).json()["processed_chunks"] == 0
    unquoted = {**report, "proof": etag.strip('"')}
    assert api.post(path, json={"completed_chunks": [unquoted]}).json()["processed_chunks"] == 1


def test_s3_error_fault_answers_in_xml(start_sandbox: StartSandbox) -> None:
    rule = {"method": "PUT", "path": "/_uploads/*", "fault": "s3_error", "times": 1}
    api = Client(start_sandbox(chunk_size=CHUNK, faults={"rules": [rule]}))
    session = start_upload(api, CHUNK)
    answer = requests.put(session["upload_urls"][0]["url"], data=b"x" * CHUNK, timeout=TIMEOUT)
    assert answer.status_code == 503
    assert answer.headers["Content-Type"].startswith("application/xml")
    assert b"<Code>SlowDown</Code>" in answer.content
