"""Fixtures of the jury tests: a real SQLite state file per test (copied from one made once per
session with its users), a fixed clock, and juries on the small published run of the report
tests (tests/reports/published.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from govsocial.jury.juries import Jury, open_jury
from govsocial.jury.store import StateStore
from govsocial.publish.model import ReadModel
from jury.world import CATEGORIES, CLUSTERS, DEADLINE, START, Clock, People, make_people
from reports.published import published_fixture  # noqa: F401


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, People]:
    """A state file with an organiser, three jurors, a spare juror and an operator (argon2
    hashing is slow on purpose: done once)."""
    path = tmp_path_factory.mktemp("state") / "template.sqlite3"
    with StateStore.open(path, create=True, clock=Clock(START)) as store:
        people = make_people(store)
    return path, people


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def people(template: tuple[Path, People]) -> People:
    return template[1]


@pytest.fixture
def state_file(tmp_path: Path, template: tuple[Path, People]) -> Path:
    path = tmp_path / "state.sqlite3"
    shutil.copyfile(template[0], path)  # closed cleanly: the WAL is checkpointed into it
    return path


@pytest.fixture
def store(state_file: Path, clock: Clock) -> Iterator[StateStore]:
    with StateStore.open(state_file, clock=clock) as opened:
        yield opened


@pytest.fixture
def jury(store: StateStore, people: People, published: ReadModel) -> Jury:
    """A jury on two categories × two clusters, the three jurors on every panel."""
    return open_jury(
        store,
        people.organiser,
        published.folder,
        deadline=DEADLINE,
        categories=CATEGORIES,
        clusters=CLUSTERS,
        jurors=people.jurors,
    )
