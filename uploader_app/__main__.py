"""Entry point: ``uploader-app`` and ``python -m uploader_app``."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from uploader_app import crash, network
from uploader_app.handover import file_address_path, is_web_address
from uploader_app.validation.processes import enable_processes


def main(argv: list[str] | None = None) -> int:
    """Run the app; only ever called under an ``if __name__ == "__main__"`` guard.

    The console script's generated wrapper, ``python -m uploader_app`` (below) and
    ``packaging/launch.py`` all guard the call, so a spawned probe worker that imports the main
    module again never reaches it. That is what makes it safe to let big scans use worker
    processes here, and nowhere else (see ``validation/pool.py``).
    """
    if getattr(sys, "frozen", False):
        # A frozen bundle's spawned worker becomes the worker here. Outside a bundle this
        # does nothing, so multiprocessing is not loaded at every start (docs/gui.md).
        import multiprocessing  # noqa: PLC0415

        multiprocessing.freeze_support()
    crash.install()
    enable_processes()
    args = sys.argv[1:] if argv is None else argv
    if opens_window(args):
        # Start-up allocates a lot and frees almost nothing: no garbage collection until the
        # window's first frame or the welcome screen, where gui/startup.py turns it back on
        # (a tenth of the start's time; docs/gui.md, "Start-up").
        gc.disable()
        from uploader_app import keys  # noqa: PLC0415 - the command line reads keys itself

        keys.read_keychain_early()
        from uploader_app.gui.app import run_gui  # noqa: PLC0415 - Qt only for the window

        # The window trusts what the OS trusts from its first connection on, which comes
        # after its first frame (docs/network.md).
        return run_gui(args)
    from uploader_app.cli import main as cli_main  # noqa: PLC0415 - not for the window

    # Before any connection: every command trusts what the OS trusts.
    network.use_system_trust_store()
    return cli_main(args)


def opens_window(args: list[str]) -> bool:
    """No arguments, or only files, folders and web addresses (what a desktop passes when videos
    are dropped on the app's icon); a subcommand's name always means the command line.

    A file that is no longer there still opens the window, where its row says so: a launcher
    started without a terminal has nowhere to show the command line's error. A bare word that
    names nothing ("chek") is a mistyped command, for the command line to answer.
    """
    if not args:
        return True
    if args[0] in _subcommands() or any(a.startswith("-") for a in args):
        return False
    return all(_names_a_file(a) for a in args)


def _names_a_file(arg: str) -> bool:
    if is_web_address(arg) or file_address_path(arg) is not None:
        return True
    path = Path(arg)
    return path.exists() or path.is_absolute() or len(path.parts) > 1 or bool(path.suffix)


def _subcommands() -> frozenset[str]:
    import argparse  # noqa: PLC0415 - only when arguments are given

    from uploader_app.cli import build_parser  # noqa: PLC0415

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return frozenset(action.choices)
    return frozenset()


if __name__ == "__main__":
    sys.exit(main())
