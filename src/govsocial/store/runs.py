"""Award runs kept in the warehouse, and the fingerprint of the data a run saw."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from govsocial.errors import ConfigError
from govsocial.store.warehouse import Warehouse


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    methodology_id: str
    methodology_sha256: str
    methodology_text: str
    data_fingerprint: str
    govsocial_version: str
    engine: str
    seconds: float
    results: str  # the results JSON document
    created_at: datetime | None = None


def data_fingerprint(wh: Warehouse) -> str:
    """Hash of every loaded batch (id, kind and file hash): changes whenever data is loaded."""
    rows = wh.con.execute(
        "SELECT batch_id, kind, coalesce(file_sha256, '') FROM ingest_batches "
        "WHERE status = 'loaded' ORDER BY batch_id"
    ).fetchall()
    text = "\n".join(f"{b}:{k}:{s}" for b, k, s in rows)
    # Assignments made without a batch (--assign-to) change results too.
    owners = wh.con.execute(
        "SELECT account_id, coalesce(institution_id, '') FROM accounts ORDER BY 1"
    ).fetchall()
    text += "\n" + ",".join(f"{a}={i}" for a, i in owners)
    return hashlib.sha256(text.encode()).hexdigest()


def save_run(wh: Warehouse, run: RunRecord) -> None:
    """Keep a run; a run id already kept is left as it is (same inputs, same results)."""
    with wh.transaction():
        wh.con.execute(
            "INSERT INTO award_runs SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM award_runs WHERE run_id = ?)",
            [
                run.run_id,
                run.methodology_id,
                run.methodology_sha256,
                run.methodology_text,
                run.data_fingerprint,
                run.govsocial_version,
                run.engine,
                datetime.now(UTC),
                run.seconds,
                run.results,
                run.run_id,
            ],
        )


def get_run(wh: Warehouse, run_id: str) -> RunRecord:
    """The run whose id is ``run_id`` or starts with it (like a short git hash)."""
    rows = wh.con.execute(
        "SELECT run_id, methodology_id, methodology_sha256, methodology_text, data_fingerprint,"
        " govsocial_version, engine, seconds, results::VARCHAR, created_at FROM award_runs"
        " WHERE starts_with(run_id, ?) ORDER BY run_id",
        [run_id],
    ).fetchall()
    if not rows:
        known = [
            r[0]
            for r in wh.con.execute(
                "SELECT run_id FROM award_runs ORDER BY created_at DESC LIMIT 5"
            ).fetchall()
        ]
        hint = f" Recent runs: {', '.join(known)}." if known else " There are no runs yet."
        raise ConfigError(
            f"No award run '{run_id}' in {wh.path}.{hint} Make one with "
            "`govsocial awards run --methodology gsm2025`."
        )
    if len(rows) > 1:
        raise ConfigError(
            f"'{run_id}' matches {len(rows)} runs ({', '.join(r[0] for r in rows)}); "
            "give more of the run id."
        )
    return RunRecord(*rows[0])


def list_runs(wh: Warehouse) -> list[tuple[str, str, str, datetime, float]]:
    rows = wh.con.execute(
        "SELECT run_id, methodology_id, engine, created_at, seconds FROM award_runs "
        "ORDER BY created_at DESC"
    ).fetchall()
    return [(r[0], r[1], r[2], r[3], float(r[4])) for r in rows]
