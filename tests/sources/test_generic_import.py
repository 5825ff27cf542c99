"""The generic format through the real loader into a real DuckDB file."""

import csv
import gzip
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POST_HEADER, post_row, scalar, write_csv
from govsocial.errors import InputError
from govsocial.sources.formats import detect, stager
from govsocial.sources.generic import FORMAT, stage
from govsocial.sources.staging import ImportOptions
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


@pytest.mark.parametrize("extra", ["file_row_number", "_row", "_reason", "_payload", "_akey"])
def test_parquet_columns_named_like_the_readers_own_are_only_data(
    registered: Warehouse, tmp_path: Path, extra: str
) -> None:
    """A column named as DuckDB's row numbering or the loader's bookkeeping is just another
    column of the file: its rows load, numbered by their place, and it is kept in payloads."""
    table = pa.table(
        {
            "platform": ["x"] * 3,
            "account_handle": ["jabarprovgov"] * 3,
            "post_id": ["1", "2", "3"],
            "posted_at": pa.array([1_740_000_000] * 3, pa.timestamp("s", tz="UTC")),
            "captured_at": pa.array([1_740_100_000] * 3, pa.timestamp("s", tz="UTC")),
            "media_type": ["text", "text", "nope"],
            extra: [7, 7, 7],
        }
    )
    pq.write_table(table, tmp_path / "x.parquet")
    summary = load_file(registered, tmp_path / "x.parquet", stage)
    assert (summary.records_read, summary.posts_new) == (3, 2)
    assert summary.quarantined == {"unknown_media_type": 1}
    origin, payload = registered.con.execute("SELECT origin, payload FROM quarantine").fetchone()
    assert origin == "x.parquet, row 3" and json.loads(payload)[extra] == 7


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
            "captured_at": "2025-01-01T00:00:00Z",
            "followers": "100",
        },
        {
            "platform": "instagram",
            "account_platform_id": "",
            "account_handle": "jabarprovgov",
            "captured_at": "2025-01-01T00:00:00Z",
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


def _csv_line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def test_a_short_and_a_long_row_are_quarantined_and_the_rest_loads(
    registered: Warehouse, tmp_path: Path
) -> None:
    good = [post_row(post_id=f"g{i}") for i in range(3)]
    good[0]["text"] = "two\nlines"  # row 1 spans lines 2-3 of the file
    short = list(post_row(post_id="s").values())[:5]
    long = [*(str(post_row(post_id="l").get(c, "")) for c in POST_HEADER), "", "extra"]
    path = tmp_path / "ragged.csv"
    path.write_text(
        _csv_line(POST_HEADER)
        + _csv_line([str(good[0].get(c, "")) for c in POST_HEADER])
        + _csv_line(short)
        + _csv_line([str(good[1].get(c, "")) for c in POST_HEADER])
        + _csv_line(long)
        + _csv_line([str(good[2].get(c, "")) for c in POST_HEADER]),
        encoding="utf-8",
    )
    summary = load_file(registered, path, stage)
    assert (summary.records_read, summary.posts_new) == (5, 3)
    assert summary.quarantined == {"wrong_field_count": 2}
    rows = registered.con.execute(
        "SELECT origin, detail, payload FROM quarantine ORDER BY record_index"
    ).fetchall()
    width = len(POST_HEADER)
    assert [(r[0], r[1]) for r in rows] == [
        (
            "ragged.csv, row 2",
            f"the row starting on line 4 has 5 fields where the header has {width} "
            "(a quote or line break out of place, or a cut-off file?)",
        ),
        (
            "ragged.csv, row 4",
            f"the row starting on line 6 has {width + 2} fields where the header has {width} "
            "(a quote or line break out of place, or a cut-off file?)",
        ),
    ]
    assert json.loads(rows[0][2]) == _csv_line(short)  # the raw text of the row
    assert scalar(registered, "SELECT text FROM posts WHERE platform_post_id = 'g0'") == (
        "two\nlines"
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.lists(cell.map(lambda v: "" if v is None else v), min_size=1, max_size=22),
        min_size=1,
        max_size=8,
    )
)
def test_rows_of_any_width_are_counted_exactly(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    folder = tmp_path_factory.mktemp("ragged")
    path = folder / "posts.csv"
    path.write_text("".join(_csv_line(r) for r in [POST_HEADER, *rows]), encoding="utf-8")
    wrong = sum(len(r) != len(POST_HEADER) for r in rows)
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:
        summary = load_file(wh, path, stage)
        loaded = scalar(wh, "SELECT count(*) FROM post_metrics")
        assert summary.records_read == len(rows)
        assert loaded + summary.quarantined_total == len(rows)
        assert summary.quarantined.get("wrong_field_count", 0) == wrong


def _parquet_posts(n: int, **columns: pa.Array) -> pa.Table:
    base = {
        "platform": pa.array(["x"] * n),
        "account_handle": pa.array(["jabarprovgov"] * n),
        "post_id": pa.array([f"q{i}" for i in range(n)]),
        "posted_at": pa.array([1_740_000_000_000_000] * n, pa.timestamp("us", tz="UTC")),
        "captured_at": pa.array([1_740_100_000_000_000] * n, pa.timestamp("us", tz="UTC")),
        "media_type": pa.array(["text"] * n),
    }
    return pa.table({**base, **columns})


@pytest.mark.parametrize("unsigned", [pa.uint64(), pa.uint32()])
def test_a_count_too_large_for_the_warehouse_is_quarantined(
    registered: Warehouse, tmp_path: Path, unsigned: pa.DataType
) -> None:
    table = _parquet_posts(
        4,
        likes=pa.array([2**63, 2**63 - 1, 7, None], pa.uint64()),
        views=pa.array([1, 2, 2**32 - 1, 4], unsigned),
    )
    path = tmp_path / "big.parquet"
    pq.write_table(table, path)
    summary = load_file(registered, path, stage)
    assert (summary.records_read, summary.posts_new) == (4, 3)
    assert summary.quarantined == {"bad_value": 1}
    origin, detail = registered.con.execute("SELECT origin, detail FROM quarantine").fetchone() or (
        "",
        "",
    )
    assert origin == "big.parquet, row 1"
    assert detail == (
        "column likes: 9223372036854775808 is too large for a count (at most 9223372036854775807)"
    )
    loaded = registered.con.execute(
        "SELECT likes, views FROM post_metrics ORDER BY likes"
    ).fetchall()
    assert loaded == [(7, 2**32 - 1), (2**63 - 1, 2), (None, 4)]


def test_counts_too_large_or_negative_in_any_column_type_are_quarantined(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    from decimal import Decimal

    table = _parquet_posts(
        6,
        likes=pa.array([1.0, float("nan"), float("inf"), 1e30, -2.0, 3.0], pa.float64()),
        comments=pa.array(
            [Decimal(1), Decimal(10**30), Decimal(-(10**30)), Decimal(4), Decimal(5), Decimal(6)],
            pa.decimal128(38, 0),
        ),
    )
    pq.write_table(table, tmp_path / "ranges.parquet")
    summary = load_file(warehouse, tmp_path / "ranges.parquet", stage)
    assert (summary.posts_new, summary.quarantined) == (2, {"bad_value": 3, "negative_count": 1})
    details = warehouse.con.execute(
        "SELECT detail FROM quarantine ORDER BY record_index"
    ).fetchall()
    assert [d[0] for d in details] == [
        "column likes: nan is not a finite number",
        "column likes: inf is not a finite number",
        "column likes: 1e+30 is too large for a count (at most 9223372036854775807)",
        "column likes is negative: -2",
    ]
    text = tmp_path / "text.csv"
    write_csv(
        text,
        [
            post_row(likes="99999999999999999999"),
            post_row(post_id="p2", likes="-99999999999999999999"),
        ],
    )
    summary = load_file(warehouse, text, stage)
    assert summary.quarantined == {"bad_value": 1, "negative_count": 1}


_DAY_MS = 86_400_000
_FAR_OUT = {  # a time past the year 9999 (far past DuckDB's year 294247 where it can be)
    "seconds, UTC": (pa.timestamp("s", tz="UTC"), 9_400_000_000_000, "about the year 299844"),
    "milliseconds": (pa.timestamp("ms"), 9_400_000_000_000_000, "about the year 299844"),
    "milliseconds, UTC": (pa.timestamp("ms", tz="UTC"), -9_400_000_000_000_000, "year -295904"),
    "microseconds": (pa.timestamp("us"), 2**62, "148108-07-06 14:00:27.387904+00"),
    "microseconds, UTC": (pa.timestamp("us", tz="UTC"), 2**63 - 1, "infinity"),
    "nanoseconds": (pa.timestamp("ns"), 2**63 - 1, "infinity"),  # ends in 2262 otherwise
    "date32": (pa.date32(), 2**31 - 2, "column {}: 5881580-07-10"),
    "date32, infinity": (pa.date32(), 2**31 - 1, "infinity"),
    "date64": (pa.date64(), 3_000_000 * 365 * _DAY_MS, "column {}: 2999978-03-05"),
}


@pytest.mark.parametrize("column", ["posted_at", "captured_at"])
@pytest.mark.parametrize("case", list(_FAR_OUT))
def test_a_time_past_the_year_9999_in_any_unit_is_quarantined(
    warehouse: Warehouse, tmp_path: Path, case: str, column: str
) -> None:
    kind, far, shown = _FAR_OUT[case]
    good = 1_740_100_000 * 1_000_000  # 2025-02-21, in microseconds
    per_unit = {"s": 10**6, "ms": 10**3, "us": 1, "ns": 10**-3}.get(getattr(kind, "unit", ""))
    if per_unit is None:  # dates: days (date32) or milliseconds of whole days (date64)
        good = (good // 86_400_000_000) * (_DAY_MS if kind == pa.date64() else 1)
    else:
        good = int(good / per_unit)
    values = pa.array([good, far, good], pa.int64() if kind != pa.date32() else pa.int32())
    table = _parquet_posts(3)
    table = table.set_column(table.column_names.index(column), column, values.cast(kind))
    path = tmp_path / "far.parquet"
    pq.write_table(table, path)
    summary = load_file(warehouse, path, stage)
    assert (summary.records_read, summary.posts_new) == (3, 2)
    assert summary.quarantined == {"bad_time": 1}
    origin, detail, payload = warehouse.con.execute(
        "SELECT origin, detail, payload FROM quarantine"
    ).fetchone() or ("", "", "")
    assert origin == "far.parquet, row 2"
    assert column in detail and shown.format(column) in detail and "not a real time" in detail
    assert json.loads(payload)["post_id"] == "q1"


@pytest.mark.parametrize("statistics", [True, False])
def test_millisecond_times_load_with_or_without_statistics(
    warehouse: Warehouse, tmp_path: Path, statistics: bool
) -> None:
    """Without statistics nothing says the times fit DuckDB: the file is read another way."""
    table = _parquet_posts(2)
    table = table.set_column(3, "posted_at", table["posted_at"].cast(pa.timestamp("ms", "UTC")))
    pq.write_table(table, tmp_path / "ms.parquet", write_statistics=statistics)
    summary = load_file(warehouse, tmp_path / "ms.parquet", stage)
    assert (summary.posts_new, summary.quarantined) == (2, {})
    assert scalar(warehouse, "SELECT DISTINCT posted_at FROM posts") == datetime(
        2025, 2, 19, 21, 20, tzinfo=UTC
    )


def test_a_far_out_time_in_another_column_is_kept_in_the_payload(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """A column the format does not read keeps its far-out cell in the quarantined record."""
    table = _parquet_posts(
        2,
        media_type=pa.array(["text", "hologram"]),
        exported=pa.array([1, 9_400_000_000_000], pa.int64()).cast(pa.timestamp("s")),
    )
    pq.write_table(table, tmp_path / "extra.parquet")
    summary = load_file(warehouse, tmp_path / "extra.parquet", stage)
    assert (summary.posts_new, summary.quarantined) == (1, {"unknown_media_type": 1})
    payload = json.loads(scalar(warehouse, "SELECT payload FROM quarantine"))
    assert payload["exported"] == "9400000000000000 ms since 1970-01-01"


def test_parquet_columns_of_every_common_type(warehouse: Warehouse, tmp_path: Path) -> None:
    from decimal import Decimal

    table = pa.table(
        {
            "platform": pa.array(["instagram", "instagram"]).dictionary_encode(),
            "account_platform_id": pa.array([17841400000000001, 17841400000000001], pa.int64()),
            "account_handle": pa.array(["humasjabar", "humasjabar"], pa.large_string()),
            "account_name": pa.array(["Humas Jabar", "Humas Jabar"]).dictionary_encode(),
            "post_id": pa.array(["a1", "a2"], pa.large_string()),
            # naive: read as UTC (or in --tz); a date alone is its midnight
            "posted_at": pa.array([datetime(2025, 3, 1, 8, 0)] * 2, pa.timestamp("ns")),
            "captured_at": pa.array([date(2025, 3, 2)] * 2, pa.date32()),
            "media_type": pa.array(["reel", "image"]).dictionary_encode(),
            "is_repost": pa.array([False, True]),
            "video_duration_s": pa.array([42.5, None], pa.float32()),
            "views": pa.array([18230, None], pa.uint32()),
            "likes": pa.array([1204, 3], pa.int32()),
            "comments": pa.array([Decimal("87.00"), Decimal("1.00")], pa.decimal128(10, 2)),
            "shares": pa.array([5.0, 0.0], pa.float64()),
            "quotes": pa.nulls(2),
            "extra": pa.array([b"\x00", b"\x01"], pa.binary()),  # not a generic column: kept
        }
    )
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    summary = load_file(warehouse, path, stage)
    assert (summary.posts_new, summary.quarantined) == (2, {})
    rows = warehouse.con.execute(
        """SELECT a.platform_account_id, a.display_name, p.platform_post_id, p.posted_at,
                  m.captured_at, p.media_type, p.is_repost, p.video_duration_s, m.views,
                  m.likes, m.comments, m.shares, m.quotes
           FROM posts p JOIN post_metrics m USING (post_id) JOIN accounts a USING (account_id)
           ORDER BY 3"""
    ).fetchall()
    assert rows == [
        (
            "17841400000000001",
            "Humas Jabar",
            "a1",
            datetime(2025, 3, 1, 8, tzinfo=UTC),
            datetime(2025, 3, 2, tzinfo=UTC),
            "reel",
            False,
            42.5,
            18230,
            1204,
            87,
            5,
            None,
        ),
        (
            "17841400000000001",
            "Humas Jabar",
            "a2",
            datetime(2025, 3, 1, 8, tzinfo=UTC),
            datetime(2025, 3, 2, tzinfo=UTC),
            "image",
            True,
            None,
            None,
            3,
            1,
            0,
            None,
        ),
    ]
    # With --tz the naive times are read in that zone.
    moved = tmp_path / "typed_wib.parquet"
    pq.write_table(table.set_column(4, "post_id", pa.array(["b1", "b2"])), moved)
    load_file(warehouse, moved, lambda p: FORMAT.stage(p, ImportOptions(tz="WIB")))
    times = warehouse.con.execute(
        "SELECT DISTINCT p.posted_at, m.captured_at FROM posts p JOIN post_metrics m "
        "USING (post_id) WHERE p.platform_post_id LIKE 'b%'"
    ).fetchall()
    assert times == [(datetime(2025, 3, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, 17, tzinfo=UTC))]


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (
            "likes",
            pa.array([date(2025, 1, 1)]),
            "column likes holds dates; a count must be a whole number",
        ),
        (
            "post_id",
            pa.array([b"1"], pa.binary()),
            "column post_id holds binary data (bytes, not UTF-8 text); it must be text",
        ),
        (
            "post_id",
            pa.array([1.7e18]),
            "column post_id holds decimal numbers; it must be text (a floating-point",
        ),
        (
            "posted_at",
            pa.array([1_740_000_000], pa.int64()),
            "column posted_at holds whole numbers; a time must be a timestamp",
        ),
        (
            "posted_at",
            pa.array([3600], pa.time32("s")),
            "column posted_at holds times of day without a date; a time must",
        ),
        ("is_repost", pa.array([[1]]), "column is_repost holds lists; it must be true or false"),
        (
            "likes",
            pa.array([True]),
            "column likes holds true/false values; a count must be a whole number",
        ),
    ],
)
def test_a_column_of_an_unfit_type_refuses_the_file_in_words(
    warehouse: Warehouse, tmp_path: Path, column: str, values: pa.Array, message: str
) -> None:
    table = _parquet_posts(1)
    table = (
        table.set_column(table.column_names.index(column), column, values)
        if column in table.column_names
        else table.append_column(column, values)
    )
    pq.write_table(table, tmp_path / "unfit.parquet")
    with pytest.raises(InputError) as caught:
        load_file(warehouse, tmp_path / "unfit.parquet", stage)
    assert message in str(caught.value)
    assert not re.search(r"SELECT|CAST|read_parquet|Binder|Conversion", str(caught.value))
    assert scalar(warehouse, "SELECT count(*) FROM ingest_batches WHERE status = 'loaded'") == 0


@pytest.mark.parametrize(
    ("tz", "posted"), [(None, 8), ("WIB", 1), ("Asia/Jakarta", 1), ("-03:00", 11)]
)
def test_csv_times_without_an_offset_are_read_in_tz(
    warehouse: Warehouse, tmp_path: Path, tz: str | None, posted: int
) -> None:
    rows = [
        post_row(post_id="naive", posted_at="2025-03-01T08:00:00", captured_at="2025-03-03 00:00"),
        post_row(post_id="aware", posted_at="2025-03-01T08:00:00+07:00"),
    ]
    path = write_csv(tmp_path / "times.csv", rows)
    load_file(warehouse, path, lambda p: FORMAT.stage(p, ImportOptions(tz=tz)))
    times = dict(warehouse.con.execute("SELECT platform_post_id, posted_at FROM posts").fetchall())
    assert times == {
        "naive": datetime(2025, 3, 1, posted, tzinfo=UTC),
        "aware": datetime(2025, 3, 1, 1, tzinfo=UTC),  # its own offset wins over --tz
    }


def test_account_name_column_names_the_account(warehouse: Warehouse, tmp_path: Path) -> None:
    rows = [post_row(account_name="  Humas Jabar  "), post_row(post_id="p2", account_name="")]
    load_file(warehouse, write_csv(tmp_path / "named.csv", rows), stage)
    assert scalar(warehouse, "SELECT display_name FROM accounts") == "Humas Jabar"
    template = Path(__file__).parents[2] / "docs" / "templates" / "generic_posts.csv"
    assert "account_name" in template.read_text(encoding="utf-8").splitlines()[0].split(",")


def test_gzip_and_damaged_parquet_files(warehouse: Warehouse, tmp_path: Path) -> None:
    table = _parquet_posts(2)
    pq.write_table(table, tmp_path / "plain.parquet")
    packed = tmp_path / "posts.parquet.gz"
    packed.write_bytes(gzip.compress((tmp_path / "plain.parquet").read_bytes()))
    assert detect(packed) == "generic"
    assert load_file(warehouse, packed, stager("generic")).posts_new == 2
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes((tmp_path / "plain.parquet").read_bytes()[:200])
    assert detect(damaged) == "generic"  # only this format reads Parquet: it says what is wrong
    with pytest.raises(InputError, match="complete, uncorrupted Parquet file"):
        load_file(warehouse, damaged, stage)


def test_unreadable_csv_files_say_what_and_where(warehouse: Warehouse, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", [post_row(), post_row(post_id="p2", text="Héllo")])
    cases = {
        "empty.csv": (b"", "the file is empty"),
        "latin1.csv": (
            good.read_bytes().replace("Héllo".encode(), b"H\xe9llo"),
            r"is not UTF-8 text \(line 3, byte \d+ is 0xe9",
        ),
        "latin1_header.csv": (b"platform,p\xf3st_id\n", r"line 1: cannot read the header line"),
        "twice.csv": (
            (",".join([*POST_HEADER, "likes"]) + "\n").encode(),
            "column likes appears twice",
        ),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputError, match=message):
            load_file(warehouse, tmp_path / name, stage)
    assert scalar(warehouse, "SELECT count(*) FROM posts") == 0


# ---- replies: the optional is_reply_to_other column ----


def test_the_reply_column_says_true_false_or_not_known(
    registered: Warehouse, tmp_path: Path
) -> None:
    rows = [
        post_row(post_id="reply", is_reply_to_other="true"),  # a reply to another account
        post_row(post_id="thread", is_reply_to_other="false"),  # the next post of a thread
        post_row(post_id="original", is_reply_to_other="0"),
        post_row(post_id="unknown", is_reply_to_other=""),
        post_row(post_id="bad", is_reply_to_other="maybe"),
    ]
    summary = load_file(registered, write_csv(tmp_path / "p.csv", rows), stage)
    assert (summary.posts_new, summary.quarantined) == (4, {"bad_value": 1})
    stored = dict(
        registered.con.execute("SELECT platform_post_id, is_reply_to_other FROM posts").fetchall()
    )
    assert stored == {"reply": True, "thread": False, "original": False, "unknown": None}
    assert "is_reply_to_other" in scalar(registered, "SELECT detail FROM quarantine")


def test_a_file_without_the_reply_column_does_not_know(
    registered: Warehouse, tmp_path: Path
) -> None:
    header = [c for c in POST_HEADER if c != "is_reply_to_other"]
    load_file(registered, write_csv(tmp_path / "p.csv", [post_row()], header), stage)
    assert scalar(registered, "SELECT count(*) FROM posts WHERE is_reply_to_other IS NULL") == 1


def test_parquet_reply_column_as_booleans_or_ones_and_zeros(
    registered: Warehouse, tmp_path: Path
) -> None:
    for number, values in enumerate(
        [pa.array([True, False, None]), pa.array([1, 0, None], pa.int8())]
    ):
        ids = pa.array([f"r{number}", f"o{number}", f"u{number}"])
        table = _parquet_posts(3, post_id=ids, is_reply_to_other=values)
        path = tmp_path / f"replies{number}.parquet"
        pq.write_table(table, path)
        assert load_file(registered, path, stage).quarantined == {}
    stored = dict(
        registered.con.execute("SELECT platform_post_id, is_reply_to_other FROM posts").fetchall()
    )
    assert stored == {
        "r0": True, "o0": False, "u0": None, "r1": True, "o1": False, "u1": None,
    }  # fmt: skip
