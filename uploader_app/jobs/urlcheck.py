"""Check a video URL before the service is asked to fetch it (docs/urls.md).

What can be known here is checked here: the address is http(s), it answers, it is a file and
not a web page (a YouTube page, a cloud-drive sharing page: each with its fix), its size, and
when the server allows range requests, its length and picture size read by MediaInfo from
only the bytes it needs. The verdict uses the same rules as a local file
(:func:`uploader_app.validation.rules.evaluate`), so a too-long remote video is refused before
the service spends minutes fetching it. The API key is never sent to the URL's server.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import socket
import threading
import time
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlencode, urljoin, urlsplit, urlunsplit

from uploader_app import __version__
from uploader_app.api.errors import error_from_exception
from uploader_app.api.requester import loggable
from uploader_app.api.transport import direct_session
from uploader_app.config import address_ok
from uploader_app.models import (
    Finding,
    ProbeResult,
    Target,
    UrlFinding,
    Verdict,
    url_filename,
    without_password,
)
from uploader_app.validation.messages import Wording, format_duration, format_size, printable
from uploader_app.validation.probe import probe_stream
from uploader_app.validation.rules import evaluate, finding_of, size_issues
from uploader_app.validation.sniff import Kind, sniff
from uploader_app.validation.streams import SizedReader

# requests is imported by the functions that send (PLC0415 below): it is loaded at the first
# check, not when the app starts, so the window shows sooner (docs/gui.md, "Start-up").
if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

USER_AGENT = f"uploader-app/{__version__} (video link check)"
# Range reads come in blocks this big: one request holds an MP4 header or index, and the first
# block also answers "what is this?" (web page, picture, video).
BLOCK = 256 * 1024
# MediaInfo reads about 1 MB of a normal video, whatever its size (docs/urls.md has the
# figures). These caps keep an odd file or a slow server from turning a check into a download.
MAX_PROBE_BYTES = 16 * 1024 * 1024
MAX_REDIRECTS = 10
# Servers commonly refuse a request line over 8 KB (Apache's LimitRequestLine is 8190, nginx's
# header buffers 8 KB); the service's own look-up by address puts it in a query too.
MAX_URL_CHARS = 8000
URL_WORKERS = 4  # URLs checked side by side by check_urls
PROBE_TIME_FACTOR = 3  # the whole probe may take this many times the per-request timeout

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_DIRECT_LINK = "Use a direct link to the video file: one that downloads the file when opened."

WORDING: dict[str, Wording] = {
    "url_invalid": Wording(
        "Not a web address",
        "This is not a complete web address: {url}",
        "Paste the full address of the video file, starting with https://.",
    ),
    "url_scheme": Wording(
        "Address not supported",
        "Only addresses starting with http:// or https:// can be fetched; "
        "this one starts with {scheme}:.",
        "{scheme_hint}",
    ),
    "url_too_long": Wording(
        "Address too long",
        "This address is {length} characters long; servers refuse addresses longer than "
        "about 8,000 characters.",
        "Use a shorter direct link to the video file (a presigned link is about 1,000 characters).",
    ),
    "url_private": Wording(
        "An address the service cannot reach",
        "The file is at {host}, an address only this computer or its own network can reach. "
        "Twelve Labs fetches the file over the internet, so it cannot get it.",
        "Put the video on a server the internet can reach and use that link, or add the file "
        "from your computer.",
    ),
    "url_video_page": Wording(
        "A video page, not a video file",
        "This is a {site} page, not a link to a video file. "
        "Twelve Labs can only fetch the file itself.",
        "Download the video (if you have the right to), then add the file; or use a direct "
        "link to the video file.",
    ),
    "url_sharing_page": Wording(
        "A sharing page, not the file",
        "This is a {site} sharing page, not a direct link to the file.",
        "{fix}",
    ),
    "url_web_page": Wording(
        "A web page, not a video file",
        "The address opens a web page, not a video file.",
        "On that page, find the video's download link and copy its address instead. "
        + _DIRECT_LINK,
    ),
    "url_unreachable": Wording(
        "Nothing answers at this address",
        "Nothing answered at {host}.",
        "Check the address. If the server is yours, check that it is running.",
    ),
    "url_dns": Wording(
        "Server not found",
        "The server name {host} could not be found.",
        "Check the address for typing mistakes, and that this computer is online.",
    ),
    "url_timeout": Wording(
        "No answer in time",
        "{host} did not answer within {wait}.",
        "Try again later. If it keeps happening, the service will not get the file either.",
    ),
    "url_tls": Wording(
        "Secure connection failed",
        "The secure connection to {host} failed: its certificate could not be checked.",
        "Check the address. Twelve Labs refuses such servers too, so use a link to a server "
        "with a valid certificate.",
    ),
    "url_connection_lost": Wording(
        "Connection lost",
        "The connection to {host} was cut before the file could be checked.",
        "Try again. If it keeps happening, check the address in a web browser.",
    ),
    "url_not_found": Wording(
        "File not found",
        "The server at {host} says there is no file at this address.",
        "Check the link: it may have expired, been moved or been mistyped.",
    ),
    "url_forbidden": Wording(
        "File not shared",
        "The server at {host} refused to give out the file: it is private, or the link "
        "has expired.",
        "Share the file publicly, or create a new download link (for cloud storage, a "
        "presigned link), then try again.",
    ),
    "url_server_error": Wording(
        "The file's server has a problem",
        "The server at {host} had a problem and did not send the file.",
        "Try again later.",
    ),
    "url_unexpected_answer": Wording(
        "The file was not sent",
        "The server at {host} did not send the file.",
        "Open the link in a web browser to see what it shows. " + _DIRECT_LINK,
    ),
    "url_redirect_loop": Wording(
        "The address goes round in circles",
        "The address keeps redirecting and never reaches a file.",
        "Open the link in a web browser to see where it ends up. " + _DIRECT_LINK,
    ),
}

_SCHEME_HINTS = {
    "file": "This is a file on this computer: add it as a file, not as a web address.",
    "s3": "For a file in Amazon S3, create a presigned https:// link, or use a manifest.",
    "gs": "For a file in Google Cloud Storage, create a signed https:// link.",
    "ftp": "Download the file and add it from your computer, or use an https:// link to it.",
    "javascript": "This is a piece of a web page's program, not an address. " + _DIRECT_LINK,
    "data": "The video is written into the address itself: save it as a file, then add the file.",
    "blob": "This address exists only inside one browser tab: download the video, then add the "
    "file.",
}
# Schemes written without "//" ("javascript:alert(1)"); any other "word:" is taken for a host
# and port typed without https://.
_BARE_SCHEMES = frozenset({"javascript", "vbscript", "data", "blob", "about", "mailto", "tel"})

# Sites whose pages play a video but never hand out the file (host suffix, name).
_VIDEO_SITES = (
    ("youtube.com", "YouTube"),
    ("youtu.be", "YouTube"),
    ("youtube-nocookie.com", "YouTube"),
    ("vimeo.com", "Vimeo"),
    ("dailymotion.com", "Dailymotion"),
    ("tiktok.com", "TikTok"),
    ("instagram.com", "Instagram"),
    ("facebook.com", "Facebook"),
    ("fb.watch", "Facebook"),
)
# Vimeo's player host serves files for progressive links; its pages live on vimeo.com.
_FILE_HOSTS = ("player.vimeo.com", "vod-progressive.akamaized.net")


@dataclass(frozen=True)
class ShapeProblem:
    """What the address alone says is wrong with it, before anything is fetched."""

    code: str
    values: dict[str, str]


def shape_problem(url: str, *, local_ok: bool = True) -> ShapeProblem | None:
    """The problem visible in the address itself, or None: pure, no network.

    ``local_ok=False`` refuses addresses only this computer or its network can reach (the
    service fetches from the internet); the sandbox, on this computer, can fetch them.
    """
    if len(url) > MAX_URL_CHARS:
        return ShapeProblem("url_too_long", {"length": f"{len(url):,}"})
    invalid = ShapeProblem("url_invalid", {"url": shown_url(url)})
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") or _odd_space(ch) for ch in url):
        return invalid  # a line break or tab pasted inside; no server takes those
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:  # a malformed port or IPv6 literal
        return invalid
    if " " in parts.netloc:
        # A space after the server's name is sent as %20, as browsers and requests do
        # ("my clip.mp4"); in the name itself it cannot be.
        return invalid
    scheme = parts.scheme.lower()
    if scheme and scheme not in ("http", "https") and ("://" in url or scheme in _BARE_SCHEMES):
        hint = _SCHEME_HINTS.get(scheme, "Use a direct https:// link to the video file.")
        return ShapeProblem("url_scheme", {"scheme": scheme, "scheme_hint": hint})
    if scheme not in ("http", "https") or not host or not address_ok(url):
        return invalid
    local = None if local_ok else next(filter(only_reachable_here, _host_forms(url)), None)
    if local is not None:
        return ShapeProblem("url_private", {"host": printable(local)})
    if host in _FILE_HOSTS:
        return None
    for suffix, site in _VIDEO_SITES:
        if _on(host, suffix):
            return ShapeProblem("url_video_page", {"site": site})
    return _sharing_problem(parts.path, parts.query, host, url)


def _odd_space(ch: str) -> bool:
    return ch.isspace() and ch != " "


def shown_url(url: str) -> str:
    """``url`` as a message may show it: a password in it masked, control characters escaped,
    and at most 200 characters."""
    if not url:
        return "(an empty line)"
    url = printable(without_password(url))
    return url if len(url) <= 200 else url[:199] + "…"


def _host_forms(url: str) -> list[str]:
    """The host as urlsplit reads it, then as a fetcher may: requests and browsers end the
    host at a backslash and %-decode it ("%31%32%37.0.0.1"), and IDNA maps full-width digits,
    letters and dots to ASCII ("１２７。０。０。１" is 127.0.0.1 to a browser)."""
    forms: list[str] = []
    for text in (url, url.replace("\\", "/")):
        try:
            host = urlsplit(text).hostname or ""
        except ValueError:
            continue
        mapped = unicodedata.normalize("NFKC", unquote(host)).replace("\u3002", ".").lower()
        forms += [host, mapped]
    return forms


def only_reachable_here(host: str) -> bool:
    """True for a host on this computer or a private network: a private, loopback, link-local
    or otherwise non-public IP address (in any form the system accepts, "2130706433" and
    "0x7f.1" included), and ``localhost`` names. A public name that resolves to a private
    address is not looked up: the service reports it (docs/urls.md)."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        try:
            # The forms inet_aton takes are the ones a connection would take: 127.1, 0x7f.1.
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    return not address.is_global


def _service_is_local(service_url: str | None) -> bool:
    """The service (the sandbox) runs here or on this network, so it reaches such addresses."""
    if service_url is None:
        return True
    try:
        host = urlsplit(service_url).hostname or ""
    except ValueError:
        return False
    return only_reachable_here(host)


def _on(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _sharing_problem(path: str, query: str, host: str, url: str) -> ShapeProblem | None:
    """Cloud-drive links that open a preview page; where a direct form exists, it is given."""
    params = parse_qs(query)
    if host == "drive.google.com":
        if params.get("export") == ["download"]:
            return None
        segments = [s for s in path.split("/") if s]
        file_id = (params.get("id") or [""])[0]
        if len(segments) >= 3 and segments[:2] == ["file", "d"]:
            file_id = segments[2]
        fix = (
            "Share the file with “Anyone with the link”, then use this direct link: "
            f"https://drive.google.com/uc?export=download&id={file_id} (files over about "
            "100 MB still open a warning page: add those from your computer instead)."
            if file_id
            else "Download the file and add it from your computer. " + _DIRECT_LINK
        )
        return ShapeProblem("url_sharing_page", {"site": "Google Drive", "fix": fix})
    if _on(host, "dropbox.com") and path.startswith(("/s/", "/scl/")):
        if params.get("dl") == ["1"] or "raw" in params:
            return None
        params["dl"] = ["1"]
        direct = urlunsplit(("https", host, path, urlencode(params, doseq=True), ""))
        fix = f"Use this direct link instead: {direct}"
        return ShapeProblem("url_sharing_page", {"site": "Dropbox", "fix": fix})
    for domain, site in (
        ("1drv.ms", "OneDrive"),
        ("onedrive.live.com", "OneDrive"),
        ("sharepoint.com", "SharePoint"),
        ("box.com", "Box"),
        ("icloud.com", "iCloud"),
        ("we.tl", "WeTransfer"),
        ("wetransfer.com", "WeTransfer"),
    ):
        if _on(host, domain) and not (site == "SharePoint" and params.get("download") == ["1"]):
            fix = "Download the file and add it from your computer. " + _DIRECT_LINK
            return ShapeProblem("url_sharing_page", {"site": site, "fix": fix})
    return None


def check_url(
    url: str,
    target: Target,
    *,
    timeout: float = 10.0,
    session: requests.Session | None = None,
    service_url: str | None = None,
) -> UrlFinding:
    """The verdict on one video URL for ``target``. Never raises.

    ``timeout`` bounds each request (the whole probe takes at most a few times that). Pass
    ``target.kind`` as the route the URL will take (``UploadKind.URL`` for a video_url task).
    ``session`` is for connection reuse across many URLs; one that carries the API key is
    not used, so the key never goes to the URL's server. ``service_url`` is the API's
    address: unless it is on this computer or network (the sandbox), an address only this
    network can reach is refused before anything is fetched, redirects included.
    """
    url = url.strip()
    local_ok = _service_is_local(service_url)
    problem = shape_problem(url, local_ok=local_ok)
    if problem is not None:
        return _worded(url, problem.code, problem.values, filename=url_filename(url))

    if session is not None and "x-api-key" in session.headers:
        logger.warning("not checking URLs with the API client's session; using a new one")
        session = None
    http = session or direct_session()
    try:
        return _fetch_and_judge(http, url, target, timeout, local_ok=local_ok)
    finally:
        if session is None:
            http.close()


def check_urls(
    urls: Sequence[str],
    target: Target,
    *,
    timeout: float = 10.0,
    workers: int = URL_WORKERS,
    service_url: str | None = None,
) -> list[UrlFinding]:
    """:func:`check_url` for many URLs at once, in their order.

    A few run side by side (each mostly waits on a server), so a pasted list of 50 links is
    checked in seconds; each thread keeps its own session (requests does not promise that
    one session is safe across threads).
    """

    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()

    def one(url: str) -> UrlFinding:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = direct_session()
            with lock:
                sessions.append(session)
        return check_url(url, target, timeout=timeout, session=session, service_url=service_url)

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="urlcheck") as pool:
            return list(pool.map(one, urls))
    finally:
        for session in sessions:
            session.close()


def _fetch_and_judge(
    http: requests.Session, url: str, target: Target, timeout: float, *, local_ok: bool
) -> UrlFinding:
    import requests  # noqa: PLC0415

    host = urlsplit(url).hostname or url
    try:
        response = _follow(http, url, timeout, local_ok=local_ok)
    except _RedirectedAwayError as away:
        # A short link that lands on YouTube or a sharing page: said without fetching it.
        return _worded(url, away.problem.code, away.problem.values, filename=url_filename(url))
    except requests.RequestException as exc:
        return _network_finding(url, exc, host, timeout)
    with response:
        final_url = response.url or url
        host = urlsplit(final_url).hostname or host
        status = response.status_code
        if status == 416:  # nothing to range over: an empty file
            return _judged(url, _empty(url_filename(final_url)), target, content_type=None)
        if status not in (200, 206):
            return _status_finding(url, status, host)
        content_type = _content_type(response)
        filename = _filename(response, final_url)
        size, ranged = _size(response)
        try:
            deadline = time.monotonic() + timeout * PROBE_TIME_FACTOR
            head = _read_body(response, BLOCK, deadline, decode=True)
        except requests.RequestException as exc:
            return _network_finding(url, exc, host, timeout)
    if content_type in _HTML_TYPES or _looks_like_html(head):
        return _worded(url, "url_web_page", {}, content_type=content_type, filename=filename)
    if size == 0 or not head:
        return _judged(url, _empty(filename), target, content_type=content_type)
    sniffed = sniff(head)
    if not sniffed.needs_probe:
        probe = ProbeResult(
            path=Path(filename),
            size=size or len(head),
            is_image=sniffed.kind is Kind.IMAGE,
            content=sniffed.label,
        )
        return _judged(url, probe, target, content_type=content_type)
    if size is not None and len(head) >= size:
        # The first block was the whole file: judge it fully, ranges or not.
        probe = probe_stream(io.BytesIO(head[:size]), filename, size)
        return _judged(url, probe, target, content_type=content_type)
    if ranged and size:
        reader = RangeReader(http, final_url, size, timeout=timeout, first_block=head)
        probe = probe_stream(io.BufferedReader(reader, BLOCK), filename, size)
        if reader.error is not None:
            return _network_finding(url, reader.error, host, timeout)
        if not reader.stopped:
            logger.debug(
                "probed %s from %d bytes in %d requests",
                loggable(url),
                reader.fetched,
                reader.requests,
            )
            return _judged(url, probe, target, content_type=content_type)
        if probe.has_video and probe.width and probe.height and probe.duration:
            # Enough was read for length and picture; the end of the file never was, so it
            # cannot be called cut off.
            probe = replace(probe, is_truncated=False)
            return _judged(url, probe, target, content_type=content_type)
        logger.info("stopped probing %s after %d bytes", loggable(url), reader.fetched)
    return _unprobed(url, size, target, content_type=content_type, filename=filename)


class _RedirectedAwayError(Exception):
    def __init__(self, problem: ShapeProblem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def _follow(
    http: requests.Session, url: str, timeout: float, *, local_ok: bool
) -> requests.Response:
    """GET the first block, following redirects one by one so that each new address is
    judged by its shape before anything is fetched from it (a redirect to file:// or to a
    private address included)."""
    import requests  # noqa: PLC0415

    current = url
    for _ in range(MAX_REDIRECTS + 1):
        response = http.get(
            current,
            headers=_headers(0, BLOCK - 1),
            timeout=timeout,
            stream=True,
            allow_redirects=False,
        )
        if not response.is_redirect:
            return response
        response.close()
        current = urljoin(current, response.headers["Location"])
        problem = shape_problem(current, local_ok=local_ok)
        if problem is not None:
            raise _RedirectedAwayError(problem)
    raise requests.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")


class RangeReader(SizedReader):
    """A remote file as a seekable, read-only stream, fetched by HTTP range requests in
    :data:`BLOCK`-sized pieces, so MediaInfo reads only the parts it asks for.

    Never raises on a network problem: it records it in ``error`` and reads as the end of the
    file, so the parse ends at once. Past :data:`MAX_PROBE_BYTES` or its time budget it also
    reads as the end (``stopped``), so an odd file never turns into a full download.
    """

    def __init__(
        self,
        http: requests.Session,
        url: str,
        size: int,
        *,
        timeout: float,
        first_block: bytes = b"",
    ) -> None:
        super().__init__(size)
        self._http = http
        self._url = url
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout * PROBE_TIME_FACTOR
        self._blocks: dict[int, bytes] = {}
        if len(first_block) >= min(BLOCK, size):
            self._blocks[0] = first_block[:BLOCK]
        self.fetched = len(first_block)
        self.requests = 0
        self.stopped = False
        self.error: requests.RequestException | None = None

    def _read_at(self, position: int, count: int) -> bytes:
        number, offset = divmod(position, BLOCK)
        return self._block(number)[offset : offset + count]

    def _block(self, number: int) -> bytes:
        """Block ``number`` whole, or b"" once the probe has to end (``stopped``/``error``)."""
        cached = self._blocks.get(number)
        if cached is not None:
            return cached
        start = number * BLOCK
        end = min(start + BLOCK, self._size) - 1
        data = bytearray()
        # Some servers cap the bytes of one range answer: ask again for the rest.
        while len(data) < end - start + 1:
            part = self._fetch(start + len(data), end)
            if not part:
                return b""
            data += part
        self._blocks[number] = bytes(data)
        return self._blocks[number]

    def _fetch(self, start: int, end: int) -> bytes:
        if self.error is not None or self.stopped:
            return b""
        if self.fetched >= MAX_PROBE_BYTES or time.monotonic() > self._deadline:
            self.stopped = True
            return b""
        import requests  # noqa: PLC0415

        try:
            with self._http.get(
                self._url, headers=_headers(start, end), timeout=self._timeout, stream=True
            ) as response:
                self.requests += 1
                answered = response.headers.get("Content-Range", "")
                if response.status_code != 206 or not answered.startswith(f"bytes {start}-"):
                    # The server stopped honouring ranges (or sent another part than the one
                    # asked for): judge what was read, never bytes from the wrong place.
                    self.stopped = True
                    return b""
                data = _read_body(response, end - start + 1, self._deadline, decode=False)
        except requests.RequestException as exc:
            self.error = exc
            return b""
        self.fetched += len(data)
        if not data:
            self.stopped = True
        return data


def _headers(start: int, end: int) -> dict[str, str]:
    # identity: a compressed answer would make sizes and offsets meaningless.
    return {
        "Range": f"bytes={start}-{end}",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
    }


def _read_body(response: requests.Response, amount: int, deadline: float, *, decode: bool) -> bytes:
    """Up to ``amount`` bytes of the answer's body; fewer once ``deadline`` has passed.

    The request timeout bounds each wait for data, so a server that trickles a few bytes at a
    time never trips it: the deadline does. urllib3's own errors leave as requests' (a stall
    is a timeout, a cut a lost connection); inside a probe they would otherwise reach
    MediaInfo and make a slow server's file look damaged.
    """
    import requests  # noqa: PLC0415
    import urllib3.exceptions  # noqa: PLC0415

    data = bytearray()
    try:
        while len(data) < amount:
            piece = response.raw.read1(amount - len(data), decode_content=decode)
            if not piece:
                break
            data += piece
            if time.monotonic() > deadline:
                break
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.Timeout(str(exc)) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.ConnectionError(str(exc)) from exc
    return bytes(data)


def _content_type(response: requests.Response) -> str | None:
    value = response.headers.get("Content-Type", "")
    return value.split(";")[0].strip().lower() or None


def _size(response: requests.Response) -> tuple[int | None, bool]:
    """(total size if the server said it, whether it honours range requests)."""
    if response.status_code == 206:
        total = response.headers.get("Content-Range", "").rpartition("/")[2].strip()
        return (int(total), True) if total.isdigit() else (None, False)
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and not response.headers.get("Content-Encoding"):
        return int(length), False
    return None, False


def _filename(response: requests.Response, final_url: str) -> str:
    """The name the server gives the file (Content-Disposition), else the URL's last segment."""
    disposition = response.headers.get("Content-Disposition")
    if disposition:
        from email.message import Message  # noqa: PLC0415 - requests has loaded it already

        header = Message()
        header["Content-Disposition"] = disposition
        name = header.get_filename()
        if name:
            return name.replace("/", "_").replace("\\", "_")
    return url_filename(final_url) or url_filename(response.url or "") or "video"


def _looks_like_html(head: bytes) -> bool:
    start = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) and (
        b"<html" in head[:4096].lower()
    )


def _empty(name: str) -> ProbeResult:
    return ProbeResult(path=Path(name), size=0, content="an empty file")


def _judged(
    url: str, probe: ProbeResult, target: Target, *, content_type: str | None
) -> UrlFinding:
    return _from_finding(url, evaluate(probe, target), probe, content_type)


def _unprobed(
    url: str, size: int | None, target: Target, *, content_type: str | None, filename: str
) -> UrlFinding:
    """A video file whose content could not be read here: judge its size, say the rest."""
    issues = size_issues(size, target) if size else []
    if issues:
        probe = ProbeResult(path=Path(filename), size=size or 0)
        return _from_finding(url, finding_of(Path(filename), issues, probe), probe, content_type)
    known = f" ({format_size(size)})" if size else ""
    message = (
        f"Looks like a video file{known}. This server does not let its length and picture "
        "size be read ahead, so Twelve Labs checks them when it fetches the file."
    )
    return UrlFinding(
        url=url,
        verdict=Verdict.OK,
        code=None,
        message=message,
        hint="",
        content_type=content_type,
        size=size,
        duration=None,
        width=None,
        height=None,
        filename=filename,
    )


def _from_finding(
    url: str, finding: Finding, probe: ProbeResult, content_type: str | None
) -> UrlFinding:
    return UrlFinding(
        url=url,
        verdict=finding.verdict,
        code=finding.code,
        message=finding.message,
        hint=finding.hint,
        content_type=content_type,
        size=probe.size,
        duration=probe.duration,
        width=probe.width,
        height=probe.height,
        filename=probe.path.name,
    )


def _worded(
    url: str,
    code: str,
    values: dict[str, str],
    *,
    filename: str,
    content_type: str | None = None,
) -> UrlFinding:
    wording = WORDING[code]
    return UrlFinding(
        url=url,
        verdict=Verdict.REJECTED,
        code=code,
        message=wording.message.format(**values),
        hint=wording.hint.format(**values),
        content_type=content_type,
        size=None,
        duration=None,
        width=None,
        height=None,
        filename=filename,
    )


def _status_finding(url: str, status: int, host: str) -> UrlFinding:
    # The status goes to the log; a person reads what it means (docs/urls.md).
    logger.info("checking %s: the server answered %d", loggable(url), status)
    if status in (404, 410):
        code = "url_not_found"
    elif status in (401, 403):
        code = "url_forbidden"
    elif status >= 500 or status == 429:  # 429: busy for now, as a 503 is
        code = "url_server_error"
    else:
        code = "url_unexpected_answer"
    values = {"host": host}
    return _worded(url, code, values, filename=url_filename(url))


_NETWORK_CODES = {
    "dns_failed": "url_dns",
    "connection_failed": "url_unreachable",
    "network_timeout": "url_timeout",
    "tls_error": "url_tls",
    "tls_untrusted": "url_tls",
    "tls_wrong_host": "url_tls",
    "tls_expired": "url_tls",
    "proxy_failed": "url_unreachable",
    "proxy_auth_required": "url_unreachable",
    "connection_reset": "url_connection_lost",
}


def _network_finding(
    url: str, exc: requests.RequestException, host: str, timeout: float
) -> UrlFinding:
    import requests  # noqa: PLC0415

    # requests' text repeats the address as sent, query (a presigned signature) included.
    query = urlsplit(url).query
    text = str(exc).replace(query, "[query]") if query else str(exc)
    logger.info("checking %s failed: %s", loggable(url), text)
    if isinstance(exc, requests.TooManyRedirects):
        code = "url_redirect_loop"
    elif isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        code = "url_invalid"
    else:
        code = _NETWORK_CODES.get(error_from_exception(exc).code, "url_connection_lost")
    values = {"host": host, "wait": format_duration(timeout), "url": shown_url(url)}
    return _worded(url, code, values, filename=url_filename(url))
