"""The x-v2 reader (X API v2 pages, twarc2 JSONL) through the real loader into real DuckDB."""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import scalar
from govsocial.errors import InputError
from govsocial.sources.formats import detect, stager
from govsocial.sources.opening import HEAD_BYTES
from govsocial.sources.staging import ImportOptions
from govsocial.sources.x import FORMAT
from govsocial.sources.x.compiled import decode_page
from govsocial.sources.x.files import stage as stage_x
from govsocial.store import Warehouse, load_file
from govsocial.store.ingest import ImportSummary
from x_pages import any_file, lines, page, pages_with_users, tweet

FIXTURES = Path(__file__).parent.parent / "fixtures"
X = FIXTURES / "x"
NOFLAT_AT = datetime(2021, 4, 8, 19, 34, 32, tzinfo=UTC)


def load(wh: Warehouse, path: Path, **options: Any) -> ImportSummary:
    return load_file(wh, path, lambda p: FORMAT.stage(p, ImportOptions(**options)))


def rows(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    return wh.con.execute(sql).fetchall()


def post(wh: Warehouse, tweet_id: str) -> tuple[Any, ...]:
    found = rows(
        wh,
        "SELECT a.handle, p.media_type, p.is_repost, p.video_duration_s, p.url, m.views,"
        " m.likes, m.comments, m.shares, m.quotes, m.saves FROM posts p"
        " JOIN accounts a USING (account_id) JOIN post_metrics m USING (post_id)"
        f" WHERE p.platform_post_id = '{tweet_id}'",
    )
    assert len(found) == 1
    return found[0]


def test_search_page_keeps_retweets_flagged_and_quarantines_the_partial_error(
    warehouse: Warehouse,
) -> None:
    summary = load(warehouse, X / "noflat.jsonl")
    # 100 tweets + 1 error (posts) and the follower counts of the 96 authors among the 178
    # users the page expanded (the 82 accounts only mentioned, replied to or quoted are not
    # loaded); snapshots_new counts the 100 metric snapshots and the 96 follower readings
    assert (summary.records_read, summary.posts_new, summary.snapshots_new) == (197, 100, 196)
    assert summary.kind == "posts+account_snapshots"
    assert summary.quarantined == {"api_error": 1}
    assert scalar(warehouse, "SELECT count(*) FILTER (is_repost) FROM posts") == 47
    assert rows(warehouse, "SELECT DISTINCT captured_at FROM post_metrics") == [(NOFLAT_AT,)]
    assert scalar(warehouse, "SELECT count(*) FROM account_snapshots") == 96
    assert rows(  # no reading of an account that wrote nothing in the file
        warehouse,
        "SELECT count(*) FROM account_snapshots s WHERE NOT EXISTS"
        " (SELECT 1 FROM posts p WHERE p.account_id = s.account_id)",
    ) == [(0,)]
    assert rows(warehouse, "SELECT media_type, count(*) FROM posts GROUP BY 1 ORDER BY 1") == [
        ("image", 1),
        ("link", 8),
        ("text", 86),
        ("video", 5),
    ]
    # A retweet carries the original's retweet count and 0 likes: kept, flagged.
    assert post(warehouse, "1380242611781386245") == (
        "Alexandravm12", "text", True, None,
        "https://x.com/Alexandravm12/status/1380242611781386245",
        None, 0, 0, 410, 0, None,
    )  # fmt: skip
    assert post(warehouse, "1380242597881409537")[1] == "link"  # an outside URL
    assert post(warehouse, "1380242549785366530")[1] == "video"  # an animated GIF
    reason, origin, detail, payload = rows(
        warehouse, "SELECT reason, origin, detail, payload->>'$.resource_id' FROM quarantine"
    )[0]
    assert (reason, origin, payload) == ("api_error", "noflat.jsonl, record 197", "gatewaypundit")
    assert detail == (
        "line 1, errors[0]: X API error (Forbidden): User has been suspended: [gatewaypundit]. "
        "(user gatewaypundit, via entities.mentions.username)"
    )
    # the authors' display names (includes.users[].name) on posts and follower snapshots
    assert scalar(
        warehouse, "SELECT display_name FROM accounts WHERE handle = 'Alexandravm12'"
    ) == ("Alexandra Machado")
    assert scalar(warehouse, "SELECT count(display_name) FROM accounts") == 96
    assert rows(
        warehouse,
        "SELECT origin, payload->>'$.id' FROM raw_records WHERE record_index IN (1, 100, 101)"
        " ORDER BY record_index",
    ) == [  # the tweets, then the page's users (the first is the first tweet's author)
        ("noflat.jsonl, record 1", "1380242611781386245"),
        ("noflat.jsonl, record 100", "1380241916814581761"),
        ("noflat.jsonl, record 101", "1352661060663336960"),
    ]
    assert scalar(warehouse, "SELECT count(*) FROM raw_records") == 196


def noflat_changed(folder: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    """noflat.jsonl with one change made to its page."""
    body = json.loads((X / "noflat.jsonl").read_text(encoding="utf-8"))
    change(body)
    path = folder / "noflat.jsonl"
    path.write_text(json.dumps(body) + "\n", encoding="utf-8")
    return path


def snapshot_of(wh: Warehouse, account: str) -> list[tuple[Any, ...]]:
    return rows(
        wh,
        "SELECT a.handle, a.display_name, s.captured_at, s.followers FROM account_snapshots s"
        f" JOIN accounts a USING (account_id) WHERE a.platform_account_id = '{account}'",
    )


ALEXANDRA = "1352661060663336960"  # includes.users[0], author of data[0] (her only tweet)
QRTRHRSRYDER = "1100629650017939456"  # includes.users[2], author of data[1] (only tweet)


def test_an_author_with_a_broken_follower_count_is_quarantined_and_her_post_keeps_her_handle(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    def break_count(body: dict[str, Any]) -> None:
        body["includes"]["users"][0]["public_metrics"]["followers_count"] = "x"

    summary = load(warehouse, noflat_changed(tmp_path, break_count))
    assert summary.records_read == 197  # nothing lost: the user is one quarantined record
    assert summary.quarantined == {"api_error": 1, "bad_value": 1}
    assert rows(
        warehouse,
        "SELECT origin, detail, payload->>'$.id' FROM quarantine WHERE reason = 'bad_value'",
    ) == [
        (
            "noflat.jsonl, record 101",
            f"line 1, includes.users[0]: user {ALEXANDRA}: public_metrics.followers_count 'x' "
            "is not a whole number",
            ALEXANDRA,
        )
    ]
    assert snapshot_of(warehouse, ALEXANDRA) == []
    # her handle and name are fine: the post has them
    handle, *_, url = post(warehouse, "1380242611781386245")[:5]
    assert (handle, url) == (
        "Alexandravm12",
        "https://x.com/Alexandravm12/status/1380242611781386245",
    )
    assert scalar(
        warehouse, f"SELECT display_name FROM accounts WHERE platform_account_id = '{ALEXANDRA}'"
    ) == ("Alexandra Machado")


def test_a_rejected_tweet_leaves_its_authors_follower_reading(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    def break_tweets(body: dict[str, Any]) -> None:
        body["data"][0]["public_metrics"]["like_count"] = "many"
        body["data"][1]["created_at"] = "infinity"

    summary = load(warehouse, noflat_changed(tmp_path, break_tweets))
    assert (summary.records_read, summary.posts_new) == (197, 98)
    assert summary.quarantined == {"api_error": 1, "bad_value": 2}
    assert scalar(warehouse, "SELECT count(*) FROM account_snapshots") == 96
    # the readings are the accounts', whatever became of their only tweets
    assert snapshot_of(warehouse, ALEXANDRA) == [
        ("Alexandravm12", "Alexandra Machado", NOFLAT_AT, 58)
    ]
    assert snapshot_of(warehouse, QRTRHRSRYDER)[0][2:] == (NOFLAT_AT, 2080)


def test_a_page_with_a_bad_capture_time_quarantines_its_users_too(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    def break_time(body: dict[str, Any]) -> None:
        body["__twarc"]["retrieved_at"] = "infinity"

    summary = load(warehouse, noflat_changed(tmp_path, break_time))
    assert summary.records_read == 197
    assert summary.quarantined == {"api_error": 1, "bad_value": 196}  # 100 tweets, 96 authors
    assert scalar(warehouse, "SELECT count(*) FROM account_snapshots") == 0
    why = "__twarc.retrieved_at 'infinity' is not an ISO 8601 timestamp"
    assert rows(
        warehouse,
        "SELECT record_index, detail FROM quarantine WHERE record_index IN (100, 101, 196)"
        " ORDER BY 1",
    ) == [
        (100, f"line 1, data[99]: {why}"),
        (101, f"line 1, includes.users[0]: {why}"),
        (196, f"line 1, includes.users[176]: {why}"),
    ]


def test_user_timeline_maps_video_views_durations_and_albums(warehouse: Warehouse) -> None:
    summary = load(warehouse, X / "withheld.jsonl")
    assert (summary.posts_new, summary.quarantined) == (103, {"api_error": 2})
    # retweet of a video: views from the video's view_count, duration from duration_ms
    assert post(warehouse, "1256614402981351429") == (
        "PhillyNEFL", "video", True, 19.186,
        "https://x.com/PhillyNEFL/status/1256614402981351429",
        623123, 0, 0, 2981, 0, None,
    )  # fmt: skip
    assert post(warehouse, "1252393618570006529")[1] == "carousel"  # four photos
    assert post(warehouse, "1256945149231484928")[1:3] == ("image", False)
    gif = post(warehouse, "1256614037586132992")
    assert (gif[1], gif[3], gif[5]) == ("video", None, None)  # a GIF: no duration, no views
    # withheld in some countries, still returned: it loads
    assert post(warehouse, "25712847277")[6:10] == (1868, 4501, 806, 5323)
    assert rows(
        warehouse,
        "SELECT detail FROM quarantine WHERE origin = 'withheld.jsonl, record 7'",
    ) == [
        (
            "line 3, errors[0]: X API error (Not Found Error): Could not find tweet with "
            "referenced_tweets.id: [506694458445152256]. (tweet 506694458445152256, via "
            "referenced_tweets.id)",
        )
    ]


def test_video_tweet_with_variants(warehouse: Warehouse) -> None:
    summary = load(warehouse, X / "media_tweet.jsonl")
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (2, 1, {})
    assert post(warehouse, "1558553189766631429") == (
        "IgorBrigadir", "video", False, 71.292,
        "https://x.com/IgorBrigadir/status/1558553189766631429",
        19059, 93, 3, 13, 7, None,
    )  # fmt: skip
    assert rows(
        warehouse, "SELECT captured_at, followers, following, posts_count FROM account_snapshots"
    ) == [(datetime(2023, 1, 5, 13, 55, 17, tzinfo=UTC), 3560, 5000, 35099)]


def test_users_lookup_gives_account_snapshots_only(warehouse: Warehouse) -> None:
    summary = load(warehouse, X / "users.jsonl")
    # 96 users (5 ids asked twice: the same reading twice) and 8 partial errors
    assert summary.kind == "account_snapshots"
    assert (summary.records_read, summary.snapshots_new) == (104, 91)
    assert summary.quarantined == {"api_error": 8, "duplicate_record": 5}
    assert scalar(warehouse, "SELECT count(*) FROM posts") == 0
    assert rows(
        warehouse,
        "SELECT s.followers, s.following, s.posts_count FROM account_snapshots s"
        " JOIN accounts a USING (account_id) WHERE a.handle = 'DoDirty78'",
    ) == [(580, 518, 55186)]
    assert scalar(
        warehouse, "SELECT origin FROM quarantine WHERE detail LIKE 'line 1, errors[0]:%'"
    ) == ("users.jsonl, record 97")


def test_stream_lines_hold_one_tweet_and_a_cut_last_line_is_quarantined(
    registered: Warehouse,
) -> None:
    summary = load(registered, X / "stream.jsonl")
    # 3 tweets + the cut line; 2 readings of the author (lines 1 and 2 share retrieved_at)
    assert (summary.records_read, summary.posts_new, summary.snapshots_new) == (6, 3, 5)
    assert summary.quarantined == {"truncated_line": 1}
    assert summary.unassigned_accounts == []  # matched to the registered @JabarProvGov
    assert rows(
        registered,
        "SELECT p.platform_post_id, p.media_type, p.is_repost, m.views, m.saves, a.institution_id,"
        " a.platform_account_id FROM posts p JOIN post_metrics m USING (post_id)"
        " JOIN accounts a USING (account_id) ORDER BY 1",
    ) == [
        ("1900000000000000001", "carousel", False, 5100, 2, "jabarprov", "2000000001"),
        ("1900000000000000002", "link", False, 800, 0, "jabarprov", "2000000001"),
        ("1900000000000000003", "text", True, 0, 0, "jabarprov", "2000000001"),
    ]
    assert rows(registered, "SELECT followers FROM account_snapshots ORDER BY captured_at") == [
        (250000,),
        (250010,),
    ]
    origin, detail, payload = rows(registered, "SELECT origin, detail, payload FROM quarantine")[0]
    assert (origin, detail) == (
        "stream.jsonl, record 6",
        "line 4: the JSON ends early (a write cut off?)",
    )
    assert json.loads(payload).startswith('{"data": {"id": "1900000000000000004"')


def test_unreadable_records_are_quarantined_with_their_place(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    lines = [
        page(
            tweet("1"),
            tweet("2", created_at=None),
            tweet("3", public_metrics={"like_count": "many"}),
            tweet("4", attachments={"media_keys": ["7_1"]}),
            includes={
                "users": [{"id": "2000000001", "username": "JabarProvGov"}],
                "media": [{"media_key": "7_1", "type": "video", "duration_ms": "long"}],
            },
        ).encode(),
        b"not json at all",
        b'\xff\xfe{"data": []}',
        b'{"foo": 1}',
        page(tweet("5"), at="yesterday").encode(),
        b"[1]",
        b'{"data": [], "meta": {"result_count": 0}}',
        b'{"data": {"id": NaN}}',
        page(tweet("6", author_id=None)).encode(),
        page(tweet("8", text="a cut emoji \ud83d")).encode(),
        page(tweet("9", text="an emoji \U0001f600 and a typed \\ud800")).encode(),
        b"",
    ]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    summary = load(warehouse, path)
    assert summary.posts_new == 2
    quarantined = rows(warehouse, "SELECT record_index, reason, detail FROM quarantine ORDER BY 1")
    assert quarantined == [
        (2, "missing_field", "line 1, data[1]: tweet 2: created_at is missing"),
        (3, "bad_value", "line 1, data[2]: public_metrics.like_count 'many' is not a whole "
         "number"),
        (4, "bad_value", "line 1, data[3]: its attached media 7_1: duration_ms 'long' is not a "
         "whole number"),
        (5, "missing_field", "line 1, includes.users[0]: user 2000000001 has no "
         "public_metrics.followers_count (request user.fields=public_metrics)"),
        (6, "bad_json", "line 2 is not JSON (Expecting value: line 1 column 1 (char 0))"),
        (7, "bad_encoding", "line 3 is not UTF-8 text (invalid start byte)"),
        (8, "unknown_shape", "line 4: not an X API page, tweet or user (keys: foo)"),
        (9, "bad_value", "line 5, data[0]: __twarc.retrieved_at 'yesterday' is not an ISO "
         "8601 timestamp"),
        (10, "bad_value", "line 5, includes.users[0]: __twarc.retrieved_at 'yesterday' is not "
         "an ISO 8601 timestamp"),
        (11, "unknown_shape", "line 6, element 1: not a JSON object"),
        (12, "bad_json", "line 8 is not JSON (NaN is not valid JSON)"),
        (13, "missing_field", "line 9, data[0]: tweet 6: author_id is missing"),
        (14, "bad_value", "line 10, data[0]: it contains an unpaired UTF-16 surrogate (\\udXXX, "
         "half of a cut emoji), which is not Unicode text"),
    ]  # fmt: skip
    assert scalar(warehouse, "SELECT origin FROM quarantine WHERE record_index = 13") == (
        "bad.jsonl, record 13"
    )
    assert scalar(warehouse, "SELECT payload FROM quarantine WHERE record_index = 7") == (
        json.dumps('\ufffd\ufffd{"data": []}')
    )
    # the good tweet's author came without public_metrics: handle known, the user itself
    # quarantined (no follower count to read)
    assert post(warehouse, "1")[0] == "JabarProvGov"
    # lines 10 and 11 expand the same author at the same time: one reading (line 10's, whose
    # tweet is rejected: a reading is the account's, not the tweet's); line 9's tweet names
    # no author, so its expanded user is nobody's reading
    assert rows(warehouse, "SELECT record_index FROM raw_records WHERE record_index = 15") == [
        (15,)
    ]
    assert scalar(warehouse, "SELECT count(*) FROM account_snapshots") == 1
    assert scalar(warehouse, "SELECT text FROM posts WHERE platform_post_id = '9'") == (
        "an emoji \U0001f600 and a typed \\ud800"
    )


def test_a_saved_json_response_is_one_page_and_a_copy_adds_nothing(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    first = load(warehouse, X / "noflat.jsonl")
    tables = ["posts", "post_metrics", "account_snapshots", "accounts"]
    before = {t: rows(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    assert load(warehouse, X / "noflat.jsonl").status == "skipped"
    copy = shutil.copy(X / "noflat.jsonl", tmp_path / "copy.jsonl")
    assert load(warehouse, Path(copy)).status == "skipped"
    pretty = tmp_path / "noflat.json"  # the same page re-saved as an indented JSON document
    pretty.write_text(json.dumps(json.loads((X / "noflat.jsonl").read_text()), indent=2))
    again = load(warehouse, pretty)
    assert (again.status, again.records_read) == ("loaded", first.records_read)
    assert (again.posts_new, again.posts_updated, again.snapshots_new) == (0, 0, 0)
    assert {t: rows(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == before
    # the page's error entry arrives again: counted, not quarantined twice
    assert (again.quarantined, again.quarantined_before) == ({"api_error": 1}, 1)
    assert scalar(warehouse, "SELECT count(*) FROM quarantine") == 1
    rejected = [
        (record["_row"], record["_detail"])
        for part in FORMAT.stage(pretty, ImportOptions())
        for record in (part.arrow.to_pylist() if part.arrow is not None else [])
        if record["_reason"] is not None
    ]
    assert rejected == [
        (
            197,
            "document, errors[0]: X API error (Forbidden): User has been suspended: "
            "[gatewaypundit]. (user gatewaypundit, via entities.mentions.username)",
        )
    ]


def test_captured_at_comes_from_twarc_else_the_option_else_the_file_time(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    given = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    path = tmp_path / "a.jsonl"
    path.write_text(page(tweet("1"), at=None) + "\n" + page(tweet("2")) + "\n")
    load(warehouse, path, captured_at=given)
    other = tmp_path / "b.jsonl"
    other.write_text(page(tweet("3"), at=None) + "\n")
    os.utime(other, (1_741_000_000, 1_741_000_000))
    load(warehouse, other)
    assert rows(
        warehouse,
        "SELECT p.platform_post_id, m.captured_at FROM posts p JOIN post_metrics m USING (post_id)"
        " ORDER BY 1",
    ) == [
        ("1", given),
        ("2", datetime(2025, 3, 2, tzinfo=UTC)),
        ("3", datetime.fromtimestamp(1_741_000_000, UTC)),
    ]


def test_flattened_tweets_carry_their_author_and_media_inline(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    flat = tweet(
        "7",
        author_id=None,
        author={"id": "55", "username": "kemenkesRI", "public_metrics": {"followers_count": 7}},
        attachments={"media": [{"media_key": "3_9", "type": "photo"}], "media_keys": ["3_9"]},
        __twarc={"retrieved_at": "2025-03-02T00:00:00+00:00"},
    )
    del flat["author_id"]
    path = tmp_path / "flat.jsonl"
    path.write_text(json.dumps(flat) + "\n")
    summary = load(warehouse, path)
    assert (summary.posts_new, summary.snapshots_new, summary.quarantined) == (1, 2, {})
    assert post(warehouse, "7")[:2] == ("kemenkesRI", "image")
    assert scalar(warehouse, "SELECT platform_account_id FROM accounts") == "55"


def test_a_flattened_tweets_author_is_read_apart_from_the_tweet(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    at = {"retrieved_at": "2025-03-02T00:00:00+00:00"}
    author = {"id": "55", "username": "kemenkesRI", "public_metrics": {"followers_count": 7}}
    broken = {"id": "56", "username": "humas", "public_metrics": {"followers_count": "x"}}
    lines = [  # the tweet is rejected; its author's reading is not
        tweet("7", author_id="55", author=author, public_metrics={"like_count": "many"},
              __twarc=at),
        tweet("8", author_id="56", author=broken, __twarc=at),  # loads, with the handle
        tweet("9", author_id="55", author=author, __twarc=at),  # the same reading again
    ]  # fmt: skip
    path = tmp_path / "flat.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    summary = load(warehouse, path)
    assert (summary.records_read, summary.posts_new) == (5, 2)
    assert summary.quarantined == {"bad_value": 2}
    assert rows(warehouse, "SELECT record_index, detail FROM quarantine ORDER BY 1") == [
        (1, "line 1: public_metrics.like_count 'many' is not a whole number"),
        (4, "line 2, author: user 56: public_metrics.followers_count 'x' is not a whole number"),
    ]
    assert snapshot_of(warehouse, "55") == [
        ("kemenkesRI", None, datetime(2025, 3, 2, tzinfo=UTC), 7)
    ]
    assert post(warehouse, "8")[0] == "humas"


def test_files_that_are_not_x_data_are_refused(tmp_path: Path) -> None:
    cases = {
        "empty.jsonl": b"\n\n",
        "nothing.json": b"[]\n",  # an array with no tweets: nothing says it is X data
        "nothing_indented.json": b"[\n]\n",
        "latin1.jsonl": "caf\u00e9 ol\u00e9\n".encode("latin-1"),
        "feed.json": json.dumps(
            {"data": [{"id": "1_2", "message": "Halo"}], "paging": {}}
        ).encode(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError, match=name):
            FORMAT.stage(path, ImportOptions())


def test_sniff_knows_x_files_and_no_other_format() -> None:
    for path in sorted(X.glob("*.json*")):
        head = path.read_bytes()[: 64 * 1024]
        assert FORMAT.sniff(path, head), path
    templates = Path(__file__).parents[2] / "docs" / "templates"
    others = [p for p in FIXTURES.rglob("*") if p.is_file() and X not in p.parents]
    for path in [*others, *templates.glob("*")]:
        assert not FORMAT.sniff(path, path.read_bytes()[: 64 * 1024]), path
    assert not FORMAT.sniff(Path("u.json"), b'{"id": "1", "username": "a", "followers_count": 3}')
    assert not FORMAT.sniff(Path("bin"), b"\x00\xff" * 10)


@settings(max_examples=100, deadline=None)
@given(body=lines)
def test_the_reader_never_raises_and_every_record_is_one_row(body: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        staged = FORMAT.stage(any_file(Path(folder), body), ImportOptions())
    numbers: list[int] = []
    for part in staged:
        table = part.arrow
        assert table is not None
        numbers += table.column("_row").to_pylist()
        for record in table.to_pylist():
            json.loads(record["_payload"])
            if record["_reason"] is None:
                assert record["platform"] == "x" and record["captured_at"] is not None
            else:
                assert record["platform"] is None and record["_detail"]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))  # one number per record


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=lines)
def test_any_content_loads_or_is_quarantined(
    tmp_path_factory: pytest.TempPathFactory, body: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("x")
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:
        summary = load(wh, any_file(folder, body), captured_at=datetime(2025, 3, 9, tzinfo=UTC))
        loaded = scalar(
            wh, "SELECT (SELECT count(*) FROM post_metrics) + count(*) FROM account_snapshots"
        )
        assert loaded + summary.quarantined_total == summary.records_read
        assert scalar(wh, "SELECT count(*) FROM quarantine WHERE payload IS NULL") == 0


GIVEN = datetime(2025, 3, 9, tzinfo=UTC)
ACADEMIC_DATA = X / "data_1900000000000000014.json"  # academictwitteR: an array of bare tweets
ACADEMIC_USERS = X / "users_1900000000000000014.json"  # academictwitteR: a page's includes


def load_auto(wh: Warehouse, path: Path) -> ImportSummary:
    """As ``govsocial import PATH`` does: the format recognised from the content."""
    return load_file(wh, path, stager(detect(path), ImportOptions(captured_at=GIVEN)))


def test_academictwitter_files_are_recognised_and_load(warehouse: Warehouse) -> None:
    assert (detect(ACADEMIC_DATA), detect(ACADEMIC_USERS)) == ("x-v2", "x-v2")
    users = load_auto(warehouse, ACADEMIC_USERS)  # every user the page expanded
    assert (users.kind, users.records_read, users.snapshots_new, users.quarantined) == (
        "account_snapshots", 3, 3, {},
    )  # fmt: skip
    assert rows(
        warehouse,
        "SELECT a.platform_account_id, a.handle, a.display_name, s.followers, s.posts_count"
        " FROM accounts a JOIN account_snapshots s USING (account_id) ORDER BY 1",
    ) == [
        ("2000000001", "JabarProvGov", "Pemprov Jawa Barat", 250000, 51234),
        ("2000000002", "wargabdg", "Warga Bandung \U0001f33f", 3317, 189520),
        ("2000000003", "dewi_s", "Dewi", 15, 162),
    ]
    tweets = load_auto(warehouse, ACADEMIC_DATA)
    assert (tweets.kind, tweets.records_read, tweets.posts_new, tweets.quarantined) == (
        "posts", 4, 4, {},
    )  # fmt: skip
    assert rows(
        warehouse,
        "SELECT p.platform_post_id, a.handle, p.media_type, p.is_repost, m.likes, m.shares,"
        " m.captured_at FROM posts p JOIN accounts a USING (account_id)"
        " JOIN post_metrics m USING (post_id) ORDER BY 1",
    ) == [  # jsonlite writes an empty list as {}: no media keys, no references, no URLs
        ("1900000000000000011", "wargabdg", "text", True, 0, 48, GIVEN),
        ("1900000000000000012", "JabarProvGov", "link", False, 35, 4, GIVEN),
        ("1900000000000000013", "JabarProvGov", "image", False, 113, 20, GIVEN),
        ("1900000000000000014", "dewi_s", "text", False, 2, 0, GIVEN),
    ]
    assert scalar(warehouse, "SELECT count(*) FROM accounts") == 3  # matched by their ids


def test_academictwitter_tweets_first_then_users_fill_in_the_handles(warehouse: Warehouse) -> None:
    """A folder import reads data_* before users_*: the authors known only by id get their
    handles and names from the users file."""
    load_auto(warehouse, ACADEMIC_DATA)
    assert rows(warehouse, "SELECT count(*) FROM accounts WHERE handle IS NULL") == [(3,)]
    load_auto(warehouse, ACADEMIC_USERS)
    assert rows(
        warehouse, "SELECT platform_account_id, handle, handle_key FROM accounts ORDER BY 1"
    ) == [
        ("2000000001", "JabarProvGov", "jabarprovgov"),
        ("2000000002", "wargabdg", "wargabdg"),
        ("2000000003", "dewi_s", "dewi_s"),
    ]


def academic_tweet(number: int, shuffle: random.Random) -> dict[str, Any]:
    """A bare tweet as academictwitteR saves it, its keys in any order."""
    fields = {
        "public_metrics": {"retweet_count": 1, "reply_count": 0, "like_count": number,
                           "quote_count": 0},
        "conversation_id": str(1_900_000_000_000_000_000 + number),
        "author_id": "2000000001",
        "entities": {"mentions": {}, "hashtags": {}, "urls": {}},
        "text": f"Kabar Jabar nomor {number}: " + "informasi layanan publik " * 8,
        "lang": "in",
        "created_at": "2021-06-17T19:38:06.000Z",
        "id": str(1_900_000_000_000_000_000 + number),
        "possibly_sensitive": False,
        "referenced_tweets": {},
        "source": "Twitter Web App",
    }  # fmt: skip
    keys = list(fields)
    shuffle.shuffle(keys)
    return {key: fields[key] for key in keys}


def test_a_pretty_printed_array_of_bare_tweets_larger_than_the_head_is_x(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    shuffle = random.Random(8)
    path = tmp_path / "data_1900000000000000400.json"
    path.write_text(
        json.dumps([academic_tweet(n, shuffle) for n in range(1, 401)], indent=2),
        encoding="utf-8",
    )
    assert path.stat().st_size > 2 * HEAD_BYTES  # the head ends inside the array
    assert detect(path) == "x-v2"
    summary = load_auto(warehouse, path)
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (400, 400, {})
    assert scalar(warehouse, "SELECT sum(likes) FROM post_metrics") == sum(range(1, 401))


def test_a_first_record_larger_than_the_head_is_recognised_by_its_field_names(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    # twarc2 flatten: one tweet per line, its author inline and __twarc last. Annotations
    # make the first tweet longer than the 64 KiB a format is recognised from.
    annotations = [
        {"domain": {"id": "46", "name": "Brand Category", "description": "Categories " * 10},
         "entity": {"id": str(n), "name": f"Layanan {n}"}}
        for n in range(400)
    ]  # fmt: skip
    author = {"id": "2000000001", "username": "JabarProvGov", "name": "Pemprov Jawa Barat",
              "public_metrics": {"followers_count": 250000, "tweet_count": 51234}}  # fmt: skip
    twarc = {"retrieved_at": "2025-03-02T00:00:00+00:00", "version": "2.14.0"}
    big = tweet("1", context_annotations=annotations, author=author, __twarc=twarc)
    small = tweet("2", author=author, __twarc=twarc)
    compact = tmp_path / "flat.jsonl"
    compact.write_text(json.dumps(big) + "\n" + json.dumps(small) + "\n", encoding="utf-8")
    # academictwitteR's compact array: the whole file is one line
    shuffle = random.Random(3)
    one_line = tmp_path / "data_1900000000000000300.json"
    one_line.write_text(
        json.dumps([academic_tweet(n, shuffle) for n in range(1, 301)]), encoding="utf-8"
    )
    for path in (compact, one_line):
        first = path.read_bytes().split(b"\n", 1)[0]
        assert len(first) > HEAD_BYTES, path
        assert detect(path) == "x-v2", path
    flat = load_auto(warehouse, compact)
    # 2 tweets and 1 reading of their author (one retrieved_at); snapshots_new counts both
    assert (flat.records_read, flat.posts_new, flat.snapshots_new, flat.quarantined) == (
        3, 2, 3, {},
    )  # fmt: skip
    assert scalar(warehouse, "SELECT display_name FROM accounts") == "Pemprov Jawa Barat"
    array = load_auto(warehouse, one_line)
    assert (array.records_read, array.posts_new, array.quarantined) == (300, 300, {})


def test_a_gzip_twarc_file_is_recognised_and_loads(warehouse: Warehouse, tmp_path: Path) -> None:
    packed = tmp_path / "stream.jsonl.gz"
    packed.write_bytes(gzip.compress((X / "stream.jsonl").read_bytes()))
    assert detect(packed) == "x-v2"
    summary = load_auto(warehouse, packed)
    assert (summary.records_read, summary.posts_new, summary.snapshots_new) == (6, 3, 5)
    assert summary.quarantined == {"truncated_line": 1}


def test_display_names_fill_posts_and_follower_snapshots(warehouse: Warehouse) -> None:
    load(warehouse, X / "users.jsonl")  # a users-lookup page: names of the users
    load(warehouse, X / "media_tweet.jsonl")  # a tweet page: its author's name
    assert rows(
        warehouse,
        "SELECT handle, display_name FROM accounts"
        " WHERE handle IN ('DoDirty78', 'IgorBrigadir') ORDER BY 1",
    ) == [
        ("DoDirty78", "DoDirtysHouse"),
        ("IgorBrigadir", "Igor Brigadir \U0001f1fa\U0001f1e6 @igor@mastodon.social"),
    ]
    assert scalar(warehouse, "SELECT count(*) FROM accounts WHERE display_name IS NULL") == 0


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bodies=st.lists(pages_with_users(), max_size=3))
def test_pages_with_any_users_load_or_quarantine_every_record(
    tmp_path_factory: pytest.TempPathFactory, bodies: list[dict[str, Any]]
) -> None:
    """(Each user object becoming one record: test_x_compiled.py, on both paths.)"""
    folder = tmp_path_factory.mktemp("x")
    path = folder / "users.jsonl"
    path.write_text("".join(line + "\n" for line in [page(tweet("1")), *map(json.dumps, bodies)]))
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:
        summary = load(wh, path, captured_at=GIVEN)
        loaded = scalar(
            wh, "SELECT (SELECT count(*) FROM post_metrics) + count(*) FROM account_snapshots"
        )
        assert loaded + summary.quarantined_total == summary.records_read


# ---- replies (rule: replies to other accounts are not original posts) ----

AUTHOR = "2000000001"  # the author of x_pages.tweet
# tweet id → (its reply fields, what is_reply_to_other must be)
REPLY_CASES: dict[str, tuple[dict[str, Any], bool | None]] = {
    "101": ({"conversation_id": "101"}, False),  # an original: it starts its conversation
    "102": (  # a reply to another account
        {
            "conversation_id": "900",
            "in_reply_to_user_id": "5",
            "referenced_tweets": [{"type": "replied_to", "id": "900"}],
        },
        True,
    ),
    "103": (  # the next post of the author's own thread
        {
            "conversation_id": "101",
            "in_reply_to_user_id": AUTHOR,
            "referenced_tweets": [{"type": "replied_to", "id": "101"}],
        },
        False,
    ),
    "104": ({"conversation_id": "104", "in_reply_to_user_id": "5"}, True),  # opens with @5
    "105": ({"referenced_tweets": [{"type": "quoted", "id": "900"}]}, False),  # a quote
    "106": (  # a reply to whom was not requested
        {"referenced_tweets": [{"type": "replied_to", "id": "900"}]},
        None,
    ),
    "107": ({"conversation_id": "900"}, None),  # in a conversation, target not requested
    "108": ({}, None),  # none of the fields requested
    "109": (  # a retweet of a reply is a repost
        {"in_reply_to_user_id": "5", "referenced_tweets": [{"type": "retweeted", "id": "7"}]},
        False,
    ),
    "110": ({"in_reply_to_user_id": 5, "conversation_id": "110"}, True),  # an id as a number
    "111": ({"in_reply_to_user_id": int(AUTHOR), "conversation_id": "101"}, False),
    "112": ({"in_reply_to_user_id": {"id": "5"}, "conversation_id": "112"}, False),  # not an id
}


def reply_page() -> str:
    """Two lines: an ordinary page (the compiled path reads it) and one whose reply fields
    are not text (the reference path reads it)."""
    tweets = [tweet(i, **fields) for i, (fields, _) in REPLY_CASES.items()]
    odd = [t for t in tweets if not isinstance(t.get("in_reply_to_user_id", ""), str)]
    ordinary = [t for t in tweets if t not in odd]
    assert decode_page(page(*ordinary).encode()) is not None
    assert decode_page(page(*odd).encode()) is None
    return page(*ordinary) + "\n" + page(*odd)


@pytest.mark.parametrize("compiled", [True, False])
def test_each_tweet_says_whether_it_replies_to_another_account_on_both_paths(
    tmp_path: Path, compiled: bool
) -> None:
    path = tmp_path / "replies.jsonl"
    path.write_text(reply_page() + "\n", encoding="utf-8")
    posts = stage_x(path, ImportOptions(), compiled=compiled)[0]
    assert posts.arrow is not None
    found = {r["post_id"]: r["is_reply_to_other"] for r in posts.arrow.to_pylist()}
    assert found == {i: expected for i, (_, expected) in REPLY_CASES.items()}


def test_replies_load_flagged_and_a_second_import_changes_nothing(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "replies.jsonl"
    path.write_text(reply_page() + "\n", encoding="utf-8")
    first = load(warehouse, path)
    assert first.posts_new == len(REPLY_CASES) and first.quarantined == {}
    stored = dict(rows(warehouse, "SELECT platform_post_id, is_reply_to_other FROM posts"))
    assert stored == {i: expected for i, (_, expected) in REPLY_CASES.items()}
    copy = tmp_path / "copy.jsonl"  # the same content again, other bytes
    copy.write_text(reply_page() + "\n\n", encoding="utf-8")
    again = load(warehouse, copy)
    assert (again.posts_new, again.posts_updated, again.snapshots_new) == (0, 0, 0)
    assert dict(rows(warehouse, "SELECT platform_post_id, is_reply_to_other FROM posts")) == stored


def reply_counts(wh: Warehouse, author: str | None = None) -> dict[str, int]:
    where = f"WHERE a.platform_account_id = '{author}'" if author else ""
    found = rows(
        wh,
        f"""SELECT CASE WHEN p.is_repost THEN 'retweets'
                        WHEN p.is_reply_to_other THEN 'replies to others'
                        WHEN p.is_reply_to_other IS NULL THEN 'not known'
                        ELSE 'originals and own threads' END, count(*)
            FROM posts p JOIN accounts a USING (account_id) {where} GROUP BY 1""",
    )
    return dict(found)


def test_real_timeline_42_of_its_66_posts_that_are_not_retweets_reply_to_others(
    warehouse: Warehouse,
) -> None:
    """The figures of docs/import-x.md, "Replies", on the recorded pages."""
    load(warehouse, X / "withheld.jsonl")
    # line 4: the timeline of one account (GET /2/users/2351222345/tweets)
    assert reply_counts(warehouse, "2351222345") == {
        "retweets": 34,
        "replies to others": 42,
        "originals and own threads": 24,
    }
    # one of the 42 opens with an @mention without answering a tweet: X counts it a reply
    assert (
        scalar(
            warehouse,
            """SELECT count(*) FROM posts p JOIN raw_records r
           ON (r.payload->>'$.id') = p.platform_post_id
           WHERE p.is_reply_to_other AND (r.payload->>'$.conversation_id') = p.platform_post_id
             AND NOT json_exists(r.payload, '$.referenced_tweets')""",
        )
        == 1
    )


def test_real_search_page_has_30_replies_to_others_and_2_own_threads(
    warehouse: Warehouse,
) -> None:
    load(warehouse, X / "noflat.jsonl")
    assert reply_counts(warehouse) == {
        "retweets": 47,
        "replies to others": 30,
        "originals and own threads": 23,
    }
    own = rows(
        warehouse,
        """SELECT count(*) FROM posts p JOIN accounts a USING (account_id) JOIN raw_records r
           ON (r.payload->>'$.id') = p.platform_post_id
           WHERE (r.payload->>'$.in_reply_to_user_id') = a.platform_account_id""",
    )
    assert own == [(2,)] and scalar(warehouse, "SELECT count(*) FROM posts") == 100


def test_academictwitter_reply_is_a_reply_to_another(warehouse: Warehouse) -> None:
    load_auto(warehouse, X / "data_1900000000000000014.json")
    assert reply_counts(warehouse) == {
        "retweets": 1,
        "replies to others": 1,
        "originals and own threads": 2,
    }


def test_tweets_without_reply_fields_are_not_known(warehouse: Warehouse) -> None:
    """The hand-made stream lines carry no conversation_id: a reply cannot be told."""
    load(warehouse, X / "stream.jsonl")
    assert reply_counts(warehouse) == {"retweets": 1, "not known": 2}
