"""Office-network helpers for tests/reliability: a test certificate authority, the sandbox over
TLS, and a real HTTP proxy (proxy.py) on 127.0.0.1 that records what it carried."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.conftest import StartSandbox
from uploader_app.sandbox.server import SandboxServer


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


def lines(text: str) -> Iterator[str]:
    yield from (line for line in text.splitlines() if line.strip())
