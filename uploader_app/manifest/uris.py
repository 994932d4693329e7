"""``s3://bucket/key`` URIs: parse, and explain in plain words what is wrong with one."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# S3 bucket naming rules (AWS "Bucket naming rules"): 3 to 63 characters, lower-case letters,
# digits, dots and hyphens, starting and ending with a letter or digit.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Virtual-hosted and path-style HTTPS addresses people paste from the S3 console.
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[^/]+)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com$")
_PATH_HOST = re.compile(r"^s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com$")


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    # String operations, not PurePosixPath: a check of a long list asks these per row.
    @property
    def name(self) -> str:
        return self.key.rpartition("/")[2]

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.name)[1].lower()


@dataclass(frozen=True)
class UriProblem:
    message: str
    hint: str


def parse_s3_uri(text: str) -> S3Uri | UriProblem:
    """An ``S3Uri``, or what is wrong with the text and how to write it instead."""
    if not text.strip():
        return UriProblem("It is empty.", "Write the object's address as s3://bucket/path/file.")
    if text != text.strip():
        return UriProblem("It starts or ends with spaces.", f"Remove the spaces: {text.strip()!r}.")
    suggestion = _from_https(text)
    if suggestion is not None:
        return UriProblem(
            "It is a web address, not an s3:// address.", f"Write it as {suggestion}."
        )
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "s3":
        return UriProblem(
            "It does not start with s3://.", "Write the object's address as s3://bucket/path/file."
        )
    if scheme != "s3":
        return UriProblem("The s3:// prefix must be in lower case.", f"Write it as s3://{rest}.")
    bucket, slash, key = rest.partition("/")
    if not bucket:
        return UriProblem("The bucket name is missing.", "Write it as s3://bucket/path/file.")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        return UriProblem(
            f"{bucket!r} is not a valid S3 bucket name.",
            "Bucket names have 3 to 63 lower-case letters, digits, dots or hyphens; copy the "
            "name from the S3 console.",
        )
    if not slash or not key:
        return UriProblem(
            "It names a bucket but no file in it.", f"Add the file's path: s3://{bucket}/file."
        )
    if key.endswith("/"):
        return UriProblem(
            "It names a folder, not a file.", "Add the file name after the last slash."
        )
    return S3Uri(bucket, key)


def _from_https(text: str) -> str | None:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host, path = parts.hostname or "", unquote(parts.path.lstrip("/"))
    if match := _VIRTUAL_HOST.match(host):
        return f"s3://{match.group('bucket')}/{path}"
    if _PATH_HOST.match(host) and "/" in path:
        return f"s3://{path}"
    return None
