"""Fixtures of the web tests: a real server (uvicorn on 127.0.0.1) per test, over a fresh copy
of the jury tests' state file (its people and passwords) and the report tests' published
run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from govsocial.jury.store import StateStore
from govsocial.publish.model import ReadModel
from govsocial.web.config import WebConfig
from jury.world import START, Clock, People, make_people
from reports.published import published_fixture  # noqa: F401
from web.site import Server, published_root, serving


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, People]:
    """A state file with an organiser, three jurors, a spare juror and an operator (argon2
    hashing is slow on purpose: done once)."""
    path = tmp_path_factory.mktemp("webstate") / "template.sqlite3"
    with StateStore.open(path, create=True, clock=Clock(START)) as store:
        people = make_people(store)
    return path, people


@pytest.fixture
def people(template: tuple[Path, People]) -> People:
    return template[1]


@pytest.fixture
def state_file(tmp_path: Path, template: tuple[Path, People]) -> Path:
    path = tmp_path / "state" / "govsocial-web.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(template[0], path)
    return path


@pytest.fixture
def config(state_file: Path, published: ReadModel) -> WebConfig:
    return WebConfig(state=state_file, published=published_root(published.folder))


@pytest.fixture
def server(config: WebConfig) -> Iterator[Server]:
    with serving(config) as running:
        yield running
