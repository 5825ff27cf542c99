"""Rejected records: listing them, showing one, and assigning accounts left unassigned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govsocial.errors import ConfigError
from govsocial.store.warehouse import Warehouse


@dataclass(frozen=True)
class QuarantinedRecord:
    batch_id: int
    record_index: int
    origin: str
    source_format: str
    reason: str
    detail: str
    payload: str | None
    file: str | None


def list_quarantine(
    wh: Warehouse, *, batch: int | None = None, reason: str | None = None, limit: int = 50
) -> list[tuple[Any, ...]]:
    """(batch, record, origin, reason, detail) rows, newest batch first."""
    where: list[str] = []
    params: list[object] = []
    if batch is not None:
        where.append("batch_id = ?")
        params.append(batch)
    if reason is not None:
        where.append("reason = ?")
        params.append(reason)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return wh.con.execute(
        f"SELECT batch_id, record_index, origin, reason, detail FROM quarantine {clause} "
        f"ORDER BY batch_id DESC, record_index LIMIT {int(limit)}",
        params,
    ).fetchall()


def reasons(wh: Warehouse) -> list[tuple[str, int]]:
    return [
        (r[0], int(r[1]))
        for r in wh.con.execute(
            "SELECT reason, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
    ]


def get_quarantined(wh: Warehouse, batch_id: int, record_index: int) -> list[QuarantinedRecord]:
    """The rejected record(s) at that place: a file staged in two parts (posts and follower
    readings) can have a rejected record of each part at the same place."""
    rows = wh.con.execute(
        "SELECT q.batch_id, q.record_index, q.origin, q.source_format, q.reason, q.detail,"
        " q.payload::VARCHAR, b.path FROM quarantine q LEFT JOIN ingest_batches b USING (batch_id)"
        " WHERE q.batch_id = ? AND q.record_index = ? ORDER BY q.reason, q.detail",
        [batch_id, record_index],
    ).fetchall()
    if not rows:
        raise ConfigError(
            f"No quarantined record {batch_id}:{record_index}. List them with "
            "`govsocial quarantine list`."
        )
    return [QuarantinedRecord(*row) for row in rows]


def assign_accounts(wh: Warehouse, account_ids: list[int], institution_id: str) -> int:
    """Give unassigned accounts to an institution; returns how many were assigned."""
    if not account_ids:
        return 0
    with wh.transaction():
        before = wh.con.execute(
            "SELECT count(*) FROM accounts WHERE institution_id IS NULL"
        ).fetchone()
        wh.con.execute(
            "UPDATE accounts SET institution_id = ? WHERE institution_id IS NULL "
            f"AND account_id IN ({', '.join(str(int(a)) for a in account_ids)})",
            [institution_id],
        )
        after = wh.con.execute(
            "SELECT count(*) FROM accounts WHERE institution_id IS NULL"
        ).fetchone()
    return int(before[0]) - int(after[0]) if before and after else 0


def require_institution(wh: Warehouse, institution_id: str) -> None:
    row = wh.con.execute(
        "SELECT count(*) FROM institutions WHERE institution_id = ?", [institution_id]
    ).fetchone()
    if not row or not row[0]:
        raise ConfigError(
            f"--assign-to: no institution '{institution_id}' in {wh.path}. See the "
            "ids with `govsocial registry list`, or load a registry first."
        )


def unassigned_from_batch(wh: Warehouse, batch_id: int) -> list[int]:
    """Accounts a batch created that are still unassigned (for --assign-to on a re-import)."""
    rows = wh.con.execute(
        "SELECT account_id FROM accounts WHERE institution_id IS NULL AND first_batch_id = ? "
        "ORDER BY 1",
        [batch_id],
    ).fetchall()
    return [int(r[0]) for r in rows]
