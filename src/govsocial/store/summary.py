"""A short description of what a warehouse holds (for `govsocial demo` and `govsocial info`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govsocial.store.warehouse import Warehouse


@dataclass(frozen=True)
class WarehouseSummary:
    path: str
    schema_version: int
    institutions_by_cluster: list[tuple[str, str, int]]  # (cluster id, name, institutions)
    accounts_by_platform: list[tuple[str, int, int]]  # (platform, accounts, unassigned)
    posts: int
    post_snapshots: int
    account_snapshots: int
    first_post: datetime | None
    last_post: datetime | None
    synthetic: bool
    quarantined: int

    @property
    def institutions(self) -> int:
        return sum(n for _, _, n in self.institutions_by_cluster)

    @property
    def accounts(self) -> int:
        return sum(n for _, n, _ in self.accounts_by_platform)


def summarise(wh: Warehouse) -> WarehouseSummary:
    con = wh.con

    def one(sql: str) -> object:
        row = con.execute(sql).fetchone()
        return row[0] if row else None

    clusters = [
        (r[0], r[1], int(r[2]))
        for r in con.execute("""
        SELECT c.cluster_id, c.name, count(i.institution_id)
        FROM clusters c LEFT JOIN institutions i USING (cluster_id)
        GROUP BY ALL ORDER BY c.cluster_id""").fetchall()
    ]
    platforms = [
        (r[0], int(r[1]), int(r[2]))
        for r in con.execute("""
        SELECT platform, count(*), count(*) FILTER (WHERE institution_id IS NULL)
        FROM accounts GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()
    ]
    span = con.execute("SELECT min(posted_at), max(posted_at) FROM posts").fetchone()
    synthetic = bool(
        one(
            "SELECT coalesce(bool_or(is_synthetic), false) FROM ingest_batches "
            "WHERE status = 'loaded'"
        )
    )
    return WarehouseSummary(
        path=str(wh.path),
        schema_version=wh.schema_version() or 0,
        institutions_by_cluster=clusters,
        accounts_by_platform=platforms,
        posts=int(one("SELECT count(*) FROM posts") or 0),  # type: ignore[call-overload]
        post_snapshots=int(one("SELECT count(*) FROM post_metrics") or 0),  # type: ignore[call-overload]
        account_snapshots=int(one("SELECT count(*) FROM account_snapshots") or 0),  # type: ignore[call-overload]
        first_post=span[0] if span else None,
        last_post=span[1] if span else None,
        synthetic=synthetic,
        quarantined=int(one("SELECT count(*) FROM quarantine") or 0),  # type: ignore[call-overload]
    )


def is_synthetic(wh: Warehouse) -> bool:
    """True when any loaded data is synthetic (results must say so)."""
    row = wh.con.execute(
        "SELECT coalesce(bool_or(is_synthetic), false) FROM ingest_batches WHERE status = 'loaded'"
    ).fetchone()
    return bool(row[0]) if row else False


def holds_real_data(wh: Warehouse) -> bool:
    """True when any loaded batch (a registry or a file) is not synthetic."""
    row = wh.con.execute(
        "SELECT count(*) FROM ingest_batches WHERE status = 'loaded' AND NOT is_synthetic"
    ).fetchone()
    return bool(row and row[0])
