"""Build a warehouse from the synthetic world, through the same import path real files use."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from govsocial.errors import ConfigError
from govsocial.registry import read_registry
from govsocial.sources.generic import stage
from govsocial.store import ImportSummary, Warehouse, apply_registry, known_clusters, load_file
from govsocial.store.summary import holds_real_data
from govsocial.synth import SynthResult, generate


@dataclass(frozen=True)
class Progress:
    """Callbacks a caller (the CLI's progress bars) can give; all optional."""

    generated: Callable[[int], None] | None = None  # n posts just generated
    loaded: Callable[[ImportSummary], None] | None = None  # one file loaded


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
    """Generate the world into ``folder/synth`` and build ``folder/govsocial.duckdb``.

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
