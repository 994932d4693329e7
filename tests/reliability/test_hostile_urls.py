"""Hostile video addresses through the URL check (jobs/urlcheck.py) and the ``url`` command.

Outcome for every address: a refusal with a plain reason before anything is fetched when the
address alone shows the service could not fetch it; never the password of a user:password@
address in a message; redirects to file:// or to a private address refused without being
followed; the sandbox on this computer still fetches from 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env
from tests.integration.engine.support import client_factory, index_id
from tests.local_http import serving
from tests.reliability.hostile_corpus import TECHNICAL, run_cli, strict_json
from uploader_app.api.requester import loggable
from uploader_app.jobs.export import row_of
from uploader_app.jobs.urlcheck import check_url, shape_problem
from uploader_app.models import Job, JobState, SourceKind, Target, UploadKind, Verdict
from uploader_app.sandbox.records import TaskRecord

SERVICE = "https://api.twelvelabs.io/v1.3"  # never contacted: it only says "not this computer"
TARGET = Target(kind=UploadKind.URL)
PASSWORD = "s3cr3t-Pa55"

# (address, the code it must get) — all decided from the address alone, with no request.
REFUSED_UNSEEN: list[tuple[str, str]] = [
    ("file:///etc/passwd", "url_scheme"),
    ("file://C:/Users/me/clip.mp4", "url_scheme"),
    ("ftp://example.com/clip.mp4", "url_scheme"),
    ("ftps://example.com/clip.mp4", "url_scheme"),
    ("sftp://example.com/clip.mp4", "url_scheme"),
    ("s3://bucket/clip.mp4", "url_scheme"),
    ("gs://bucket/clip.mp4", "url_scheme"),
    ("rtsp://camera.example/stream", "url_scheme"),
    ("javascript:alert(document.cookie)", "url_scheme"),
    ("JavaScript:void(0)", "url_scheme"),
    ("vbscript:msgbox(1)", "url_scheme"),
    ("data:video/mp4;base64,AAAAIGZ0eXBpc29t", "url_scheme"),
    ("data:text/html,<script>alert(1)</script>", "url_scheme"),
    ("blob:https://example.com/5a1c-44d2", "url_scheme"),
    ("mailto:video@example.com", "url_scheme"),
    ("about:blank", "url_scheme"),
    ("", "url_invalid"),
    ("   ", "url_invalid"),
    ("clip.mp4", "url_invalid"),
    ("https://", "url_invalid"),
    ("http://:80/clip.mp4", "url_invalid"),
    ("https://exa mple.com/clip.mp4", "url_invalid"),
    ("https://example.com/a\nb.mp4", "url_invalid"),
    ("https://example.com/a\tb.mp4", "url_invalid"),
    ("\x00https://example.com/clip.mp4", "url_invalid"),
    ("https://example.com:99999/clip.mp4", "url_invalid"),
    ("https://example.com:port/clip.mp4", "url_invalid"),
    ("https://[::1/clip.mp4", "url_invalid"),
    ("https://a..b/clip.mp4", "url_invalid"),
    ("https://" + "a" * 64 + ".com/clip.mp4", "url_invalid"),
    ("https://☃.net/clip.mp4", "url_invalid"),
    ("https://example.com/" + "a" * 9000 + ".mp4", "url_too_long"),
    ("https://example.com/clip.mp4?sig=" + "x" * 20000, "url_too_long"),
    ("http://127.0.0.1/clip.mp4", "url_private"),
    ("http://localhost:8080/clip.mp4", "url_private"),
    ("http://media.localhost/clip.mp4", "url_private"),
    ("http://10.0.0.5/clip.mp4", "url_private"),
    ("http://172.16.4.2/clip.mp4", "url_private"),
    ("http://192.168.1.20/clip.mp4", "url_private"),
    ("http://169.254.169.254/latest/meta-data/", "url_private"),
    ("http://100.64.0.1/clip.mp4", "url_private"),
    ("http://0.0.0.0/clip.mp4", "url_private"),
    ("http://[::1]/clip.mp4", "url_private"),
    ("http://[fe80::1]/clip.mp4", "url_private"),
    ("http://[fd00::5]/clip.mp4", "url_private"),
    ("http://[::ffff:10.0.0.1]/clip.mp4", "url_private"),
    ("http://2130706433/clip.mp4", "url_private"),  # 127.0.0.1 as one number
    ("http://0x7f.1/clip.mp4", "url_private"),  # 127.0.0.1 in hex, short form
    ("http://127.1/clip.mp4", "url_private"),
    ("http://[::ffff:127.0.0.1]/clip.mp4", "url_private"),
    # Forms a fetcher turns into 127.0.0.1 while urlsplit reads another host or none:
    # %-encoded, full-width or circled digits and ideographic dots (IDNA maps them), and a
    # backslash, which ends the host for requests and browsers.
    ("http://%31%32%37.0.0.1/clip.mp4", "url_private"),
    ("http://\uff11\uff12\uff17.0.0.1/clip.mp4", "url_private"),
    ("http://127\u30020\u30020\u30021/clip.mp4", "url_private"),
    ("http://\u2460\u2461\u2466.0.0.1/clip.mp4", "url_private"),
    ("http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/clip.mp4", "url_private"),
    ("http://127.0.0.1\\@example.com/clip.mp4", "url_private"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "url_video_page"),
    ("https://drive.google.com/file/d/abc/view", "url_sharing_page"),
    (f"ftp://user:{PASSWORD}@files.example/clip.mp4", "url_scheme"),
    (f"https://user:{PASSWORD}@exa mple.com/clip.mp4", "url_invalid"),
    (f"https://user:{PASSWORD}@[::1/clip.mp4", "url_invalid"),
    (f"http://admin:{PASSWORD}@192.168.0.1/clip.mp4", "url_private"),
    (f"https://:{PASSWORD}@bad..host/clip.mp4", "url_invalid"),
    (f"https://user:{PASSWORD}@example.com:99999/clip.mp4", "url_invalid"),
]


def assert_plain(message: str, hint: str) -> None:
    assert message and hint
    text = message + hint
    assert PASSWORD not in text
    assert not any(word in text for word in TECHNICAL), text
    assert "\n" not in text and "\x00" not in text
    assert len(message) < 400, message


@pytest.mark.parametrize(("url", "code"), REFUSED_UNSEEN)
def test_an_address_the_service_cannot_fetch_is_refused_unfetched(url: str, code: str) -> None:
    session = requests.Session()
    sent: list[str] = []
    session.hooks["response"].append(lambda r, *a, **k: sent.append(r.url))
    found = check_url(url, TARGET, timeout=2, session=session, service_url=SERVICE)
    assert (found.verdict, found.code) == (Verdict.REJECTED, code), found.message
    assert sent == []
    assert_plain(found.message, found.hint)


def test_with_the_sandbox_on_this_computer_local_addresses_are_fetched() -> None:
    # The demo: the sandbox fetches from this computer, so 127.0.0.1 is not refused.
    found = check_url("http://127.0.0.1:9/clip.mp4", TARGET, timeout=2, service_url=None)
    assert found.code == "url_unreachable"
    found = check_url(
        "http://127.0.0.1:9/clip.mp4", TARGET, timeout=2, service_url="http://127.0.0.1:5/v1.3"
    )
    assert found.code == "url_unreachable"


class _Redirector(BaseHTTPRequestHandler):
    """A proxy on 127.0.0.1 standing in for the internet: every public address it is asked
    for redirects to where the test says, and every request is written down."""

    seen: list[str]
    targets: dict[str, str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        location = self.targets.get(self.path.split("?")[0])
        self.send_response(302 if location else 404)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _redirector(seen: list[str], targets: dict[str, str]) -> Callable[..., Any]:
    return type("Redirector", (_Redirector,), {"seen": seen, "targets": targets})


@pytest.mark.parametrize(
    ("location", "code"),
    [
        ("file:///etc/passwd", "url_scheme"),
        ("file:///C:/Windows/win.ini", "url_scheme"),
        ("http://169.254.169.254/latest/meta-data/", "url_private"),
        ("http://10.1.2.3/clip.mp4", "url_private"),
        ("http://localhost/clip.mp4", "url_private"),
        ("http://[::1]:8080/clip.mp4", "url_private"),
        ("http://2130706433/clip.mp4", "url_private"),
        ("http://%31%30.0.0.1/clip.mp4", "url_private"),
        ("javascript:alert(1)", "url_scheme"),
        ("https://www.youtube.com/watch?v=abc", "url_video_page"),
        (f"http://u:{PASSWORD}@192.168.0.9/clip.mp4", "url_private"),
        (f"ftp://u:{PASSWORD}@files.example/clip.mp4", "url_scheme"),
    ],
)
@pytest.mark.timeout(30)
def test_a_redirect_to_a_file_or_a_private_address_is_not_followed(
    location: str, code: str
) -> None:
    seen: list[str] = []
    start = "http://videos.example/clip.mp4"
    with serving(_redirector(seen, {start: location})) as proxy:
        session = requests.Session()
        session.trust_env = False
        session.proxies = {"http": proxy}
        found = check_url(start, TARGET, timeout=5, session=session, service_url=SERVICE)
    assert (found.verdict, found.code) == (Verdict.REJECTED, code), found.message
    assert seen == [start]  # asked once, the redirect never followed
    assert_plain(found.message, found.hint)


@pytest.mark.timeout(30)
def test_a_redirect_chain_through_public_hosts_ending_private_is_refused() -> None:
    seen: list[str] = []
    hops = {
        "http://short.example/v": "http://cdn.example/a",
        "http://cdn.example/a": "http://cdn.example/b",
        "http://cdn.example/b": "http://192.168.10.10/clip.mp4",
    }
    with serving(_redirector(seen, hops)) as proxy:
        session = requests.Session()
        session.trust_env = False
        session.proxies = {"http": proxy}
        found = check_url(
            "http://short.example/v", TARGET, timeout=5, session=session, service_url=SERVICE
        )
    assert found.code == "url_private"
    assert "192.168.10.10" in found.message
    assert seen == list(hops)


@pytest.mark.timeout(60)
def test_many_hostile_addresses_at_once_each_get_an_answer() -> None:
    from uploader_app.jobs.urlcheck import check_urls

    urls = [url for url, _ in REFUSED_UNSEEN]
    found = check_urls(urls, TARGET, timeout=2, service_url=SERVICE)
    assert [f.code for f in found] == [code for _, code in REFUSED_UNSEEN]


@pytest.mark.timeout(120)
def test_the_url_command_sends_the_good_address_and_reports_the_rest(
    start_sandbox: StartSandbox, web: tuple[str, Path], video: Callable[..., Path], tmp_path: Path
) -> None:
    base, folder = web
    clip = video("clip.mp4", duration=6.0, faststart=True)
    (folder / "clip.mp4").write_bytes(clip.read_bytes())
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    # (A command line cannot hold a NUL byte.)
    hostile = [u for u, code in REFUSED_UNSEEN if code != "url_private" and "\x00" not in u]
    # The sandbox runs here, so the loopback demo address is fetched and sent.
    good = f"{base}/clip.mp4"
    code, out, err = run_cli("url", "--index", index, "--json", good, "--", *hostile, env=env)
    assert b"Traceback" not in err, err
    rows = strict_json(out)
    assert code == 1, err
    assert PASSWORD.encode() not in err
    by_url = {r["url"]: r for r in rows}
    assert by_url[good]["state"] != "rejected", by_url[good]
    refused = [r for r in rows if r["url"] != good]
    assert len(refused) == len(hostile)
    for row in refused:
        assert row["state"] == "rejected", row
        assert_plain(row["message"], row["hint"])
    with client_factory(sandbox)() as client:
        tasks = list(client.iter_tasks(index))
    assert [t.filename for t in tasks] == ["clip.mp4"]


def test_a_url_check_is_thread_safe_under_a_storm_of_bad_input() -> None:
    # The window checks four at a time: none of these may raise in a worker thread.
    errors: list[BaseException] = []

    def one(url: str) -> None:
        try:
            check_url(url, TARGET, timeout=1, service_url=SERVICE)
        except BaseException as exc:  # the test's point: nothing escapes
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(url,)) for url, _ in REFUSED_UNSEEN]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not [t for t in threads if t.is_alive()], "a check hung"  # join's timeout is silent
    assert errors == []


def test_the_log_drops_the_password_and_the_query() -> None:
    assert loggable(f"https://user:{PASSWORD}@files.example:8443/a.mp4?sig=1") == (
        "https://files.example:8443/a.mp4"
    )


@pytest.mark.timeout(120)
def test_a_password_in_a_good_address_is_never_shown_or_logged(
    start_sandbox: StartSandbox, web: tuple[str, Path], video: Callable[..., Path], tmp_path: Path
) -> None:
    base, folder = web
    clip = video("clip.mp4", duration=6.0, faststart=True)
    (folder / "clip.mp4").write_bytes(clip.read_bytes())
    sandbox = start_sandbox()
    home = tmp_path / "home"
    env = cli_env(sandbox, home)
    secret = base.replace("http://", f"http://user:{PASSWORD}@") + "/clip.mp4"
    gone = base.replace("http://", f"http://user:{PASSWORD}@") + "/missing.mp4"
    code, out, err = run_cli("url", "--index", index_id(sandbox), secret, gone, env=env)
    assert b"Traceback" not in err, err
    assert code == 1  # the missing one is refused
    assert PASSWORD.encode() not in out + err
    logged = "".join(p.read_text(encoding="utf-8", errors="replace") for p in home.rglob("*.log"))
    assert "missing.mp4" in logged  # the refusal was logged, with its address
    assert PASSWORD not in logged
    with client_factory(sandbox)() as client:
        assert [t.filename for t in client.iter_tasks(index_id(sandbox))] == ["clip.mp4"]


class _IdnSite(BaseHTTPRequestHandler):
    """A proxy on 127.0.0.1 standing in for an internationalised host serving one video."""

    body: bytes
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.timeout(30)
def test_an_idn_host_is_fetched_by_its_ascii_name(video: Callable[..., Path]) -> None:
    body = video("clip.mp4", duration=6.0, faststart=True).read_bytes()
    seen: list[str] = []
    handler = type("Site", (_IdnSite,), {"body": body, "seen": seen})
    with serving(handler) as proxy:
        session = requests.Session()
        session.trust_env = False
        session.proxies = {"http": proxy}
        found = check_url(
            "http://bücher.example/clip.mp4",
            TARGET,
            timeout=5,
            session=session,
            service_url=SERVICE,
        )
    assert found.verdict is Verdict.OK, found.message
    assert seen == ["http://xn--bcher-kva.example/clip.mp4"]


@pytest.mark.timeout(180)
def test_a_stored_address_is_shown_without_its_password_and_sent_whole(
    start_sandbox: StartSandbox, web: tuple[str, Path], video: Callable[..., Path], tmp_path: Path
) -> None:
    # The password sits in the store because the service needs it; every place that shows a
    # stored address (url/status --json rows, status lines, the CSV) masks it.
    base, folder = web
    (folder / "clip.mp4").write_bytes(video("clip.mp4", duration=6.0, faststart=True).read_bytes())
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    with_password = base.replace("http://", f"http://user:{PASSWORD}@")
    secret, bare = f"{with_password}/clip.mp4", f"{with_password}/"  # bare: no file name
    code, out, err = run_cli("url", "--index", index, "--json", secret, bare, env=env)
    assert b"Traceback" not in err, err
    rows = strict_json(out)
    assert PASSWORD.encode() not in out + err
    assert {row["url"] for row in rows} == {
        secret.replace(PASSWORD, "***"),
        bare.replace(PASSWORD, "***"),
    }
    for args in (["status", "--json"], ["status"]):
        code, out, err = run_cli(*args, env=env)
        assert b"Traceback" not in err, err
        assert PASSWORD.encode() not in out + err, out
    csv_file = tmp_path / "jobs.csv"
    code, out, err = run_cli("export", str(csv_file), env=env)
    assert code == 0, err
    assert "user:***@127.0.0.1" in csv_file.read_text(encoding="utf-8")
    assert PASSWORD not in csv_file.read_text(encoding="utf-8")
    # The service was sent the address whole, password and all.
    fetched = [t.video_url for t in sandbox.sandbox.store.all(TaskRecord)]
    assert fetched == [secret]


def test_a_shown_address_masks_only_the_password() -> None:
    job = Job(
        id=1,
        source_kind=SourceKind.URL,
        source=f"https://user:{PASSWORD}@files.example:8443/",
        index_id="i",
        state=JobState.REJECTED,
    )
    assert job.shown_source == "https://user:***@files.example:8443/"
    assert job.name == "files.example:8443"
    assert PASSWORD not in row_of(job)["url"]
    # A refused address too malformed to split is stored too: named, not raised on.
    malformed = replace(job, source=f"https://user:{PASSWORD}@[::1/clip.mp4")
    assert malformed.name == "https://user:***@[::1/clip.mp4"


@pytest.mark.timeout(30)
def test_a_space_in_the_path_is_fetched_as_browsers_do(
    web: tuple[str, Path], video: Callable[..., Path]
) -> None:
    # "my clip.mp4" copied from a file list: requests and browsers send the space as %20.
    base, folder = web
    (folder / "my clip.mp4").write_bytes(video("c.mp4", duration=6.0, faststart=True).read_bytes())
    found = check_url(f"{base}/my clip.mp4", TARGET, timeout=5)  # the sandbox's case
    assert found.verdict is Verdict.OK, found.message
    assert shape_problem("https://cdn.example/my clip.mp4?a=b c", local_ok=False) is None
    for odd in ("https://cdn.example/my\u00a0clip.mp4", "https://cdn .example/clip.mp4"):
        problem = shape_problem(odd, local_ok=False)
        assert problem is not None and problem.code == "url_invalid"
