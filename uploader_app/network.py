"""The machine's own network set-up, applied once when the program starts (docs/network.md).

Certificates are checked against the operating system's trust store (``truststore``), not only
the list of authorities shipped with ``requests``: a company that inspects secure connections
installs its own authority there, and the app then works on its network as a browser does.
The entry point calls it, never an import, so a library user's ``ssl`` module is left alone.
"""

from __future__ import annotations

import truststore


def use_system_trust_store() -> None:
    """Make every TLS connection of this process (requests, urllib3, boto3) verify against the
    OS trust store: Keychain on macOS, the certificate store on Windows, OpenSSL's default
    locations on Linux (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` honoured). Calling it again does
    nothing more."""
    truststore.inject_into_ssl()
