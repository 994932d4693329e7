"""A real S3 emulator for the tests: moto in server mode on 127.0.0.1 (a free port).

boto3 reaches it over HTTP like any S3 endpoint, through ``AWS_ENDPOINT_URL``; presigned
links made for it are plain HTTP URLs the sandbox can fetch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

# Fake credentials: moto accepts any key until authentication is switched on.
ACCESS_KEY = "AKIAFAKEFORTESTS0000"
SECRET_KEY = "fake-secret-for-tests"
REGION = "us-west-2"


class S3Emulator:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> None:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every bucket and user, and switch authentication off again."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
        self.require_auth(False)

    def require_auth(self, on: bool = True) -> None:
        """On: requests must be signed by an IAM user's key and allowed by its policies."""
        body = "0" if on else "inf"
        requests.post(f"{self.url}/moto-api/reset-auth", data=body, timeout=10).raise_for_status()

    def client(self, access_key: str = ACCESS_KEY, secret: str = SECRET_KEY) -> S3Client:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret,
        )

    def iam(self) -> IAMClient:
        return boto3.client(
            "iam",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def bucket(self, name: str, region: str = REGION) -> str:
        client = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        if region == "us-east-1":
            client.create_bucket(Bucket=name)
        else:
            client.create_bucket(
                Bucket=name,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
        return name

    def put(self, bucket: str, key: str, data: bytes | Path) -> str:
        body = data.read_bytes() if isinstance(data, Path) else data
        self.client().put_object(Bucket=bucket, Key=key, Body=body)
        return f"s3://{bucket}/{key}"

    def user(self, name: str, actions: list[str] | None = None) -> tuple[str, str]:
        """An IAM user allowed ``actions`` on every resource (none: allowed nothing)."""
        iam = self.iam()
        iam.create_user(UserName=name)
        if actions:
            iam.put_user_policy(
                UserName=name,
                PolicyName=f"{name}-policy",
                PolicyDocument=(
                    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                    f'"Action": {actions!r}, "Resource": "*"}}]}}'.replace("'", '"')
                ),
            )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]


def only_profile(monkeypatch: pytest.MonkeyPatch, folder: Path, name: str) -> None:
    """No default AWS credentials, only the named profile (in its own credentials file): a
    request the app makes with the default credentials fails, one with the profile works."""
    credentials = folder / "aws-credentials"
    credentials.write_text(
        f"[{name}]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
