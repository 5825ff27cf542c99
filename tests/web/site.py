"""A real web server for the web tests: the app on uvicorn, on 127.0.0.1, in a thread of the
test process, with its own state file; and a client that signs in as a browser does (the
sign-in form's CSRF token, the cookies).

    from web.site import Server, signed_in

    def test_something(server: Server) -> None:
        with signed_in(server, "juror1") as juror:
            page = juror.get("/jury")

The fixtures (tests/web/conftest.py): ``server`` (a fresh state file with the people of
jury/world.py, the published run of reports/published.py), ``people``, ``clock``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from govsocial.web.app import create_app
from govsocial.web.config import WebConfig
from jury.world import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """The running app: ``url``, its ``config`` (state file, published root)."""

    url: str
    config: WebConfig
    uvicorn: uvicorn.Server
    thread: threading.Thread

    def client(self) -> httpx.Client:
        """A new visitor (no cookies), who does not follow redirects."""
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)


@contextlib.contextmanager
def serving(config: WebConfig, log_level: str = "warning") -> Iterator[Server]:
    """The app of ``config`` served on a free port of 127.0.0.1 until the block ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config), host="127.0.0.1", port=port, log_level=log_level, lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", config, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the first form on ``page``."""
    found = CSRF_FIELD.search(page.text)
    assert found, f"no form with a CSRF token on {page.url}"
    return found.group(1)


def sign_in(client: httpx.Client, login: str, password: str | None = None) -> httpx.Response:
    """Sign in through the form, as a browser does; returns the form's answer."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "csrf": csrf_of(page),
            "login": login,
            "password": PASSWORD.format(login) if password is None else password,
        },
    )


@contextlib.contextmanager
def signed_in(server: Server, login: str, password: str | None = None) -> Iterator[httpx.Client]:
    """A client signed in as ``login`` (the people of jury/world.py have known passwords)."""
    with server.client() as client:
        answer = sign_in(client, login, password)
        assert answer.status_code == 303, f"{login} could not sign in: {answer.text[:500]}"
        yield client


def post_form(client: httpx.Client, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    """Load ``page``, then send ``data`` to ``action`` with the page's CSRF token."""
    token = csrf_of(client.get(page))
    return client.post(action, data={"csrf": token, **data})


def published_root(folder: Path) -> Path:
    """The root of published runs that holds the test's published run."""
    return folder.parent
