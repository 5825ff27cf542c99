"""The warehouse schema as an ordered list of migrations.

A warehouse records the migrations applied to it in ``schema_migrations``. Opening an older
file applies the missing ones (each in its own transaction, with its row); a file with a
version newer than :data:`SCHEMA_VERSION` is refused. Never edit a released migration: add one.

Documented for users in docs/schema.md (a test checks every column is documented there).

The large tables (``posts``, ``post_metrics``, ``account_snapshots``, ``raw_records``) carry no
PRIMARY KEY: DuckDB would keep an index over tens of millions of rows for it. Their natural
keys are enforced by the loader (anti-joins in one transaction per batch) and checked by tests.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "core tables",
        """
        CREATE TABLE schema_migrations (
            version INTEGER PRIMARY KEY,
            name VARCHAR NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL,
            govsocial_version VARCHAR NOT NULL
        );
        CREATE TABLE clusters (
            cluster_id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            name_en VARCHAR,
            sub_clusters VARCHAR[] NOT NULL
        );
        CREATE TABLE institutions (
            institution_id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            cluster_id VARCHAR NOT NULL,
            sub_cluster VARCHAR,
            region VARCHAR,
            is_synthetic BOOLEAN NOT NULL,
            registry_batch_id INTEGER NOT NULL
        );
        CREATE TABLE accounts (
            account_id INTEGER PRIMARY KEY,
            institution_id VARCHAR,
            platform VARCHAR NOT NULL,
            handle VARCHAR,
            handle_key VARCHAR,
            platform_account_id VARCHAR,
            display_name VARCHAR,
            is_synthetic BOOLEAN NOT NULL,
            first_batch_id INTEGER NOT NULL
        );
        CREATE TABLE account_snapshots (
            account_id INTEGER NOT NULL,
            captured_at TIMESTAMPTZ NOT NULL,
            followers BIGINT NOT NULL,
            following BIGINT,
            posts_count BIGINT,
            batch_id INTEGER NOT NULL
        );
        CREATE TABLE posts (
            post_id BIGINT NOT NULL,
            platform VARCHAR NOT NULL,
            platform_post_id VARCHAR NOT NULL,
            account_id INTEGER NOT NULL,
            posted_at TIMESTAMPTZ NOT NULL,
            media_type VARCHAR NOT NULL,
            text VARCHAR,
            hashtags VARCHAR[] NOT NULL,
            mentions VARCHAR[] NOT NULL,
            url VARCHAR,
            is_repost BOOLEAN NOT NULL,
            video_duration_s DOUBLE,
            observed_at TIMESTAMPTZ NOT NULL,
            first_batch_id INTEGER NOT NULL,
            last_batch_id INTEGER NOT NULL
        );
        CREATE TABLE post_metrics (
            post_id BIGINT NOT NULL,
            captured_at TIMESTAMPTZ NOT NULL,
            views BIGINT,
            likes BIGINT,
            reactions BIGINT,
            comments BIGINT,
            shares BIGINT,
            quotes BIGINT,
            saves BIGINT,
            metrics_version SMALLINT NOT NULL,
            batch_id INTEGER NOT NULL
        );
        CREATE TABLE ingest_batches (
            batch_id INTEGER PRIMARY KEY,
            kind VARCHAR NOT NULL,
            source_format VARCHAR NOT NULL,
            path VARCHAR,
            file_sha256 VARCHAR,
            file_bytes BIGINT,
            is_synthetic BOOLEAN NOT NULL,
            status VARCHAR NOT NULL,
            error VARCHAR,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            records_read BIGINT NOT NULL DEFAULT 0,
            posts_new BIGINT NOT NULL DEFAULT 0,
            posts_updated BIGINT NOT NULL DEFAULT 0,
            snapshots_new BIGINT NOT NULL DEFAULT 0,
            accounts_new BIGINT NOT NULL DEFAULT 0,
            quarantined BIGINT NOT NULL DEFAULT 0,
            govsocial_version VARCHAR NOT NULL
        );
        CREATE TABLE raw_files (
            file_sha256 VARCHAR PRIMARY KEY,
            file_name VARCHAR NOT NULL,
            file_bytes BIGINT NOT NULL,
            content BLOB NOT NULL,
            first_batch_id INTEGER NOT NULL
        );
        CREATE TABLE raw_records (
            batch_id INTEGER NOT NULL,
            record_index BIGINT NOT NULL,
            origin VARCHAR NOT NULL,
            source_format VARCHAR NOT NULL,
            payload JSON NOT NULL
        );
        CREATE TABLE quarantine (
            batch_id INTEGER NOT NULL,
            record_index BIGINT NOT NULL,
            origin VARCHAR NOT NULL,
            source_format VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            detail VARCHAR NOT NULL,
            payload JSON
        );
        """,
    ),
    Migration(
        2,
        "latest-snapshot views",
        """
        CREATE VIEW post_metrics_latest AS
            SELECT * EXCLUDE (rn) FROM (
                SELECT *, row_number() OVER (PARTITION BY post_id ORDER BY captured_at DESC) AS rn
                FROM post_metrics
            ) WHERE rn = 1;
        CREATE VIEW account_snapshots_latest AS
            SELECT * EXCLUDE (rn) FROM (
                SELECT *, row_number() OVER (PARTITION BY account_id
                                             ORDER BY captured_at DESC) AS rn
                FROM account_snapshots
            ) WHERE rn = 1;
        """,
    ),
]

MIGRATIONS.append(
    Migration(
        3,
        "award runs",
        """
        CREATE TABLE award_runs (
            run_id VARCHAR PRIMARY KEY,
            methodology_id VARCHAR NOT NULL,
            methodology_sha256 VARCHAR NOT NULL,
            methodology_text VARCHAR NOT NULL,
            data_fingerprint VARCHAR NOT NULL,
            govsocial_version VARCHAR NOT NULL,
            engine VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            seconds DOUBLE NOT NULL,
            results JSON NOT NULL
        );
        """,
    )
)

MIGRATIONS.append(
    Migration(
        4,
        "compressed raw files",
        # Files kept before this migration are kept as they are ('none'); new ones as zstd.
        "ALTER TABLE raw_files ADD COLUMN compression VARCHAR DEFAULT 'none';",
    )
)

MIGRATIONS.append(
    Migration(
        5,
        "award run executions",
        # A run is keyed by its inputs, so running it again (on Spark, say) keeps no new
        # award_runs row: each execution gets its own row here. Runs kept before this
        # migration had one execution, the one award_runs describes.
        """
        CREATE TABLE award_run_executions (
            run_id VARCHAR NOT NULL,
            engine VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            seconds DOUBLE NOT NULL,
            govsocial_version VARCHAR NOT NULL
        );
        INSERT INTO award_run_executions
            SELECT run_id, engine, created_at, seconds, govsocial_version FROM award_runs;
        """,
    )
)

MIGRATIONS.append(
    Migration(
        6,
        "replies to other accounts",
        # posts.is_reply_to_other: true for a reply to another account's post, false for a post
        # that is none, NULL when the source cannot tell. Posts loaded before this migration are
        # NULL (not known; the metrics count them as original posts, as before), except X
        # posts, whose tweets are kept in raw_records: they get what the X reader says today
        # (sources/x/records.py, reply_to_other; a test checks both agree), since importing
        # the same file again is skipped and could never fill them in.
        """
        ALTER TABLE posts ADD COLUMN is_reply_to_other BOOLEAN;
        UPDATE posts SET is_reply_to_other = t.reply
        FROM (
            SELECT id, arg_max(reply, (batch_id, record_index)) AS reply
            FROM (
                SELECT batch_id, record_index, id,
                       CASE WHEN list_contains(kinds, 'retweeted') THEN false
                            WHEN target IS NOT NULL THEN target <> author
                            WHEN list_contains(kinds, 'replied_to') THEN NULL
                            WHEN conversation IS NOT NULL THEN
                                CASE WHEN conversation = id THEN false END
                            WHEN list_contains(kinds, 'quoted') THEN false
                       END AS reply
                FROM (
                    SELECT batch_id, record_index, payload ->> '$.id' AS id,
                           coalesce(payload ->> '$.author_id', payload ->> '$.author.id')
                               AS author,
                           CASE WHEN json_type(payload, '$.in_reply_to_user_id')
                                     IN ('VARCHAR', 'BIGINT', 'UBIGINT')
                                THEN nullif(payload ->> '$.in_reply_to_user_id', '')
                           END AS target,
                           CASE WHEN json_type(payload, '$.conversation_id')
                                     IN ('VARCHAR', 'BIGINT', 'UBIGINT')
                                THEN nullif(payload ->> '$.conversation_id', '')
                           END AS conversation,
                           CASE WHEN json_type(payload, '$.referenced_tweets') = 'ARRAY'
                                THEN json_extract_string(payload, '$.referenced_tweets[*].type')
                                ELSE []::VARCHAR[]
                           END AS kinds
                    FROM raw_records
                    WHERE source_format = 'x-v2'
                      AND (json_exists(payload, '$.author_id')
                           OR json_exists(payload, '$.author'))
                )
            )
            WHERE reply IS NOT NULL
            GROUP BY id
        ) AS t
        WHERE posts.platform = 'x' AND posts.platform_post_id = t.id;
        """,
    )
)

MIGRATIONS.append(
    Migration(
        7,
        "collection state",
        # collect_cursors: per account and stream ('posts'), the walk in progress: its window and
        # where it continues (the client's Resume as JSON, no URL, no credential), written in the
        # same transaction as the page it follows. collect_accounts: per account, the outcome of
        # the last collection and how far its posts are complete. collect_runs: one row per run.
        """
        CREATE TABLE collect_cursors (
            account_id BIGINT NOT NULL,
            stream VARCHAR NOT NULL,
            since TIMESTAMPTZ NOT NULL,
            until TIMESTAMPTZ NOT NULL,
            resume VARCHAR,
            pages BIGINT NOT NULL DEFAULT 0,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (account_id, stream)
        );
        CREATE TABLE collect_accounts (
            account_id BIGINT PRIMARY KEY,
            last_run_id BIGINT,
            last_attempt_at TIMESTAMPTZ,
            last_success_at TIMESTAMPTZ,
            complete_until TIMESTAMPTZ,
            pages BIGINT NOT NULL DEFAULT 0,
            last_error VARCHAR,
            last_error_at TIMESTAMPTZ
        );
        CREATE TABLE collect_runs (
            run_id BIGINT PRIMARY KEY,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            status VARCHAR NOT NULL,
            scope VARCHAR NOT NULL,
            accounts BIGINT NOT NULL DEFAULT 0,
            pages BIGINT NOT NULL DEFAULT 0,
            errors BIGINT NOT NULL DEFAULT 0,
            usage VARCHAR,
            govsocial_version VARCHAR NOT NULL
        );
        """,
    )
)

MIGRATIONS.append(
    Migration(
        8,
        "cube cache",
        # The award engine's cube (metrics/cube.py), kept per scope and week so that a run after
        # an import recomputes only the weeks whose data changed (store/cubecache.py). Derived
        # data, never trusted without its check: each week's rows are used only while the
        # week's fingerprint, computed from the data at every run, is the one they were
        # computed under. Emptying both tables costs one full run, nothing else.
        """
        CREATE TABLE cube_cache_scopes (
            scope_hash VARCHAR PRIMARY KEY,
            scope JSON NOT NULL,
            weeks INTEGER NOT NULL,
            metrics_batch BIGINT NOT NULL,
            metrics_checksum VARCHAR NOT NULL,
            govsocial_version VARCHAR NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE cube_cache_weeks (
            scope_hash VARCHAR NOT NULL,
            week INTEGER NOT NULL,
            fingerprint VARCHAR NOT NULL,
            cube_rows BIGINT NOT NULL,
            cube BLOB NOT NULL,
            computed_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (scope_hash, week)
        );
        """,
    )
)

MIGRATIONS.append(
    Migration(
        9,
        "theme tags",
        # The text stage's results (text/update.py, store/text.py): theme tags per post with
        # the terms that matched, and per post the hash of the text it was read with and the
        # fingerprint of the theme files, so `govsocial text update` reads only new or changed
        # posts (or all, when the theme files change).
        """
        CREATE TABLE post_themes (
            post_id BIGINT NOT NULL,
            theme VARCHAR NOT NULL,
            evidence VARCHAR[] NOT NULL,
            PRIMARY KEY (post_id, theme)
        );
        CREATE TABLE post_text_state (
            post_id BIGINT PRIMARY KEY,
            text_hash UBIGINT NOT NULL,
            themes_sha VARCHAR NOT NULL,
            read_at TIMESTAMPTZ NOT NULL
        );
        """,
    )
)

MIGRATIONS.append(
    Migration(
        10,
        "post terms",
        # What keywords and trends count, kept by `govsocial text update` with the theme tags
        # (text/update.py, store/text.py), so that they aggregate kept counts instead of
        # reading every text of their scope again: per post, the occurrences of each form of
        # each term (unigram, bigram, hashtag), and its number of tokens. Forms are numbered
        # in text_forms, each with the term it counts as (numbered too) under the
        # normalisation (`lexicon`) that read it. No keys, as on posts: the writer replaces a
        # post's rows in the transaction that marks it read, and numbers only new forms.
        """
        CREATE TABLE text_forms (
            form_id INTEGER NOT NULL,
            form VARCHAR NOT NULL,
            term_id INTEGER NOT NULL,
            term VARCHAR NOT NULL,
            lexicon VARCHAR NOT NULL
        );
        CREATE TABLE post_terms (
            post_id BIGINT NOT NULL,
            kind TINYINT NOT NULL,
            form_id INTEGER NOT NULL,
            next_form_id INTEGER,
            occurrences INTEGER NOT NULL
        );
        ALTER TABLE post_text_state ADD COLUMN tokens INTEGER;
        """,
    )
)

SCHEMA_VERSION = MIGRATIONS[-1].version

# Tables and views users may rely on (docs/schema.md documents each column).
PUBLIC_RELATIONS = [
    "clusters",
    "institutions",
    "accounts",
    "account_snapshots",
    "account_snapshots_latest",
    "posts",
    "post_metrics",
    "post_metrics_latest",
    "raw_files",
    "raw_records",
    "ingest_batches",
    "quarantine",
    "schema_migrations",
    "award_runs",
    "award_run_executions",
    "collect_cursors",
    "collect_accounts",
    "collect_runs",
    "cube_cache_scopes",
    "cube_cache_weeks",
    "post_themes",
    "post_text_state",
    "post_terms",
    "text_forms",
]
