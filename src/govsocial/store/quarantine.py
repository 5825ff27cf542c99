"""Rejected records: listing them, showing one, and assigning accounts left unassigned."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import NamedTuple

from govsocial.errors import NotFoundError
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


class QuarantineRow(NamedTuple):
    """One line of `quarantine list`."""

    batch_id: int
    record_index: int
    origin: str
    reason: str
    detail: str


class ReasonCount(NamedTuple):
    reason: str
    records: int


def list_quarantine(
    wh: Warehouse, *, batch: int | None = None, reason: str | None = None, limit: int = 50
) -> list[QuarantineRow]:
    """Quarantined records, newest batch first, at most ``limit`` (the total for the same
    filters is :func:`count_quarantine`). A NotFoundError says so when ``batch`` is no
    import batch, or no record in the warehouse has ``reason`` (and lists the reasons)."""
    where, params = _filters(wh, batch, reason)
    rows = wh.con.execute(
        f"SELECT batch_id, record_index, origin, reason, detail FROM quarantine {where} "
        f"ORDER BY batch_id DESC, record_index LIMIT {int(limit)}",
        params,
    ).fetchall()
    return [QuarantineRow(int(b), int(r), o, reason_, d) for b, r, o, reason_, d in rows]


def count_quarantine(wh: Warehouse, *, batch: int | None = None, reason: str | None = None) -> int:
    """How many records are quarantined with these filters (for "2 of 47")."""
    where, params = _filters(wh, batch, reason)
    row = wh.con.execute(f"SELECT count(*) FROM quarantine {where}", params).fetchone()
    return int(row[0]) if row else 0


def known_reasons(wh: Warehouse) -> list[ReasonCount]:
    """The reasons records were quarantined for in this warehouse, the most frequent first."""
    return [
        ReasonCount(r[0], int(r[1]))
        for r in wh.con.execute(
            "SELECT reason, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
    ]


reasons = known_reasons  # the name the CLI used before; remove once it calls known_reasons


def _filters(wh: Warehouse, batch: int | None, reason: str | None) -> tuple[str, list[object]]:
    where: list[str] = []
    params: list[object] = []
    if batch is not None:
        require_batch(wh, batch)
        where.append("batch_id = ?")
        params.append(batch)
    if reason is not None:
        counts = known_reasons(wh)
        if reason not in {r.reason for r in counts}:
            shown = ", ".join(f"{r.reason} ({r.records:,})" for r in counts)
            raise NotFoundError(
                f"No record in {wh.path} was quarantined for the reason '{reason}'. "
                + (
                    f"The reasons in it: {shown}."
                    if counts
                    else "No record has been quarantined in it."
                )
            )
        where.append("reason = ?")
        params.append(reason)
    return (f"WHERE {' AND '.join(where)}" if where else ""), params


def require_batch(wh: Warehouse, batch: int) -> None:
    """A NotFoundError unless ``batch`` is an import batch of the warehouse."""
    row = wh.con.execute(
        "SELECT count(*) FILTER (WHERE batch_id = ?), count(*), min(batch_id), max(batch_id)"
        " FROM ingest_batches",
        [batch],
    ).fetchone()
    if row and row[0]:
        return
    if not row or not row[1]:
        known = "No file has been imported into it yet."
    elif row[1] == 1:
        known = f"Its only batch is {row[2]}."
    else:
        known = f"Its {row[1]:,} batches are numbered {row[2]} to {row[3]}."
    raise NotFoundError(
        f"No import batch {batch} in {wh.path}. {known} `govsocial quarantine list` shows "
        "the batches that quarantined records."
    )


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
        require_batch(wh, batch_id)
        total = count_quarantine(wh, batch=batch_id)
        held = (
            f"batch {batch_id} quarantined no record"
            if not total
            else f"batch {batch_id} quarantined {total:,} record{'s' if total != 1 else ''}, "
            f"not record {record_index}"
        )
        raise NotFoundError(
            f"No quarantined record {batch_id}:{record_index} in {wh.path}: {held}. List them "
            f"with `govsocial quarantine list --batch {batch_id}`."
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
    """A NotFoundError (naming --assign-to, and the closest ids) unless the institution is
    registered."""
    ids = [r[0] for r in wh.con.execute("SELECT institution_id FROM institutions").fetchall()]
    if institution_id in ids:
        return
    close = difflib.get_close_matches(institution_id, ids, n=3)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise NotFoundError(
        f"--assign-to: no institution '{institution_id}' in {wh.path}.{hint} See the "
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
