"""The cube cache: the award engine's cube kept per scope and week (tables ``cube_cache_*``).

The cube (:mod:`govsocial.metrics.cube`) is the one pass over every post of a period. Kept
here per *scope* (everything the cube depends on besides the posts, hashed: period,
platforms, clusters, definitions, theme filters, the registry's assignments, the code) and
per week, with the week's *fingerprint* (a hash of the data its rows were computed from) and,
per scope, the count readings the kept weeks are up to date with (:class:`MetricsState`), a
run after an import recomputes only the weeks whose data changed. The metrics stage decides
what is fresh (:func:`govsocial.metrics.cube.cached_cube`); this module only keeps and gives
back rows.

Reading works on a read-only warehouse (the award run computes on one); the rows a run
computed are written afterwards, with the run (:func:`save_cube_cache`, in a short write).
A week's rows are an Arrow IPC stream (zstd), so the cube's columns, which depend on the
methodology's theme categories, need no table of their own. Rows that cannot be read count
as missing: the run recomputes them. Emptying the tables costs one full run, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from govsocial import __version__
from govsocial.store.warehouse import Warehouse

# Scopes kept: the most recently written ones. A scope no run uses any more (a registry
# change, a new version, an edited period) is garbage; the shipped methodologies and one of
# the user's own fit.
KEEP_SCOPES = 4


@dataclass(frozen=True)
class CubeWeek:
    """One week's cube rows and the fingerprint of the data they were computed from."""

    week: int
    fingerprint: str
    rows: pa.Table


@dataclass(frozen=True)
class MetricsState:
    """The count readings (``post_metrics``) the kept weeks are up to date with: those of
    batches up to ``batch``, and a checksum of them all (to tell that none changed since)."""

    batch: int
    checksum: str


@dataclass(frozen=True)
class CubeCacheUpdate:
    """What a run hands back to be kept: the weeks it computed, for one scope.

    ``scope`` is the JSON text of what ``scope_hash`` covers (for people reading the table);
    ``weeks``: how many weeks the scope's period has; ``metrics``: the count readings every
    kept week of the scope is then up to date with.
    """

    scope_hash: str
    scope: str
    weeks: int
    metrics: MetricsState
    computed: tuple[CubeWeek, ...]


class CubeCache:
    """The cache of one warehouse, read-only (a read-only warehouse is fine)."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    def fingerprints(self, scope_hash: str) -> dict[int, str]:
        """Week → fingerprint of the rows kept for ``scope_hash`` (cheap: no rows are read)."""
        rows = self.wh.con.execute(
            "SELECT week, fingerprint FROM cube_cache_weeks WHERE scope_hash = ?", [scope_hash]
        ).fetchall()
        return {int(week): str(fingerprint) for week, fingerprint in rows}

    def metrics_state(self, scope_hash: str) -> MetricsState | None:
        """The count readings the scope's kept weeks are up to date with (None: none kept)."""
        rows = self.wh.con.execute(  # fetchall: no result left open on the connection
            "SELECT metrics_batch, metrics_checksum FROM cube_cache_scopes WHERE scope_hash = ?",
            [scope_hash],
        ).fetchall()
        return MetricsState(int(rows[0][0]), str(rows[0][1])) if rows else None

    def rows(self, scope_hash: str, weeks: Iterable[int]) -> dict[int, CubeWeek]:
        """The kept rows of these weeks; a week missing or unreadable is left out."""
        wanted = sorted(set(weeks))
        if not wanted:
            return {}
        found = self.wh.con.execute(
            "SELECT week, fingerprint, cube FROM cube_cache_weeks "
            "WHERE scope_hash = ? AND week IN (SELECT unnest(?))",
            [scope_hash, wanted],
        ).fetchall()
        result = {}
        for week, fingerprint, blob in found:
            rows = _decode(blob)
            if rows is not None:
                result[int(week)] = CubeWeek(int(week), str(fingerprint), rows)
        return result


def save_cube_cache(wh: Warehouse, update: CubeCacheUpdate) -> None:
    """Keep the weeks ``update`` computed (replacing the scope's rows of those weeks), mark
    the scope as just used, and drop scopes beyond the :data:`KEEP_SCOPES` most recent."""
    now = datetime.now(UTC)
    with wh.transaction("keeping the cube cache"):
        wh.con.execute(
            "INSERT OR REPLACE INTO cube_cache_scopes VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                update.scope_hash,
                update.scope,
                update.weeks,
                update.metrics.batch,
                update.metrics.checksum,
                __version__,
                now,
            ],
        )
        if update.computed:
            weeks = [w.week for w in update.computed]
            wh.con.execute(
                "DELETE FROM cube_cache_weeks WHERE scope_hash = ? AND week IN (SELECT unnest(?))",
                [update.scope_hash, weeks],
            )
            wh.con.executemany(
                "INSERT INTO cube_cache_weeks VALUES (?, ?, ?, ?, ?, ?)",
                [
                    [
                        update.scope_hash,
                        w.week,
                        w.fingerprint,
                        w.rows.num_rows,
                        _encode(w.rows),
                        now,
                    ]
                    for w in update.computed
                ],
            )
        # Weeks beyond the period (a scope is one period, so only after a damaged write).
        wh.con.execute(
            "DELETE FROM cube_cache_weeks WHERE scope_hash = ? AND (week < 0 OR week >= ?)",
            [update.scope_hash, update.weeks],
        )
        stale = [
            r[0]
            for r in wh.con.execute(
                "SELECT scope_hash FROM cube_cache_scopes "
                "ORDER BY updated_at DESC, scope_hash OFFSET ?",
                [KEEP_SCOPES],
            ).fetchall()
        ]
        _drop(wh, stale)


def clear_cube_cache(wh: Warehouse) -> int:
    """Empty the cache (the next run of each scope is a full one); the weeks dropped."""
    with wh.transaction("emptying the cube cache"):
        [(weeks,)] = wh.con.execute("SELECT count(*) FROM cube_cache_weeks").fetchall()
        wh.con.execute("DELETE FROM cube_cache_weeks")
        wh.con.execute("DELETE FROM cube_cache_scopes")
    return int(weeks)


def _drop(wh: Warehouse, scopes: Sequence[str]) -> None:
    if scopes:
        for table in ("cube_cache_weeks", "cube_cache_scopes"):
            wh.con.execute(
                f"DELETE FROM {table} WHERE scope_hash IN (SELECT unnest(?))", [list(scopes)]
            )


def _encode(rows: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, rows.schema, options=options) as writer:
        writer.write_table(rows)
    return bytes(sink.getvalue().to_pybytes())


def _decode(blob: bytes) -> pa.Table | None:
    try:
        with pa.ipc.open_stream(pa.py_buffer(blob)) as reader:
            return reader.read_all()
    except (pa.ArrowException, OSError):  # damaged: recomputed, as if never kept
        return None
