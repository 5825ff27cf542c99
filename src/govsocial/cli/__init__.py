"""The `govsocial` command: thin commands over the library's services (docs/cli.md).

Each command module imports the library inside its functions, so `govsocial --help` and
`govsocial info` start quickly (bench/bench_startup.py).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from govsocial import __version__
from govsocial.cli import (
    awards,
    collecting,
    files,
    jury,
    publishing,
    registry,
    serving,
    text,
    warehouse,
    world,
)
from govsocial.cli.common import DbOption, State, out
from govsocial.cli.importing import import_files

app = typer.Typer(
    help="govsocial: government social media monitoring and awards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help text is shown as written: `[spark]` stays
)
app.add_typer(registry.app, name="registry")
app.add_typer(awards.app, name="awards")
app.add_typer(collecting.app, name="collect")
app.add_typer(text.app, name="text")
app.add_typer(jury.users_app, name="users")
app.add_typer(jury.audit_app, name="audit")
app.add_typer(files.quarantine_app, name="quarantine")
app.add_typer(files.raw_app, name="raw")
app.command("import")(import_files)
app.command("publish")(publishing.publish)
app.command("report")(publishing.report)
app.command("serve")(serving.serve)
for command in (world.demo, world.synth, warehouse.sql, warehouse.info, warehouse.settings):
    app.command()(command)


def _version(value: bool) -> None:
    if value:
        out.print(f"govsocial {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    db: DbOption = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    State.db = db


def main() -> None:
    """Entry point. Exit codes: 2 for a wrong command line, 130 for Ctrl-C, 1 for every other
    error; the message is one paragraph, a traceback only with --debug."""
    from govsocial.cli.failures import run

    sys.exit(run(app, sys.argv[1:], debug="--debug" in sys.argv))


__all__ = ["app", "main"]
