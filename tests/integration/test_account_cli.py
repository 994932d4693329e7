"""login, logout, indexes and indexes create against the sandbox on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.memory_keyring import MemoryKeyring
from uploader_app import keys
from uploader_app.cli import main
from uploader_app.sandbox.server import SandboxServer
from uploader_app.settings import AppSettings, save_settings_file

STORED = (keys.SERVICE, keys.USERNAME)


@pytest.fixture
def chain() -> MemoryKeyring:
    backend = keyring.get_keyring()
    assert isinstance(backend, MemoryKeyring)
    return backend


@pytest.fixture
def served(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox whose address is in the settings file (not the environment)."""
    server = start_sandbox()
    save_settings_file(AppSettings(base_url=server.base_url("v1.3")))
    return server


def _typing(monkeypatch: pytest.MonkeyPatch, answer: str | None) -> list[str]:
    """Make getpass answer ``answer`` (None: the person pressed Ctrl-D); returns the prompts."""
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        if answer is None:
            raise EOFError
        return answer

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return prompts


def _no_technical_words(text: str) -> None:
    for word in ("HTTP", "401", "Traceback", "Error(", "api_key_invalid"):
        assert word not in text


def test_login_checks_the_key_then_keeps_it_in_the_keychain(
    served: SandboxServer,
    chain: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prompts = _typing(monkeypatch, f" {TEST_API_KEY} ")
    assert main(["login"]) == 0
    assert prompts == ["Twelve Labs API key (typing is hidden): "]
    assert chain.passwords == {STORED: TEST_API_KEY}
    out = capsys.readouterr().out
    assert "Signed in." in out
    assert "password store" in out
    assert TEST_API_KEY not in out


def test_login_with_a_refused_key_says_where_to_find_one_and_keeps_nothing(
    served: SandboxServer,
    chain: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _typing(monkeypatch, "wrong-key-not-a-secret")
    assert main(["login"]) == 3
    err = capsys.readouterr().err
    assert "API key not accepted" in err
    assert "API Key page" in err
    _no_technical_words(err)
    assert chain.passwords == {}


def test_login_without_input_changes_nothing(
    served: SandboxServer,
    chain: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _typing(monkeypatch, None)
    assert main(["login"]) == 3
    assert "No key entered; nothing changed." in capsys.readouterr().err
    assert chain.passwords == {}


def test_login_without_a_keychain_points_to_the_environment_variable(
    served: SandboxServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]  # keyring is untyped
    prompts = _typing(monkeypatch, TEST_API_KEY)
    assert main(["login"]) == 3
    assert prompts == []  # not asked for a key it could not keep
    err = capsys.readouterr().err
    assert "forgotten as soon as this command ends" in err
    assert "TWELVELABS_API_KEY" in err


def test_login_when_the_service_cannot_be_reached_exits_1(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TWELVELABS_BASE_URL", f"http://127.0.0.1:{port}/v1.3")
    _typing(monkeypatch, TEST_API_KEY)
    assert main(["login"]) == 1
    err = capsys.readouterr().err
    assert err.strip()
    _no_technical_words(err)
    assert chain.passwords == {}


def test_logout_removes_the_saved_key_and_names_the_variable(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keys.save_key(TEST_API_KEY)
    assert main(["logout"]) == 0
    assert chain.passwords == {}
    assert "Signed out" in capsys.readouterr().out
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)
    assert main(["logout"]) == 0
    captured = capsys.readouterr()
    assert "No API key was saved." in captured.out
    assert "TWELVELABS_API_KEY is still set" in captured.err


def test_logout_with_the_keychain_locked_says_nothing_was_removed_and_keeps_the_key(
    chain: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    keys.save_key(TEST_API_KEY)
    chain.broken = True
    assert main(["logout"]) == 0  # docs/cli.md: logout exits 0
    captured = capsys.readouterr()
    assert "No API key was saved" not in captured.out + captured.err
    assert "Signed out" not in captured.out
    assert "could not be reached, so no key saved in it was removed" in captured.err
    assert "run logout again" in captured.err
    chain.broken = False
    # Not noted as empty: the next start still asks the keychain, and finds the key.
    assert keys.load_key() == keys.KeyInfo(TEST_API_KEY, "keychain")


def test_indexes_lists_with_the_saved_key_and_the_settings_address(
    served: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    keys.save_key(TEST_API_KEY)
    assert main(["indexes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "MODELS", "VIDEOS"]
    assert any("Demo - Marengo (search)" in line for line in lines)
    assert any("marengo3.0 (visual and audio)" in line for line in lines)

    assert main(["indexes", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    names = {i["name"]: i for i in listed}
    marengo = names["Demo - Marengo (search)"]
    assert marengo["models"] == [{"name": "marengo3.0", "options": ["visual", "audio"]}]
    assert marengo["video_count"] == 0
    assert set(marengo) >= {"id", "name", "models", "addons", "created_at", "expires_at"}


def test_indexes_without_a_key_or_with_a_refused_one_exit_3(
    served: SandboxServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["indexes"]) == 3
    err = capsys.readouterr().err
    assert "no API key is set. Run uploader-app login" in err
    monkeypatch.setenv("TWELVELABS_API_KEY", "wrong-key-not-a-secret")
    assert main(["indexes"]) == 3
    err = capsys.readouterr().err
    assert "API Key page" in err
    _no_technical_words(err)


def test_indexes_create_then_list_it(
    served: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    keys.save_key(TEST_API_KEY)
    argv = ["indexes", "create", "Interviews", "--model", "marengo3.0", "--option", "visual"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Created index Interviews (")
    assert "marengo3.0 (visual)" in out

    assert main(["indexes", "create", "Both", "--model", "marengo3.0", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["models"] == [{"name": "marengo3.0", "options": ["visual", "audio"]}]

    assert main(["indexes", "--json"]) == 0
    names = {i["name"] for i in json.loads(capsys.readouterr().out)}
    assert {"Interviews", "Both"} <= names

    # A taken name: the service refuses, the words say what to do.
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Could not create the index 'Interviews'" in err
    assert "Choose a different name" in err
    _no_technical_words(err)


def test_indexes_create_with_an_unknown_model_is_refused_plainly(
    served: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    keys.save_key(TEST_API_KEY)
    assert main(["indexes", "create", "X", "--model", "gpt4"]) == 1
    err = capsys.readouterr().err
    assert "Could not create the index 'X'" in err
    # The service's own words name what it refused, on a line of their own.
    assert "\n  Details from Twelve Labs: The model_name parameter is invalid" in err
    _no_technical_words(err)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["indexes", "create", "X"], "--model"),
        (["indexes", "create", "--model", "marengo3.0"], "NAME"),
        (["indexes", "create", "X", "--model", "m", "--option", "smell"], "invalid choice"),
        (["indexes", "delete", "X"], "invalid choice"),
        (["login", "now"], "unrecognized arguments"),
        (["indexes", "create", "  ", "--model", "marengo3.0"], "The index needs a name"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_check_index_reads_the_key_from_the_keychain(
    served: SandboxServer,
    video: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    keys.save_key(TEST_API_KEY)
    assert main(["indexes", "--json"]) == 0
    index_id = json.loads(capsys.readouterr().out)[0]["id"]
    assert main(["check", "--index", index_id, str(video("clip.mp4"))]) == 0
    assert "1 file checked: 1 ready" in capsys.readouterr().out


def test_a_mistyped_address_is_a_configuration_problem_not_a_crash(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWELVELABS_BASE_URL", "https://api..twelvelabs.io/v1.3")
    _typing(monkeypatch, TEST_API_KEY)
    assert main(["login"]) == 3
    err = capsys.readouterr().err
    assert "server address" in err
    _no_technical_words(err)
    assert chain.passwords == {}
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)
    assert main(["indexes"]) == 3
    err = capsys.readouterr().err
    assert "server address" in err
    _no_technical_words(err)


def test_no_network_shows_no_connection_internals_as_the_service_s_words(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TWELVELABS_BASE_URL", f"http://127.0.0.1:{port}/v1.3")
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)
    assert main(["indexes"]) == 1
    err = capsys.readouterr().err
    assert "could not connect to the service" in err
    # Only an answer from the service has details of its own.
    assert "Details from Twelve Labs" not in err
    assert "Errno" not in err
    _no_technical_words(err)


def test_logout_with_the_variable_set_still_says_the_saved_key_went(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keys.save_key(TEST_API_KEY)
    monkeypatch.setenv("TWELVELABS_API_KEY", "env-key-not-a-secret")
    assert main(["logout"]) == 0
    assert chain.passwords == {}
    captured = capsys.readouterr()
    assert "Signed out: the saved API key was removed." in captured.out
    assert "TWELVELABS_API_KEY is still set" in captured.err


def test_login_with_a_key_pasted_inside_quotes_says_so_and_keeps_nothing(
    served: SandboxServer,
    chain: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _typing(monkeypatch, f"“{TEST_API_KEY}”")
    assert main(["login"]) == 3
    err = capsys.readouterr().err
    assert "quotes" in err
    assert "API Key page" in err
    _no_technical_words(err)
    assert chain.passwords == {}


@pytest.mark.parametrize(
    "pasted", [f"\u201c{TEST_API_KEY}\u201d", f"{TEST_API_KEY}\u200b", "cl\u00e9\u0142"]
)
def test_a_mangled_key_in_the_environment_is_refused_in_words(
    served: SandboxServer,
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pasted: str,
) -> None:
    # HTTP headers are Latin-1: sent as is, these keys crashed with UnicodeEncodeError.
    monkeypatch.setenv("TWELVELABS_API_KEY", pasted)
    assert main(["indexes"]) == 3
    err = capsys.readouterr().err
    assert "quotes" in err
    _no_technical_words(err)
    assert "Unicode" not in err
    # check's own contract: an index that cannot be read is exit 2 (docs/cli.md).
    assert main(["check", "--index", "6500aa", str(video("clip.mp4"))]) == 2
    err = capsys.readouterr().err
    assert "quotes" in err
    _no_technical_words(err)
    assert "Unicode" not in err
