"""URL shapes judged from the address alone: no request is made for any of these."""

from __future__ import annotations

import pytest
import requests

from uploader_app.jobs.urlcheck import check_url, shape_problem
from uploader_app.models import Target, UploadKind, Verdict


class NoNetwork(requests.Session):
    """A session that fails the test if anything is fetched."""

    def request(self, *args: object, **kwargs: object) -> requests.Response:
        raise AssertionError(f"a request was made: {args}")


def _check(url: str) -> tuple[Verdict, str | None, str, str]:
    found = check_url(url, Target(kind=UploadKind.URL), session=NoNetwork())
    return found.verdict, found.code, found.message, found.hint


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "YouTube"),
        ("https://youtu.be/dQw4w9WgXcQ", "YouTube"),
        ("https://m.youtube.com/shorts/abc", "YouTube"),
        ("https://vimeo.com/76979871", "Vimeo"),
        ("https://www.tiktok.com/@a/video/1", "TikTok"),
    ],
)
def test_video_site_pages_are_refused_with_what_to_do(url: str, site: str) -> None:
    verdict, code, message, hint = _check(url)
    assert (verdict, code) == (Verdict.REJECTED, "url_video_page")
    assert f"This is a {site} page" in message
    assert "direct link to the video file" in hint


def test_google_drive_sharing_page_gets_its_direct_link() -> None:
    verdict, code, message, hint = _check(
        "https://drive.google.com/file/d/1AbCdEf_123/view?usp=sharing"
    )
    assert (verdict, code) == (Verdict.REJECTED, "url_sharing_page")
    assert "Google Drive sharing page" in message
    assert "https://drive.google.com/uc?export=download&id=1AbCdEf_123" in hint
    assert "Anyone with the link" in hint
    # The direct form itself is left to the network check.
    assert shape_problem("https://drive.google.com/uc?export=download&id=1AbCdEf_123") is None
    open_link = shape_problem("https://drive.google.com/open?id=XYZ")
    assert open_link is not None
    assert "id=XYZ" in open_link.values["fix"]


def test_dropbox_preview_link_gets_the_download_form() -> None:
    verdict, code, _, hint = _check("https://www.dropbox.com/scl/fi/abc/clip.mp4?rlkey=k&dl=0")
    assert (verdict, code) == (Verdict.REJECTED, "url_sharing_page")
    assert "https://www.dropbox.com/scl/fi/abc/clip.mp4?rlkey=k&dl=1" in hint
    assert shape_problem("https://www.dropbox.com/s/abc/clip.mp4?dl=1") is None
    assert shape_problem("https://dl.dropboxusercontent.com/s/abc/clip.mp4") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://1drv.ms/v/s!abc",
        "https://onedrive.live.com/?cid=1&id=2",
        "https://contoso.sharepoint.com/:v:/g/abc",
        "https://app.box.com/s/abc",
        "https://we.tl/t-abc",
    ],
)
def test_other_sharing_pages_are_refused(url: str) -> None:
    verdict, code, _, hint = _check(url)
    assert (verdict, code) == (Verdict.REJECTED, "url_sharing_page")
    assert "add it from your computer" in hint


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("s3://bucket/clip.mp4", "presigned https:// link"),
        ("file:///home/me/clip.mp4", "file on this computer"),
        ("ftp://example.com/clip.mp4", "add it from your computer, or use an https:// link"),
    ],
)
def test_only_http_and_https_are_fetched(url: str, words: str) -> None:
    verdict, code, message, hint = _check(url)
    assert (verdict, code) == (Verdict.REJECTED, "url_scheme")
    assert "http:// or https://" in message
    assert words in hint


@pytest.mark.parametrize(
    "url",
    [
        "clip.mp4",
        "example.com/clip.mp4",
        "https://",
        "http://[::1",
        # Typing mistakes that requests lets through to urllib3, which raises ValueError.
        "https://cdn..example.com/clip.mp4",
        f"https://{'a' * 64}.example.com/clip.mp4",
        "https://cdn.example.com:99999/clip.mp4",
    ],
)
def test_incomplete_addresses_are_refused(url: str) -> None:
    verdict, code, _, hint = _check(url)
    assert (verdict, code) == (Verdict.REJECTED, "url_invalid")
    assert "https://" in hint


def test_a_plain_file_link_passes_the_shape_check() -> None:
    assert shape_problem("https://cdn.example.com/videos/clip.mp4") is None
    assert shape_problem("https://player.vimeo.com/progressive_redirect/playback/1/x.mp4") is None
