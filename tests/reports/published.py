"""A small published run shared by the report tests (site, scorecards, exports).

A synthetic world of about 15,000 posts, run with gsm2025 (20 stability replicates, kept) and
published: built once per test session. Tests use the fixture::

    from reports.published import published_fixture  # noqa: F401

    def test_something(published: ReadModel) -> None: ...

(the fixture is named ``published``; importing it under its function name keeps ruff from
taking the test's argument for a redefinition). ``from reports.published import published``
works too, with ``# noqa: F401`` on the import and ``F811`` on the tests.

or call :func:`published_run` themselves with a ``tmp_path_factory``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govsocial.awards.runs import run_and_keep
from govsocial.demo import load_world
from govsocial.publish.build import publish_run
from govsocial.publish.model import ReadModel
from govsocial.store import Warehouse
from govsocial.synth import generate

SEED = 5
POSTS = 15_000
METHODOLOGY = "gsm2025"
REPLICATES = 20

_built: dict[str, Path] = {}  # one build per session, whoever asks first


def published_run(tmp_path_factory: pytest.TempPathFactory) -> ReadModel:
    """The small synthetic run, published (built on the first call, then reopened)."""
    if "folder" not in _built:
        root = tmp_path_factory.mktemp("published")
        db = root / "w.duckdb"
        with Warehouse.open(db, create=True) as wh:
            load_world(wh, generate(root / "files", seed=SEED, posts=POSTS))
        run = run_and_keep(db, METHODOLOGY, "duckdb", replicates=REPLICATES)
        _built["folder"] = publish_run(db, run.run_id, root / "published").folder
    return ReadModel.open(_built["folder"])


@pytest.fixture(scope="session", name="published")
def published_fixture(tmp_path_factory: pytest.TempPathFactory) -> ReadModel:
    """The small published run (see :func:`published_run`); read it, do not write into it."""
    return published_run(tmp_path_factory)


published = published_fixture
