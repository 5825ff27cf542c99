"""Read-only queries the published read model (govsocial/publish/) takes from the warehouse:
the coverage of a run's data and the registry of its accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from govsocial.store.compute import settle
from govsocial.store.warehouse import Warehouse


def coverage(
    wh: Warehouse,
    start: datetime,
    end: datetime,
    platforms: Sequence[str],
    clusters: Sequence[str],
) -> dict[str, Any]:
    """What a run's data covers, within its period, platforms and clusters: institutions
    (per cluster), accounts and posts per platform, data points (post readings and follower
    readings) and the records quarantined on import (per reason, all time: a quarantined
    record has no trustworthy date)."""
    con = wh.con
    scope = [start, end, list(platforms), list(clusters)]
    owned = """
        FROM accounts a JOIN institutions i USING (institution_id)
        WHERE a.platform = ANY(?3) AND i.cluster_id = ANY(?4)"""
    institutions = dict(
        con.execute(
            "SELECT cluster_id, count(*) FROM institutions WHERE cluster_id = ANY(?1) "
            "GROUP BY 1 ORDER BY 1",
            [list(clusters)],
        ).fetchall()
    )
    accounts = dict(
        con.execute(
            f"SELECT a.platform, count(*) {owned.replace('?3', '?1').replace('?4', '?2')} "
            "GROUP BY 1 ORDER BY 1",
            [list(platforms), list(clusters)],
        ).fetchall()
    )
    posts = {
        platform: {"posts": int(n), "reposts": int(reposts)}
        for platform, n, reposts in con.execute(
            f"""
            SELECT p.platform, count(*), count(*) FILTER (WHERE p.is_repost)
            FROM posts p JOIN (SELECT a.account_id {owned}) USING (account_id)
            WHERE p.posted_at >= ?1 AND p.posted_at < ?2
            GROUP BY 1 ORDER BY 1""",
            scope,
        ).fetchall()
    }
    readings = con.execute(
        f"""
        SELECT count(*) FROM post_metrics m JOIN posts p USING (post_id)
        JOIN (SELECT a.account_id {owned}) USING (account_id)
        WHERE p.posted_at >= ?1 AND p.posted_at < ?2""",
        scope,
    ).fetchall()
    followers = con.execute(
        f"""
        SELECT count(*) FROM account_snapshots s
        JOIN (SELECT a.account_id {owned}) USING (account_id)
        WHERE s.captured_at <= ?2 AND s.captured_at >= ?1 - INTERVAL 30 DAY""",
        scope,
    ).fetchall()
    quarantined = dict(
        con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1 ORDER BY 1").fetchall()
    )
    return {
        "institutions": {str(k): int(v) for k, v in institutions.items()},
        "accounts": {str(k): int(v) for k, v in accounts.items()},
        "posts": posts,
        "post_readings": int(readings[0][0]),  # fetchall: no result is left pending
        "follower_readings": int(followers[0][0]),
        "quarantined": {str(k): int(v) for k, v in quarantined.items()},
    }


def registry_accounts(wh: Warehouse, end: datetime, clusters: Sequence[str]) -> pa.Table:
    """Every registered account of ``clusters`` with its institution and cluster (names
    included) and its followers at the last reading up to ``end`` (null: none)."""
    settle(wh)
    return wh.con.sql(
        """
        SELECT a.account_id, a.institution_id, i.name AS institution_name, i.cluster_id,
               c.name AS cluster_name, i.region, a.platform, a.handle, a.display_name,
               f.followers
        FROM accounts a
        JOIN institutions i USING (institution_id)
        JOIN clusters c USING (cluster_id)
        LEFT JOIN (
            SELECT account_id, arg_max(followers, captured_at) AS followers
            FROM account_snapshots WHERE captured_at <= ?1 GROUP BY 1
        ) f USING (account_id)
        WHERE i.cluster_id = ANY(?2)
        ORDER BY a.account_id""",
        params=[end, list(clusters)],
    ).to_arrow_table()
