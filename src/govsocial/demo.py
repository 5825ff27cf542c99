"""Build a warehouse from the synthetic world, through the same import path real files use."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from govsocial.registry import read_registry
from govsocial.sources.generic import stage
from govsocial.store import ImportSummary, Warehouse, apply_registry, known_clusters, load_file
from govsocial.synth import SynthResult, generate


@dataclass(frozen=True)
class Progress:
    """Callbacks a caller (the CLI's progress bars) can give; all optional."""

    generated: Callable[[int], None] | None = None  # n posts just generated
    loaded: Callable[[ImportSummary], None] | None = None  # one file loaded


def load_world(
    wh: Warehouse, world: SynthResult, progress: Progress | None = None
) -> list[ImportSummary]:
    """Load a generated world: its registry, follower snapshots, then posts, file by file."""
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
    folder.mkdir(parents=True, exist_ok=True)
    world = generate(
        folder / "synth",
        seed=seed,
        posts=posts,
        on_progress=progress.generated if progress else None,
    )
    final = folder / "govsocial.duckdb"
    building = folder / "govsocial.duckdb.building"
    _remove(building)
    try:
        with Warehouse.open(building, create=True) as wh:
            load_world(wh, world, progress)
            wh.con.execute("CHECKPOINT")
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
