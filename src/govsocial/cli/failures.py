"""Every way a command can fail, turned into one paragraph and an exit code."""

from __future__ import annotations

import sys
import traceback
from typing import Any

import typer
from rich.text import Text

from govsocial.cli.common import err
from govsocial.errors import interrupted_query


def message(text: str) -> None:
    err.print(Text.assemble(("Error: ", "bold red"), text))


def run(app: typer.Typer, args: list[str], *, debug: bool) -> int:
    """Run the app; return the exit code. Never lets a traceback out without ``--debug``."""
    from govsocial.errors import GovsocialError

    try:
        result: Any = app(args=args, standalone_mode=False, prog_name="govsocial")
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.Abort:
        message("Interrupted.")
        return 130
    except typer.TyperException as usage:  # Typer's usage errors: exit 2
        show = getattr(usage, "show", None)
        if show is not None:
            show()
        else:
            message(str(usage))
        return int(getattr(usage, "exit_code", 2))
    except GovsocialError as exc:
        if debug:
            traceback.print_exc()
        message(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        message("Interrupted; nothing of the unfinished step was kept.")
        return 130
    except SystemExit as done:  # Typer exits 1 after a broken pipe (`govsocial info | head`)
        if done.code == 1 and "Pacify" in type(sys.stdout).__name__:
            return 0
        raise
    except OSError as exc:
        if debug:
            traceback.print_exc()
        where = f" ({exc.filename})" if exc.filename else ""
        message(
            f"{exc.strerror or exc}{where}. Check the path, its permissions and the free disk "
            "space; run again with --debug to see where it happened."
        )
        return 1
    except Exception as exc:  # a bug: say so plainly, with the way to report it
        if debug:
            traceback.print_exc()
        if interrupted_query(exc):  # DuckDB's own Ctrl-C, raised as a RuntimeError
            message("Interrupted; nothing of the unfinished step was kept.")
            return 130
        message(
            f"Unexpected {type(exc).__name__}: {exc}. This is a bug in govsocial; run the "
            "command again with --debug and report the traceback."
        )
        return 1
    return int(result) if isinstance(result, int) else 0
