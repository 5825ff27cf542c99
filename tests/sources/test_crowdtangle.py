"""CrowdTangle CSV exports through the real loader into a real DuckDB file."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import scalar
from govsocial.errors import InputError, UsageError
from govsocial.sources.crowdtangle import FORMAT
from govsocial.sources.crowdtangle import convert as cv
from govsocial.sources.csvrows import read_rows, read_rows_slowly
from govsocial.sources.staging import ImportOptions
from govsocial.sources.timezones import ABBREVIATIONS, arrow_timezone, resolve_tz
from govsocial.store import ImportSummary, Warehouse, load_file
from govsocial.store.rawfiles import file_bytes

FIXTURES = Path(__file__).parents[1] / "fixtures"
HERE = FIXTURES / "crowdtangle"
ROOT = Path(__file__).parents[2]
CAPTURED = datetime(2021, 8, 1, tzinfo=UTC)
OPTIONS = ImportOptions(captured_at=CAPTURED)


def load(wh: Warehouse, path: Path, options: ImportOptions = OPTIONS) -> ImportSummary:
    return load_file(wh, path, lambda p: FORMAT.stage(p, options))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def metrics(wh: Warehouse, post_id: str) -> dict[str, object]:
    cursor = wh.con.execute(
        """SELECT p.media_type, p.text, p.posted_at, p.url, p.video_duration_s, p.hashtags,
                  p.mentions, p.is_repost, m.captured_at, m.views, m.likes, m.reactions,
                  m.comments, m.shares, m.quotes, m.saves
           FROM posts p JOIN post_metrics m USING (post_id) WHERE p.platform_post_id = ?""",
        [post_id],
    )
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    assert row is not None, post_id
    return dict(zip(names, row, strict=True))


def test_sniff_knows_exports_and_nothing_else() -> None:
    for path in HERE.glob("*.csv"):
        assert FORMAT.sniff(path, path.read_bytes()[: 64 * 1024]), path
    others = [p for p in FIXTURES.rglob("*") if p.is_file() and p.parent != HERE]
    others += list((ROOT / "docs" / "templates").glob("*"))
    for path in others:
        assert not FORMAT.sniff(path, path.read_bytes()[: 64 * 1024]), path
    for head in (b"", b"\xff\xfe\x00", b"\xef\xbb\xbfPage Name,User Name\n", b"{}"):
        assert not FORMAT.sniff(Path("x.csv"), head)


def test_facebook_export_loads_with_its_quirks(warehouse: Warehouse) -> None:
    summary = load(warehouse, HERE / "facebook_wib.csv")
    # 8 rows → 6 posts (an unknown Type and a non-numeric count quarantined) and 5 follower
    # readings (rows 1 and 5: one account, one second).
    assert summary.records_read == 8 + 5
    assert (summary.posts_new, summary.snapshots_new) == (6, 6 + 5)
    assert summary.quarantined == {"bad_value": 1, "unknown_media_type": 1}
    video = metrics(warehouse, "123456789012345_4123456789012345")
    assert video == {
        "media_type": "video",
        "text": "Banjir di Bekasi!\nInfo darurat: 112\n\n#JabarSiaga @BPBDJabar",
        "posted_at": utc(2021, 7, 5, 11, 2, 45),  # 18:02:45 WIB
        "url": "https://www.facebook.com/humasjabar/videos/4123456789012345/",
        "video_duration_s": 214.0,  # 00:03:34
        "hashtags": ["jabarsiaga"],
        "mentions": ["bpbdjabar"],
        "is_repost": False,
        "captured_at": CAPTURED,
        "views": 1_234_567,
        "likes": 407_137,  # "407.137": a thousands separator
        "reactions": 407_137 + 30 + 40 + 2 + 1,
        "comments": 1_100,
        "shares": 52,
        "quotes": None,
        "saves": None,
    }
    photo = metrics(warehouse, "123456789012345_4123000000000001")
    assert (photo["media_type"], photo["views"], photo["video_duration_s"]) == ("image", None, None)
    assert (photo["likes"], photo["reactions"]) == (1_204, 1_204 + 30 + 1 + 2)
    kinds = warehouse.con.execute(
        "SELECT platform_post_id, media_type FROM posts ORDER BY 1"
    ).fetchall()
    assert kinds == [
        ("123456789012345_4123000000000001", "image"),
        ("123456789012345_4123456789012345", "video"),
        ("123456789012345_4123456789099999", "carousel"),
        ("987654321098765_555666777888000", "link"),  # YouTube
        ("987654321098765_555666777888999", "text"),  # permalink.php?story_fbid=
        ("987654321098765_pfbid02Xy7AbCdEf", "video"),  # Live Video Complete
    ]
    assert metrics(warehouse, "987654321098765_pfbid02Xy7AbCdEf")["video_duration_s"] == 3723.0
    accounts = warehouse.con.execute(
        "SELECT platform, handle, platform_account_id, institution_id FROM accounts ORDER BY 3"
    ).fetchall()
    assert accounts == [
        ("facebook", "humasjabar", "123456789012345", None),
        ("facebook", "KemenkesRI", "987654321098765", None),
    ]
    followers = warehouse.con.execute(
        """SELECT s.captured_at, s.followers FROM account_snapshots s
           JOIN accounts a USING (account_id) WHERE a.handle = 'humasjabar' ORDER BY 1"""
    ).fetchall()
    assert followers == [
        (utc(2021, 7, 5, 2, 0), 2_310_456),
        (utc(2021, 7, 5, 11, 2, 45), 2_310_456),
    ]
    assert scalar(warehouse, "SELECT count(*) FROM account_snapshots") == 5


def test_quarantined_rows_keep_their_fields_and_say_why(warehouse: Warehouse) -> None:
    load(warehouse, HERE / "facebook_wib.csv")
    rows = warehouse.con.execute(
        "SELECT record_index, origin, reason, detail, payload FROM quarantine ORDER BY 1"
    ).fetchall()
    assert [r[:3] for r in rows] == [
        (6, "facebook_wib.csv, row 6", "unknown_media_type"),
        (7, "facebook_wib.csv, row 7", "bad_value"),
    ]
    assert rows[0][3].startswith("Type 'Poll' is not a known CrowdTangle facebook post type")
    assert rows[1][3] == "Likes 'banyak' is not a whole number"
    payload = json.loads(rows[0][4])
    assert len(payload) == 41
    assert (payload["Type"], payload["Is Video Owner?"], payload["Likes at Posting"]) == (
        "Poll",
        "-",
        "407.137",
    )
    # A CSV is kept whole in raw_files; its rows are not copied into raw_records.
    assert scalar(warehouse, "SELECT count(*) FROM raw_records") == 0
    _, content = file_bytes(warehouse, "facebook_wib.csv")
    assert content == (HERE / "facebook_wib.csv").read_bytes()


def test_english_locale_and_brazilian_time(warehouse: Warehouse) -> None:
    load(warehouse, HERE / "facebook_us_brt.csv")
    photo = metrics(warehouse, "987654321098765_111222333444555")
    assert (photo["posted_at"], photo["likes"]) == (utc(2021, 7, 5, 21, 2, 45), 1_234)
    video = metrics(warehouse, "987654321098765_111222333444666")
    assert (video["views"], video["video_duration_s"]) == (3_021, 45.0)
    assert scalar(warehouse, "SELECT max(followers) FROM account_snapshots") == 3_500_150


@pytest.mark.parametrize("zone", ["WIB", "Asia/Jakarta", "+07:00"])
def test_tz_option_overrides_the_files_abbreviation(warehouse: Warehouse, zone: str) -> None:
    load(warehouse, HERE / "facebook_us_brt.csv", ImportOptions(tz=zone, captured_at=CAPTURED))
    posted = metrics(warehouse, "987654321098765_111222333444555")["posted_at"]
    assert posted == utc(2021, 7, 5, 11, 2, 45)  # 18:02:45 read as WIB, not BRT


def test_instagram_export(warehouse: Warehouse) -> None:
    summary = load(warehouse, HERE / "instagram_wib.csv")
    assert (summary.posts_new, summary.snapshots_new, summary.quarantined) == (4, 8, {})
    rows = warehouse.con.execute(
        """SELECT p.platform, p.platform_post_id, p.media_type, m.views, m.likes, m.reactions,
                  m.comments, m.shares
           FROM posts p JOIN post_metrics m USING (post_id) ORDER BY p.posted_at"""
    ).fetchall()
    assert rows == [
        ("instagram", "CQxyz12AbC", "image", None, 12_045, None, 310, None),
        ("instagram", "CQabc34DeF", "carousel", None, 8_001, None, 25, None),
        ("instagram", "CQtv56GhIj", "video", 20_300, 1_500, None, 44, None),
        ("instagram", "CQre78KlMn", "reel", 45_000, 3_000, None, 50, None),
    ]
    assert scalar(warehouse, "SELECT handle FROM accounts") == "humasjabar"
    assert scalar(warehouse, "SELECT max(followers) FROM account_snapshots") == 1_025_500


def test_exports_hold_posts_never_replies(warehouse: Warehouse) -> None:
    """CrowdTangle exports list pages' and accounts' posts, never comments (no column says
    a post answers anyone): every post is known not to be a reply to another account."""
    for name in ("facebook_wib.csv", "facebook_us_brt.csv", "instagram_wib.csv"):
        load(warehouse, HERE / name)
    found = warehouse.con.execute(
        "SELECT platform, is_reply_to_other, count(*) FROM posts GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert [(platform, reply) for platform, reply, _ in found] == [
        ("facebook", False),
        ("instagram", False),
    ]


def test_malformed_rows_are_quarantined_and_the_rest_loads(warehouse: Warehouse) -> None:
    summary = load(warehouse, HERE / "facebook_broken.csv")
    assert (summary.posts_new, summary.quarantined) == (2, {"wrong_field_count": 2})
    rows = warehouse.con.execute(
        "SELECT record_index, detail, payload FROM quarantine ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == [2, 4]
    assert rows[0][1].startswith("the row starting on line 3 has 4 fields where the header has 41")
    assert rows[1][1].startswith("the row starting on line 6 has ")
    assert json.loads(rows[0][2]) == (
        "Humas Jabar,humasjabar,123456789012345,GOVERNMENT_ORGANIZATION\r\n"
    )
    assert json.loads(rows[1][2]).endswith('"Pesan yang terpotong\r\ndi tengah')
    text = scalar(warehouse, "SELECT text FROM posts WHERE platform_post_id LIKE '%0002'")
    assert text == "Baris\ndua"


def test_a_field_too_long_for_a_csv_row_is_quarantined(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    header, first, second, third, *_ = (HERE / "facebook_wib.csv").read_bytes().split(b"\r\n")
    runaway = second.replace(b"Selamat pagi", b'"' + b"x" * 140_000 + b"\r\nrest")
    path = tmp_path / "runaway.csv"
    path.write_bytes(b"\r\n".join([header, first, runaway, third, b""]))
    summary = load(warehouse, path)
    assert (summary.posts_new, summary.quarantined) == (2, {"bad_csv": 1, "wrong_field_count": 1})
    detail = scalar(warehouse, "SELECT detail FROM quarantine WHERE reason = 'bad_csv'")
    assert detail == (
        "the row starting on line 6 cannot be read as CSV: field larger than field limit (131072)"
    )


def test_both_csv_readers_read_the_same_rows() -> None:
    for name in ("facebook_wib.csv", "facebook_us_brt.csv", "instagram_wib.csv"):
        path = HERE / name
        width = len(next(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")))))
        fast, slow = read_rows(path, width), read_rows_slowly(path, width)
        assert [c.to_pylist() for c in slow.columns] == [c.to_pylist() for c in fast.columns]
        assert slow.reason.null_count == slow.count


def test_same_export_twice_adds_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    first = load(warehouse, HERE / "facebook_wib.csv")
    again = load(warehouse, HERE / "facebook_wib.csv")
    assert (again.status, again.batch_id) == ("skipped", first.batch_id)
    copy = shutil.copy(HERE / "facebook_wib.csv", tmp_path / "copy.csv")
    assert load(warehouse, Path(copy)).status == "skipped"
    # A re-export (other bytes: rows in another order) read at the same time adds nothing;
    # read a day later it adds one metric snapshot per post and no follower reading.
    lines = (HERE / "instagram_wib.csv").read_bytes().split(b"\r\n")
    load(warehouse, HERE / "instagram_wib.csv")
    shuffled = tmp_path / "reexport.csv"
    shuffled.write_bytes(b"\r\n".join([lines[0], *reversed(lines[1:-1]), b""]))
    redo = load(warehouse, shuffled)
    assert (redo.status, redo.posts_new, redo.snapshots_new) == ("loaded", 0, 0)
    later = tmp_path / "later.csv"
    later.write_bytes(shuffled.read_bytes() + b"\r\n")
    day_after = ImportOptions(captured_at=CAPTURED + timedelta(days=1))
    summary = load(warehouse, later, day_after)
    assert (summary.posts_new, summary.snapshots_new) == (0, 4)


def test_captured_at_defaults_to_the_files_modification_time(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = Path(shutil.copy(HERE / "instagram_wib.csv", tmp_path / "export.csv"))
    moment = utc(2021, 8, 2, 3, 4, 5)
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    load(warehouse, path, ImportOptions())
    assert scalar(warehouse, "SELECT DISTINCT captured_at FROM post_metrics") == moment


@pytest.mark.parametrize("packed", [False, True])
def test_captured_at_is_the_export_time_in_the_file_name(
    warehouse: Warehouse, tmp_path: Path, packed: bool
) -> None:
    # CrowdTangle names an export with the time it was made, in the exporting user's zone.
    one_row = _with_created(tmp_path, "2021-07-05 18:02:45 WIB")
    path = tmp_path / "2021-07-05-22-49-20-BRT-search-csv-export.csv"
    if packed:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(one_row.read_bytes()))
    else:
        one_row.rename(path)
    modified = utc(2021, 8, 2, 3, 4, 5).timestamp()
    os.utime(path, (modified, modified))  # the name wins over the modification time
    load(warehouse, path, ImportOptions())
    exported = utc(2021, 7, 6, 1, 49, 20)  # 22:49:20 BRT (−03:00)
    assert scalar(warehouse, "SELECT DISTINCT captured_at FROM post_metrics") == exported


def test_captured_at_option_wins_over_the_file_name(warehouse: Warehouse, tmp_path: Path) -> None:
    path = _with_created(tmp_path, "2021-07-05 18:02:45 WIB")
    path = path.rename(tmp_path / "2021-07-05-22-49-20-BRT-search-csv-export.csv")
    load(warehouse, path)
    assert scalar(warehouse, "SELECT DISTINCT captured_at FROM post_metrics") == CAPTURED


def test_display_names_come_from_page_name_and_account(warehouse: Warehouse) -> None:
    load(warehouse, HERE / "facebook_wib.csv")
    load(warehouse, HERE / "instagram_wib.csv")
    names = warehouse.con.execute(
        "SELECT platform, handle, display_name FROM accounts ORDER BY 1, 2"
    ).fetchall()
    assert names == [
        ("facebook", "KemenkesRI", "Kementerian Kesehatan RI"),
        ("facebook", "humasjabar", "Humas Jabar"),
        ("instagram", "humasjabar", "Humasjabar"),
    ]


def test_group_exports_name_their_group(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "group.csv"
    path.write_bytes(
        (HERE / "facebook_us_brt.csv").read_bytes().replace(b"Page Name", b"Group Name", 1)
    )
    load(warehouse, path)
    assert scalar(warehouse, "SELECT display_name FROM accounts") == "Kementerian Kesehatan RI"


def test_the_docs_name_only_formats_the_cli_knows() -> None:
    from govsocial.sources.formats import FORMATS

    text = (ROOT / "docs" / "import-crowdtangle.md").read_text(encoding="utf-8")
    named = set(re.findall(r"--format ([\w-]+)", text))
    assert "crowdtangle" in named
    assert named <= {"auto", *FORMATS}, named - {"auto", *FORMATS}


def _with_created(tmp_path: Path, *created: str) -> Path:
    """instagram_wib.csv cut to ``len(created)`` rows, with these Post Created values."""
    text = (HERE / "instagram_wib.csv").read_bytes().decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text, newline=""))
    path = tmp_path / "zones.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(
            [*row[:3], when, *row[4:]] for row, when in zip(rows, created, strict=False)
        )
    return path


def test_a_file_without_known_time_zones_is_refused_until_tz_is_given(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    plain = _with_created(tmp_path, "2021-07-05 18:02:45", "2021-07-06 09:15:00")
    with pytest.raises(InputError, match="--tz"):
        FORMAT.stage(plain, OPTIONS)
    unknown = _with_created(tmp_path, "2021-07-05 18:02:45 XYZ")
    with pytest.raises(InputError, match="XYZ"):
        FORMAT.stage(unknown, OPTIONS)
    summary = load(warehouse, unknown, ImportOptions(tz="WITA", captured_at=CAPTURED))
    assert summary.posts_new == 1
    assert scalar(warehouse, "SELECT posted_at FROM posts") == utc(2021, 7, 5, 10, 2, 45)


def test_one_row_with_an_unknown_zone_is_quarantined(warehouse: Warehouse, tmp_path: Path) -> None:
    mixed = _with_created(tmp_path, "2021-07-05 18:02:45 WIB", "2021-07-06 09:15:00 XYZ", "x")
    summary = load(warehouse, mixed)
    assert (summary.posts_new, summary.quarantined) == (1, {"bad_value": 2})
    details = [
        r[0] for r in warehouse.con.execute("SELECT detail FROM quarantine ORDER BY 1").fetchall()
    ]
    assert details == [
        "Post Created '2021-07-06 09:15:00 XYZ' has no known time-zone abbreviation; "
        "give the zone with --tz",
        "Post Created 'x' is not a time like 2021-07-05 18:02:45 WIB",
    ]


def test_a_date_that_does_not_exist_is_quarantined_not_moved(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = _with_created(
        tmp_path,
        "2021-07-05 18:02:45 WIB",
        "2021-02-30 09:00:00 WIB",
        "2021-02-29 09:00:00 WIB",
        "2021-07-07 23:59:60 WIB",
    )
    summary = load(warehouse, path)
    assert (summary.posts_new, summary.quarantined) == (1, {"bad_value": 3})
    assert scalar(warehouse, "SELECT posted_at FROM posts") == utc(2021, 7, 5, 11, 2, 45)
    details = warehouse.con.execute("SELECT detail FROM quarantine ORDER BY 1").fetchall()
    assert [d[0] for d in details] == [
        f"Post Created '{when} WIB' is not a real time: no such date (or time of day)"
        for when in ("2021-02-29 09:00:00", "2021-02-30 09:00:00", "2021-07-07 23:59:60")
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1900, 2100),
            st.integers(1, 12),
            st.integers(1, 31),
            st.integers(0, 23),
            st.integers(0, 59),
            st.integers(0, 60),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([None, resolve_tz("WIB")]),
)
@example([(2021, 4, 31, 0, 0, 0), (2020, 2, 29, 12, 0, 0), (2021, 12, 31, 23, 59, 60)], None)
def test_created_times_are_the_calendars_or_none(
    parts: list[tuple[int, int, int, int, int, int]], override: tzinfo | None
) -> None:
    """Vectorised reading agrees with Python's calendar: a real wall time is read as it is,
    any other (day 31 of a short month, 29 February of a common year, second 60) is
    ``impossible`` and has no time."""
    texts = [f"{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} WIB" for y, mo, d, h, mi, s in parts]
    times = cv.created_times(pa.array(texts), override)
    expected: list[datetime | None] = []
    for y, mo, d, h, mi, s in parts:
        try:
            expected.append(datetime(y, mo, d, h, mi, s, tzinfo=resolve_tz("WIB")))
        except ValueError:
            expected.append(None)
    assert times.posted.to_pylist() == [e and e.astimezone(UTC) for e in expected]
    assert times.impossible.to_pylist() == [e is None for e in expected]
    assert not any(times.unreadable.to_pylist())


def test_files_that_are_not_exports_are_refused(tmp_path: Path) -> None:
    template = ROOT / "docs" / "templates" / "generic_posts.csv"
    cases = {
        template: "not a CrowdTangle CSV export",
        tmp_path / "empty.csv": "empty",
        tmp_path / "latin1.csv": "not UTF-8",
        tmp_path / "no_url.csv": r"lacks the column\(s\) URL",
    }
    (tmp_path / "empty.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    fb = (HERE / "facebook_wib.csv").read_bytes()
    (tmp_path / "latin1.csv").write_bytes(fb.replace(b"Selamat", b"S\xe9lamat"))
    (tmp_path / "no_url.csv").write_bytes(fb.replace(b",URL,", b",Address,", 1))
    for path, message in cases.items():
        with pytest.raises(InputError, match=message):
            FORMAT.stage(path, OPTIONS)


def test_thousands_separator_is_decided_per_file() -> None:
    def sep(integers: list[str], decimals: list[str]) -> str | None:
        return cv.thousands_separator([pa.array(integers)], [pa.array(decimals)])

    assert sep(["407.137", "12"], ["1,4"]) == "."
    assert sep(["1,234", "5"], ["1.40"]) == ","
    assert sep(["12", "5"], ["1,4", "-0,52"]) == "."  # no grouping seen: the decimal comma
    assert sep(["12", "5"], ["1.4"]) == ","
    assert sep(["1,234"], ["1,4"]) == ","  # whole-number columns win over the score
    assert sep(["12"], ["1", "1.234"]) is None  # "1.234" in a score proves nothing
    values = pa.array(["407.137", "1.234.567", "12", "", "1,5", "12.34", "-3", "abc", " 7 "])
    number, bad = cv.whole_numbers(values, ".")
    assert number.to_pylist() == [407137, 1234567, 12, None, None, None, None, None, 7]
    assert bad.to_pylist() == [False, False, False, False, True, True, True, True, False]


def reference_whole_number(text: str | None, sep: str | None) -> tuple[int | None, bool]:
    """What a count cell means, one cell at a time: (value, whether it is bad)."""
    cell = (text or "").strip()
    if not cell:
        return None, False
    group = rf"[0-9]{{1,3}}({re.escape(sep or '')}[0-9]{{3}}){{1,5}}"  # ASCII digits only
    grouped = sep is not None and re.fullmatch(group, cell)
    if re.fullmatch(r"[0-9]{1,18}", cell, re.ASCII) or grouped:
        return int(cell.replace(sep or "", "")), False
    return None, True


@given(
    cells=st.lists(st.none() | st.text(alphabet="0123456789.,- +a٣", max_size=24), max_size=30),
    sep=st.sampled_from([".", ",", None]),
)
@example(cells=["123456789012345678", "1234567890123456789", "٣", "+5", " 12 ", "0012"], sep=None)
@example(cells=["1234567890123456789", "12", None], sep=".")  # digits only: cast at once
@example(cells=["0.00٣"], sep=".")  # an Arabic-Indic digit is no digit of a grouped number
def test_whole_numbers_read_every_cell_as_the_cell_by_cell_reference(
    cells: list[str | None], sep: str | None
) -> None:
    number, bad = cv.whole_numbers(pa.array(cells, pa.string()), sep)
    expected = [reference_whole_number(c, sep) for c in cells]
    assert number.to_pylist() == [v for v, _ in expected]
    assert bad.to_pylist() == [b for _, b in expected]


def test_post_ids_come_from_the_url() -> None:
    urls = [
        "https://www.facebook.com/humasjabar/posts/4123456789012345",
        "https://www.facebook.com/humasjabar/videos/banjir-bekasi/4123456789012346/",
        "https://www.facebook.com/humasjabar/photos/a.1122334455/4123456789012347/?type=3",
        "https://www.facebook.com/groups/998877/permalink/4123456789012348/",
        "https://www.facebook.com/permalink.php?story_fbid=4123456789012349&id=123",
        "https://www.facebook.com/photo.php?fbid=4123456789012350&set=a.1",
        "https://www.facebook.com/watch/?v=4123456789012351",
        "https://www.facebook.com/humasjabar/posts/pfbid0AbC123xyz",
        "https://www.facebook.com/humasjabar/",
        "",
    ]
    ids = cv.facebook_post_ids(pa.array(urls), pa.array(["123"] * len(urls)))
    assert ids.to_pylist() == [
        *(f"123_41234567890123{n}" for n in range(45, 52)),
        "123_pfbid0AbC123xyz",
        None,
        None,
    ]
    shortcodes = cv.instagram_post_ids(
        pa.array(
            [
                "https://www.instagram.com/p/CQxyz12AbC/",
                "https://www.instagram.com/reel/CQre78-l_n/?igshid=x",
                "https://www.instagram.com/humasjabar/p/CQtv56GhIj/",
                "https://www.instagram.com/humasjabar/",
            ]
        )
    )
    assert shortcodes.to_pylist() == ["CQxyz12AbC", "CQre78-l_n", "CQtv56GhIj", None]


def test_a_header_without_rows_loads_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes((HERE / "facebook_wib.csv").read_bytes().split(b"\r\n")[0] + b"\r\n")
    summary = load(warehouse, path)
    assert (summary.status, summary.records_read, summary.posts_new) == ("loaded", 0, 0)


@given(st.binary(max_size=300))
def test_sniff_never_fails(head: bytes) -> None:
    assert FORMAT.sniff(Path("x.csv"), head) in (True, False)


def test_video_lengths() -> None:
    seconds, bad = cv.durations(pa.array(["00:03:34", "N/A", "1:02:03", "3:34", "", "abc"]))
    assert seconds.to_pylist() == [214.0, None, 3723.0, 214.0, None, None]
    assert bad.to_pylist() == [False, False, False, False, False, True]


def test_time_zone_table_and_tz_option() -> None:
    offsets = {
        "WIB": 7 * 60,
        "WITA": 8 * 60,
        "WIT": 9 * 60,
        "UTC": 0,
        "GMT": 0,
        "BRT": -3 * 60,
        "EST": -5 * 60,
        "EDT": -4 * 60,
        "CST": -6 * 60,
        "CDT": -5 * 60,
        "PST": -8 * 60,
        "PDT": -7 * 60,
        "MST": -7 * 60,
        "MDT": -6 * 60,
        "CET": 60,
        "CEST": 120,
        "BST": 60,
        "IST": 330,
        "SGT": 480,
        "JST": 540,
        "AEST": 600,
        "AEDT": 660,
    }
    for name, minutes in offsets.items():
        assert name in ABBREVIATIONS
        offset = resolve_tz(name.lower()).utcoffset(None)
        assert offset == timedelta(minutes=minutes), name
    assert arrow_timezone(resolve_tz("Asia/Jakarta")) == "Asia/Jakarta"
    assert arrow_timezone(resolve_tz("-03")) == "-03:00"
    assert arrow_timezone(resolve_tz("UTC+5:30")) == "+05:30"
    with pytest.raises(UsageError, match="WIB, WITA, WIT"):
        resolve_tz("Mars/Olympus")


BASE = (HERE / "facebook_wib.csv").read_bytes().decode("utf-8-sig").split("\r\n")
HEADER, ROWS = BASE[0], BASE[1:9]  # rows 1–5 are good (row 1 spans four lines)


@st.composite
def broken_exports(draw: st.DrawFn) -> bytes:
    """The header, one good row, then rows that are cut short, have fields replaced or
    stray quotes; the file itself may end anywhere after the first row."""
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        fields = next(csv.reader([draw(st.sampled_from(ROWS))]))
        action = draw(st.sampled_from(["keep", "cut", "replace", "quote", "extra"]))
        if action == "cut":
            fields = fields[: draw(st.integers(0, len(fields) - 1))]
        elif action == "replace":
            i = draw(st.integers(0, len(fields) - 1))
            fields[i] = draw(st.text(st.characters(blacklist_categories=["Cs"]), max_size=8))
        elif action == "extra":
            fields.append("x")
        line = ",".join('"' + f.replace('"', '""') + '"' for f in fields)
        if action == "quote":
            at = draw(st.integers(0, len(line)))
            line = line[:at] + '"' + line[at:]
        rows.append(line)
    body = "\r\n".join([HEADER, *ROWS[:4], *rows]) + "\r\n"
    data = b"\xef\xbb\xbf" + body.encode("utf-8")
    keep = len(("\r\n".join([HEADER, *ROWS[:4]]) + "\r\n").encode()) + 3
    return data[: draw(st.integers(keep, len(data)))]


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crowdtangle") / "empty.duckdb"
    with Warehouse.open(path, create=True):
        pass
    return path


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=broken_exports())
def test_broken_exports_never_fail_and_lose_nothing(empty_warehouse: Path, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "broken.csv"
        path.write_bytes(data)
        shutil.copy(empty_warehouse, Path(folder) / "w.duckdb")
        with Warehouse.open(Path(folder) / "w.duckdb") as wh:
            summary = load(wh, path)
            loaded = scalar(wh, "SELECT count(*) FROM post_metrics")
            loaded += scalar(wh, "SELECT count(*) FROM account_snapshots")
            assert summary.records_read == loaded + summary.quarantined_total
            assert summary.posts_new >= 1
