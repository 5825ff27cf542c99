"""Rules every format shares, enforced by the loader and the import service: implausible
times, control characters, conflicting re-observations, repeated rejects, gzip, folders,
files that cannot be imported, and whether a post replies to another account (kept across
readings and schema versions)."""

from __future__ import annotations

import gzip
import itertools
import os
import socket
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import post_row, scalar, write_csv
from govsocial.cli import app
from govsocial.errors import InputError, StoreError
from govsocial.sources.formats import detect, stager
from govsocial.store import SCHEMA_VERSION, Warehouse, load_file, summarise
from govsocial.store.importing import import_paths
from govsocial.store.schema import MIGRATIONS

stage = stager("generic")


def test_implausible_times_are_quarantined_by_a_documented_rule(
    registered: Warehouse, tmp_path: Path
) -> None:
    rows = [
        post_row(post_id="good"),
        post_row(post_id="year1", posted_at="0001-01-01T00:00:00Z"),
        post_row(post_id="epoch", posted_at="1969-12-31T23:59:59Z"),  # before Instagram
        post_row(post_id="future", captured_at="2099-01-01T00:00:00Z"),
        post_row(post_id="inf", posted_at="infinity"),
        post_row(post_id="far", captured_at="12000-01-01T00:00:00Z"),
        post_row(post_id="early", captured_at="2025-02-01T00:00:00Z"),  # before posting
    ]
    summary = load_file(registered, write_csv(tmp_path / "p.csv", rows), stage)
    assert summary.posts_new == 1
    assert summary.quarantined == {
        "bad_time": 2,
        "captured_before_posted": 1,
        "future_time": 1,
        "implausible_time": 2,
    }
    details = dict(registered.con.execute("SELECT record_index, detail FROM quarantine").fetchall())
    assert "before instagram existed (2010-10-06)" in details[3]
    assert "is in the future" in details[4]
    info = summarise(registered)  # the warehouse stays readable: no infinite or 5-digit years
    assert info.posts == 1 and info.last_post is not None and info.last_post.year < 2100


def test_a_control_character_in_a_handle_or_id_is_quarantined(
    registered: Warehouse, tmp_path: Path
) -> None:
    rows = [
        post_row(account_platform_id="", account_handle="jabarprovgov\x00evil", post_id="a"),
        post_row(post_id="b\nc"),
        post_row(post_id="ok"),
    ]
    summary = load_file(registered, write_csv(tmp_path / "p.csv", rows), stage)
    assert summary.quarantined == {"bad_value": 2} and summary.posts_new == 1
    handles = registered.con.execute("SELECT handle FROM accounts ORDER BY 1").fetchall()
    assert ("jabarprovgov",) in handles
    assert all("\x00" not in (h or "") for (h,) in handles)


def test_a_re_observation_with_other_counts_is_a_quarantined_conflict(
    registered: Warehouse, tmp_path: Path
) -> None:
    load_file(registered, write_csv(tmp_path / "a.csv", [post_row(likes=10)]), stage)
    same = load_file(
        registered, write_csv(tmp_path / "b.csv", [post_row(likes=10, text="x")]), stage
    )
    assert same.quarantined == {} and same.snapshots_new == 0  # a repeat, nothing new
    other = load_file(registered, write_csv(tmp_path / "c.csv", [post_row(likes=12)]), stage)
    assert other.quarantined == {"conflicting_observation": 1}
    detail = scalar(registered, "SELECT detail FROM quarantine")
    assert "likes 10 there, 12 here" in detail
    assert scalar(registered, "SELECT likes FROM post_metrics") == 10  # the earlier reading


def test_a_follower_reading_that_contradicts_a_stored_one_is_a_conflict(
    registered: Warehouse, tmp_path: Path
) -> None:
    header = ["platform", "account_platform_id", "captured_at", "followers"]
    row = {"platform": "instagram", "account_platform_id": "1001"}
    row["captured_at"] = "2025-03-02T00:00:00Z"
    load_file(registered, write_csv(tmp_path / "a.csv", [{**row, "followers": 5}], header), stage)
    other = load_file(
        registered, write_csv(tmp_path / "b.csv", [{**row, "followers": 6}], header), stage
    )
    assert other.quarantined == {"conflicting_observation": 1}
    assert scalar(registered, "SELECT followers FROM account_snapshots") == 5


def test_the_same_rejected_record_arriving_again_does_not_grow_the_quarantine(
    registered: Warehouse, tmp_path: Path
) -> None:
    bad = post_row(post_id="bad", likes=-3)
    first = load_file(registered, write_csv(tmp_path / "a.csv", [bad, post_row()]), stage)
    second = load_file(
        registered, write_csv(tmp_path / "b.csv", [post_row(post_id="p2"), bad]), stage
    )
    assert first.quarantined == second.quarantined == {"negative_count": 1}
    assert (first.quarantined_before, second.quarantined_before) == (0, 1)
    assert scalar(registered, "SELECT count(*) FROM quarantine") == 1
    assert second.records_read == 2 and second.posts_new == 1  # nothing lost, nothing twice


def test_a_gzip_file_loads_as_its_content_and_its_own_bytes_are_kept(
    registered: Warehouse, tmp_path: Path
) -> None:
    plain = write_csv(tmp_path / "posts.csv", [post_row(), post_row(post_id="p2")])
    packed = tmp_path / "posts.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert detect(packed) == "generic"
    summary = load_file(registered, packed, stager(detect(packed)))
    assert (summary.posts_new, summary.records_read) == (2, 2)
    kept = registered.con.execute("SELECT file_name, file_bytes FROM raw_files").fetchall()
    assert kept == [("posts.csv.gz", packed.stat().st_size)]  # the original, compressed bytes


def test_a_damaged_gzip_file_is_refused_with_the_fix(registered: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "posts.csv.gz"
    path.write_bytes(gzip.compress(b"platform,post_id\n" * 1000)[:40])
    with pytest.raises(InputError, match="cut short"):
        detect(path)


def test_a_folder_imports_every_file_under_it_in_order(
    registered: Warehouse, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    (folder / "b").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    write_csv(folder / "b" / "2.csv", [post_row(post_id="p2")])
    write_csv(folder / "1.csv", [post_row(post_id="p1")])
    write_csv(folder / ".hidden" / "x.csv", [post_row(post_id="p9")])
    (folder / "b" / "loop").symlink_to(folder, target_is_directory=True)
    report = import_paths(registered, [folder])
    assert [Path(s.path).name for s in report.summaries] == ["1.csv", "2.csv"]
    assert report.failures == []
    assert scalar(registered, "SELECT count(*) FROM posts") == 2


def test_missing_files_folders_and_links_fail_alone_with_a_forced_format(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path / "good.csv", [post_row()])
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "empty").mkdir()
    db = tmp_path / "w.duckdb"
    args = ["--db", str(db), "import", "--format", "generic"]
    names = ["nope.csv", "loop", "empty", "good.csv"]
    result = CliRunner().invoke(app, [*args, *(str(tmp_path / n) for n in names)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # reported, not a traceback
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "no such file or folder" in said and "a symbolic link to nothing" in said
    assert "holds no files to import" in said
    with Warehouse.open(db, read_only=True) as wh:
        assert scalar(wh, "SELECT count(*) FROM posts") == 1


def test_a_pipe_in_a_folder_is_one_failure_saying_what_it_is(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    write_csv(tmp_path / "p.csv", [post_row()])
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        report = import_paths(wh, [tmp_path])
    assert [f.path.name for f in report.failures] == ["pipe"]
    assert "not a regular file" in report.failures[0].message
    assert len(report.summaries) == 1


def test_a_path_that_cannot_be_read_is_one_failure_not_a_usage_error(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "p.csv", [post_row()])
    server = socket.socket(socket.AF_UNIX)  # exists, but is not a file anyone can read
    server.bind(str(tmp_path / "export.sock"))
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        report = import_paths(wh, [tmp_path / "export.sock", good], format_name="generic")
    server.close()
    assert [f.path.name for f in report.failures] == ["export.sock"]
    assert "not a regular file" in report.failures[0].message
    assert len(report.summaries) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        ("platform,post_id,caf\xe9\n".encode("latin-1"), "not UTF-8"),
        (b"platform;post_id;posted_at;captured_at\ninstagram;1;x;y\n", "separated by ';'"),
        (b'{"hello": 1}\n', "its first object has: hello"),
        (b"PK\x03\x04rest", "spreadsheet workbook"),
        ('{"a": "b"}\n'.encode("utf-16"), "is UTF-16 text"),
        (b"platform,post_id,posted_at\rinstagram,1,x\r", "carriage return alone"),
        (b"Platform,Post ID,posted_at\ninstagram,1,x\n", "rename 'Platform' → 'platform'"),
        (b"[" * 5000 + b"]" * 5000, "JSON .* nested too deeply"),
        (
            b'{"data": [{"created_time": "2021-01-01T00:00:00+0000"}]}\n'
            b'{"data": [{"media_type": "IMAGE"}]}\n',
            "mixes Facebook posts .* Split it",
        ),
    ],
)
def test_an_unrecognised_file_says_what_it_is_and_the_fix(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected):
        detect(path)
    packed = tmp_path / "file.csv.gz"
    packed.write_bytes(gzip.compress(content))
    with pytest.raises(InputError, match="it is gzip"):
        detect(packed)


def test_a_warehouse_that_cannot_be_written_says_so_and_keeps_nothing(
    registered: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    import govsocial.store.ingest as ingest

    def disk_full(*args: object) -> None:
        raise duckdb.IOException('Could not write file "w.duckdb.wal": No space left on device')

    monkeypatch.setattr(ingest, "_finish", disk_full)
    path = write_csv(tmp_path / "p.csv", [post_row()])
    with pytest.raises(
        StoreError, match=r"w.duckdb could not be written while importing .*no space left"
    ) as caught:
        load_file(registered, path, stage)
    assert "check the file against its format" not in caught.value.message  # not the file's fault
    assert scalar(registered, "SELECT count(*) FROM posts") == 0
    assert "IOException" in scalar(
        registered, "SELECT error FROM ingest_batches WHERE status = 'failed'"
    )


# ---- whether a post replies to another account (posts.is_reply_to_other) ----

X_FIXTURES = Path(__file__).parents[1] / "fixtures" / "x"
REPLY_TIMES = ["2025-03-02T08:00:00Z", "2025-03-03T08:00:00Z", "2025-03-04T08:00:00Z"]


def reply_of(wh: Warehouse) -> object:
    return scalar(wh, "SELECT is_reply_to_other FROM posts")


def test_a_file_that_cannot_tell_never_erases_a_reply_whatever_the_order(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """Three readings of a post, the middle one in time saying it replies to another account
    and the others not knowing, imported in every order (one post per order): the post is a
    reply from the moment that reading is loaded, and stays one."""
    says = ["", "true", ""]
    for number, order in enumerate(itertools.permutations(range(3))):
        post = f"p{number}"
        for step, n in enumerate(order):
            row = post_row(
                post_id=post, captured_at=REPLY_TIMES[n], is_reply_to_other=says[n], likes=10 + n
            )
            summary = load_file(warehouse, write_csv(tmp_path / f"{post}-{n}.csv", [row]), stage)
            assert summary.quarantined == {} and summary.snapshots_new == 1
            known = 1 in order[: step + 1]
            stored = scalar(
                warehouse, f"SELECT is_reply_to_other FROM posts WHERE platform_post_id = '{post}'"
            )
            assert stored is (True if known else None), (order, step)
            if n == 1 and step > 0:  # an older or a newer reading: either way the post changed
                assert summary.posts_updated == 1, order
    again = post_row(post_id="p0", captured_at=REPLY_TIMES[1], is_reply_to_other="true", likes=11)
    other = post_row(post_id="other")
    repeat = load_file(warehouse, write_csv(tmp_path / "again.csv", [again, other]), stage)
    assert (repeat.posts_new, repeat.posts_updated, repeat.snapshots_new) == (1, 0, 1)


def test_a_newer_reading_that_can_tell_is_what_the_post_is(
    registered: Warehouse, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "a.csv", [post_row(is_reply_to_other="true")])
    assert load_file(registered, first, stage).posts_new == 1
    later = [post_row(captured_at=REPLY_TIMES[1], is_reply_to_other="false", likes=11)]
    summary = load_file(registered, write_csv(tmp_path / "b.csv", later), stage)
    assert summary.posts_updated == 1 and reply_of(registered) is False


V5_POSTS = (  # the posts columns of schema version 5, in order
    "post_id, platform, platform_post_id, account_id, posted_at, media_type, text, hashtags, "
    "mentions, url, is_repost, video_duration_s, observed_at, first_batch_id, last_batch_id"
)


def version_5(path: Path) -> duckdb.DuckDBPyConnection:
    """A new file as schema version 5 made it."""
    con = duckdb.connect(str(path))
    for migration in MIGRATIONS[:5]:
        assert migration.version <= 5
        con.execute(migration.sql)
        con.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, now(), '0.9')",
            [migration.version, migration.name],
        )
    return con


def test_a_warehouse_of_schema_version_5_is_migrated_and_its_posts_are_not_known(
    tmp_path: Path,
) -> None:
    """A file as version 5 left it, posts written in that version's column order: opened
    (even to read), it gets the column; its posts are not known (NULL) until a file that can
    tell observes them, whenever that observation was made."""
    path = tmp_path / "v5.duckdb"
    con = version_5(path)
    con.execute("INSERT INTO clusters VALUES ('pemda', 'Pemda', NULL, [])")
    con.execute("INSERT INTO institutions VALUES ('jabar', 'Jabar', 'pemda', NULL, NULL, false, 1)")
    con.execute(
        "INSERT INTO accounts VALUES"
        " (1, 'jabar', 'instagram', 'humas', 'humas', '1001', NULL, false, 1)"
    )
    con.execute(f"""INSERT INTO posts ({V5_POSTS}) VALUES (1, 'instagram', 'p1', 1,
        '2025-03-01 01:00:00+00', 'image', 'Halo', [], [], NULL, false, NULL,
        '2025-03-03 01:00:00+00', 1, 1)""")
    con.close()
    with Warehouse.open(path, read_only=True) as wh:
        assert wh.schema_version() == SCHEMA_VERSION
        found = wh.con.execute("SELECT platform_post_id, is_reply_to_other FROM posts").fetchall()
        assert found == [("p1", None)]
    with Warehouse.open(path) as wh:
        older = [post_row(post_id="p1", is_reply_to_other="true")]  # read before the stored one
        summary = load_file(wh, write_csv(tmp_path / "old.csv", older), stage)
        assert (summary.posts_new, summary.posts_updated) == (0, 1)
        assert reply_of(wh) is True


def test_the_migration_reads_x_posts_again_from_their_kept_tweets(tmp_path: Path) -> None:
    """X posts loaded before version 6 get, from their tweets in raw_records, exactly what the
    reader gives them today: importing the same files again is skipped, so nothing else could."""
    now = tmp_path / "now.duckdb"
    with Warehouse.open(now, create=True) as wh:
        for fixture in sorted(X_FIXTURES.glob("*.json*")):
            load_file(wh, fixture, stager("x-v2"))
        load_file(wh, write_csv(tmp_path / "p.csv", [post_row()]), stage)  # not X: NULL
        read = "SELECT platform_post_id, is_reply_to_other FROM posts ORDER BY 1"
        expected = wh.con.execute(read).fetchall()
    counts = {value: sum(1 for _, v in expected if v is value) for value in (True, False, None)}
    assert counts == {True: 74, False: 135, None: 3}  # 2 stream tweets and the generic post
    old = tmp_path / "v5.duckdb"  # the same posts and kept tweets, as version 5 held them
    con = version_5(old)
    con.execute(f"ATTACH '{now}' AS now (READ_ONLY)")
    con.execute(f"INSERT INTO posts SELECT {V5_POSTS} FROM now.posts")
    con.execute("INSERT INTO raw_records SELECT * FROM now.raw_records")
    con.close()
    with Warehouse.open(old, read_only=True) as wh:
        assert wh.schema_version() == SCHEMA_VERSION
        assert wh.con.execute(read).fetchall() == expected
