"""A proxy.py plugin for the office-network tests: it writes each host:port the proxy connects
to into the file ``UPLOADER_TEST_PROXY_LOG`` names, and resolves names under ``.invalid`` (which
no DNS answers, RFC 6761) to 127.0.0.1, so a request to such a name can only succeed through
the proxy."""

from __future__ import annotations

import os
from pathlib import Path

from proxy.http.parser import HttpParser
from proxy.http.proxy import HttpProxyBasePlugin

LOG_ENV = "UPLOADER_TEST_PROXY_LOG"
TEST_DOMAIN = ".invalid"


class RecordAndResolve(HttpProxyBasePlugin):
    """Records every upstream connection; only the proxy knows where ``*.invalid`` is."""

    def resolve_dns(self, host: str, port: int) -> tuple[str | None, None]:
        with Path(os.environ[LOG_ENV]).open("a", encoding="utf-8") as log:
            log.write(f"{host}:{port}\n")
        return ("127.0.0.1" if host.endswith(TEST_DOMAIN) else None), None

    def before_upstream_connection(self, request: HttpParser) -> HttpParser | None:
        return request

    def handle_client_request(self, request: HttpParser) -> HttpParser | None:
        return request

    def handle_upstream_chunk(self, chunk: memoryview) -> memoryview:
        return chunk

    def on_upstream_connection_close(self) -> None:
        return None
