"""What the text stage keeps in the warehouse: theme tags per post, and which posts' text was
read (so `govsocial text update` reads only new or changed posts).

``post_text_state`` holds, per post, a hash of the text it was read with and the themes'
fingerprint; a post is read again when its text or the theme files change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from govsocial.store.compute import settle
from govsocial.store.warehouse import Warehouse

# A post's text as hashed for change detection (DuckDB's hash: 64 bits).
_HASH = "hash(coalesce(p.text, ''))"


@dataclass(frozen=True)
class Scope:
    """Which posts: every filter empty = all. ``since``/``until``: posted_at in [since, until)."""

    clusters: Sequence[str] = ()
    institutions: Sequence[str] = ()
    platforms: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, list[object]]:
        parts: list[str] = ["NOT p.is_repost"]  # a repost's text is another account's
        params: list[object] = []
        for column, values in (
            ("c.cluster_id", self.clusters),
            ("a.institution_id", self.institutions),
            ("p.platform", self.platforms),
        ):
            if values:
                parts.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if self.since is not None:
            parts.append("p.posted_at >= ?")
            params.append(self.since)
        if self.until is not None:
            parts.append("p.posted_at < ?")
            params.append(self.until)
        return " AND ".join(parts), params


_FROM = """
    FROM posts p
    JOIN accounts a USING (account_id)
    LEFT JOIN institutions i ON i.institution_id = a.institution_id
    LEFT JOIN clusters c ON c.cluster_id = i.cluster_id
"""


# The posts whose theme tags are missing or stale (read with other text or theme files).
_TO_READ = f"""
    FROM posts p LEFT JOIN post_text_state s USING (post_id)
    WHERE s.post_id IS NULL OR s.text_hash <> {_HASH} OR s.themes_sha <> ?
"""


def posts_to_read(wh: Warehouse, themes_sha: str) -> pa.Table:
    """(post_id, text_hash) of the posts whose text was never read, has changed since, or was
    read with other theme files."""
    settle(wh)
    return wh.con.sql(
        f"SELECT p.post_id, {_HASH} AS text_hash {_TO_READ} ORDER BY p.post_id",
        params=[themes_sha],
    ).to_arrow_table()


def texts_of(wh: Warehouse, ids: pa.Table) -> pa.Table:
    """(post_id, text) of the posts in ``ids`` (a table with a ``post_id`` column)."""
    wh.con.register("_text_ids", ids.select(["post_id"]))
    try:
        settle(wh)
        return wh.con.sql(
            "SELECT p.post_id, coalesce(p.text, '') AS text FROM posts p "
            "JOIN _text_ids USING (post_id) ORDER BY p.post_id"
        ).to_arrow_table()
    finally:
        wh.con.unregister("_text_ids")


def keep_themes(
    wh: Warehouse, read: pa.Table, themes: pa.Table, themes_sha: str, now: datetime
) -> None:
    """Replace the theme tags of the posts in ``read`` (post_id, text_hash) by ``themes``
    (post_id, theme, evidence), and mark them read: one transaction."""
    with wh.transaction("keeping theme tags"):
        wh.con.register("_read", read.select(["post_id", "text_hash"]))
        wh.con.register("_themes", themes.select(["post_id", "theme", "evidence"]))
        try:
            wh.con.execute("DELETE FROM post_themes WHERE post_id IN (SELECT post_id FROM _read)")
            wh.con.execute(
                "INSERT INTO post_themes (post_id, theme, evidence) "
                "SELECT post_id, theme, evidence FROM _themes"
            )
            wh.con.execute(
                "INSERT INTO post_text_state (post_id, text_hash, themes_sha, read_at) "
                "SELECT post_id, text_hash, ?, ? FROM _read ON CONFLICT (post_id) DO UPDATE SET "
                "text_hash = excluded.text_hash, themes_sha = excluded.themes_sha, "
                "read_at = excluded.read_at",
                [themes_sha, now],
            )
        finally:
            wh.con.unregister("_read")
            wh.con.unregister("_themes")


def scoped_texts(wh: Warehouse, scope: Scope, batch_rows: int = 200_000) -> Iterator[pa.Table]:
    """(post_id, text, posted_at, platform, account_id, handle, institution_id, cluster_id)
    of the posts in ``scope``, in batches (the caller must not write meanwhile)."""
    where, params = scope.where()
    settle(wh)
    reader = wh.con.sql(
        f"""
        SELECT p.post_id, coalesce(p.text, '') AS text, p.posted_at, p.platform, p.account_id,
               a.handle, a.institution_id, i.cluster_id
        {_FROM}
        WHERE {where}
        ORDER BY p.post_id
        """,
        params=params,
    ).to_arrow_reader(batch_rows)
    batches: pa.RecordBatchReader = reader
    for batch in batches:
        yield pa.Table.from_batches([batch])


def theme_counts(wh: Warehouse, scope: Scope) -> list[tuple[str, int, int]]:
    """Per theme: posts tagged, and institutions with a tagged post, in ``scope``."""
    where, params = scope.where()
    return [
        (str(r[0]), int(r[1]), int(r[2]))
        for r in wh.con.execute(
            f"""
            SELECT t.theme, count(DISTINCT p.post_id), count(DISTINCT a.institution_id)
            {_FROM}
            JOIN post_themes t USING (post_id)
            WHERE {where}
            GROUP BY 1 ORDER BY 2 DESC, 1
            """,
            params,
        ).fetchall()
    ]


def unread_posts(wh: Warehouse, themes_sha: str) -> int:
    """Posts whose theme tags are missing or stale (the awards' check before a themed run)."""
    row = wh.con.execute(f"SELECT count(*) {_TO_READ}", [themes_sha]).fetchone()
    return int(row[0]) if row else 0
