"""Keep the computer from sleeping while uploads run, where the OS allows it without extra
rights (wakepy); never a reason for an upload to fail."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

logger = logging.getLogger(__name__)


# Seconds a hold waits for the keep-awake thread to act: a stuck OS call must not stall uploads.
HANDOFF_WAIT = 5.0


class KeepAwake:
    """Counts running uploads: the first one asks the OS to stay awake, the last one lets go.

    wakepy's modes are not thread-safe (it warns when one is entered on one thread and left
    on another), and uploads start and end on different threads: one thread of its own
    enters and leaves the mode, and a hold waits for it to have acted (docs/engine.md)."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._cond = threading.Condition()
        self._holders = 0
        self._applied = False  # True while the owner thread holds the mode (or tried to)
        self._owner: threading.Thread | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        self._change(+1)
        try:
            yield
        finally:
            self._change(-1)

    @property
    def holders(self) -> int:
        return self._holders

    def _change(self, step: int) -> None:
        with self._cond:
            self._holders += step
            if not self.enabled:
                return
            if self._owner is None:
                self._owner = threading.Thread(target=self._own, name="keep-awake", daemon=True)
                self._owner.start()
            self._cond.notify_all()
            self._cond.wait_for(self._settled, timeout=HANDOFF_WAIT)

    def _settled(self) -> bool:
        return self._applied == (self._holders > 0)

    def _own(self) -> None:
        mode: AbstractContextManager[Any] | None = None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: not self._settled())
                want = self._holders > 0
            if want:
                mode = _enter()
            elif mode is not None:
                try:
                    mode.__exit__(None, None, None)
                except Exception:
                    logger.debug("keep-awake: could not let go", exc_info=True)
                mode = None
            with self._cond:
                self._applied = want
                self._cond.notify_all()


def _enter() -> AbstractContextManager[Any] | None:
    try:
        # Loaded with the first upload, not with the window (docs/gui.md, "Start-up"); in the
        # try, so a failed import cannot end the keep-awake thread.
        from wakepy import keep  # noqa: PLC0415

        mode: AbstractContextManager[Any] = keep.running(on_fail="pass")
        mode.__enter__()
    except Exception:  # no backend, no rights, a headless server: uploads go on regardless
        logger.debug("keep-awake is not available here", exc_info=True)
        return None
    return mode
