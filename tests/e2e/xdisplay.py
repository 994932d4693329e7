"""A private X display (Xvfb) to run the real app in: find its window, press keys, take pictures.

Keys go through the XTEST extension, as a keyboard would send them, and pictures come from
ffmpeg's x11grab, so nothing inside the app knows it is being driven.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from Xlib import XK, X, display, error
from Xlib.ext import xtest
from Xlib.xobject.drawable import Window

from tests.media import FFMPEG

WIDTH, HEIGHT = 1280, 860


@dataclass
class VirtualDisplay:
    name: str  # ":42"
    process: subprocess.Popen[bytes]
    x: display.Display

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for a program that should open its windows here."""
        env = dict(os.environ if base is None else base)
        env["DISPLAY"] = self.name
        env["QT_QPA_PLATFORM"] = "xcb"
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def windows(self) -> list[tuple[Window, str]]:
        """Every mapped top-level window with its title."""
        found: list[tuple[Window, str]] = []
        for window in self.x.screen().root.query_tree().children:
            try:
                if window.get_attributes().map_state != X.IsViewable:
                    continue
                title = window.get_wm_name() or ""
            except error.XError:
                continue  # closed while we looked
            found.append((window, str(title)))
        return found

    def wait_for_window(self, title: str = "", timeout: float = 30.0) -> Window:
        """The first shown window whose title contains ``title``; polls every 5 ms."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for window, name in self.windows():
                if title in name:
                    return window
            time.sleep(0.005)
        raise TimeoutError(f"no window titled {title!r} within {timeout} s")

    def focus(self, window: Window) -> None:
        """Point at the window and give it the keyboard (there is no window manager)."""
        geometry = window.get_geometry()
        xtest.fake_input(self.x, X.MotionNotify, x=geometry.width // 2, y=geometry.height // 2)
        window.set_input_focus(X.RevertToParent, X.CurrentTime)
        self.x.sync()

    def press(self, combo: str) -> None:
        """``"ctrl+Return"``, ``"Tab"``, ``"alt+u"``: X keysym names joined by ``+``."""
        names = combo.split("+")
        codes = [self.x.keysym_to_keycode(XK.string_to_keysym(_keysym(n))) for n in names]
        if not all(codes):
            raise ValueError(f"unknown key in {combo!r}")
        for code in codes:
            xtest.fake_input(self.x, X.KeyPress, code)
        for code in reversed(codes):
            xtest.fake_input(self.x, X.KeyRelease, code)
        self.x.sync()

    def screenshot(self, path: Path) -> Path:
        """The whole screen as a PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                FFMPEG,
                "-loglevel",
                "error",
                "-y",
                "-f",
                "x11grab",
                "-video_size",
                f"{WIDTH}x{HEIGHT}",
                "-i",
                f"{self.name}.0",
                "-frames:v",
                "1",
                str(path),
            ],
            check=True,
            timeout=30,
        )
        return path


_MODIFIERS = {"ctrl": "Control_L", "shift": "Shift_L", "alt": "Alt_L"}


def _keysym(name: str) -> str:
    return _MODIFIERS.get(name.lower(), name)


@contextmanager
def virtual_display() -> Iterator[VirtualDisplay]:
    """Xvfb on a display number it picks itself (``-displayfd``), so runs never collide."""
    read, write = os.pipe()
    process = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            f"{WIDTH}x{HEIGHT}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as answer:
            number = answer.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        name = f":{number}"
        x = display.Display(name)
        try:
            yield VirtualDisplay(name, process, x)
        finally:
            x.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
