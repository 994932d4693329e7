"""Keep the computer from sleeping while uploads run, where the OS allows it without extra
rights (wakepy); never a reason for an upload to fail."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

logger = logging.getLogger(__name__)


class KeepAwake:
    """Counts running uploads: the first one asks the OS to stay awake, the last one lets go."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._holders = 0
        self._mode: AbstractContextManager[Any] | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        self._acquire()
        try:
            yield
        finally:
            self._release()

    @property
    def holders(self) -> int:
        return self._holders

    def _acquire(self) -> None:
        with self._lock:
            self._holders += 1
            if self._holders == 1 and self.enabled:
                self._mode = _enter()

    def _release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._mode is not None:
                mode, self._mode = self._mode, None
                try:
                    mode.__exit__(None, None, None)
                except Exception:
                    logger.debug("keep-awake: could not let go", exc_info=True)


def _enter() -> AbstractContextManager[Any] | None:
    # Loaded with the first upload, not with the window (docs/gui.md, "Start-up").
    from wakepy import keep  # noqa: PLC0415

    try:
        mode: AbstractContextManager[Any] = keep.running(on_fail="pass")
        mode.__enter__()
    except Exception:  # no backend, no rights, a headless server: uploads go on regardless
        logger.debug("keep-awake is not available here", exc_info=True)
        return None
    return mode
