"""An in-memory keychain for tests, so no test reads or writes the real one."""

from __future__ import annotations

import keyring.errors
from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    """Keeps passwords in a dict; ``broken`` makes every call fail like a locked keychain."""

    priority = 1

    def __init__(self) -> None:
        self.passwords: dict[tuple[str, str], str] = {}
        self.broken = False

    def get_password(self, service: str, username: str) -> str | None:
        self._fail_if_broken()
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._fail_if_broken()
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._fail_if_broken()
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")

    def _fail_if_broken(self) -> None:
        if self.broken:
            raise keyring.errors.KeyringLocked("the keychain is locked")
