"""Load one staged file into the warehouse: one transaction, idempotent, nothing lost.

Steps (all inside one transaction, so a crash leaves nothing of the file):
1. materialise the staged records; mark in-file duplicates;
2. the file's bytes → ``raw_files`` (zstd, compressed while the file is parsed); rejected
   records → ``quarantine`` (reason and payload); for record formats (API JSON), every
   record's payload → ``raw_records``;
3. match accounts by platform id, then handle; create the unmatched ones *unassigned*;
4. posts: new ones inserted (attributes from their latest observation), known ones updated
   when a newer observation changes them (``is_reply_to_other``: any observation that can
   tell fills an unknown value); ids assigned in (platform, platform id) order;
5. metric / follower snapshots inserted unless that (post or account, captured_at) exists.

A file whose bytes were already loaded is skipped (the warehouse stays identical).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from govsocial.errors import InputError, StoreError, interrupted_query
from govsocial.sources.opening import plain_file
from govsocial.sources.staging import ACCOUNT_SNAPSHOT_COLUMNS, Staged
from govsocial.store.batches import FileIdentity, find_loaded, identify, record_failure, start_batch
from govsocial.store.failures import warehouse_failure
from govsocial.store.rawfiles import Packing, keep
from govsocial.store.warehouse import Warehouse
from govsocial.vocabulary import (
    ACCOUNT_COUNT_COLUMNS,
    COUNT_COLUMNS,
    HASHTAG_BODY,
    MENTION_BODY,
)


def _hashtags(text: str) -> str:
    """Distinct lower-case hashtags of a text column, sorted (for deterministic output), by the
    grammar the text stage's tokeniser uses (vocabulary.HASHTAG_BODY)."""
    found = (
        f"list_sort(list_distinct([lower(h) for h in "
        f"regexp_extract_all({text}, '#({HASHTAG_BODY})', 1)]))"
    )
    # A post without a '#' (or '@') skips the regular expression: most have no mention.
    return f"CASE WHEN contains({text}, '#') THEN {found} ELSE []::VARCHAR[] END"


def _mentions(text: str) -> str:
    # Not after a letter, digit, '_', '.' or '@': e-mail addresses (humas@jabarprov.go.id)
    # are not mentions.
    found = (
        f"list_sort(list_distinct([lower(m) for m in "
        rf"regexp_extract_all({text}, '(?:^|[^\p{{L}}\p{{N}}_.@])@({MENTION_BODY})', 1)]))"
    )
    return f"CASE WHEN contains({text}, '@') THEN {found} ELSE []::VARCHAR[] END"


@dataclass
class ImportSummary:
    path: str
    source_format: str
    kind: str
    status: str  # "loaded" or "skipped" (same bytes loaded before, in batch `batch_id`)
    batch_id: int
    records_read: int = 0
    posts_new: int = 0
    posts_updated: int = 0
    snapshots_new: int = 0
    accounts_new: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    quarantined_before: int = 0  # of those, already in quarantine from an earlier file
    unassigned_accounts: list[str] = field(default_factory=list)
    unassigned_account_ids: list[int] = field(default_factory=list)

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())


def load_file(
    wh: Warehouse,
    path: Path,
    stage: Callable[[Path], Staged | Sequence[Staged]],
    *,
    origin: str | None = None,
    then: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Stage ``path`` with ``stage`` and load it, unless the same bytes were loaded before.

    ``stage`` may return several relations for one file (a page of posts that also carries
    its authors' follower counts): they load in the same transaction, as one batch.
    ``origin`` names bytes that are not a user's file (an API page: its URL without
    credentials and its page number). ``then`` runs inside the load's transaction after the
    data (in its own transaction when the bytes were loaded before): the collector keeps a
    page's cursor with the page, so a crash keeps both or neither.
    """
    file = replace(identify(path), origin=origin)
    with wh.faults(f"importing {file.name}"):
        earlier = find_loaded(wh, file.sha256)
    if earlier is not None:
        summary = ImportSummary(file.name, "-", "-", "skipped", earlier)
        if then is not None:
            with wh.transaction(f"importing {file.name}"):
                then(summary)
        return summary
    # The original bytes are kept (compressed in a thread while the file is read); a gzip
    # file is staged from its plain content, which lives until the load is done.
    with Packing(path) as packing, plain_file(path) as plain:
        staged = stage(plain)
        parts = [staged] if isinstance(staged, Staged) else list(staged)
        return _load_parts(wh, file, parts, packing, then)


def _load_parts(
    wh: Warehouse,
    file: FileIdentity,
    parts: list[Staged],
    packing: Packing,
    then: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    kind = "+".join(dict.fromkeys(p.kind for p in parts)) or "posts"
    source_format = parts[0].source_format if parts else "-"
    doing = f"importing {file.name}"
    try:
        with wh.transaction(doing):
            batch = start_batch(
                wh,
                kind=kind,
                source_format=source_format,
                file=file,
                synthetic=any(p.synthetic for p in parts),
            )
            summary = ImportSummary(file.name, source_format, kind, "loaded", batch)
            keep(wh, file, packing.result(), batch)
            for part in parts:
                _load(wh, part, summary)
            _finish(wh, summary)
            if then is not None:
                then(summary)
            return summary
    except Exception as exc:
        # A trace of the attempt, if the warehouse can still be written (not if it is full).
        cause = exc.__cause__ if isinstance(exc, StoreError) and exc.__cause__ else exc
        with contextlib.suppress(duckdb.Error, StoreError):
            record_failure(
                wh,
                kind=kind,
                source_format=source_format,
                file=file,
                error=f"{type(cause).__name__}: {cause}",
            )
        if isinstance(exc, duckdb.InterruptException) or interrupted_query(exc):  # Ctrl-C
            raise KeyboardInterrupt from exc
        # A fault of the warehouse (full disk, damaged file) is never blamed on the file.
        failure = warehouse_failure(wh.path, exc, doing)
        if failure is not None and failure is not exc:
            raise failure from exc
        if failure is None and isinstance(exc, duckdb.Error):
            raise InputError(
                f"could not be loaded: the warehouse refused its values ({_first_line(exc)}). "
                "Nothing of it was kept; check the file against its format's documentation "
                "(docs/formats.md). The full error is in ingest_batches.error.",
                path=file.name,
            ) from exc
        raise
    finally:
        with contextlib.suppress(duckdb.Error):  # a warehouse that failed may refuse this too
            _drop_temporaries(wh)


def _first_line(exc: Exception) -> str:
    """DuckDB's message without the SQL it quotes (that is for ingest_batches.error)."""
    return str(exc).strip().split("\n", 1)[0][:300]


def _drop_temporaries(wh: Warehouse) -> None:
    with contextlib.suppress(Exception):  # nothing registered
        wh.con.unregister("_src")
    for table in ("_stage", "_acc", "_pid", "_payload"):
        wh.con.execute(f"DROP TABLE IF EXISTS {table}")


def _load(wh: Warehouse, staged: Staged, summary: ImportSummary) -> None:
    con = wh.con
    batch = summary.batch_id
    _drop_temporaries(wh)
    if staged.arrow is not None:
        con.register("_src", staged.arrow)
        source = "_src"
    else:
        source = staged.source_sql or ""
    select = staged.select_sql.replace("{source}", source)
    con.execute(f"CREATE TEMP TABLE _stage AS {select}")
    posts = staged.kind == "posts"
    natural = "post_id, captured_at" if posts else "_akey, captured_at"
    what = "post and captured_at" if posts else "account and captured_at"
    con.execute(f"""
        UPDATE _stage SET _reason = 'duplicate_record',
               _detail = 'same {what} as an earlier record of this file'
        WHERE _row IN (SELECT _row FROM _stage WHERE _reason IS NULL
                       QUALIFY row_number() OVER (PARTITION BY platform, {natural}
                                                  ORDER BY _row) > 1)""")
    summary.records_read += _scalar(wh, "SELECT count(*) FROM _stage")
    _resolve_accounts(wh, batch, staged.synthetic, summary)
    if not posts:
        # Two references to one account (by id, and by handle) at the same time: keep one.
        con.execute("""
            UPDATE _stage SET _reason = 'duplicate_record',
                   _detail = 'same account and captured_at as an earlier record of this file'
            WHERE _row IN (SELECT s._row FROM _stage s JOIN _acc a USING (_akey)
                           WHERE s._reason IS NULL
                           QUALIFY row_number() OVER (PARTITION BY a.account_id, s.captured_at
                                                      ORDER BY s._row) > 1)""")
    _mark_conflicts(wh, posts)
    _keep_records(wh, staged, batch, source, summary)
    for reason, count in con.execute(
        "SELECT _reason, count(*) FROM _stage WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall():
        summary.quarantined[reason] = summary.quarantined.get(reason, 0) + int(count)
    if posts:
        _load_posts(wh, batch, staged.metrics_version, summary)
    else:
        _load_account_snapshots(wh, batch, summary)


def _mark_conflicts(wh: Warehouse, posts: bool) -> None:
    """A record that observes a post (or account) at a time already in the warehouse with
    *other* counts contradicts it: it is quarantined as ``conflicting_observation`` (the
    earlier reading stays), never dropped silently. The same counts again are a repeat."""
    counts = COUNT_COLUMNS if posts else ACCOUNT_COUNT_COLUMNS
    differs = " OR ".join(f"m.{c} IS DISTINCT FROM s.{c}" for c in counts)
    shown = " || ', ' || ".join(
        f"'{c} ' || coalesce(m.{c}::VARCHAR, 'unknown') || ' there, ' || "
        f"coalesce(s.{c}::VARCHAR, 'unknown') || ' here'"
        for c in counts
    )
    if posts:
        joined = """_stage s
            JOIN posts p ON p.platform = s.platform AND p.platform_post_id = s.post_id
            JOIN post_metrics m ON m.post_id = p.post_id AND m.captured_at = s.captured_at"""
        what = "'post ' || s.post_id"
    else:
        joined = """_stage s JOIN _acc a USING (_akey)
            JOIN account_snapshots m ON m.account_id = a.account_id
                                    AND m.captured_at = s.captured_at"""
        what = "'account ' || s._akey"
    wh.con.execute(f"""
        UPDATE _stage SET _reason = 'conflicting_observation', _detail = c.detail
        FROM (SELECT s._row, {what} || ' was already read at ' || s.captured_at ||
                     ' with other counts (' || {shown} || '); the earlier reading is kept'
                     AS detail
              FROM {joined} WHERE s._reason IS NULL AND ({differs})) AS c
        WHERE _stage._row = c._row""")


def _finish(wh: Warehouse, summary: ImportSummary) -> None:
    summary.quarantined = dict(sorted(summary.quarantined.items()))
    wh.con.execute(
        "UPDATE ingest_batches SET status = 'loaded', finished_at = ?, records_read = ?,"
        " posts_new = ?, posts_updated = ?, snapshots_new = ?, accounts_new = ?, quarantined = ?"
        " WHERE batch_id = ?",
        [
            datetime.now(UTC),
            summary.records_read,
            summary.posts_new,
            summary.posts_updated,
            summary.snapshots_new,
            summary.accounts_new,
            summary.quarantined_total,
            summary.batch_id,
        ],
    )


def _load_account_snapshots(wh: Warehouse, batch: int, summary: ImportSummary) -> None:
    before = _scalar(wh, "SELECT count(*) FROM account_snapshots")
    cols = [c for c in ACCOUNT_SNAPSHOT_COLUMNS if c in ("followers", "following", "posts_count")]
    wh.con.execute(
        f"""
        INSERT INTO account_snapshots (account_id, captured_at, {", ".join(cols)}, batch_id)
        SELECT a.account_id, s.captured_at, {", ".join("s." + c for c in cols)}, ?
        FROM _stage s JOIN _acc a USING (_akey)
        WHERE s._reason IS NULL
          AND NOT EXISTS (SELECT 1 FROM account_snapshots x
                          WHERE x.account_id = a.account_id AND x.captured_at = s.captured_at)""",
        [batch],
    )
    summary.snapshots_new += _scalar(wh, "SELECT count(*) FROM account_snapshots") - before


def _keep_records(
    wh: Warehouse, staged: Staged, batch: int, source: str, summary: ImportSummary
) -> None:
    """Keep what was received record by record: quarantined records, and record payloads.

    The payload (the record as received, as JSON) is computed only where it is kept: for every
    quarantined record, and for all records of record formats (``keep_record_payloads``).
    """
    con = wh.con
    wanted = "" if staged.keep_record_payloads else "WHERE _reason IS NOT NULL"
    # Filter the source before the payloads are built: most files quarantine few records.
    rows = f"(SELECT * FROM {source} WHERE _row IN (SELECT _row FROM _stage {wanted}))"
    payloads = staged.payload_sql.replace("{source}", rows)
    con.execute(f"CREATE TEMP TABLE _payload AS SELECT p._row, p._payload FROM ({payloads}) AS p")
    # A rejected record that arrives again (overlapping downloads repeat an API's errors)
    # is already in quarantine: it is counted, not kept twice.
    repeated = """EXISTS (SELECT 1 FROM quarantine k WHERE k.source_format = ?
                  AND k.reason = q._reason AND k.payload::VARCHAR = p._payload::VARCHAR)"""
    summary.quarantined_before += _scalar(
        wh,
        f"""SELECT count(*) FROM _stage q JOIN _payload p USING (_row)
            WHERE q._reason IS NOT NULL AND {repeated}""",
        [staged.source_format],
    )
    con.execute(
        f"""INSERT INTO quarantine
           SELECT ?, q._row, ? || q._row, ?, q._reason, q._detail, p._payload
           FROM _stage q JOIN _payload p USING (_row)
           WHERE q._reason IS NOT NULL AND NOT {repeated} ORDER BY q._row""",
        [batch, staged.origin_label, staged.source_format, staged.source_format],
    )
    if staged.keep_record_payloads:
        con.execute(
            """INSERT INTO raw_records SELECT ?, q._row, ? || q._row, ?, p._payload
               FROM _stage q JOIN _payload p USING (_row)
               WHERE q._reason IS NULL ORDER BY q._row""",
            [batch, staged.origin_label, staged.source_format],
        )


def _resolve_accounts(wh: Warehouse, batch: int, synthetic: bool, summary: ImportSummary) -> None:
    """Map each distinct account reference (_akey) of the file to an account_id."""
    con = wh.con
    con.execute("""
        CREATE TEMP TABLE _acc AS
        SELECT _akey, platform, min(account_platform_id) AS apid,
               min(lower(ltrim(account_handle, '@'))) AS hkey,
               min(ltrim(account_handle, '@')) AS handle,
               arg_max(account_name, (captured_at, _row))
                   FILTER (WHERE account_name IS NOT NULL) AS display_name,  -- the latest
               NULL::INTEGER AS account_id
        FROM _stage WHERE _reason IS NULL GROUP BY _akey, platform""")
    match_by_id = """UPDATE _acc SET account_id = a.account_id FROM accounts a
        WHERE _acc.account_id IS NULL AND a.platform = _acc.platform
          AND _acc.apid IS NOT NULL AND a.platform_account_id = _acc.apid"""
    match_by_handle = """UPDATE _acc SET account_id = a.account_id FROM accounts a
        WHERE _acc.account_id IS NULL AND a.platform = _acc.platform
          AND _acc.hkey IS NOT NULL AND a.handle_key = _acc.hkey
          AND (_acc.apid IS NULL OR a.platform_account_id IS NULL)"""
    con.execute(match_by_id)
    con.execute(match_by_handle)
    # Learn handles of accounts known by platform id only (academictwitteR's data_ file
    # names authors by id; its users_ file, read later, gives their handles), unless another
    # account of the platform already has that handle.
    con.execute("""UPDATE accounts SET handle = _acc.handle, handle_key = _acc.hkey FROM _acc
        WHERE accounts.account_id = _acc.account_id AND accounts.handle_key IS NULL
          AND _acc.hkey IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM accounts o WHERE o.platform = _acc.platform
                          AND o.handle_key = _acc.hkey)""")
    # Learn platform ids of accounts registered by handle only.
    con.execute("""UPDATE accounts SET platform_account_id = _acc.apid FROM _acc
        WHERE accounts.account_id = _acc.account_id AND accounts.platform_account_id IS NULL
          AND _acc.apid IS NOT NULL""")
    before = _scalar(wh, "SELECT count(*) FROM accounts")
    # Unmatched: create unassigned accounts, first those with a platform id, then by handle.
    con.execute(
        """INSERT INTO accounts
        SELECT (SELECT coalesce(max(account_id), 0) FROM accounts)
                   + row_number() OVER (ORDER BY platform, apid),
               NULL, platform, handle, hkey, apid, display_name, ?, ?
        FROM (SELECT platform, apid, min(handle) AS handle, min(hkey) AS hkey,
                     min(display_name) AS display_name
              FROM _acc WHERE account_id IS NULL AND apid IS NOT NULL
              GROUP BY platform, apid)""",
        [synthetic, batch],
    )
    con.execute(match_by_id)
    con.execute(match_by_handle)  # handle-only references to an account just created
    con.execute(
        """INSERT INTO accounts
        SELECT (SELECT coalesce(max(account_id), 0) FROM accounts)
                   + row_number() OVER (ORDER BY platform, hkey),
               NULL, platform, handle, hkey, NULL, display_name, ?, ?
        FROM (SELECT platform, hkey, min(handle) AS handle, min(display_name) AS display_name
              FROM _acc WHERE account_id IS NULL AND hkey IS NOT NULL
              GROUP BY platform, hkey)""",
        [synthetic, batch],
    )
    con.execute(match_by_handle)
    # Display names the registry did not give (page names, X names, channel titles).
    con.execute("""UPDATE accounts SET display_name = n.display_name
        FROM (SELECT account_id, min(display_name) AS display_name FROM _acc
              WHERE display_name IS NOT NULL GROUP BY account_id) AS n
        WHERE accounts.account_id = n.account_id AND accounts.display_name IS NULL""")
    summary.accounts_new += _scalar(wh, "SELECT count(*) FROM accounts") - before
    unassigned = con.execute(
        """SELECT DISTINCT a.account_id,
                  a.platform || ':' || coalesce('@' || a.handle, a.platform_account_id)
           FROM _acc JOIN accounts a USING (account_id) WHERE a.institution_id IS NULL"""
    ).fetchall()
    summary.unassigned_accounts = sorted(
        {*summary.unassigned_accounts, *(r[1] for r in unassigned)}
    )
    summary.unassigned_account_ids = sorted(
        {*summary.unassigned_account_ids, *(int(r[0]) for r in unassigned)}
    )


def _load_posts(wh: Warehouse, batch: int, metrics_version: int, summary: ImportSummary) -> None:
    con = wh.con
    attrs = ["media_type", "text", "url", "is_repost", "is_reply_to_other", "video_duration_s"]
    # The latest good observation of each post in this file, with its id: the known one, or
    # the next free ids in (platform, platform post id) order for new posts.
    start = _scalar(wh, "SELECT coalesce(max(post_id), 0) FROM posts")
    con.execute(
        f"""
        CREATE TEMP TABLE _pid AS
        SELECT l.*,
               coalesce(p.post_id, ? + row_number() OVER (PARTITION BY p.post_id IS NULL
                                                          ORDER BY l.platform, l.post_id)) AS pid,
               p.observed_at AS known_observed_at
        FROM (SELECT s.platform, s.post_id, a.account_id, s.posted_at, s.captured_at,
                     {", ".join("s." + c for c in attrs)}
              FROM _stage s JOIN _acc a USING (_akey) WHERE s._reason IS NULL
              QUALIFY row_number() OVER (PARTITION BY s.platform, s.post_id
                                         ORDER BY s.captured_at DESC, s._row DESC) = 1) AS l
        LEFT JOIN posts p ON p.platform = l.platform AND p.platform_post_id = l.post_id""",
        [start],
    )
    con.execute(
        f"""
        INSERT INTO posts (post_id, platform, platform_post_id, account_id, posted_at,
                           media_type, text, hashtags, mentions, url, is_repost,
                           is_reply_to_other, video_duration_s, observed_at, first_batch_id,
                           last_batch_id)
        SELECT pid, platform, post_id, account_id, posted_at, media_type, text,
               {_hashtags("text")}, {_mentions("text")}, url, coalesce(is_repost, false),
               is_reply_to_other, video_duration_s, captured_at, ?, ?
        FROM _pid WHERE known_observed_at IS NULL""",
        [batch, batch],
    )
    summary.posts_new += _scalar(wh, "SELECT count(*) FROM _pid WHERE known_observed_at IS NULL")
    # Whether a post replies to another account never changes, and NULL says only that the
    # source could not tell: a reading that cannot tell keeps what an earlier one said, and
    # one that can fills in an unknown value whenever it was captured (so the order in which
    # files are imported does not matter).
    reply = "coalesce(n.is_reply_to_other, p.is_reply_to_other)"
    changed = " OR ".join(
        f"p.{c} IS DISTINCT FROM n.{c}"
        for c in ["account_id", "posted_at", *attrs]
        if c not in ("is_repost", "is_reply_to_other")
    )
    changed += " OR p.is_repost IS DISTINCT FROM coalesce(n.is_repost, false)"
    changed += f" OR p.is_reply_to_other IS DISTINCT FROM {reply}"
    newer = "n.captured_at > n.known_observed_at"
    fills = "n.captured_at <= n.known_observed_at AND p.is_reply_to_other IS NULL"
    summary.posts_updated += _scalar(
        wh,
        f"""SELECT count(*) FROM _pid n JOIN posts p ON p.post_id = n.pid
        WHERE ({newer} AND ({changed})) OR ({fills} AND n.is_reply_to_other IS NOT NULL)""",
    )
    con.execute(
        f"""
        UPDATE posts p SET account_id = n.account_id, posted_at = n.posted_at,
            media_type = n.media_type, text = n.text, hashtags = {_hashtags("n.text")},
            mentions = {_mentions("n.text")}, url = n.url,
            is_repost = coalesce(n.is_repost, false), is_reply_to_other = {reply},
            video_duration_s = n.video_duration_s, observed_at = n.captured_at,
            last_batch_id = ?
        FROM _pid n WHERE p.post_id = n.pid AND {newer}""",
        [batch],
    )
    con.execute(
        f"""
        UPDATE posts p SET is_reply_to_other = n.is_reply_to_other, last_batch_id = ?
        FROM _pid n WHERE p.post_id = n.pid AND {fills} AND n.is_reply_to_other IS NOT NULL""",
        [batch],
    )
    counts = COUNT_COLUMNS
    before = _scalar(wh, "SELECT count(*) FROM post_metrics")
    con.execute(
        f"""
        INSERT INTO post_metrics
        SELECT n.pid, s.captured_at, {", ".join("s." + c for c in counts)}, ?, ?
        FROM _stage s JOIN _pid n ON n.platform = s.platform AND n.post_id = s.post_id
        WHERE s._reason IS NULL AND NOT EXISTS (
            SELECT 1 FROM post_metrics m
            WHERE n.known_observed_at IS NOT NULL AND m.post_id = n.pid
              AND m.captured_at = s.captured_at)
        """,
        [metrics_version, batch],
    )
    summary.snapshots_new += _scalar(wh, "SELECT count(*) FROM post_metrics") - before


def _scalar(wh: Warehouse, sql: str, params: list[object] | None = None) -> int:
    row = wh.con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
