"""Keep-awake: held while any upload runs, let go after the last; never fails an upload."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pytest
from wakepy import keep

from uploader_app.jobs import keepawake
from uploader_app.jobs.keepawake import KeepAwake


class _Mode(AbstractContextManager[Any]):
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __exit__(self, *exc: object) -> None:
        self.log.append("exit")


def test_first_upload_asks_last_one_lets_go(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []

    def enter() -> _Mode:
        log.append("enter")
        return _Mode(log)

    monkeypatch.setattr(keepawake, "_enter", enter)
    awake = KeepAwake()
    with awake.hold():
        with awake.hold():
            assert awake.holders == 2
        assert log == ["enter"]
    assert log == ["enter", "exit"]
    assert awake.holders == 0


def test_no_backend_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**kwargs: Any) -> Any:
        raise RuntimeError("no inhibitor here")

    monkeypatch.setattr(keep, "running", refuse)
    with KeepAwake().hold():
        pass  # the upload goes on


def test_disabled_never_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keepawake, "_enter", lambda: pytest.fail("asked"))
    with KeepAwake(enabled=False).hold():
        pass
