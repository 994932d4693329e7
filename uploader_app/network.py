"""The machine's own network set-up, applied once before the first connection (docs/network.md).

Certificates are checked against the operating system's trust store (``truststore``), not only
the list of authorities shipped with ``requests``: a company that inspects secure connections
installs its own authority there, and the app then works on its network as a browser does.
The entry point calls it for a command, the window before its first connection (after its
first frame); never an import, so a library user's ``ssl`` module is left alone.
"""

from __future__ import annotations

_done = False


def use_system_trust_store() -> None:
    """Make every TLS connection of this process (requests, urllib3, boto3) verify against the
    OS trust store: Keychain on macOS, the certificate store on Windows, OpenSSL's default
    locations on Linux (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` honoured). Calling it again does
    nothing."""
    global _done  # noqa: PLW0603 - once per process, from the GUI thread or the entry point
    if _done:
        return
    # Loaded here, not at import: it loads ssl, urllib3 and requests, which the window needs
    # only after its first frame (docs/gui.md, "Start-up").
    import truststore  # noqa: PLC0415

    truststore.inject_into_ssl()
    _done = True
