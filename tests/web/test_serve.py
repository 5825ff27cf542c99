"""`govsocial serve`: what it serves and what it says (cli/serving.py)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from conftest import run_cli
from govsocial.publish.model import ReadModel
from web.site import free_port


def test_serve_starts_on_the_state_beside_the_warehouse_and_says_how_to_begin(
    tmp_path: Path, published: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:  # uvicorn.run, served here in a thread
        started.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    root = published.folder.parent
    port = free_port()
    (tmp_path / "w").mkdir()
    done = run_cli(
        "serve", "--db", "w/govsocial.duckdb", "--root", str(root), "--port", str(port),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert started["host"] == "127.0.0.1" and started["port"] == port
    assert f"http://localhost:{port}/" in done.stdout
    assert "/setup" in done.stdout  # nobody can sign in yet: it says how to begin
    assert (tmp_path / "w" / "govsocial-web.sqlite3").is_file()
    key = tmp_path / "w" / "govsocial-web.key"
    assert key.stat().st_mode & 0o077 == 0
    server = uvicorn.Server(
        uvicorn.Config(started["app"], host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            front = client.get("/", follow_redirects=True)
            assert front.status_code == 200 and published.run_id in front.text
            assert client.get("/login").headers["location"] == "/setup"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    done = run_cli("serve", "--port", "70000", cwd=tmp_path)
    assert done.returncode == 2 and "70000" in done.stderr


def test_serve_with_workers_gives_each_worker_the_same_config(
    tmp_path: Path, published: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govsocial.web.app import CONFIG_VARIABLE, from_environment

    started: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:  # as uvicorn starts each worker process
        started.update(options, app=app, environment=os.environ[CONFIG_VARIABLE])

    monkeypatch.setattr(uvicorn, "run", run)
    root = published.folder.parent
    done = run_cli("serve", "--root", str(root), "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert started["app"] == "govsocial.web.app:from_environment"
    assert started["factory"] is True and started["workers"] == 2
    monkeypatch.setenv(CONFIG_VARIABLE, started["environment"])
    app = from_environment()  # what each worker process does
    state = app.state.govsocial
    assert state.config.published == root.absolute()
    assert state.config.state == (tmp_path / "govsocial-web.sqlite3").absolute()
    assert state.model(published.run_id).run_id == published.run_id
