"""`govsocial users ...` and `govsocial audit ...`: the web app's accounts and audit log, from
the server's console (docs/jury.md)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govsocial.cli.common import DbOption, FormatOption, OutputFormat, db_path, emit, say

if TYPE_CHECKING:
    from govsocial.jury.store import StateStore
    from govsocial.jury.users import Console

users_app = typer.Typer(
    help="Accounts of the web app: organisers, jurors, institution operators.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="The web app's hash-chained audit log.", no_args_is_help=True)

StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="The web app's state file (default: govsocial-web.sqlite3 beside the warehouse).",
        show_default=False,
    ),
]


def state_path(state: Path | None, db: Path | None) -> Path:
    from govsocial.jury.store import DEFAULT_NAME

    return state if state is not None else db_path(db).parent / DEFAULT_NAME


def open_state(state: Path | None, db: Path | None, *, create: bool = False) -> StateStore:
    from govsocial.jury.store import StateStore

    return StateStore.open(state_path(state, db), create=create)


def console() -> Console:
    """The CLI acts as the person at the server's console (named in the audit log)."""
    from govsocial.jury.users import Console

    try:
        return Console(getpass.getuser())
    except (KeyError, OSError):  # no user name in a container
        return Console("unknown")


@users_app.command("add")
def add(
    login: Annotated[str, typer.Argument(help="Sign-in name (an email works).")],
    name: Annotated[str, typer.Option("--name", help="The person's name.")],
    role: Annotated[str, typer.Option("--role", help="organiser, juror or operator.")] = "juror",
    institution: Annotated[
        str | None,
        typer.Option("--institution", help="An operator's institution id.", show_default=False),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
    state: StateOption = None,
    db: DbOption = None,
) -> None:
    """Add a user (the state file is created with its first user). The password is asked
    twice without echo, or read from standard input with --password-stdin."""
    from govsocial.errors import UsageError
    from govsocial.jury.users import ROLES, add_user

    if role not in ROLES:
        raise UsageError(f"--role must be one of {', '.join(ROLES)} (got '{role}').")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_state(state, db, create=True) as store:
        user = add_user(
            store,
            console(),
            name=name,
            login=login,
            role=role,
            password=password,
            institution_id=institution,
        )
    say(f"Added {user.role} {user.login} (user {user.id}) to {store.path}.")


@users_app.command("list")
def list_(
    fmt: FormatOption = OutputFormat.table, state: StateOption = None, db: DbOption = None
) -> None:
    """List the users with their role and whether they are disabled."""
    from govsocial.jury.users import list_users

    with open_state(state, db) as store:
        users = list_users(store, console())
    emit(
        ["id", "login", "name", "role", "institution", "disabled", "created"],
        [(u.id, u.login, u.name, u.role, u.institution_id, u.disabled, u.created) for u in users],
        fmt,
        keep=("id", "login"),
    )


@users_app.command("disable")
def disable(
    user: Annotated[str, typer.Argument(help="The user's login or id.")],
    state: StateOption = None,
    db: DbOption = None,
) -> None:
    """Disable a user: their sign-in and their open sessions stop working at once."""
    from govsocial.jury.users import disable_user, find_user

    with open_state(state, db) as store:
        found = disable_user(store, console(), find_user(store, console(), user).id)
    say(f"Disabled {found.login} (user {found.id}).")


@audit_app.command("verify")
def verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="SEQ:HASH printed by an earlier verify: check the log still holds it.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Check an exported log instead.", show_default=False),
    ] = None,
    state: StateOption = None,
    db: DbOption = None,
) -> None:
    """Check the audit log's hash chain: any edited, deleted, inserted or reordered entry is
    named by its number. Prints the head (SEQ:HASH) to keep as an anchor."""
    from govsocial.errors import StoreError
    from govsocial.jury.audit import check_chain, read_export
    from govsocial.jury.audit import verify as verify_log

    if file is not None:
        report, where = check_chain(read_export(file), anchor), str(file)
    else:
        with open_state(state, db) as store:
            report, where = verify_log(store, anchor), str(store.path)
    if not report.ok:
        raise StoreError(
            f"the audit log of {where} is not intact: entry {report.bad_seq}: {report.problem}. "
            f"The {report.entries:,} entries before it are intact (head {report.head})."
        )
    say(f"Audit log of {where}: {report.entries:,} entries, chain intact. Head: {report.head}")


@audit_app.command("export")
def export(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: standard output).", show_default=False),
    ] = None,
    state: StateOption = None,
    db: DbOption = None,
) -> None:
    """Write the audit log as JSON Lines, one entry per line with its hashes (check it later
    with `govsocial audit verify --file`)."""
    from govsocial.cli.common import piped
    from govsocial.jury.audit import export as export_log
    from govsocial.reports.files import replacing

    with open_state(state, db) as store:
        if out is None:
            with piped():
                export_log(store, sys.stdout)
            return
        with replacing(out, "audit.jsonl") as partial, partial.open("w", encoding="utf-8") as f:
            lines = export_log(store, f)
    say(f"Wrote {lines:,} audit entries to {out}.")
