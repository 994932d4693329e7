"""TLS on office networks (docs/network.md): certificates are checked against the operating
system's trust store, so a company authority added there works, while an unknown authority,
a certificate for another name or an expired one is refused in plain words, before the key
is sent. Each case runs the real program (``python -m uploader_app``) against the sandbox
serving HTTPS on 127.0.0.1 with certificates made for the test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.engine.cli_support import run_cli
from tests.reliability.netsec_support import (
    TRUST_BY_FILE,
    TestAuthority,
    https_url,
    make_authority,
    tls_sandbox,
)
from uploader_app.sandbox.server import SandboxServer

pytestmark = TRUST_BY_FILE


@pytest.fixture
def authority(tmp_path: Path) -> TestAuthority:
    return make_authority(tmp_path)


def _env(home: Path, base_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    }
    env.update(
        UPLOADER_APP_HOME=str(home),
        TWELVELABS_BASE_URL=base_url,
        TWELVELABS_API_KEY=TEST_API_KEY,
        **extra,
    )
    return env


def _indexes(env: dict[str, str]) -> tuple[int, str]:
    code, out, err = run_cli(env, "indexes", timeout=60)
    return code, out + err


def _key_requests(server: SandboxServer) -> int:
    return len(server.requests)


@pytest.mark.parametrize("bundle_variable", [None, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_an_authority_in_the_os_trust_store_is_trusted(
    start_sandbox: StartSandbox,
    authority: TestAuthority,
    tmp_path: Path,
    bundle_variable: str | None,
) -> None:
    """A company's inspecting proxy signs with its own authority, which IT adds to the OS
    store; on Linux OpenSSL's default file is SSL_CERT_FILE. requests' own list (certifi)
    does not hold it, so this passes only because the program uses the OS store. A bundle
    variable some machines set (requests then loads that file, here another authority,
    instead of certifi) must not take the OS store away."""
    server = tls_sandbox(start_sandbox, authority.server_context("127.0.0.1"))
    env = _env(tmp_path / "home", https_url(server), SSL_CERT_FILE=str(authority.pem))
    if bundle_variable:
        (tmp_path / "other").mkdir()
        env[bundle_variable] = str(make_authority(tmp_path / "other").pem)
    code, text = _indexes(env)
    assert code == 0, text
    assert "Demo - Marengo (search)" in text
    assert ("GET", "/v1.3/indexes") in server.requests


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_certificate_folder_named_by_ssl_cert_dir_is_trusted(
    start_sandbox: StartSandbox, authority: TestAuthority, tmp_path: Path
) -> None:
    """The other Linux place: a folder of certificates named by their subject hash (what
    ``update-ca-certificates`` and ``openssl rehash`` make)."""
    folder = tmp_path / "certs"
    folder.mkdir()
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(authority.pem)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shutil.copy(authority.pem, folder / f"{subject_hash}.0")
    server = tls_sandbox(start_sandbox, authority.server_context("localhost", "127.0.0.1"))
    env = _env(tmp_path / "home", https_url(server, "localhost"), SSL_CERT_DIR=str(folder))
    # An empty file: OpenSSL then finds the authority in the folder only.
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    env["SSL_CERT_FILE"] = str(empty)
    code, text = _indexes(env)
    assert code == 0, text
    assert "Demo - Marengo (search)" in text


# (names on the certificate, expired, its authority trusted, the words the person reads)
WRONG_CERTIFICATES = {
    "unknown authority": (
        ("127.0.0.1",),
        False,
        False,
        "issued by an authority this computer does not trust",
    ),
    "another server's name": (
        ("api.example.test",),
        False,
        True,
        "belongs to a different server name",
    ),
    "expired": (("127.0.0.1",), True, True, "has expired or is not valid yet"),
}


@pytest.mark.parametrize("case", WRONG_CERTIFICATES)
def test_a_wrong_certificate_is_refused_in_plain_words(
    start_sandbox: StartSandbox, authority: TestAuthority, tmp_path: Path, case: str
) -> None:
    names, expired, trusted, words = WRONG_CERTIFICATES[case]
    server = tls_sandbox(start_sandbox, authority.server_context(*names, expired=expired))
    extra = {"SSL_CERT_FILE": str(authority.pem)} if trusted else {}
    code, text = _indexes(_env(tmp_path / "home", https_url(server), **extra))
    assert code != 0, case
    assert "The connection is not secure: the " in text
    assert words in text, text
    assert "Traceback" not in text and "SSLError" not in text and "CERTIFICATE" not in text
    # Refused in the handshake: no request, so no key, reached the server.
    assert _key_requests(server) == 0
