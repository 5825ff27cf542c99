"""What the text stage keeps in the warehouse: theme tags and term counts per post, and which
posts' text was read (so `govsocial text update` reads only new or changed posts).

``post_text_state`` holds, per post, a hash of the text it was read with, the fingerprint of
the theme files and normalisation it was read with, and its number of tokens; a post is read
again when its text, the theme files or the normalisation change. ``post_terms`` holds per
post the occurrences of each form of each term (forms numbered in ``text_forms``), which
keywords and trends of a scope aggregate instead of reading the texts again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
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

# How keywords and trends label posts (in UTC, as the session is).
LABELS = {
    "account": "p.platform || ' @' || coalesce(a.handle, '?')",
    "institution": "coalesce(a.institution_id, '-')",
    "cluster": "coalesce(i.cluster_id, '-')",
    "platform": "coalesce(p.platform, '-')",
    "month": "strftime(p.posted_at, '%Y-%m')",
    "week": "CAST(date_trunc('week', p.posted_at) AS DATE)",
}

# The posts whose theme tags or term counts are missing or stale: read with other text,
# other theme files or normalisation, or before term counts were kept.
_STALE = f"(s.post_id IS NULL OR s.text_hash <> {_HASH} OR s.themes_sha <> ? OR s.tokens IS NULL)"


def posts_to_read(wh: Warehouse, themes_sha: str) -> pa.Table:
    """(post_id, text_hash, seen) of the posts whose text was never read, has changed since,
    or was read with other theme files; ``seen``: it was read before (it has rows to replace)."""
    settle(wh)
    return wh.con.sql(
        f"SELECT p.post_id, {_HASH} AS text_hash, s.post_id IS NOT NULL AS seen "
        f"FROM posts p LEFT JOIN post_text_state s USING (post_id) WHERE {_STALE} "
        "ORDER BY p.post_id",
        params=[themes_sha],
    ).to_arrow_table()


def texts_of(wh: Warehouse, ids: pa.Table) -> pa.Table:
    """(post_id, text) of the posts in ``ids`` (a table with a sorted ``post_id`` column)."""
    if not len(ids):
        return pa.table({"post_id": pa.array([], pa.int64()), "text": pa.array([], pa.string())})
    wh.con.register("_text_ids", ids.select(["post_id"]))
    try:
        settle(wh)
        # The range lets DuckDB skip the row groups of other posts (ids grow as posts load).
        return wh.con.sql(
            "SELECT p.post_id, coalesce(p.text, '') AS text FROM posts p "
            "SEMI JOIN _text_ids USING (post_id) WHERE p.post_id BETWEEN ? AND ? "
            "ORDER BY p.post_id",
            params=[ids["post_id"][0].as_py(), ids["post_id"][-1].as_py()],
        ).to_arrow_table()
    finally:
        wh.con.unregister("_text_ids")


@dataclass(frozen=True)
class ReadText:
    """What one batch of `text update` keeps: the posts read (post_id, text_hash, seen), their
    theme tags (post_id, theme, evidence), term counts (post_id, kind, form, next_form: -1 but
    for bigrams, occurrences; forms numbered by the batch), the forms (form, text, term) and
    the posts' tokens (post_id, tokens)."""

    read: pa.Table
    themes: pa.Table
    terms: pa.Table
    forms: pa.Table
    post_tokens: pa.Table


def keep_text(wh: Warehouse, batch: ReadText, themes_sha: str, lexicon: str, now: datetime) -> None:
    """Replace the theme tags and term counts of the posts read by the batch's, number its new
    forms, and mark the posts read: one transaction."""
    seen = batch.read.filter(batch.read["seen"])["post_id"]
    tables = {
        "_read": batch.read.select(["post_id", "text_hash"]),
        "_themes": batch.themes.select(["post_id", "theme", "evidence"]),
        "_forms": batch.forms,
        "_tokens": batch.post_tokens,
    }
    for name, table in tables.items():
        wh.con.register(name, table)
    try:
        with wh.transaction("keeping what the texts say"):
            if len(seen):  # posts read before: their rows go (new posts have none)
                bounds = [seen[0].as_py(), seen[-1].as_py()]
                for table_name in ("post_themes", "post_terms"):
                    wh.con.execute(
                        f"DELETE FROM {table_name} WHERE post_id BETWEEN ? AND ? "
                        "AND post_id IN (SELECT post_id FROM _read)",
                        bounds,
                    )
            wh.con.execute(
                "INSERT INTO post_themes (post_id, theme, evidence) "
                "SELECT post_id, theme, evidence FROM _themes"
            )
            wh.con.register("_terms", _with_form_ids(batch.terms, _number_forms(wh, lexicon)))
            wh.con.execute(
                "INSERT INTO post_terms (post_id, kind, form_id, next_form_id, occurrences) "
                "SELECT post_id, kind, form_id, next_form_id, occurrences FROM _terms"
            )
            wh.con.execute(
                "INSERT INTO post_text_state (post_id, text_hash, themes_sha, read_at, tokens) "
                "SELECT r.post_id, r.text_hash, ?, ?, coalesce(t.tokens, 0) "
                "FROM _read r LEFT JOIN _tokens t USING (post_id) "
                "ON CONFLICT (post_id) DO UPDATE SET text_hash = excluded.text_hash, "
                "themes_sha = excluded.themes_sha, read_at = excluded.read_at, "
                "tokens = excluded.tokens",
                [themes_sha, now],
            )
    finally:
        for name in [*tables, "_terms"]:
            wh.con.unregister(name)


def _with_form_ids(terms: pa.Table, numbered: pa.Table) -> pa.Table:
    """The batch's term counts with the forms' numbers in ``text_forms``."""
    local = numbered["form"].to_numpy()
    form_id = np.zeros(int(local.max()) + 1 if len(local) else 0, np.int32)
    form_id[local] = numbered["form_id"].to_numpy()
    form = terms["form"].to_numpy()
    next_form = terms["next_form"].to_numpy()
    bigram = next_form >= 0
    return pa.table(
        {
            "post_id": terms["post_id"],
            "kind": terms["kind"],
            "form_id": pa.array(form_id[form], pa.int32()),
            "next_form_id": pa.array(form_id[np.where(bigram, next_form, 0)], mask=~bigram),
            "occurrences": pa.array(terms["occurrences"].to_numpy(), pa.int32()),
        }
    )


def _number_forms(wh: Warehouse, lexicon: str) -> pa.Table:
    """(form: the batch's number, form_id): the batch's forms numbered in ``text_forms``, where
    the new ones are added, each with its term's number (the same term, the same number)."""
    wh.con.execute(
        """
        INSERT INTO text_forms (form_id, form, term_id, term, lexicon)
        WITH new AS (
            SELECT f.text, f.term FROM _forms f
            WHERE NOT EXISTS (SELECT 1 FROM text_forms t
                              WHERE t.form = f.text AND t.term = f.term AND t.lexicon = ?)),
        known AS (SELECT DISTINCT term, term_id FROM text_forms SEMI JOIN new USING (term)),
        fresh AS (
            SELECT term, (SELECT coalesce(max(term_id), 0) FROM text_forms)
                         + row_number() OVER (ORDER BY term) AS term_id
            FROM (SELECT DISTINCT term FROM new ANTI JOIN known USING (term)))
        SELECT (SELECT coalesce(max(form_id), 0) FROM text_forms)
               + row_number() OVER (ORDER BY n.text, n.term),
               n.text, coalesce(k.term_id, f.term_id), n.term, ?
        FROM new n LEFT JOIN known k USING (term) LEFT JOIN fresh f USING (term)
        """,
        [lexicon, lexicon],
    )
    settle(wh)
    return wh.con.sql(
        "SELECT f.form, t.form_id FROM _forms f "
        "JOIN text_forms t ON t.form = f.text AND t.term = f.term AND t.lexicon = ?",
        params=[lexicon],
    ).to_arrow_table()


def known_terms(wh: Warehouse, forms: Sequence[str], lexicon: str) -> Mapping[str, str]:
    """The terms kept for these forms under the normalisation ``lexicon``: for a word, its
    stem (so a later `text update` does not stem the vocabulary again)."""
    if not forms:
        return {}
    wh.con.register("_asked", pa.table({"form": pa.array(forms, pa.string())}))
    try:
        return dict(
            wh.con.execute(
                "SELECT t.form, t.term FROM text_forms t SEMI JOIN _asked USING (form) "
                "WHERE t.lexicon = ?",
                [lexicon],
            ).fetchall()
        )
    finally:
        wh.con.unregister("_asked")


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


def unread_posts(wh: Warehouse, themes_sha: str, scope: Scope | None = None) -> int:
    """Posts (of ``scope``, or all) whose theme tags or term counts are missing or stale: the
    check before a themed award run, keywords or trends."""
    if scope is None:
        sql = (
            "SELECT count(*) FROM posts p LEFT JOIN post_text_state s USING (post_id) "
            f"WHERE {_STALE}"
        )
        params: list[object] = [themes_sha]
    else:
        where, params = scope.where()
        sql = (
            f"SELECT count(*) {_FROM} LEFT JOIN post_text_state s USING (post_id) "
            f"WHERE {where} AND {_STALE}"
        )
        params = [*params, themes_sha]
    row = wh.con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _scoped(scope: Scope, label: str) -> tuple[str, list[object]]:
    where, params = scope.where()
    return f"scoped AS (SELECT p.post_id, {LABELS[label]} AS label {_FROM} WHERE {where})", params


# Per label and term (bigrams: two terms), the kept occurrences of the posts in scope.
_PER_TERM = """
    per_term AS (
        SELECT s.label, t.kind, f.term_id AS term, coalesce(g.term_id, -1) AS next_term,
               sum(t.occurrences) AS n
        FROM post_terms t
        JOIN scoped s USING (post_id)
        JOIN text_forms f ON f.form_id = t.form_id
        LEFT JOIN text_forms g ON g.form_id = t.next_form_id
        WHERE t.kind IN ({kinds})
        GROUP BY ALL),
    totals AS (SELECT kind, term, next_term, sum(n) AS total FROM per_term GROUP BY ALL)"""


def term_counts(
    wh: Warehouse, scope: Scope, label: str, kinds: Sequence[int], least: int, per_label: bool
) -> pa.Table:
    """(label, kind, term, next_term, n, total): the kept occurrences of each term (numbered;
    ``next_term`` a bigram's second, else -1) in the posts of ``scope`` with each label (a
    key of :data:`LABELS`), and in all of them. Only terms of ``kinds`` that occur at least
    ``least`` times with one label (``per_label``) or in all (else)."""
    scoped, params = _scoped(scope, label)
    having = "p.n" if per_label else "t.total"
    settle(wh)
    return wh.con.sql(
        f"""
        WITH {scoped}, {_PER_TERM.format(kinds=", ".join(str(int(k)) for k in kinds))}
        SELECT p.label, p.kind, p.term, p.next_term, CAST(p.n AS BIGINT) AS n,
               CAST(t.total AS BIGINT) AS total
        FROM per_term p JOIN totals t USING (kind, term, next_term)
        WHERE {having} >= ?
        """,
        params=[*params, least],
    ).to_arrow_table()


def term_forms(wh: Warehouse, scope: Scope, terms: pa.Table) -> pa.Table:
    """(kind, term, next_term, form, n): how often each form of the ``terms`` (kind, term,
    next_term) occurs in the posts of ``scope``; a bigram's form is its two words' joined by a
    space."""
    scoped, params = _scoped(scope, "platform")
    wh.con.register("_wanted", terms.select(["kind", "term", "next_term"]))
    try:
        settle(wh)
        return wh.con.sql(
            f"""
            WITH {scoped},
            numbered AS (
                SELECT t.kind, t.form_id, t.next_form_id, t.occurrences, f.term_id AS term,
                       coalesce(g.term_id, -1) AS next_term
                FROM post_terms t
                SEMI JOIN scoped s USING (post_id)
                JOIN text_forms f ON f.form_id = t.form_id
                LEFT JOIN text_forms g ON g.form_id = t.next_form_id
                WHERE t.kind IN (SELECT DISTINCT kind FROM _wanted)),
            wanted AS (
                SELECT kind, term, next_term, form_id, next_form_id, sum(occurrences) AS n
                FROM numbered SEMI JOIN _wanted USING (kind, term, next_term)
                GROUP BY ALL)
            SELECT w.kind, w.term, w.next_term,
                   CASE WHEN g.form IS NULL THEN f.form ELSE f.form || ' ' || g.form END AS form,
                   CAST(w.n AS BIGINT) AS n
            FROM wanted w
            JOIN text_forms f ON f.form_id = w.form_id
            LEFT JOIN text_forms g ON g.form_id = w.next_form_id
            """,
            params=params,
        ).to_arrow_table()
    finally:
        wh.con.unregister("_wanted")


def token_counts(wh: Warehouse, scope: Scope, label: str) -> pa.Table:
    """(label, tokens): the tokens of the posts of ``scope`` that have any, per label."""
    where, params = scope.where()
    settle(wh)
    return wh.con.sql(
        f"""
        SELECT {LABELS[label]} AS label, CAST(sum(s.tokens) AS BIGINT) AS tokens
        {_FROM} JOIN post_text_state s USING (post_id)
        WHERE {where} AND s.tokens > 0
        GROUP BY 1
        """,
        params=params,
    ).to_arrow_table()
