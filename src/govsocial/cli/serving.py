"""`govsocial serve`: the web app (docs/web.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from govsocial.cli.common import DbOption, db_path, say
from govsocial.cli.jury import StateOption, state_path
from govsocial.cli.publishing import RootOption


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8000,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Send the sign-in cookie over HTTPS only (behind a TLS proxy).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Server processes (one per core serves the most pages; they share the state).",
            min=1,
            max=64,
        ),
    ] = 1,
    state: StateOption = None,
    root: RootOption = None,
    db: DbOption = None,
) -> None:
    """Serve the web app: the published results for everyone, and the pages of organisers,
    jurors and institutions' operators. Its own state (users, juries, ballots, the audit log)
    is an SQLite file beside the warehouse, so the CLI can import, collect and run awards while
    it serves."""
    import uvicorn

    from govsocial.jury.store import StateStore
    from govsocial.jury.users import has_users
    from govsocial.publish.build import default_root
    from govsocial.web.app import CONFIG_VARIABLE, create_app
    from govsocial.web.config import WebConfig

    warehouse = db_path(db).absolute()
    config = WebConfig(
        state=state_path(state, db).absolute(),
        published=(Path(root) if root else default_root(warehouse)).absolute(),
        warehouse=warehouse,
        secure_cookies=secure_cookies,
    ).with_key()
    with StateStore.open(config.state, create=True) as store:
        first = not has_users(store)
    address = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}"
    say(f"Serving the web app at {address}/ (Ctrl-C stops it).")
    say(f"State: {config.state}; published runs: {config.published}.")
    if first:
        say(
            f"Nobody can sign in yet: open {address}/setup to create the first organiser, "
            "or run `govsocial users add LOGIN --name NAME --role organiser`."
        )
    if workers == 1:
        uvicorn.run(create_app(config), host=host, port=port, log_level="warning", access_log=False)
    else:  # each worker process builds the app from the config in the environment
        os.environ[CONFIG_VARIABLE] = config.to_json()
        uvicorn.run(
            "govsocial.web.app:from_environment",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
        )
