"""Office-network helpers for tests/reliability: a test certificate authority, the sandbox over
TLS, and a real HTTP proxy (proxy.py) on 127.0.0.1 that records what it carried."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.conftest import StartSandbox
from uploader_app.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]

# The program trusts the test authority through SSL_CERT_FILE / SSL_CERT_DIR, which only
# OpenSSL's defaults read: on macOS and Windows the OS store is the Keychain or the
# certificate store, which a test must not change (docs/network.md).
TRUST_BY_FILE = pytest.mark.skipif(
    sys.platform != "linux", reason="the OS trust store is a file only on Linux"
)


@dataclass
class TestAuthority:
    """A certificate authority made for one test, and its certificate as a PEM file."""

    __test__ = False  # a helper, not a pytest test class

    ca: trustme.CA
    pem: Path

    def server_context(
        self, *names: str, expired: bool = False, authority: trustme.CA | None = None
    ) -> ssl.SSLContext:
        """A server's TLS context with a certificate for ``names`` (issued by ``authority``,
        default this one; ``expired``: valid only until yesterday)."""
        issuer = authority or self.ca
        now = dt.datetime.now(dt.UTC)
        if expired:
            leaf = issuer.issue_cert(
                *names, not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
            )
        else:
            leaf = issuer.issue_cert(*names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        return context


def make_authority(folder: Path) -> TestAuthority:
    ca = trustme.CA()
    pem = folder / "test-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return TestAuthority(ca, pem)


def tls_sandbox(start_sandbox: StartSandbox, context: ssl.SSLContext) -> SandboxServer:
    """The sandbox serving HTTPS on 127.0.0.1 with ``context``'s certificate."""
    return start_sandbox(ssl_context=context)


def https_url(server: SandboxServer, host: str = "127.0.0.1") -> str:
    """The sandbox's v1.3 address by ``host`` (a name the certificate may or may not hold)."""
    port = server.url.rsplit(":", 1)[1]
    return f"https://{host}:{port}/v1.3"


@dataclass
class RunningProxy:
    """proxy.py in its own process on 127.0.0.1; ``hosts()`` is every host:port it connected
    to for a client (read from the plugin's log)."""

    url: str
    log: Path

    def hosts(self) -> list[str]:
        if not self.log.exists():
            return []
        return self.log.read_text(encoding="utf-8").split()

    def url_with_login(self, user: str, password: str) -> str:
        return self.url.replace("http://", f"http://{user}:{password}@")


@dataclass
class Inspection:
    """What a TLS-inspecting proxy needs: the company's authority (certificate and key), the
    key of the certificates it makes for each site, and the authorities it trusts upstream."""

    ca_cert: Path
    ca_key: Path
    signing_key: Path
    upstream_trust: Path
    made: Path  # where it keeps the certificates it makes

    def args(self) -> list[str]:
        return [
            "--ca-cert-file",
            str(self.ca_cert),
            "--ca-key-file",
            str(self.ca_key),
            "--ca-signing-key-file",
            str(self.signing_key),
            "--ca-cert-dir",
            str(self.made),
            "--ca-file",
            str(self.upstream_trust),
        ]


def company_inspection(folder: Path, upstream_trust: Path) -> Inspection:
    """A company authority made with the openssl command (proxy.py signs with it too)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key, signing_key = (
        folder / "company-ca.pem",
        folder / "ca-key.pem",
        folder / "k.pem",
    )
    request = "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=Company-Inspection-CA"
    subprocess.run(
        ["openssl", *request.split(), "-keyout", str(ca_key), "-out", str(ca_cert)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "genrsa", "-out", str(signing_key), "2048"], check=True, capture_output=True
    )
    (folder / "made").mkdir()
    return Inspection(ca_cert, ca_key, signing_key, upstream_trust, folder / "made")


@contextlib.contextmanager
def running_proxy(
    folder: Path, *, login: str | None = None, inspection: Inspection | None = None
) -> Iterator[RunningProxy]:
    """A real HTTP proxy (CONNECT tunnels) on a free port; ``login`` ("user:password") makes
    it answer 407 to a client that does not give it; ``inspection`` makes it decrypt and
    re-sign every HTTPS connection with the company's authority, as an inspecting proxy does."""
    from tests.reliability.proxy_plugin import LOG_ENV

    folder.mkdir(parents=True, exist_ok=True)
    port_file = folder / "proxy.port"
    log = folder / "proxy.log"
    args = [
        sys.executable,
        "-m",
        "proxy",
        "--hostname",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--num-acceptors",
        "1",
        "--num-workers",
        "1",
        "--log-level",
        "WARNING",
        "--plugins",
        "tests.reliability.proxy_plugin.RecordAndResolve",
    ]
    if login:
        args += ["--basic-auth", login]
    if inspection:
        args += inspection.args()
    env = {**os.environ, LOG_ENV: str(log)}
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the test proxy did not start")
            time.sleep(0.05)
        yield RunningProxy(f"http://127.0.0.1:{port_file.read_text().strip()}", log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def own_network_address() -> str | None:
    """This machine's address on its network (not loopback), or None when it has none: the
    route a packet to a documentation address (RFC 5737) would take; nothing is sent."""
    import ipaddress
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address
