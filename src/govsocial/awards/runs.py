"""The award-run service: run a methodology on a warehouse and keep the run.

The CLI's ``awards run`` and the web app call these. The computation only reads, so it can run
on a read-only warehouse (other readers go on meanwhile); :func:`keep_run` then needs a short
write.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govsocial.awards.methodology import Methodology, load_methodology
from govsocial.registry import default_clusters
from govsocial.store import Warehouse, known_clusters
from govsocial.store.cubecache import CubeCacheUpdate, save_cube_cache
from govsocial.store.runs import RunRecord, save_run

STEPS = (
    "Loading the methodology",
    "Starting the engine",
    "Summarising posts",
    "Ranking",
    "Collecting evidence",
    "Writing the results",
)


@dataclass(frozen=True)
class ComputedRun:
    """A finished run: the methodology, the engine and the results document (its text)."""

    methodology: Methodology
    engine: str
    run_id: str
    text: str  # the canonical results JSON
    seconds: float
    data_fingerprint: str
    cube_cache: CubeCacheUpdate | None = None  # the cube weeks computed, kept by keep_run

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.text)
        return parsed


def names_themes(db: Path, methodology: str) -> bool:
    """Whether ``methodology`` has a category that names theme files (text/themes/)."""
    with Warehouse.open(db, read_only=True) as wh:
        clusters = {c.id for c in (*default_clusters(), *known_clusters(wh))}
    m = load_methodology(methodology, sorted(clusters))
    return any(c.theme is not None and c.theme.names for c in m.categories)


def compute_run(
    wh: Warehouse,
    methodology: str,
    engine: str,
    step: Callable[[str], None] | None = None,
    replicates: int | None = None,
) -> ComputedRun:
    """Run ``methodology`` (a shipped name or a .toml path) on ``engine``; nothing is written.

    ``replicates``: resampled years of the stability analysis (default
    :data:`govsocial.awards.stability.REPLICATES`).

    ``step(name)`` is called as each of :data:`STEPS` starts (for progress).
    """
    from govsocial.awards.engine import run_awards  # Ibis loads here, not at every CLI start

    say = step or (lambda _: None)
    say(STEPS[0])
    clusters = {c.id for c in (*default_clusters(), *known_clusters(wh))}
    m = load_methodology(methodology, sorted(clusters))
    say(STEPS[1])
    if replicates is None:
        run = run_awards(wh, m, engine, step=say)
    else:
        run = run_awards(wh, m, engine, step=say, replicates=replicates)
    say(STEPS[-1])
    return ComputedRun(
        m, engine, run.run_id, run.text, run.seconds, run.data_fingerprint, run.cube_cache
    )


def keep_run(wh: Warehouse, run: ComputedRun) -> None:
    """Keep the run in the warehouse (a run of the same inputs keeps one document and gains
    this execution: engine and time), then the cube weeks it computed, so that the next run
    recomputes only the weeks whose data changes (metrics/cube.py, ``cached_cube``)."""
    m = run.methodology
    save_run(
        wh,
        RunRecord(
            run.run_id,
            m.id,
            m.sha256,
            m.text,
            run.data_fingerprint,
            run.document["code_version"],
            run.engine,
            run.seconds,
            run.text,
        ),
    )
    if run.cube_cache is not None:
        save_cube_cache(wh, run.cube_cache)


def run_and_keep(
    db: Path,
    methodology: str,
    engine: str,
    step: Callable[[str], None] | None = None,
    replicates: int | None = None,
) -> ComputedRun:
    """Compute a run on the warehouse at ``db`` opened read-only (other readers go on
    meanwhile), then keep it with a short write."""
    if names_themes(db, methodology):  # themed categories read current theme tags
        from govsocial.text.update import update

        with Warehouse.open(db) as wh:
            if step:
                step("Tagging posts with themes")
            update(wh)
    with Warehouse.open(db, read_only=True) as wh:
        computed = compute_run(wh, methodology, engine, step, replicates)
    with Warehouse.open(db) as wh:
        keep_run(wh, computed)
    return computed
