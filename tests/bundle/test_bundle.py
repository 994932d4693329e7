"""The BUILT bundle and .deb, run as a user would: no venv, an empty environment, another folder.

``make smoke`` builds ``dist/`` first (``make deb``), then runs these. Nothing here imports the
app's code to do the work: every check goes through the frozen program.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image
from Xlib import X

from tests.e2e.xdisplay import virtual_display
from uploader_app import __version__
from uploader_app.config import APP_ID, APP_NAME, SANDBOX_DEMO_KEY

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
BUNDLE = DIST / APP_NAME
PROGRAM = BUNDLE / (f"{APP_NAME}.exe" if sys.platform == "win32" else APP_NAME)
LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="a Linux bundle and .deb")
# More than the pool's PROCESS_THRESHOLD and long enough past PROCESS_AFTER that the scan moves
# to worker processes before it ends (validation/pool.py), even on a fast machine.
MANY_CLIPS = 1000


def _listing(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.fixture(scope="module")
def program() -> Iterator[Path]:
    """The frozen program; fails (never skips) when it was not built."""
    if not PROGRAM.is_file():
        pytest.fail(f"{PROGRAM} does not exist: build it with `make package`")
    before = _listing(BUNDLE)
    yield PROGRAM
    # A bundle may be installed read-only (/opt, Program Files): data and logs go elsewhere.
    assert _listing(BUNDLE) == before, "the app wrote files beside its binary"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory that is neither the repository nor the bundle."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(program: Path, home: Path, elsewhere: Path) -> Run:
    """Run the bundle as ``env -i HOME=<scratch>`` would, from another folder."""

    def runner(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(program), *args],
            cwd=elsewhere,
            env={"HOME": str(home), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return runner


def test_version_from_an_empty_environment(program: Path, elsewhere: Path) -> None:
    done = subprocess.run(
        [str(program), "--version"],
        cwd=elsewhere,
        env={},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{APP_NAME} {__version__}"


@LINUX_ONLY
def test_check_reads_a_clip_with_the_bundled_media_library(
    run: Run, video: Callable[..., Path]
) -> None:
    clip = video("clip.mp4", width=640, height=360, duration=5.0)
    # The dynamic loader names every library it opens: the media library must be the bundle's
    # own, even though this machine has a system libmediainfo (the mediainfo package).
    done = run("check", "--json", str(clip), env={"LD_DEBUG": "files"})

    assert done.returncode == 0, done.stderr[-2000:]
    [row] = json.loads(done.stdout)
    assert row["verdict"] == "ok"
    assert (row["width"], row["height"]) == (640, 360)
    assert row["duration"] == pytest.approx(5.0, abs=0.1)
    loaded = set(re.findall(r"file=(\S*libmediainfo\S*)", done.stderr))
    assert loaded, "libmediainfo was never loaded"
    outside = {p for p in loaded if not Path(p).resolve().is_relative_to(BUNDLE.resolve())}
    assert not outside, f"loaded from outside the bundle: {outside}"


def test_a_big_folder_is_probed_by_worker_processes(
    run: Run, video: Callable[..., Path], tmp_path: Path
) -> None:
    clip = video(width=640, height=360, duration=5.0)
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(MANY_CLIPS):
        (folder / f"clip{number:04d}.mp4").hardlink_to(clip)

    started = time.monotonic()
    done = run("-v", "check", "--json", str(folder), timeout=300)
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout)
    assert sorted(row["relative_path"] for row in rows) == sorted(
        f"many/clip{n:04d}.mp4" for n in range(MANY_CLIPS)
    )
    assert {row["verdict"] for row in rows} == {"ok"}
    assert all(row["duration"] == pytest.approx(5.0, abs=0.1) for row in rows)
    # Logged once the spawned workers answered: they started inside the frozen program.
    assert "probing on worker processes from now on" in done.stderr, done.stderr[-2000:]
    assert "threads only" not in done.stderr
    print(f"{MANY_CLIPS} clips checked by the bundle in {elapsed:.1f} s")


def test_the_sandbox_answers(
    program: Path, home: Path, elsewhere: Path, video: Callable[..., Path]
) -> None:
    data = home / "sandbox"
    server = subprocess.Popen(
        [str(program), "sandbox", "--port", "0", "--speed", "1000", "--data-dir", str(data)],
        cwd=elsewhere,
        env={"HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1\.3)", banner)
        assert match, banner
        base = match.group(1)
        headers = {"x-api-key": SANDBOX_DEMO_KEY}
        indexes = requests.get(f"{base}/indexes", headers=headers, timeout=10)
        assert indexes.status_code == 200
        index_id = indexes.json()["data"][0]["_id"]
        # An upload is judged with the same probe as `check`: the bundled media library again.
        with video(width=640, height=360, duration=5.0).open("rb") as fh:
            task = requests.post(
                f"{base}/tasks",
                headers=headers,
                data={"index_id": index_id},
                files={"video_file": ("clip.mp4", fh, "video/mp4")},
                timeout=30,
            )
        assert task.status_code in (200, 201), task.text
        assert task.json()["_id"]
    finally:
        server.terminate()
        server.wait(timeout=30)


@LINUX_ONLY
def test_the_window_opens_with_a_dropped_video_and_closes_cleanly(
    program: Path, home: Path, elsewhere: Path, video: Callable[..., Path]
) -> None:
    """What a double-click on a video does: the launcher runs ``uploader-app <file>`` (%F)."""
    clip = video("clip.mp4", width=640, height=360, duration=5.0)
    with virtual_display() as screen:
        # A desktop session's environment: a display and a UTF-8 locale, nothing from the venv.
        env = screen.env({"HOME": str(home), "LANG": "C.UTF-8", "UPLOADER_APP_DEMO": "1"})
        app = subprocess.Popen(
            [str(program), str(clip)],
            cwd=elsewhere,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            window = screen.wait_for_window("Video Indexing Uploader (demo)", timeout=60)
            # X11 matches the window to the launcher's StartupWMClass, and shows its icon
            # (drawn from resources/icon.svg by the bundled SVG icon engine).
            assert window.get_wm_class() == (APP_NAME, APP_NAME)
            icon = window.get_full_property(screen.x.intern_atom("_NET_WM_ICON"), X.AnyPropertyType)
            assert icon is not None and len(icon.value) > 2
            # The row for the clip is filled in by the bundled media library; give it a moment.
            time.sleep(3)
            screen.screenshot(ROOT / "build" / "screenshots" / "packaged-window.png")
            screen.focus(window)
            screen.press("ctrl+q")
            assert app.wait(timeout=30) == 0
        finally:
            if app.poll() is None:
                app.kill()
            _, errors = app.communicate()
        assert "Traceback" not in errors, errors


def test_a_crash_report_is_pointed_out_on_the_next_start(
    run: Run, home: Path, video: Callable[..., Path]
) -> None:
    # Where platformdirs puts the data on Linux when XDG_DATA_HOME is not set.
    reports = home / ".local" / "share" / APP_NAME / "crash-reports"
    reports.mkdir(parents=True)
    report = reports / "crash-20260101-000000-1.txt"
    report.write_text("Video Indexing Uploader ran into an unexpected problem.\n")
    clip = str(video(width=640, height=360, duration=5.0))

    first = run("check", clip)
    second = run("check", clip)

    assert str(report) in first.stderr
    assert str(report) not in second.stderr


def test_logs_go_to_the_users_data_folder(run: Run, home: Path, video: Callable[..., Path]) -> None:
    done = run("check", str(video(width=640, height=360, duration=5.0)))

    assert done.returncode == 0, done.stderr
    # The log file itself is opened at the first line logged; its folder is made at start.
    assert (home / ".local" / "share" / APP_NAME / "logs").is_dir()


def _deb() -> Path:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
    ).stdout.strip()
    deb = DIST / f"{APP_NAME}_{__version__}_{arch}.deb"
    if not deb.is_file():
        pytest.fail(f"{deb} does not exist: build it with `make deb`")
    return deb


@LINUX_ONLY
def test_the_deb_puts_files_where_the_desktop_expects_them(tmp_path: Path, home: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(_deb()), str(root)], check=True)

    installed = root / "opt" / APP_NAME / APP_NAME
    assert os.access(installed, os.X_OK)
    command = root / "usr" / "bin" / APP_NAME
    assert command.is_symlink()
    assert command.readlink() == Path("/opt") / APP_NAME / APP_NAME
    desktop = root / "usr" / "share" / "applications" / f"{APP_ID}.desktop"
    validate = shutil.which("desktop-file-validate")
    assert validate, "install desktop-file-utils (make system-deps)"
    checked = subprocess.run([validate, str(desktop)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout
    entry = dict(line.split("=", 1) for line in desktop.read_text().splitlines() if "=" in line)
    assert entry["Exec"] == f"{APP_NAME} %F"
    assert entry["Icon"] == APP_ID
    assert {"video/mp4", "video/quicktime", "video/x-matroska"} <= set(entry["MimeType"].split(";"))
    hicolor = root / "usr" / "share" / "icons" / "hicolor"
    for size in (16, 32, 48, 128, 256, 512):
        with Image.open(hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png") as icon:
            assert icon.size == (size, size)
    assert (hicolor / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    # The unpacked copy runs from its new place: the bundle finds its files relative to itself.
    done = subprocess.run(
        [str(installed), "--version"],
        env={"HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == f"{APP_NAME} {__version__}"


@LINUX_ONLY
def test_the_deb_installs_and_uninstalls_cleanly(tmp_path: Path) -> None:
    root = tmp_path / "root"
    admin = root / "var" / "lib" / "dpkg"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    (admin / "status").touch()
    # A real dpkg install into an empty scratch root; its libraries are the host's business.
    dpkg = [
        "dpkg",
        f"--root={root}",
        "--force-not-root",
        "--force-depends",
        "--force-script-chrootless",
        "--log=/dev/null",
    ]

    subprocess.run([*dpkg, "-i", str(_deb())], check=True, capture_output=True)
    assert (root / "opt" / APP_NAME / APP_NAME).is_file()
    assert (root / "usr" / "share" / "applications" / f"{APP_ID}.desktop").is_file()
    subprocess.run([*dpkg, "-r", APP_NAME], check=True, capture_output=True)

    left = {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_relative_to(admin)}
    assert left <= {"var", "var/lib"}, sorted(left)[:20]


def test_icons_for_every_platform() -> None:
    """The build renders the one SVG into what Windows and macOS read (the .deb has the PNGs)."""
    icons = ROOT / "build" / "icons"
    with Image.open(icons / "icon.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(icons / "icon.icns") as icns:
        assert icns.size == (1024, 1024)
        assert {(512, 512, 2), (128, 128, 1), (16, 16, 2)} <= set(icns.info["sizes"])


@LINUX_ONLY  # SSL_CERT_FILE is the OS trust store only on Linux (docs/network.md)
def test_the_built_program_trusts_the_systems_certificates(run: Run, tmp_path: Path) -> None:
    """truststore made it into the bundle and is switched on at start: an authority the OS
    trusts (on Linux: SSL_CERT_FILE) is accepted, an unknown one refused in plain words
    (docs/network.md). The server is the sandbox over TLS in this process."""
    from tests.reliability.netsec_support import https_url, make_authority
    from uploader_app.sandbox.server import SandboxServer

    authority = make_authority(tmp_path)
    server = SandboxServer(
        tmp_path / "tls-sandbox",
        SANDBOX_DEMO_KEY,
        ssl_context=authority.server_context("127.0.0.1"),
    )
    server.start()
    try:
        env = {"TWELVELABS_BASE_URL": https_url(server), "TWELVELABS_API_KEY": SANDBOX_DEMO_KEY}
        trusted = run("indexes", env={**env, "SSL_CERT_FILE": str(authority.pem)})
        assert trusted.returncode == 0, trusted.stderr
        assert "Demo - Marengo (search)" in trusted.stdout
        refused = run("indexes", env=env)
        assert refused.returncode != 0
        assert "does not trust" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        server.stop()
