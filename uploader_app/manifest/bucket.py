"""S3 access with the user's own AWS credentials (boto3): list, size, read, presign.

Credentials, profile and region come from boto3's usual chain (environment, ``~/.aws``,
``AWS_PROFILE``; ``AWS_ENDPOINT_URL`` points it at an S3-compatible store). Every failure
becomes a ``BucketError`` with a plain reason and what to do (docs/manifests.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from uploader_app.manifest.checks import BucketError
from uploader_app.manifest.uris import S3Uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

# The vendor's transfers read buckets in this region only (cloud-to-cloud guide).
REQUIRED_REGION = "us-west-2"
# A presigned link must outlive the service's queue: a week is the longest SigV4 allows.
PRESIGN_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int


class S3Access:
    """One S3 client for a profile (or the default credentials) and an optional endpoint."""

    def __init__(
        self,
        profile: str | None = None,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        try:
            session = boto3.Session(profile_name=profile, region_name=region)
            self._client: S3Client = session.client(
                "s3",
                endpoint_url=endpoint_url,
                config=Config(signature_version="s3v4", retries={"mode": "standard"}),
            )
        except ProfileNotFound as exc:
            named = exc.kwargs.get("profile", profile)  # AWS_PROFILE names it when we did not
            raise BucketError(
                f"There is no AWS profile named {named!r} on this computer.",
                "Use a profile listed in ~/.aws/config, or leave the profile out to use your "
                "default credentials.",
            ) from None
        except BotoCoreError as exc:  # a broken ~/.aws/config, say: words, not a traceback
            raise _explain(exc, "", None) from None
        self._regions: dict[str, str | None] = {}

    def bucket_region(self, bucket: str) -> str | None:
        """The bucket's region (None when S3 does not say); BucketError when it is missing."""
        if bucket not in self._regions:
            try:
                answer: Any = self._client.head_bucket(Bucket=bucket)
            except ClientError as exc:
                # A HEAD answer has no body, so a refused key and a missing permission both
                # read as 403; S3 still names the region, and the listing that follows
                # words the refusal precisely.
                if _status(exc) == 404:
                    raise _explain(exc, bucket, None) from None
                answer = exc.response
            except BotoCoreError as exc:
                raise _explain(exc, bucket, None) from None
            headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            self._regions[bucket] = headers.get("x-amz-bucket-region")
        return self._regions[bucket]

    def list_pages(
        self, bucket: str, prefix: str = "", page_size: int = 1000
    ) -> Iterator[list[S3Object]]:
        """Every object under the prefix, a page (S3 gives at most 1,000) at a time."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
        )
        iterator = iter(pages)
        while True:
            page = self._call(bucket, None, lambda: next(iterator, None))
            if page is None:
                return
            yield [S3Object(i["Key"], int(i.get("Size", 0))) for i in page.get("Contents", [])]

    def size(self, uri: S3Uri) -> int | None:
        try:
            answer = self._client.head_object(Bucket=uri.bucket, Key=uri.key)
        except ClientError as exc:
            if _status(exc) == 404 and _code(exc) != "NoSuchBucket":
                return None
            raise _explain(exc, uri.bucket, uri) from None
        except BotoCoreError as exc:
            raise _explain(exc, uri.bucket, uri) from None
        return int(answer["ContentLength"])

    def read(self, uri: S3Uri, limit: int) -> bytes:
        def get() -> bytes:
            answer = self._client.get_object(
                Bucket=uri.bucket, Key=uri.key, Range=f"bytes=0-{limit - 1}"
            )
            data: bytes = answer["Body"].read(limit)
            return data

        data: bytes = self._call(uri.bucket, uri, get)
        return data

    def presign(self, uri: S3Uri, seconds: int = PRESIGN_SECONDS) -> str:
        """An HTTPS link anyone can GET until it expires; made locally, nothing is sent."""
        try:
            return self._client.generate_presigned_url(
                "get_object", Params={"Bucket": uri.bucket, "Key": uri.key}, ExpiresIn=seconds
            )
        except (ClientError, BotoCoreError) as exc:
            raise _explain(exc, uri.bucket, uri) from None

    def _call(self, bucket: str, uri: S3Uri | None, action: Any) -> Any:
        try:
            return action()
        except (ClientError, BotoCoreError) as exc:
            raise _explain(exc, bucket, uri) from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


_REFUSED_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "TokenRefreshRequired"}
)


def _explain(exc: Exception, bucket: str, uri: S3Uri | None) -> BucketError:
    """A plain reason for what boto3 raised (the details go to the log)."""
    logger.info("S3 error on %s: %r", uri or bucket, exc)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return BucketError(
            "No AWS credentials were found on this computer.",
            "Run 'aws configure' (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), "
            "or choose a profile that has them.",
        )
    if isinstance(exc, ConfigParseError):
        return BucketError(
            f"Your AWS settings file {exc.kwargs.get('path', '')} cannot be read.",
            "Fix it in a text editor (each section starts with a name in square brackets, "
            "e.g. [default]), or run 'aws configure' to write it again.",
        )
    if isinstance(exc, EndpointConnectionError):
        return BucketError(
            "S3 could not be reached.", "Check your internet connection and try again."
        )
    if isinstance(exc, ClientError):
        code, status = _code(exc), _status(exc)
        if code in _REFUSED_CREDENTIALS:
            return BucketError(
                "AWS refused your credentials (the access key is unknown, expired or does "
                "not match its secret).",
                "Check the access key and secret in ~/.aws/credentials, or sign in again.",
            )
        if code == "NoSuchBucket" or (status == 404 and uri is None):
            return BucketError(
                f"There is no bucket named {bucket!r}.",
                "Check the bucket name (it is case-sensitive) in the S3 console.",
            )
        if code in ("AccessDenied", "AllAccessDisabled", "403") or status == 403:
            what = f"read {uri}" if uri is not None else f"list the bucket {bucket!r}"
            return BucketError(
                f"Your AWS credentials are not allowed to {what}.",
                "Ask the bucket's owner for s3:ListBucket and s3:GetObject on it, or use a "
                "profile that has them.",
            )
    return BucketError(
        "S3 could not be read.",
        "Try again in a moment; if it keeps failing, check the bucket in the S3 console.",
    )
