"""HTTPS through a company's HTTP proxy (docs/network.md): from ``HTTPS_PROXY`` and from what
the system settings give Python, a proxy that asks for a password, and the sandbox on this
computer reached directly. The proxy is a real one (proxy.py) on 127.0.0.1; the service's
name ends in ``.invalid``, which no DNS resolves and only the test proxy knows, so a request
that reached the sandbox by that name went through the proxy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.engine.cli_support import distinct_videos, run_cli, run_json
from tests.reliability.netsec_support import (
    TRUST_BY_FILE,
    RunningProxy,
    TestAuthority,
    company_inspection,
    https_url,
    make_authority,
    running_proxy,
    tls_sandbox,
)
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import NetworkError
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.transport import make_session
from uploader_app.sandbox.server import SandboxServer

SERVICE = "api.proxy-test.invalid"
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
LOGIN = ("office", "s3cret-proxy-pass")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    # These would win over the session's own ``verify`` (requests reads them per request).
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def authority(tmp_path: Path) -> TestAuthority:
    return make_authority(tmp_path)


@pytest.fixture(scope="module")
def shared_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    # One proxy for the module: starting and stopping proxy.py takes about 2 s.
    with running_proxy(tmp_path_factory.mktemp("proxy")) as running:
        yield running


@pytest.fixture
def proxy(shared_proxy: RunningProxy) -> RunningProxy:
    """The module's proxy, with what it carried for earlier tests forgotten."""
    shared_proxy.log.unlink(missing_ok=True)
    return shared_proxy


@pytest.fixture
def service(start_sandbox: StartSandbox, authority: TestAuthority) -> SandboxServer:
    """The sandbox over HTTPS with a certificate for SERVICE (and for 127.0.0.1)."""
    return tls_sandbox(start_sandbox, authority.server_context(SERVICE, "127.0.0.1"))


def _env(
    home: Path, server: SandboxServer, authority: TestAuthority, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in PROXY_VARIABLES}
    env.update(
        UPLOADER_APP_HOME=str(home),
        TWELVELABS_BASE_URL=https_url(server, SERVICE),
        TWELVELABS_API_KEY=TEST_API_KEY,
        SSL_CERT_FILE=str(authority.pem),
        UPLOADER_APP_LOOKUP_GRACE="1",
        **extra,
    )
    return env


def _client(base_url: str, authority: TestAuthority | None = None) -> ApiClient:
    session = make_session()
    if authority is not None:
        session.verify = str(authority.pem)
    return ApiClient(base_url, TEST_API_KEY, retry=RetryPolicy.interactive(), session=session)


def _port(server: SandboxServer) -> str:
    return server.url.rsplit(":", 1)[1]


@TRUST_BY_FILE
def test_an_upload_goes_through_the_proxy_named_by_https_proxy(
    service: SandboxServer,
    proxy: RunningProxy,
    authority: TestAuthority,
    video_dir: Path,
    tmp_path: Path,
) -> None:
    env = _env(tmp_path / "home", service, authority, HTTPS_PROXY=proxy.url)
    with _client(https_url(service), authority) as direct:
        index = next(i.id for i in direct.iter_indexes() if "marengo" in i.name.lower())
    service.clear_requests()
    files = distinct_videos(tmp_path / "in", video_dir, 2)
    code, rows, err = run_json(env, "upload", "--index", index, "--wait", str(tmp_path / "in"))
    assert code == 0, err
    assert sorted(r["path"] for r in rows) == sorted(str(f) for f in files)
    assert all(r["state"] == "ready" for r in rows)
    assert service.requests.count(("POST", "/v1.3/tasks")) == 2
    # Every connection the program made to the service was a tunnel through the proxy.
    assert proxy.hosts()
    assert set(proxy.hosts()) == {f"{SERVICE}:{_port(service)}"}


@TRUST_BY_FILE
@pytest.mark.skipif(shutil.which("openssl") is None, reason="proxy.py signs with openssl")
def test_a_tls_inspecting_proxy_works_once_its_authority_is_trusted(
    service: SandboxServer, authority: TestAuthority, tmp_path: Path
) -> None:
    """The proxy decrypts each connection and shows the app a certificate it made itself,
    signed by the company's authority; once IT adds that authority to the OS store (here
    SSL_CERT_FILE), the app works through it. Before that, it refuses in plain words."""
    inspection = company_inspection(tmp_path / "company", upstream_trust=authority.pem)
    with running_proxy(tmp_path / "proxy", inspection=inspection) as proxy:
        env = _env(tmp_path / "home", service, authority, HTTPS_PROXY=proxy.url)
        code, out, err = run_cli(env, "indexes")
        assert code != 0
        assert "issued by an authority this computer does not trust" in err
        assert "ask IT to add its certificate" in err
        assert service.requests == []  # the app hung up in the handshake: nothing was sent

        env["SSL_CERT_FILE"] = str(inspection.ca_cert)
        code, out, err = run_cli(env, "indexes")
        assert code == 0, err
        assert "Demo - Marengo (search)" in out
    assert ("GET", "/v1.3/indexes") in service.requests
    # The app was shown the proxy's own certificate for the service's name.
    assert list(inspection.made.glob(f"{SERVICE}*.pem"))


@TRUST_BY_FILE
def test_a_proxy_that_wants_a_password_gets_a_plain_message(
    service: SandboxServer, authority: TestAuthority, tmp_path: Path
) -> None:
    user, password = LOGIN
    with running_proxy(tmp_path / "proxy", login=f"{user}:{password}") as proxy:
        home = tmp_path / "home"
        code, out, err = run_cli(_env(home, service, authority, HTTPS_PROXY=proxy.url), "indexes")
        assert code != 0
        assert "The proxy needs a password" in err or "asks for a user name and password" in err
        assert "HTTPS_PROXY=http://name:password@proxy:port" in err
        assert "Traceback" not in out + err and "407" not in out + err
        assert service.requests == []  # refused by the proxy: the service saw nothing

        # A wrong password is refused the same way; the words must not only say "add one".
        wrong = _env(home, service, authority, HTTPS_PROXY=proxy.url_with_login(user, "wrong"))
        code, out, err = run_cli(wrong, "indexes")
        assert code != 0
        assert "or the one given was not accepted" in err
        assert "wrong" not in out + err  # the typed password is not repeated back

        login_env = _env(home, service, authority, HTTPS_PROXY=proxy.url_with_login(user, password))
        # --verbose: the details logged (urllib3's connections included) must not hold it.
        code, out, err = run_cli(login_env, "--verbose", "indexes")
        assert code == 0, err
        assert "Demo - Marengo (search)" in out
        assert password not in out + err
        assert set(proxy.hosts()) == {f"{SERVICE}:{_port(service)}"}
    # The proxy's password is in the environment only, never in the app's files.
    written = [p for p in home.rglob("*") if p.is_file()]
    assert written  # the daily log at least
    assert not [p for p in written if password.encode() in p.read_bytes()]


def test_the_proxy_python_reads_from_the_system_settings_is_used(
    service: SandboxServer,
    proxy: RunningProxy,
    authority: TestAuthority,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On Windows and macOS, ``urllib.request.getproxies()`` reads the system's proxy settings
    (registry, SystemConfiguration) when no variable is set; requests asks it for every
    request. That answer is given here, since this machine has no such settings."""
    monkeypatch.setattr(requests.utils, "getproxies", lambda: {"https": proxy.url})
    with _client(https_url(service, SERVICE), authority) as client:
        names = [i.name for i in client.iter_indexes()]
    assert "Demo - Marengo (search)" in names
    assert set(proxy.hosts()) == {f"{SERVICE}:{_port(service)}"}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_sandbox_on_this_computer_is_reached_directly(
    start_sandbox: StartSandbox,
    proxy: RunningProxy,
    monkeypatch: pytest.MonkeyPatch,
    host: str,
) -> None:
    """A proxy elsewhere cannot reach this computer's loopback; requests would send even
    127.0.0.1 to it when NO_PROXY is unset."""
    sandbox = start_sandbox()
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    base = sandbox.base_url().replace("127.0.0.1", host)
    with _client(base) as client:
        assert [i.name for i in client.iter_indexes()]
    assert ("GET", "/v1.3/indexes") in sandbox.requests
    assert proxy.hosts() == []


def test_no_proxy_is_respected(proxy: RunningProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host NO_PROXY names is reached directly: here a name only the proxy can resolve, so
    the direct attempt fails to find it, and the proxy saw nothing."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", f"localhost,{SERVICE}")
    with _client(f"https://{SERVICE}:9/v1.3") as client, pytest.raises(NetworkError) as caught:
        client.list_indexes()
    assert caught.value.code == "dns_failed"
    assert proxy.hosts() == []
