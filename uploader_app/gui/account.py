"""The account a window works for, and the demo's bundled sandbox (no Qt).

Kept apart from the welcome screen so the main window's first frame loads neither the dialog
nor the sandbox (docs/gui.md, "Start-up").
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from uploader_app import config

if TYPE_CHECKING:
    from uploader_app.sandbox.server import SandboxServer

logger = logging.getLogger(__name__)

# Demo tasks move through the service's stages at this many times the real pace, so a demo
# upload is ready in seconds to a minute instead of 5-15 minutes (docs/gui.md, "Demo mode").
DEMO_SPEED = 30.0


@dataclass(frozen=True)
class Account:
    """Where the window sends videos and with which key."""

    base_url: str
    key: str = field(repr=False)
    demo: bool = False
    key_note: str = ""  # said once, e.g. that the key is only kept until the app quits


def demo_listener() -> socket.socket:
    """A free loopback port, open at once: the demo's address is known, and calls to it wait,
    while the sandbox itself loads after the window is shown (docs/gui.md, "Start-up")."""
    return socket.create_server(("127.0.0.1", 0))


def demo_base_url(listener: socket.socket) -> str:
    """The API address of the demo sandbox that will serve ``listener``."""
    host, port = listener.getsockname()[:2]
    return f"http://{host}:{port}/v1.3"


def start_demo_sandbox(
    speed: float = DEMO_SPEED, listener: socket.socket | None = None
) -> SandboxServer:
    """The sandbox on a free loopback port (or ``listener``) with the demo key (blocking: call
    it in a worker)."""
    # Imported here: the sandbox and its web toolkit cost 0.1 s of start-up that a window on a
    # real account never needs (docs/gui.md, "Start-up").
    from uploader_app.sandbox.server import SandboxServer  # noqa: PLC0415

    server = SandboxServer(
        data_dir=config.app_home() / "demo-sandbox",
        api_key=config.SANDBOX_DEMO_KEY,
        speed=speed,
        host="127.0.0.1",
        port=0,
        listener=listener,
    )
    server.start()
    logger.info("demo sandbox listening at %s", server.url)
    return server


def demo_account(server: SandboxServer) -> Account:
    return Account(server.base_url("v1.3"), config.SANDBOX_DEMO_KEY, demo=True)
