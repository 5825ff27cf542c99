"""Build a warehouse from the synthetic world, through the same import path real files use."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from govsocial.errors import ConfigError
from govsocial.registry import read_registry
from govsocial.sources.generic import stage
from govsocial.store import ImportSummary, Warehouse, apply_registry, known_clusters, load_file
from govsocial.store.summary import holds_real_data
from govsocial.synth import SynthResult, generate
from govsocial.text.update import update

if TYPE_CHECKING:
    from govsocial.collect.runs import CollectReport
    from govsocial.sources.http import Wait


@dataclass(frozen=True)
class Progress:
    """Callbacks a caller (the CLI's progress bars) can give; all optional."""

    generated: Callable[[int], None] | None = None  # n posts just generated
    loaded: Callable[[ImportSummary], None] | None = None  # one file loaded
    read: Callable[[int, int], None] | None = None  # texts read so far, of all to read


def check_target(wh: Warehouse) -> None:
    """Refuse to mix a synthetic world into a warehouse holding real data: every award on it
    would then be labelled SYNTHETIC. (``load_world(..., with_real_data=True)`` to insist.)"""
    if holds_real_data(wh):
        raise ConfigError(
            f"The warehouse {wh.path} holds real data; loading a synthetic world into it would "
            "mark every award run on it SYNTHETIC. Load the world into a new warehouse "
            "(--db synth.duckdb), generate files only (--no-load), or pass --with-real-data "
            "if you mean to mix them."
        )


def load_world(
    wh: Warehouse,
    world: SynthResult,
    progress: Progress | None = None,
    *,
    with_real_data: bool = False,
) -> list[ImportSummary]:
    """Load a generated world: its registry, follower snapshots, then posts, file by file.

    Refused (see :func:`check_target`) when the warehouse holds real data, unless
    ``with_real_data``.
    """
    if not with_real_data:
        check_target(wh)
    files = [*world.account_snapshot_files, *world.post_files]
    return load_world_files(wh, world.registry_path, files, progress)


def load_world_files(
    wh: Warehouse, registry_path: Path, files: list[Path], progress: Progress | None = None
) -> list[ImportSummary]:
    """Load a registry, then generic files (marked synthetic), file by file."""
    registry = read_registry(registry_path, known_clusters(wh))
    apply_registry(wh, registry, registry_path)
    summaries = []
    for path in files:
        summary = load_file(wh, path, lambda p: stage(p, synthetic=True))
        summaries.append(summary)
        if progress and progress.loaded:
            progress.loaded(summary)
    return summaries


def build_demo(
    folder: Path, *, posts: int, seed: int, progress: Progress | None = None
) -> tuple[Path, SynthResult]:
    """Generate the world into ``folder/synth`` and build ``folder/govsocial.duckdb``, its
    posts' texts read by the text stage (themes, keywords and trends answer at once).

    The warehouse is built under a temporary name and renamed into place at the end, so an
    interrupted demo never leaves a half-built warehouse behind.
    """
    final = folder / "govsocial.duckdb"
    if final.exists():  # only ever replace an earlier demo
        with Warehouse.open(final, read_only=True) as wh:  # refuses a file that is no warehouse
            if holds_real_data(wh):
                raise ConfigError(
                    f"{final} holds real data; the demo would replace it. Choose another "
                    f"folder with --dir (the demo builds DIR/govsocial.duckdb)."
                )
    folder.mkdir(parents=True, exist_ok=True)
    world = generate(
        folder / "synth",
        seed=seed,
        posts=posts,
        on_progress=progress.generated if progress else None,
    )
    building = folder / "govsocial.duckdb.building"
    _remove(building)
    try:
        with Warehouse.open(building, create=True) as wh:
            load_world(wh, world, progress)
            update(wh, progress=progress.read if progress else None)
            wh.checkpoint()
        with contextlib.suppress(FileNotFoundError):
            final.with_name(final.name + ".wal").unlink()
        os.replace(building, final)
    finally:
        _remove(building)
    return final, world


def _remove(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


# The year gsm2025 evaluates (1 Aug 2024 to 1 Aug 2025, WIB): the demo's collected posts
# fall in it, so the award runs on the collected warehouse.
AWARD_YEAR = (datetime(2024, 7, 31, 17, tzinfo=UTC), datetime(2025, 7, 31, 17, tzinfo=UTC))


@dataclass(frozen=True)
class CollectDemo:
    """What the demo's collection did: the warehouse, the run, and the check against the
    fake server's own totals."""

    path: Path
    report: CollectReport
    expected: dict[str, int]  # posts the server holds in the window, per platform
    collected: dict[str, int]  # distinct posts in the warehouse, per platform
    faults: str


def collect_demo(
    folder: Path,
    *,
    institutions: int = 4,
    posts_per_account: int = 60,
    step: Callable[[object, str], None] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
) -> CollectDemo:
    """Collect from the fake platform server (all five APIs, 127.0.0.1, 10% of requests
    faulted) into ``folder/collected.duckdb``, a warehouse of its own (the award demo's
    warehouse stays as built), and count what arrived against what the server holds."""
    from govsocial.collect.clients import CLIENTS, open_client
    from govsocial.collect.runs import collect
    from govsocial.store.collecting import posts_per_platform
    from govsocial.store.registry import load_registry
    from govsocial.synth.platforms.base import Credentials, Faults
    from govsocial.synth.platforms.server import FakePlatforms
    from govsocial.synth.platforms.world import FakeWorld

    world = FakeWorld(
        institutions=institutions,
        posts_per_account=posts_per_account,
        start=AWARD_YEAR[0],
        end=AWARD_YEAR[1],
    )
    path = folder / "collected.duckdb"
    if path.exists():  # only ever replace an earlier demo's
        with Warehouse.open(path, read_only=True) as wh:
            if holds_real_data(wh):
                raise ConfigError(f"{path} holds real data; the demo would replace it.")
    _remove(path)
    folder.mkdir(parents=True, exist_ok=True)
    load_registry(path, world.write_registry(folder / "fake-platforms-registry.yaml"))
    faults = Faults(server_error=0.06, truncated=0.04)  # rate limits: see tests (minutes)
    with FakePlatforms(world, faults=faults, seed=7) as server, Warehouse.open(path) as wh:
        credentials = Credentials().settings()
        clients = {
            p: open_client(p, api_root=server.root, credentials=credentials, on_wait=on_wait)
            for p in CLIENTS
        }
        try:
            report = collect(wh, clients=clients, since=world.start, until=world.end, step=step)
        finally:
            for client in clients.values():
                client.close()
        collected = posts_per_platform(wh)
    return CollectDemo(
        path,
        report,
        {p: world.total_posts(p, world.start, world.end) for p in CLIENTS},
        collected,
        "6% server errors, 4% cut-off bodies",
    )


@dataclass(frozen=True)
class DemoLogin:
    role: str
    login: str
    password: str
    institution_id: str | None = None


DEMO_LOGINS_FILE = "demo-logins.txt"


def demo_users(folder: Path, operator_institution: str) -> tuple[Path, list[DemoLogin]]:
    """The web app's state file beside the demo warehouse with its demo users: an organiser,
    three jurors and an operator of ``operator_institution``, each with a new random password,
    written (readable by the owner only) to ``folder/demo-logins.txt``. A state file that
    has users already is kept as it is (its logins file says them)."""
    import secrets

    from govsocial.jury.store import DEFAULT_NAME, StateStore
    from govsocial.jury.users import Console, add_user, has_users

    state = folder / DEFAULT_NAME
    listing = folder / DEMO_LOGINS_FILE
    with StateStore.open(state, create=True) as store:
        if has_users(store):
            return state, []
        people = [
            DemoLogin("organiser", "panitia", secrets.token_urlsafe(9)),
            *(DemoLogin("juror", f"juri{i}", secrets.token_urlsafe(9)) for i in (1, 2, 3)),
            DemoLogin("operator", "humas", secrets.token_urlsafe(9), operator_institution),
        ]
        for person in people:
            add_user(
                store,
                Console("demo"),
                name=person.login.title(),
                login=person.login,
                role=person.role,  # type: ignore[arg-type]
                password=person.password,
                institution_id=person.institution_id,
            )
    fd = os.open(listing, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# The demo web app's users (SYNTHETIC demo only): role, login, password\n")
        for person in people:
            extra = f"  (institution {person.institution_id})" if person.institution_id else ""
            handle.write(f"{person.role:<10} {person.login:<8} {person.password}{extra}\n")
    return state, people
