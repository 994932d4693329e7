"""The program-wide switch that lets big checks use worker processes (``pool.py`` says when).

Apart from the pool so that an entry point can turn it on without loading the pool, pickle and
concurrent.futures before the window's first frame (docs/gui.md, "Start-up").
"""

from __future__ import annotations

import threading

# Whether big streams may use processes at all: only guarded entry points turn it on.
_enabled = False
_switch = threading.Lock()


def enable_processes(enabled: bool = True) -> bool:
    """Let big streams move to spawned worker processes; returns the previous setting.

    Call it only from a script's ``if __name__ == "__main__"`` block, after
    ``multiprocessing.freeze_support()``: every spawned worker imports the main module again,
    and without the guard it would run the whole program once more.
    """
    global _enabled  # one switch for the whole program
    with _switch:
        previous, _enabled = _enabled, enabled
    return previous


def processes_enabled() -> bool:
    with _switch:
        return _enabled
