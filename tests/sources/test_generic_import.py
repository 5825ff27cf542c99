"""The generic format through the real loader into a real DuckDB file."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POST_HEADER, post_row, scalar, write_csv
from govsocial.errors import InputError
from govsocial.sources.formats import detect
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, load_file
from govsocial.store.rawfiles import file_bytes

TABLES = [
    "accounts",
    "posts",
    "post_metrics",
    "account_snapshots",
    "raw_files",
    "raw_records",
    "quarantine",
    "ingest_batches",
]


def dump(wh: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    return {t: wh.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def test_good_rows_load_and_bad_rows_are_quarantined_with_reasons(
    registered: Warehouse, tmp_path: Path
) -> None:
    rows = [
        post_row(),
        post_row(captured_at="2025-03-08T08:00:00+07:00", likes=30, comments=5),
        post_row(post_id="p2", posted_at="yesterday"),
        post_row(post_id="p3", platform="myspace"),
        post_row(post_id="p4", media_type="gif"),
        post_row(post_id="p5", likes=-3),
        post_row(post_id="p6", likes="12.5"),
        post_row(post_id="p7", captured_at="2025-02-01T00:00:00Z"),
        post_row(post_id="", text="no id"),
        post_row(post_id="p8", account_platform_id="", account_handle=""),
        post_row(),  # the same observation twice
    ]
    summary = load_file(registered, write_csv(tmp_path / "posts.csv", rows), stage)
    assert (summary.records_read, summary.posts_new, summary.snapshots_new) == (11, 1, 2)
    assert summary.quarantined == {
        "bad_value": 2,
        "captured_before_posted": 1,
        "duplicate_record": 1,
        "missing_value": 2,
        "negative_count": 1,
        "unknown_media_type": 1,
        "unknown_platform": 1,
    }
    detail = scalar(registered, "SELECT detail FROM quarantine WHERE record_index = 3")
    assert detail == "column posted_at: yesterday is not a valid timestamp (ISO 8601)"
    origin, payload = registered.con.execute(
        "SELECT origin, payload->>'$.platform' FROM quarantine WHERE reason = 'unknown_platform'"
    ).fetchone() or ("", "")
    assert (origin, payload) == ("posts.csv, row 4", "myspace")
    # Every record is accounted for: loaded (one snapshot each) or quarantined.
    assert scalar(registered, "SELECT count(*) FROM post_metrics") + summary.quarantined_total == 11
    # The file itself is kept, byte for byte.
    assert file_bytes(registered, "posts.csv") == (
        "posts.csv",
        (tmp_path / "posts.csv").read_bytes(),
    )
    assert scalar(registered, "SELECT compression FROM raw_files") == "zstd"
    assert summary.quarantined_total == 9
    latest = registered.con.execute("SELECT likes, comments FROM post_metrics_latest").fetchall()
    assert latest == [(30, 5)]
    post = registered.con.execute(
        "SELECT posted_at::VARCHAR, hashtags, a.handle "
        "FROM posts JOIN accounts a USING (account_id)"
    ).fetchone()
    assert post == ("2025-03-01 01:00:00+00", ["jabar"], "jabarprovgov")


def test_same_file_twice_changes_nothing(registered: Warehouse, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "posts.csv", [post_row(), post_row(post_id="p2", media_type="reel")]
    )
    first = load_file(registered, path, stage)
    before = dump(registered)
    again = load_file(registered, path, stage)
    assert (again.status, again.batch_id) == ("skipped", first.batch_id)
    assert dump(registered) == before
    # Other bytes, same content (reordered rows): loaded, but nothing new.
    other = write_csv(
        tmp_path / "copy.csv", [post_row(post_id="p2", media_type="reel"), post_row()]
    )
    third = load_file(registered, other, stage)
    assert (third.status, third.posts_new, third.posts_updated, third.snapshots_new) == (
        "loaded",
        0,
        0,
        0,
    )
    assert scalar(registered, "SELECT count(*) FROM posts") == 2


def test_newer_observation_adds_a_snapshot_and_updates_the_post(
    registered: Warehouse, tmp_path: Path
) -> None:
    load_file(registered, write_csv(tmp_path / "a.csv", [post_row()]), stage)
    edited = post_row(captured_at="2025-03-09T00:00:00Z", text="Halo #Jabar #SDGs", likes=99)
    summary = load_file(registered, write_csv(tmp_path / "b.csv", [edited]), stage)
    assert (summary.posts_new, summary.posts_updated, summary.snapshots_new) == (0, 1, 1)
    assert registered.con.execute("SELECT hashtags, last_batch_id FROM posts").fetchone() == (
        ["jabar", "sdgs"],
        summary.batch_id,
    )
    # An older observation arriving later adds its snapshot but does not roll the text back.
    older = post_row(captured_at="2025-03-05T00:00:00Z", text="old text", likes=20)
    late = load_file(registered, write_csv(tmp_path / "c.csv", [older]), stage)
    assert (late.posts_updated, late.snapshots_new) == (0, 1)
    assert scalar(registered, "SELECT text FROM posts") == "Halo #Jabar #SDGs"
    assert scalar(registered, "SELECT likes FROM post_metrics_latest") == 99


def test_unknown_accounts_are_kept_unassigned_then_assigned_by_the_registry(
    registered: Warehouse, tmp_path: Path
) -> None:
    row = post_row(
        platform="tiktok",
        account_platform_id="",
        account_handle="@DiskominfoJabar",
        media_type="reel",
        views=1000,
    )
    summary = load_file(registered, write_csv(tmp_path / "t.csv", [row]), stage)
    assert summary.unassigned_accounts == ["tiktok:@DiskominfoJabar"]
    assert scalar(registered, "SELECT count(*) FROM accounts WHERE institution_id IS NULL") == 1
    from govsocial.registry import read_registry
    from govsocial.store import apply_registry

    reg = tmp_path / "more.yaml"
    reg.write_text(
        "institutions:\n  - id: jabarprov\n    name: Pemerintah Provinsi Jawa Barat\n"
        "    cluster: pemda\n    sub_cluster: provinsi\n    accounts:\n"
        "      - {platform: tiktok, handle: diskominfojabar}\n"
    )
    result = apply_registry(registered, read_registry(reg), reg)
    assert (result.accounts_new, result.accounts_updated) == (0, 1)
    assert scalar(registered, "SELECT count(*) FROM accounts WHERE institution_id IS NULL") == 0


def test_parquet_with_typed_columns(registered: Warehouse, tmp_path: Path) -> None:
    table = pa.table(
        {
            "platform": ["x", "x"],
            "account_handle": ["jabarprovgov", "jabarprovgov"],
            "post_id": ["1", "2"],
            "posted_at": pa.array(
                [1_740_000_000_000_000, 1_740_000_000_000_000], pa.timestamp("us")
            ),
            "captured_at": pa.array([1_740_100_000_000_000] * 2, pa.timestamp("us", tz="UTC")),
            "media_type": ["text", "video"],
            "likes": [3.0, 2.5],
            "views": pa.array([10, 20], pa.int32()),
        }
    )
    pq.write_table(table, tmp_path / "x.parquet")
    assert detect(tmp_path / "x.parquet") == "generic"
    summary = load_file(registered, tmp_path / "x.parquet", stage)
    assert (summary.posts_new, summary.quarantined) == (1, {"bad_value": 1})
    assert (
        scalar(registered, "SELECT detail FROM quarantine")
        == "column likes: 2.5 is not a whole number"
    )
    assert scalar(registered, "SELECT views FROM post_metrics") == 10


def test_missing_columns_refuse_the_file_and_load_nothing(
    registered: Warehouse, tmp_path: Path
) -> None:
    header = [c for c in POST_HEADER if c not in ("posted_at", "media_type")]
    row = {k: v for k, v in post_row().items() if k in header}
    with pytest.raises(InputError, match="missing required column.*posted_at, media_type"):
        load_file(registered, write_csv(tmp_path / "p.csv", [row], header), stage)
    assert scalar(registered, "SELECT count(*) FROM ingest_batches WHERE kind = 'posts'") == 0
    with pytest.raises(InputError, match="could not be recognised.*--format"):
        detect(write_csv(tmp_path / "other.csv", [{"a": 1}], ["a"]))


def test_account_snapshots_file(registered: Warehouse, tmp_path: Path) -> None:
    header = ["platform", "account_platform_id", "account_handle", "captured_at", "followers"]
    rows = [
        {
            "platform": "instagram",
            "account_platform_id": "1001",
            "account_handle": "",
            "captured_at": "2025-01-01T00:00:00Z",
            "followers": "19277",
        },
        {
            "platform": "instagram",
            "account_platform_id": "1001",
            "account_handle": "",
            "captured_at": "2025-02-01T00:00:00Z",
            "followers": "19301",
        },
        {
            "platform": "instagram",
            "account_platform_id": "1001",
            "account_handle": "",
            "captured_at": "2025-02-01T00:00:00Z",
            "followers": "19301",
        },
        {
            "platform": "instagram",
            "account_platform_id": "1001",
            "account_handle": "",
            "captured_at": "2025-03-01T00:00:00Z",
            "followers": "",
        },
    ]
    summary = load_file(registered, write_csv(tmp_path / "f.csv", rows, header), stage)
    assert summary.kind == "account_snapshots"
    assert summary.snapshots_new == 2
    assert summary.quarantined == {"duplicate_record": 1, "missing_value": 1}
    assert scalar(registered, "SELECT followers FROM account_snapshots_latest") == 19301


cell = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-5, 10**12).map(str),
    st.sampled_from(
        [
            "x",
            "instagram",
            "video",
            "2025-01-01T00:00:00Z",
            "1e3",
            "true",
            "NaN",
            "\n",
            '"',
            ",",
            "2025-13-45",
        ]
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.fixed_dictionaries({c: cell for c in POST_HEADER}), min_size=1, max_size=8))
def test_any_content_loads_or_is_quarantined_never_crashes(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, object]]
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:
        summary = load_file(wh, write_csv(folder / "posts.csv", rows), stage)
        loaded = scalar(wh, "SELECT count(*) FROM post_metrics")
        assert loaded + summary.quarantined_total == summary.records_read == len(rows)
        assert scalar(wh, "SELECT count(*) FROM quarantine WHERE payload IS NULL") == 0


def test_one_new_account_referenced_by_id_and_by_handle_is_one_account(
    registered: Warehouse, tmp_path: Path
) -> None:
    rows = [
        post_row(post_id="n1", account_platform_id="999001", account_handle="@newacct"),
        post_row(post_id="n2", account_platform_id="", account_handle="@NewAcct"),
    ]
    load_file(registered, write_csv(tmp_path / "n.csv", rows), stage)
    owners = registered.con.execute(
        "SELECT count(DISTINCT account_id) FROM posts WHERE platform_post_id IN ('n1', 'n2')"
    ).fetchone()
    assert owners == (1,)
    assert scalar(registered, "SELECT count(*) FROM accounts WHERE handle_key = 'newacct'") == 1


def test_a_known_handle_with_another_platform_id_is_not_that_account(
    registered: Warehouse, tmp_path: Path
) -> None:
    # @jabarprovgov on instagram is registered with platform id 1001.
    row = post_row(post_id="z1", account_platform_id="777", account_handle="jabarprovgov")
    load_file(registered, write_csv(tmp_path / "z.csv", [row]), stage)
    account = registered.con.execute(
        "SELECT a.platform_account_id, a.institution_id FROM posts p JOIN accounts a "
        "USING (account_id) WHERE p.platform_post_id = 'z1'"
    ).fetchone()
    assert account == ("777", None)  # a new, unassigned account; 1001 keeps its posts
    assert scalar(registered, "SELECT platform_account_id FROM accounts WHERE account_id = 1") == (
        "1001"
    )


def test_one_account_read_twice_at_the_same_time_keeps_one_reading(
    registered: Warehouse, tmp_path: Path
) -> None:
    header = ["platform", "account_platform_id", "account_handle", "captured_at", "followers"]
    rows = [
        {
            "platform": "instagram",
            "account_platform_id": "1001",
            "account_handle": "",
            "captured_at": "2030-01-01T00:00:00Z",
            "followers": "100",
        },
        {
            "platform": "instagram",
            "account_platform_id": "",
            "account_handle": "jabarprovgov",
            "captured_at": "2030-01-01T00:00:00Z",
            "followers": "200",
        },
    ]
    summary = load_file(registered, write_csv(tmp_path / "s.csv", rows, header), stage)
    assert summary.quarantined == {"duplicate_record": 1}
    assert registered.con.execute("SELECT followers FROM account_snapshots").fetchall() == [(100,)]


def test_text_that_reads_like_null_is_kept_and_padded_headers_are_explained(
    registered: Warehouse, tmp_path: Path
) -> None:
    load_file(registered, write_csv(tmp_path / "na.csv", [post_row(text="NA")]), stage)
    assert scalar(registered, "SELECT text FROM posts") == "NA"
    padded = tmp_path / "padded.csv"
    padded.write_text("platform, post_id\ninstagram, p1\n")
    with pytest.raises(InputError, match="spaces around them"):
        load_file(registered, padded, stage)


def test_decimal_counts_must_be_whole(registered: Warehouse, tmp_path: Path) -> None:
    from decimal import Decimal

    table = pa.table(
        {
            "platform": ["x", "x"],
            "account_handle": ["jabarprovgov"] * 2,
            "post_id": ["d1", "d2"],
            "posted_at": pa.array([1_740_000_000_000_000] * 2, pa.timestamp("us", tz="UTC")),
            "captured_at": pa.array([1_740_100_000_000_000] * 2, pa.timestamp("us", tz="UTC")),
            "media_type": ["text", "text"],
            "likes": pa.array([Decimal("12.50"), Decimal("7.00")], pa.decimal128(10, 2)),
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    summary = load_file(registered, tmp_path / "d.parquet", stage)
    assert (summary.posts_new, summary.quarantined) == (1, {"bad_value": 1})
    assert scalar(registered, "SELECT likes FROM post_metrics") == 7
