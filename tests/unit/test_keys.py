"""Where the API key comes from and goes to: env, keychain (a test backend), memory."""

from __future__ import annotations

import threading
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backends import fail

from tests.memory_keyring import MemoryKeyring
from uploader_app import config, keys
from uploader_app.config import app_home, load_settings
from uploader_app.keys import (
    KeyInfo,
    Removal,
    client_settings,
    delete_key,
    keychain_available,
    load_key,
    save_key,
)
from uploader_app.settings import AppSettings, save_settings_file

SAVED = "saved-key-not-a-secret"


@pytest.fixture
def chain() -> MemoryKeyring:
    backend = keyring.get_keyring()
    assert isinstance(backend, MemoryKeyring)  # set for every test by conftest
    return backend


def test_nothing_set_means_no_key() -> None:
    assert load_key() == KeyInfo(None, "none")
    assert load_key().where == "No API key is set."


def test_a_saved_key_lives_in_the_keychain_only(chain: MemoryKeyring) -> None:
    info = save_key(f"  {SAVED}\n")
    assert info == KeyInfo(SAVED, "keychain")
    assert chain.passwords == {(keys.SERVICE, keys.USERNAME): SAVED}
    assert load_key() == KeyInfo(SAVED, "keychain")
    assert "password store" in info.where
    assert SAVED not in repr(info)


def test_the_environment_wins(chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    save_key(SAVED)
    monkeypatch.setenv("TWELVELABS_API_KEY", " env-key-not-a-secret ")
    assert load_key() == KeyInfo("env-key-not-a-secret", "env")
    assert "TWELVELABS_API_KEY" in load_key().where
    # Saving while the variable is set still stores, but the variable keeps winning.
    save_key("another-key-not-a-secret")
    assert load_key().source == "env"


def test_without_a_keychain_the_key_is_kept_in_memory_and_said_so() -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]  # keyring is untyped
    assert not keychain_available()
    info = save_key(SAVED)
    assert info == KeyInfo(SAVED, "memory")
    assert "forgotten when the app quits" in info.where
    assert load_key() == KeyInfo(SAVED, "memory")
    assert delete_key() == Removal(removed=True, keychain_reached=False)
    assert load_key() == KeyInfo(None, "none")


def test_a_locked_keychain_falls_back_to_memory_without_raising(chain: MemoryKeyring) -> None:
    chain.broken = True
    assert keychain_available()
    assert load_key().source == "none"
    assert save_key(SAVED) == KeyInfo(SAVED, "memory")
    assert load_key() == KeyInfo(SAVED, "memory")
    assert delete_key() == Removal(removed=True, keychain_reached=False)  # logs, never raises
    assert load_key().source == "none"


def test_delete_forgets_the_key_everywhere(chain: MemoryKeyring) -> None:
    assert delete_key() == Removal(removed=False)  # nothing saved yet: fine
    save_key(SAVED)
    assert delete_key() == Removal(removed=True)
    assert chain.passwords == {}
    assert load_key().source == "none"


def test_an_empty_key_is_not_saved() -> None:
    with pytest.raises(ValueError, match="empty"):
        save_key("   ")


def test_the_client_gets_the_settings_address_and_the_current_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_settings_file(AppSettings(base_url="http://127.0.0.1:4010/v1.2"))
    save_key(SAVED)
    chosen = client_settings()
    assert (chosen.base_url, chosen.api_key, chosen.api_version) == (
        "http://127.0.0.1:4010/v1.2",
        SAVED,
        "v1.2",
    )
    monkeypatch.setenv("TWELVELABS_BASE_URL", "http://127.0.0.1:9/v1.3")
    assert client_settings().base_url == "http://127.0.0.1:9/v1.3"


def test_commands_see_the_saved_key_and_address_while_config_reads_the_environment_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_settings_file(AppSettings(base_url="http://127.0.0.1:4010/v1.2"))
    save_key(SAVED)
    chosen = client_settings()
    assert (chosen.base_url, chosen.api_key) == ("http://127.0.0.1:4010/v1.2", SAVED)
    # config is the lowest layer: it never opens the keychain or the settings file.
    assert load_settings().api_key is None
    monkeypatch.setenv("TWELVELABS_API_KEY", "env-key-not-a-secret")
    assert client_settings().api_key == "env-key-not-a-secret"
    assert load_settings().api_key == "env-key-not-a-secret"
    # An explicit mapping is read alone, as before.
    assert load_settings({}).api_key is None


def test_a_new_key_the_keychain_would_not_keep_wins_over_its_old_one(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_key("old-key-not-a-secret")

    def refuse(service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("the keychain would not store it")

    # The keychain still reads (the old key) but refuses to store the new one.
    monkeypatch.setattr(chain, "set_password", refuse)
    assert save_key(SAVED) == KeyInfo(SAVED, "memory")
    assert load_key() == KeyInfo(SAVED, "memory")


def test_the_early_read_runs_on_its_own_thread_and_is_used_once(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app has run here (its folder is there), but noted nothing: an upgrade from a
    # version without the note.
    app_home().mkdir(parents=True)
    chain.passwords[(keys.SERVICE, keys.USERNAME)] = SAVED
    readers: list[str] = []
    real_get = chain.get_password

    def get_password(service: str, username: str) -> str | None:
        readers.append(threading.current_thread().name)
        return real_get(service, username)

    monkeypatch.setattr(chain, "get_password", get_password)
    keys.read_keychain_early()
    assert load_key() == KeyInfo(SAVED, "keychain")
    assert readers == ["keychain"]  # read off the main thread, while Qt loads
    # Taken once: a key changed later is read afresh, never the start's answer.
    chain.passwords[(keys.SERVICE, keys.USERNAME)] = "newer-key-not-a-secret"
    assert load_key() == KeyInfo("newer-key-not-a-secret", "keychain")
    assert readers == ["keychain", "MainThread"]


def test_no_early_read_when_the_key_is_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", "env-key-not-a-secret")
    keys.read_keychain_early()
    assert keys._early is None
    assert load_key() == KeyInfo("env-key-not-a-secret", "env")


def test_once_the_keychain_said_it_holds_no_key_it_is_not_asked_again(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start without a key never loads keyring (docs/settings.md, "The keychain")."""
    assert load_key() == KeyInfo(None, "none")  # asked once: nothing there
    asked: list[str] = []

    def available() -> bool:
        asked.append("asked")
        return True

    monkeypatch.setattr(keys, "keychain_available", available)
    assert load_key() == KeyInfo(None, "none")
    assert asked == []


def test_a_saved_key_is_read_at_the_next_start_and_a_deleted_one_is_not_asked_for(
    chain: MemoryKeyring,
) -> None:
    assert load_key().key is None
    save_key(SAVED)
    assert load_key() == KeyInfo(SAVED, "keychain")
    assert delete_key() == Removal(removed=True)
    chain.passwords[(keys.SERVICE, keys.USERNAME)] = "put-there-by-another-program"
    # Deleted by this app: it keeps no key there, so it does not look.
    assert load_key() == KeyInfo(None, "none")
    save_key(SAVED)
    assert load_key() == KeyInfo(SAVED, "keychain")


def test_a_locked_keychain_teaches_nothing(chain: MemoryKeyring) -> None:
    """Locked at one start, the key may well be there: the next start asks again."""
    chain.passwords[(keys.SERVICE, keys.USERNAME)] = SAVED
    chain.broken = True
    assert load_key() == KeyInfo(None, "none")
    chain.broken = False
    assert load_key() == KeyInfo(SAVED, "keychain")


def test_an_unwritable_app_folder_only_costs_the_shortcut(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the app folder should be")
    monkeypatch.setenv("UPLOADER_APP_HOME", str(blocker / "home"))
    assert load_key() == KeyInfo(None, "none")
    save_key(SAVED)
    assert load_key() == KeyInfo(SAVED, "keychain")


def test_a_keychain_out_of_reach_for_one_run_does_not_hide_the_saved_key(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command run where the keychain cannot be reached (over SSH, no Secret Service) learns
    nothing about what it holds: the window started at the desk must still find the key."""
    save_key(SAVED)
    with monkeypatch.context() as away:
        away.setattr(keys, "keychain_available", lambda: False)
        assert load_key() == KeyInfo(None, "none")
    assert load_key() == KeyInfo(SAVED, "keychain")


@pytest.mark.parametrize("why", ["locked", "out of reach"])
def test_a_delete_that_cannot_reach_the_keychain_does_not_hide_the_key_it_holds(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    """Nothing was removed from a keychain that could not be asked: the key saved there must
    still be found once it can be (was noted "none", so never asked again)."""
    save_key(SAVED)
    with monkeypatch.context() as away:
        if why == "locked":
            chain.broken = True
        else:
            away.setattr(keys, "keychain_available", lambda: False)
        assert delete_key() == Removal(removed=False, keychain_reached=False)
    chain.broken = False
    assert (config.app_home() / keys.STATE_FILE).read_text() == "saved"
    assert load_key() == KeyInfo(SAVED, "keychain")
    assert delete_key() == Removal(removed=True)  # reachable again: it goes
    assert load_key() == KeyInfo(None, "none")


def test_a_key_saved_when_the_note_cannot_be_rewritten_is_still_found(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk: the old "none" must not stay behind, or the next start skips the keychain
    that now holds the key."""
    assert load_key() == KeyInfo(None, "none")  # notes "none"

    def disk_full(_path: Path, _data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keys, "write_atomically", disk_full)
    save_key(SAVED)
    assert load_key() == KeyInfo(SAVED, "keychain")


def test_a_key_this_app_saved_is_read_after_the_window_not_before(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring is not even loaded before the window's first frame (docs/gui.md, "Start-up")."""
    save_key(SAVED)
    keys.read_keychain_early()
    assert keys._early is None  # nothing competes with the window's first frame
    readers: list[str] = []
    real_get = chain.get_password

    def get_password(service: str, username: str) -> str | None:
        readers.append(threading.current_thread().name)
        return real_get(service, username)

    monkeypatch.setattr(chain, "get_password", get_password)
    read = keys.saved_key_read()
    assert read is not None
    assert readers == []  # not started until asked
    read.start()
    read.start()  # once only
    assert read.result() == SAVED
    assert read.result() == SAVED
    assert readers == ["keychain"]


def test_no_later_read_when_another_key_wins_or_none_was_saved(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert keys.saved_key_read() is None  # not known yet: the early read's case
    assert load_key() == KeyInfo(None, "none")
    assert keys.saved_key_read() is None  # noted: none there
    save_key(SAVED)
    monkeypatch.setenv("TWELVELABS_API_KEY", "env-key-not-a-secret")
    assert keys.saved_key_read() is None
    monkeypatch.delenv("TWELVELABS_API_KEY")
    monkeypatch.setattr(keys, "_memory_key", "kept-in-memory-not-a-secret")
    assert keys.saved_key_read() is None
    monkeypatch.setattr(keys, "_memory_key", None)
    assert keys.saved_key_read() is not None


def test_a_saved_key_gone_from_the_keychain_reads_as_none(chain: MemoryKeyring) -> None:
    save_key(SAVED)
    chain.passwords.clear()  # removed with the OS's own password manager
    read = keys.saved_key_read()
    assert read is not None and read.result() is None
    assert keys.saved_key_read() is None  # and the note says so now


def test_a_first_start_asks_the_keychain_after_its_window(chain: MemoryKeyring) -> None:
    """No app folder yet: nothing is read before the window, a key an earlier install left
    is still found after it (docs/settings.md, "The keychain")."""
    chain.passwords[(keys.SERVICE, keys.USERNAME)] = SAVED
    keys.read_keychain_early()
    assert keys._early is None
    read = keys.first_start_read()
    assert read is not None and read.result() == SAVED
    # The app's folder is made now (the note): a later start is no first start.
    assert app_home().exists()
    assert keys.first_start_read() is None
    assert keys.saved_key_read() is not None


def test_a_key_saved_while_the_first_start_reads_the_keychain_is_not_hidden(
    chain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read after the welcome screen's first frame finds nothing; the person's key is
    saved before that read notes "none": the note must still say "saved" afterwards."""
    real_get = chain.get_password
    saved = threading.Event()

    def save() -> None:
        save_key(SAVED)
        saved.set()

    def get_password(service: str, username: str) -> str | None:
        found = real_get(service, username)  # nothing there yet
        threading.Thread(target=save).start()
        saved.wait(0.5)  # the save, if nothing holds it back until this read is noted
        return found

    monkeypatch.setattr(chain, "get_password", get_password)
    read = keys.first_start_read()
    assert read is not None and read.result() is None
    assert saved.wait(5)
    assert keys.saved_key_read() is not None  # the next start reads the saved key
