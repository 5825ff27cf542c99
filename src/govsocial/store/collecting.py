"""What the collector keeps in the warehouse: cursors, per-account outcomes, runs.

Every write here happens inside a caller's transaction where it belongs to a page (the
cursor of a walk is written with the page it follows, through ``load_file(..., then=...)``),
so a killed run keeps a page and its cursor together or neither.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from govsocial import __version__
from govsocial.store.warehouse import Warehouse

POSTS = "posts"  # the stream of a walk over an account's posts


@dataclass(frozen=True)
class RegisteredAccount:
    account_id: int
    platform: str
    platform_id: str | None
    handle: str | None
    institution_id: str | None


@dataclass(frozen=True)
class Cursor:
    since: datetime
    until: datetime
    resume: str | None  # the client's Resume as JSON; None: not started or complete
    pages: int


def accounts_in_scope(
    wh: Warehouse,
    platforms: Sequence[str] = (),
    institutions: Sequence[str] = (),
    account_ids: Sequence[int] = (),
) -> list[RegisteredAccount]:
    """Registered accounts (those of an institution), filtered; by platform then id."""
    where: list[str] = ["institution_id IS NOT NULL"]
    params: list[object] = []
    for column, values in (
        ("platform", platforms),
        ("institution_id", institutions),
        ("account_id", account_ids),
    ):
        if values:
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    rows = wh.con.execute(
        "SELECT account_id, platform, platform_account_id, handle, institution_id FROM accounts "
        f"WHERE {' AND '.join(where)} ORDER BY platform, account_id",
        params,
    ).fetchall()
    return [RegisteredAccount(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def cursor(wh: Warehouse, account_id: int, stream: str = POSTS) -> Cursor | None:
    row = wh.con.execute(
        "SELECT since, until, resume, pages FROM collect_cursors "
        "WHERE account_id = ? AND stream = ?",
        [account_id, stream],
    ).fetchone()
    return Cursor(row[0], row[1], row[2], int(row[3])) if row else None


def save_cursor(
    wh: Warehouse,
    account_id: int,
    since: datetime,
    until: datetime,
    resume: str | None,
    now: datetime,
    stream: str = POSTS,
) -> None:
    """Where the walk continues (``resume``; None: the walk is complete). Inside the
    transaction of the page it follows."""
    wh.con.execute(
        "INSERT INTO collect_cursors (account_id, stream, since, until, resume, pages, updated_at)"
        " VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (account_id, stream) DO UPDATE SET "
        "since = excluded.since, until = excluded.until, resume = excluded.resume, "
        "pages = collect_cursors.pages + 1, updated_at = excluded.updated_at",
        [account_id, stream, since, until, resume, now],
    )
    wh.con.execute(
        "INSERT INTO collect_accounts (account_id, pages) VALUES (?, 1) "
        "ON CONFLICT (account_id) DO UPDATE SET pages = collect_accounts.pages + 1",
        [account_id],
    )


def finish_walk(
    wh: Warehouse, account_id: int, since: datetime, until: datetime, now: datetime
) -> None:
    """The walk over [since, until) is complete: the account's posts are complete up to
    ``until`` (the next run starts there)."""
    with wh.transaction("keeping the collection state"):
        wh.con.execute(
            "INSERT INTO collect_cursors (account_id, stream, since, until, resume, pages, "
            "updated_at) VALUES (?, ?, ?, ?, NULL, 0, ?) ON CONFLICT (account_id, stream) DO "
            "UPDATE SET since = excluded.since, until = excluded.until, resume = NULL, "
            "updated_at = excluded.updated_at",
            [account_id, POSTS, since, until, now],
        )
        wh.con.execute(
            "INSERT INTO collect_accounts (account_id, complete_until) VALUES (?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET complete_until = "
            "greatest(coalesce(collect_accounts.complete_until, excluded.complete_until), "
            "excluded.complete_until)",
            [account_id, until],
        )


def complete_until(wh: Warehouse, account_id: int) -> datetime | None:
    row = wh.con.execute(
        "SELECT complete_until FROM collect_accounts WHERE account_id = ?", [account_id]
    ).fetchone()
    return row[0] if row else None


def record_outcome(
    wh: Warehouse, account_id: int, run_id: int, now: datetime, error: str | None
) -> None:
    """The account's last attempt: a success, or the error (without any credential)."""
    with wh.transaction("keeping the collection state"):
        wh.con.execute(
            "INSERT INTO collect_accounts (account_id, last_run_id, last_attempt_at, "
            "last_success_at, last_error, last_error_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET last_run_id = excluded.last_run_id, "
            "last_attempt_at = excluded.last_attempt_at, last_success_at = "
            "coalesce(excluded.last_success_at, collect_accounts.last_success_at), "
            "last_error = excluded.last_error, last_error_at = "
            "coalesce(excluded.last_error_at, collect_accounts.last_error_at)",
            [
                account_id,
                run_id,
                now,
                None if error else now,
                error[:2000] if error else None,
                now if error else None,
            ],
        )


def due_recounts(
    wh: Warehouse, account_id: int, ages_days: Sequence[int], now: datetime
) -> list[str]:
    """Platform ids of the account's posts due a re-reading: for some age in ``ages_days``,
    the post is at least that old and no reading of its counts was taken at that age or
    later. The newest posts first."""
    ages = ", ".join(str(int(a)) for a in sorted(ages_days))
    rows = wh.con.execute(
        f"""
        SELECT p.platform_post_id
        FROM posts p
        LEFT JOIN (SELECT post_id, max(captured_at) AS last FROM post_metrics GROUP BY 1) m
               USING (post_id)
        WHERE p.account_id = ?
          AND p.posted_at >= ?::TIMESTAMPTZ - INTERVAL (max_age) DAY
          AND EXISTS (
              SELECT 1 FROM unnest([{ages}]) AS a(age)
              WHERE p.posted_at + to_days(a.age) <= ?::TIMESTAMPTZ
                AND (m.last IS NULL OR m.last < p.posted_at + to_days(a.age))
          )
        ORDER BY p.posted_at DESC
        """.replace("max_age", str(max(ages_days, default=0) + 1)),
        [account_id, now, now],
    ).fetchall()
    return [str(r[0]) for r in rows]


def start_run(wh: Warehouse, scope: str, now: datetime) -> int:
    with wh.transaction("starting a collection run"):
        row = wh.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM collect_runs").fetchone()
        run_id = int(row[0]) if row else 1
        wh.con.execute(
            "INSERT INTO collect_runs (run_id, started_at, status, scope, govsocial_version) "
            "VALUES (?, ?, 'running', ?, ?)",
            [run_id, now, scope, __version__],
        )
    return run_id


def finish_run(
    wh: Warehouse,
    run_id: int,
    status: str,
    now: datetime,
    accounts: int,
    pages: int,
    errors: int,
    usage: dict[str, dict[str, object]],
) -> None:
    """``usage``: per platform, what its API's headers and quota said (``lines``, and
    ``quota_used`` counted ``as_of``, read back by :func:`quota_used`)."""
    with wh.transaction("finishing a collection run"):
        wh.con.execute(
            "UPDATE collect_runs SET status = ?, finished_at = ?, accounts = ?, pages = ?, "
            "errors = ?, usage = ? WHERE run_id = ?",
            [status, now, accounts, pages, errors, json.dumps(usage, sort_keys=True), run_id],
        )


@dataclass(frozen=True)
class AccountStatus:
    account_id: int
    platform: str
    handle: str | None
    institution_id: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    complete_until: datetime | None
    posts: int
    snapshots: int
    pages: int
    walking: bool  # a walk is in progress (a resume point is kept)
    last_error: str | None


def account_status(wh: Warehouse, accounts: Sequence[RegisteredAccount]) -> list[AccountStatus]:
    """Per account: its last collection, posts, follower and count readings, pages."""
    if not accounts:
        return []
    ids = [a.account_id for a in accounts]
    marks = ", ".join("?" for _ in ids)
    rows = wh.con.execute(
        f"""
        SELECT a.account_id, a.platform, a.handle, a.institution_id,
               c.last_attempt_at, c.last_success_at, c.complete_until,
               (SELECT count(*) FROM posts p WHERE p.account_id = a.account_id),
               (SELECT count(*) FROM account_snapshots s WHERE s.account_id = a.account_id)
               + (SELECT count(*) FROM post_metrics m JOIN posts p USING (post_id)
                  WHERE p.account_id = a.account_id),
               coalesce(c.pages, 0),
               EXISTS (SELECT 1 FROM collect_cursors k WHERE k.account_id = a.account_id
                       AND k.resume IS NOT NULL),
               c.last_error
        FROM accounts a LEFT JOIN collect_accounts c USING (account_id)
        WHERE a.account_id IN ({marks})
        ORDER BY a.platform, a.account_id
        """,
        ids,
    ).fetchall()
    return [
        AccountStatus(
            int(r[0]),
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            int(r[7]),
            int(r[8]),
            int(r[9]),
            bool(r[10]),
            r[11],
        )
        for r in rows
    ]


def quota_used(wh: Warehouse, platform: str) -> tuple[int, datetime] | None:
    """The platform's quota used by the last run that counted it, and when: the next run
    of the same quota day starts from there."""
    rows = wh.con.execute(
        "SELECT usage FROM collect_runs WHERE usage IS NOT NULL ORDER BY run_id DESC LIMIT 20"
    ).fetchall()
    for (text,) in rows:
        entry = json.loads(text).get(platform)
        if isinstance(entry, dict) and entry.get("quota_used") is not None and entry.get("as_of"):
            return int(entry["quota_used"]), datetime.fromisoformat(str(entry["as_of"]))
    return None


def last_runs(wh: Warehouse, limit: int = 5) -> list[tuple[object, ...]]:
    return wh.con.execute(
        "SELECT run_id, started_at, finished_at, status, scope, accounts, pages, errors, usage "
        "FROM collect_runs ORDER BY run_id DESC LIMIT ?",
        [limit],
    ).fetchall()


def posts_per_platform(wh: Warehouse) -> dict[str, int]:
    """Distinct posts per platform (a post loaded twice would count once)."""
    rows = wh.con.execute(
        "SELECT platform, count(DISTINCT platform_post_id) FROM posts GROUP BY 1"
    ).fetchall()
    return {str(platform): int(n) for platform, n in rows}
