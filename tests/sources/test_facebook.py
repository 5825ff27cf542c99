"""Facebook Graph API JSON through the real loader into a real DuckDB warehouse."""

import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import scalar
from format_files import assert_each_record_kept_or_quarantined
from govsocial.errors import InputError
from govsocial.sources.facebook import FORMAT
from govsocial.sources.facebook.records import FacebookPost, media_type
from govsocial.sources.formats import detect, stager
from govsocial.sources.graph import requested_fields, top_level_fields
from govsocial.sources.instagram import FORMAT as INSTAGRAM
from govsocial.sources.staging import ImportOptions
from govsocial.store import Warehouse, load_file
from govsocial.store.ingest import ImportSummary

FIXTURES = Path(__file__).parent.parent / "fixtures" / "facebook"
ALL_FIXTURES = Path(__file__).parent.parent / "fixtures"  # every reader's, copies of the samples
TEMPLATE = Path(__file__).parents[2] / "docs" / "templates" / "generic_posts.csv"
CAPTURED = datetime(2025, 4, 1, 5, 0, tzinfo=UTC)
OPTIONS = ImportOptions(captured_at=CAPTURED)


def load(wh: Warehouse, path: Path, options: ImportOptions = OPTIONS) -> ImportSummary:
    return load_file(wh, path, lambda p: FORMAT.stage(p, options))


def fixture(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copy(FIXTURES / name, tmp_path / name))


def metrics(wh: Warehouse) -> list[tuple[object, ...]]:
    return wh.con.execute(
        """SELECT p.platform_post_id, p.media_type, m.reactions, m.likes, m.comments, m.shares,
                  m.views, p.is_repost
           FROM posts p JOIN post_metrics m USING (post_id) ORDER BY p.posted_at"""
    ).fetchall()


def test_feed_pages_load_exact_posts_and_reaction_totals(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    first = load(warehouse, fixture("feeds_default_fields_p1.json", tmp_path))
    assert (first.records_read, first.posts_new, first.snapshots_new) == (5, 5, 5)
    assert (first.quarantined, first.accounts_new) == ({}, 1)
    assert first.unassigned_accounts == ["facebook:19292868552"]
    second = load(warehouse, fixture("feeds_default_fields_p2.json", tmp_path))
    assert (second.posts_new, second.accounts_new, second.quarantined) == (5, 0, {})
    totals = warehouse.con.execute(
        """SELECT count(*), sum(reactions), sum(likes), sum(comments), sum(shares),
                  count(views) FROM post_metrics"""
    ).fetchone()
    assert totals == (10, 756 + 27687, 702 + 27068, 117 + 183, 62 + 243, 0)
    rows = metrics(warehouse)
    assert rows[-1] == ("19292868552_10158349356748553", "image", 125, 119, 13, 10, None, False)
    assert rows[0] == ("19292868552_10158316421783553", "video", 26959, 26387, 82, 183, None, False)
    assert [r[1] for r in rows].count("link") == 3
    post = warehouse.con.execute(
        """SELECT posted_at::VARCHAR, url, left(text, 26), a.platform_account_id, a.handle
           FROM posts JOIN accounts a USING (account_id)
           WHERE platform_post_id = '19292868552_10158349356748553'"""
    ).fetchone()
    assert post == (
        "2021-07-09 19:09:52+00",
        "https://www.facebook.com/19292868552/posts/10158349356748553/",
        "Singaporean logistics comp",
        "19292868552",
        None,
    )
    origin, payload_id = warehouse.con.execute(
        "SELECT origin, payload->>'$.id' FROM raw_records WHERE record_index = 2 AND batch_id = ?",
        [first.batch_id],
    ).fetchone() or ("", "")
    assert (origin, payload_id) == (
        "feeds_default_fields_p1.json, record 2",
        "19292868552_10158347294088553",
    )


def test_a_post_without_shares_has_zero_shares(warehouse: Warehouse, tmp_path: Path) -> None:
    summary = load(warehouse, fixture("single_post_data.json", tmp_path))
    assert (summary.posts_new, summary.quarantined) == (1, {})
    assert metrics(warehouse) == [
        ("175154750010052_424924701699721", "text", 1, 0, 0, 0, None, False)
    ]


def test_a_page_object_is_a_follower_snapshot(warehouse: Warehouse, tmp_path: Path) -> None:
    summary = load(warehouse, fixture("single_default_page.json", tmp_path))
    assert (summary.kind, summary.snapshots_new, summary.posts_new) == ("account_snapshots", 1, 0)
    row = warehouse.con.execute(
        """SELECT a.platform, a.platform_account_id, a.handle, s.followers, s.following,
                  s.posts_count, s.captured_at = ? FROM account_snapshots s
           JOIN accounts a USING (account_id)""",
        [CAPTURED],
    ).fetchone()
    assert row == ("facebook", "20531316728", "facebookapp", 214507731, None, None, True)


def test_a_page_with_its_feed_gives_posts_with_the_handle_and_a_snapshot(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    summary = load(warehouse, fixture("page_with_feed.json", tmp_path))
    assert (summary.kind, summary.records_read, summary.posts_new) == (
        "posts+account_snapshots",
        6,
        5,
    )
    assert (summary.snapshots_new, summary.accounts_new, summary.quarantined) == (6, 1, {})
    assert metrics(warehouse) == [
        ("104523441234567_200000000000001", "carousel", 40, 30, 5, 3, None, False),
        ("104523441234567_200000000000002", "video", 10, 10, 0, 1, None, False),
        ("104523441234567_200000000000003", "reel", 7, 6, 1, 0, None, False),
        ("104523441234567_200000000000004", "link", 2, 2, 0, 0, None, True),
        ("104523441234567_200000000000005", "text", 0, 0, 0, 0, None, False),
    ]
    assert warehouse.con.execute(
        "SELECT DISTINCT a.handle, a.platform_account_id FROM posts JOIN accounts a "
        "USING (account_id)"
    ).fetchall() == [("humasjabar", "104523441234567")]
    assert scalar(warehouse, "SELECT followers FROM account_snapshots") == 5000
    # The page's payload is kept without its feed (each post is a record of its own).
    page = scalar(warehouse, "SELECT payload FROM raw_records WHERE record_index = 1")
    assert "feed" not in json.loads(page) and json.loads(page)["username"] == "humasjabar"


def _page_with_feed(tmp_path: Path, **page: object) -> Path:
    """page_with_feed.json with these fields of the Page replaced (None: left out)."""
    document = json.loads((FIXTURES / "page_with_feed.json").read_text())
    document.update(page)
    path = tmp_path / "page.json"
    path.write_text(json.dumps({k: v for k, v in document.items() if v is not None}), "utf-8")
    return path


@pytest.mark.parametrize(
    ("page", "detail"),
    [
        (
            {"followers_count": None, "fan_count": "x"},
            "line 1: fan_count 'x' is not a whole number",
        ),
        ({"followers_count": 1.5}, "line 1: followers_count 1.5 is not a whole number"),
    ],
)
def test_a_bad_count_quarantines_the_reading_and_its_posts_keep_the_page(
    warehouse: Warehouse, tmp_path: Path, page: dict[str, object], detail: str
) -> None:
    summary = load(warehouse, _page_with_feed(tmp_path, **page))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (
        6,
        5,
        {"bad_value": 1},
    )
    assert scalar(warehouse, "SELECT detail FROM quarantine") == detail
    assert warehouse.con.execute(
        """SELECT DISTINCT a.platform_account_id, a.handle, a.display_name
           FROM posts JOIN accounts a USING (account_id)"""
    ).fetchall() == [("104523441234567", "humasjabar", "Humas Jabar")]


def test_a_page_with_a_bad_name_is_quarantined_and_its_posts_load(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    summary = load(warehouse, _page_with_feed(tmp_path, name=["Humas Jabar"]))
    assert (summary.posts_new, summary.quarantined) == (5, {"bad_value": 1})
    detail = scalar(warehouse, "SELECT detail FROM quarantine")
    assert detail == "line 1: name ['Humas Jabar'] is not text"
    assert warehouse.con.execute(
        "SELECT DISTINCT a.platform_account_id FROM posts JOIN accounts a USING (account_id)"
    ).fetchall() == [("104523441234567",)]


def test_quirks_are_quarantined_with_reasons(warehouse: Warehouse, tmp_path: Path) -> None:
    summary = load(warehouse, fixture("feed_quirks.jsonl", tmp_path))
    assert (summary.records_read, summary.posts_new) == (7, 1)
    assert summary.quarantined == {
        "api_error": 1,
        "truncated_line": 1,
        "bad_value": 2,
        "missing_field": 1,
        "negative_count": 1,
    }
    # shares and likes were not among the request's fields: not known, not zero.
    assert metrics(warehouse) == [
        ("104523441234567_300000000000001", "text", 12, None, 3, None, None, False)
    ]
    details = dict(warehouse.con.execute("SELECT record_index, detail FROM quarantine").fetchall())
    assert details[2] == "line 1, post 2: created_time 'yesterday' is not an ISO 8601 timestamp"
    assert details[3] == (
        "line 2: Graph API error (OAuthException, code 4): (#4) Application request limit reached"
    )
    assert details[5] == "line 3, post 2: created_time is missing"
    assert details[6] == "line 3, post 3: 42 is not a post object"
    assert details[7] == "line 4: the JSON ends early (a write cut off?)"
    cut = scalar(warehouse, "SELECT payload FROM quarantine WHERE reason = 'truncated_line'")
    assert json.loads(cut).startswith('{"data": [{"id": "104523441234567_300000000000009"')


def test_a_legacy_v2_feed_gives_types_likes_and_absent_edges_as_zero(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    # Graph API v2.3: `type` instead of attachments, likes in the `likes` edge, and edges
    # with nothing in them left out although the paging URL's fields asked for them.
    summary = load(warehouse, fixture("legacy_feed_v2.json", tmp_path))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (6, 6, {})
    assert metrics(warehouse) == [
        ("104523441234567_100000000000006", "text", None, 1, 0, 0, None, False),  # a visitor
        ("104523441234567_100000000000005", "link", None, 0, 0, 0, None, False),  # an event
        ("104523441234567_100000000000004", "video", None, None, 9, 3, None, False),
        ("104523441234567_100000000000003", "text", None, 15, 2, 0, None, False),
        ("104523441234567_100000000000002", "link", None, 87, 0, 0, None, False),
        ("104523441234567_100000000000001", "image", None, 1520, 34, 120, None, False),
    ]
    # The Page's name comes from its posts' `from`; the visitor's name is not the Page's.
    assert warehouse.con.execute(
        "SELECT platform_account_id, display_name FROM accounts"
    ).fetchall() == [("104523441234567", "Humas Jabar")]


def test_a_legacy_v1_feed_counts_likes_and_comments_by_count(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    # Graph API v1.0 (before .summary(true), 2013): edges carry a `count`; the paging URL
    # has no `fields`, so an absent edge is 0 only on a post with other engagement edges.
    summary = load(warehouse, fixture("legacy_feed_v1.json", tmp_path))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (3, 3, {})
    assert metrics(warehouse) == [
        ("104523441234567_50000000000003", "text", None, None, None, None, None, False),
        ("104523441234567_50000000000002", "link", None, 4, 0, 0, None, False),
        ("104523441234567_50000000000001", "image", None, 12, 3, 0, None, False),
    ]


@pytest.mark.parametrize(
    ("legacy", "expected"),
    [("photo", "image"), ("video", "video"), ("swf", "video"), ("link", "link"),
     ("offer", "link"), ("event", "link"), ("note", "link"), ("music", "link"),
     ("status", "text"), ("something_new", "text"), (None, "text")],
)  # fmt: skip
def test_a_legacy_type_gives_the_media_type_without_attachments(
    legacy: str | None, expected: str
) -> None:
    assert media_type(None, legacy) == expected
    assert media_type({"data": []}, legacy) == expected
    assert media_type({"data": [{"media_type": "album"}]}, legacy) == "carousel"


_FEED = "https://graph.facebook.com/v2.8/1/feed?fields="
_REACTIONS = {"reactions": {"data": [], "summary": {"total_count": 5}}}
_LIKES = {"likes": {"data": [], "summary": {"total_count": 4}}}


@pytest.mark.parametrize(
    ("url", "edges", "counts"),
    [
        # fields listed in the paging URL: absent means 0, unlisted means not known
        (_FEED + "id,reactions.summary(true),comments", _REACTIONS, (5, None, 0, None)),
        (_FEED + "id,likes.summary(true),shares", _LIKES, (None, 4, None, 0)),
        (_FEED + "id,likes.summary(true),comments,shares,reactions", {}, (0, 0, 0, 0)),
        # no paging URL: an engagement request is taken to have asked for comments and
        # shares, and (without reactions: a legacy one) for likes
        (None, _REACTIONS, (5, None, 0, 0)),
        (None, _LIKES, (None, 4, 0, 0)),
        (None, {}, (None, None, None, None)),
        # both likes shapes: the reactions.type(LIKE).as(like) alias wins
        (None, {**_REACTIONS, **_LIKES, "like": {"summary": {"total_count": 3}}}, (5, 3, 0, 0)),
        # an edge without a total (no .summary(true)) is not known
        (None, {"likes": {"data": [{"id": "9"}]}, "comments": {"data": []}}, (None, None, None, 0)),
    ],
)  # fmt: skip
def test_absent_engagement_edges(
    url: str | None, edges: dict[str, object], counts: tuple[int | None, ...]
) -> None:
    post = {"id": "1_2", "created_time": "2016-03-01T00:00:00+0000", **edges}
    requested = requested_fields({"next": url} if url else None)
    read = FacebookPost.from_payload(post, requested=requested, zone=None)
    assert (read.reactions, read.likes, read.comments, read.shares) == counts


def test_requested_fields_are_read_off_the_paging_url() -> None:
    page = json.loads((FIXTURES / "feeds_default_fields_p1.json").read_text())
    fields = requested_fields(page["paging"])
    assert fields is not None
    assert {"id", "attachments", "shares", "comments", "reactions", "like", "angry"} <= fields
    assert not {"type", "media_type", "description", "LIKE", "summary", "limit"} & fields
    assert top_level_fields("a{b,c.as(x)}.limit(1), d .as( e ) ,f") == {"a", "e", "f"}
    assert requested_fields({"next": "https://graph.facebook.com/1/feed?limit=25"}) is None
    assert requested_fields(None) is None


def test_a_lone_surrogate_quarantines_only_its_post(warehouse: Warehouse, tmp_path: Path) -> None:
    page = json.loads((FIXTURES / "feeds_default_fields_p1.json").read_text())
    page["data"][1]["message"] = "abc \ud83d"  # half of a cut emoji: JSON, but not Unicode
    path = tmp_path / "cut_emoji.json"
    path.write_text(json.dumps(page), "utf-8")
    assert '"abc \\ud83d"' in path.read_text()
    summary = load(warehouse, path)
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (
        5,
        4,
        {"bad_value": 1},
    )
    index, detail, payload = warehouse.con.execute(
        "SELECT record_index, detail, payload->>'$.id' FROM quarantine"
    ).fetchone() or ("", "", "")
    assert (index, payload) == (2, "19292868552_10158347294088553")
    assert detail.startswith("line 1, post 2: it contains an unpaired UTF-16 surrogate")


def test_display_names_fill_the_accounts(warehouse: Warehouse, tmp_path: Path) -> None:
    load(warehouse, fixture("page_with_feed.json", tmp_path))
    load(warehouse, fixture("single_default_page.json", tmp_path))
    assert warehouse.con.execute(
        "SELECT platform_account_id, handle, display_name FROM accounts ORDER BY 1"
    ).fetchall() == [
        ("104523441234567", "humasjabar", "Humas Jabar"),
        ("20531316728", "facebookapp", "Facebook"),
    ]
    # Every post of the Page in the file carries the Page's name (its posts have no `from`).
    rows = [
        row
        for staged in FORMAT.stage(FIXTURES / "page_with_feed.json", OPTIONS)
        for row in staged.arrow.to_pylist()
    ]
    assert [row["account_name"] for row in rows] == ["Humas Jabar"] * 6


@pytest.mark.parametrize("name", ["business_discovery.json", "medias_p1.json", "user_fields.json"])
def test_instagram_files_are_refused_as_facebook(
    warehouse: Warehouse, tmp_path: Path, name: str
) -> None:
    path = Path(shutil.copy(ALL_FIXTURES / "instagram" / name, tmp_path / name))
    with pytest.raises(InputError, match="--format instagram-graph"):
        load_file(warehouse, path, stager("facebook-graph", OPTIONS))
    # The reader refuses them too, when no sniff decides (a file mixing both platforms).
    with pytest.raises(InputError, match=r"Instagram .*--format instagram-graph"):
        FORMAT.stage(path, OPTIONS)
    mixed = tmp_path / "mixed.jsonl"
    feed = (FIXTURES / "single_post_data.json").read_text()
    mixed.write_text(json.dumps(json.loads(feed)) + "\n" + json.dumps(json.loads(path.read_text())))
    with pytest.raises(InputError, match=r"mixed.jsonl, line 2.*--format instagram-graph"):
        load_file(warehouse, mixed, stager("facebook-graph", OPTIONS))
    tables = ("raw_files", "raw_records", "posts", "account_snapshots", "accounts", "quarantine")
    assert [scalar(warehouse, f"SELECT count(*) FROM {t}") for t in tables] == [0] * 6


def test_an_error_response_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"OAuthException, code 100\): \(#100\) Pages Public"):
        FORMAT.stage(fixture("error.json", tmp_path), OPTIONS)


def test_youtube_json_forced_as_facebook_is_refused() -> None:
    with pytest.raises(InputError, match="no Facebook post"):
        FORMAT.stage(ALL_FIXTURES / "youtube" / "videos_info.json", OPTIONS)


def test_captured_at_is_the_file_time_unless_given(warehouse: Warehouse, tmp_path: Path) -> None:
    path = fixture("single_default_page.json", tmp_path)
    when = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC).timestamp()
    os.utime(path, (when, when))
    load(warehouse, path, ImportOptions())

    def again(name: str, blanks: int) -> Path:  # the same page, other bytes (not skipped)
        copy = tmp_path / name
        copy.write_bytes(path.read_bytes() + b"\n" * blanks)
        os.utime(copy, (when, when))
        return copy

    # A naive --captured-at is UTC (or --tz), never the machine's local time.
    load(warehouse, again("a.json", 1), ImportOptions(captured_at=datetime(2025, 2, 4, 9)))
    load(
        warehouse, again("b.json", 2), ImportOptions(captured_at=datetime(2025, 2, 5, 9), tz="WIB")
    )
    # A time in the file's name comes before the file's modification time.
    load(warehouse, again("2025-03-10-09-00-00-WIB-facebookapp.json", 3), ImportOptions())
    assert warehouse.con.execute(
        "SELECT captured_at::VARCHAR FROM account_snapshots ORDER BY captured_at"
    ).fetchall() == [
        ("2025-02-03 04:05:06+00",),
        ("2025-02-04 09:00:00+00",),
        ("2025-02-05 02:00:00+00",),
        ("2025-03-10 02:00:00+00",),
    ]


def test_loading_again_adds_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    path = fixture("page_with_feed.json", tmp_path)
    first = load(warehouse, path)
    assert load(warehouse, path).status == "skipped"
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(json.loads(path.read_text())))  # other bytes, same records
    again = load(warehouse, copy)
    assert (again.status, again.posts_new, again.posts_updated, again.snapshots_new) == (
        "loaded",
        0,
        0,
        0,
    )
    assert first.batch_id != again.batch_id
    assert scalar(warehouse, "SELECT count(*) FROM post_metrics") == 5


def test_sniff_claims_facebook_graph_files_only() -> None:
    samples = [p for p in sorted(ALL_FIXTURES.glob("*/*")) if p.suffix in (".json", ".jsonl")]
    claimed = {p for p in samples if FORMAT.sniff(p, p.read_bytes()[:65536])}
    assert claimed == {p for p in samples if p.parent.name == "facebook"}
    for path in FIXTURES.glob("*.json*"):
        assert FORMAT.sniff(path, path.read_bytes()[:65536]), path.name
        assert not INSTAGRAM.sniff(path, path.read_bytes()[:65536]), path.name
    assert not FORMAT.sniff(TEMPLATE, TEMPLATE.read_bytes())


EMPTY_PAGE = {"data": [], "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}}


@pytest.mark.parametrize(
    "url",
    [
        "https://graph.facebook.com/v10.0/19292868552/feed?fields=id%2Ccreated_time&before=QVFIUk",
        "https://graph.facebook.com/19292868552/posts?limit=100&after=QVFIUl",
        "https://graph.facebook.com/v19.0/humasjabar/published_posts",
    ],
)
@pytest.mark.parametrize("escaped", [False, True])  # PHP's json_encode writes https:\/\/
def test_the_last_empty_page_of_a_feed_is_recognised_and_loads_nothing(
    warehouse: Warehouse, tmp_path: Path, url: str, escaped: bool
) -> None:
    page = {**EMPTY_PAGE, "paging": {**EMPTY_PAGE["paging"], "previous": url}}
    text = json.dumps(page)
    path = tmp_path / "feed_p9.json"
    path.write_text(text.replace("/", "\\/") if escaped else text, "utf-8")
    assert detect(path) == "facebook-graph"
    summary = load_file(warehouse, path, stager(detect(path), OPTIONS))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (0, 0, {})
    # Another edge is not a Page's posts.
    other = re.sub(r"/(feed|posts|published_posts)\b", "/photos", text)
    assert not FORMAT.sniff(path, other.encode())


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)  # NaN/Infinity are not JSON
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_fields = st.sampled_from(
    ["id", "created_time", "message", "attachments", "reactions", "like", "comments", "shares",
     "permalink_url", "from", "parent_id"]
)  # fmt: skip


def _pages(
    page: dict[str, Any], changes: list[dict[str, object]], extra: list[object], cut: int
) -> str:
    """The sample page, then its posts changed by ``changes`` plus ``extra`` junk items, then
    a page cut after ``cut`` characters: JSONL."""
    posts = [{**page["data"][i % 5], **change} for i, change in enumerate(changes)]
    lines = [json.dumps(page), json.dumps({"data": posts + extra, "paging": page["paging"]})]
    truncated = json.dumps({"data": posts})
    lines.append(truncated[: cut % (len(truncated) + 1)])
    return "\n".join(lines)


_changes = st.lists(st.dictionaries(_fields, _json, max_size=3), min_size=1, max_size=4)
_extra = st.lists(_json, max_size=2)
_cut = st.integers(min_value=0, max_value=300)


def test_malformed_records_load_or_are_quarantined(warehouse: Warehouse, tmp_path: Path) -> None:
    page = json.loads((FIXTURES / "feeds_default_fields_p1.json").read_text())

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(changes=_changes, extra=_extra, cut=_cut)
    def check(changes: list[dict[str, object]], extra: list[object], cut: int) -> None:
        path = tmp_path / "pages.jsonl"
        path.write_text(_pages(page, changes, extra, cut), "utf-8")
        summary = load(warehouse, path)
        if summary.status != "skipped":  # else the same bytes as an earlier example
            assert_each_record_kept_or_quarantined(warehouse, summary)
            assert summary.records_read >= 5 + len(changes) + len(extra)

    check()


def test_malformed_records_never_raise_and_each_gives_one_row(tmp_path: Path) -> None:
    page = json.loads((FIXTURES / "feeds_default_fields_p1.json").read_text())

    @settings(max_examples=60, deadline=None)
    @given(changes=_changes, extra=_extra, cut=_cut)
    def check(changes: list[dict[str, object]], extra: list[object], cut: int) -> None:
        path = tmp_path / "pages.jsonl"
        path.write_text(_pages(page, changes, extra, cut), "utf-8")
        rows = [r for staged in FORMAT.stage(path, OPTIONS) for r in staged.arrow.to_pylist()]
        numbers = [r["_row"] for r in rows]
        assert len(numbers) == len(set(numbers)) >= 5 + len(changes) + len(extra)
        for row in rows:  # a quarantined record says why; a good one has its post id
            assert (row["_reason"] is None) == (row["_detail"] is None)
            assert row["_reason"] is not None or row["post_id"] is not None
            json.loads(row["_payload"])

    check()


# ---- replies: comments are not posts ----


def test_feed_posts_are_never_replies_to_others(warehouse: Warehouse, tmp_path: Path) -> None:
    for name in ("feeds_default_fields_p1.json", "legacy_feed_v2.json", "page_with_feed.json"):
        load(warehouse, fixture(name, tmp_path))
    found = warehouse.con.execute(
        "SELECT is_reply_to_other, count(*) FROM posts GROUP BY 1"
    ).fetchall()
    assert found == [(False, 5 + 6 + 5)]  # a visitor's post on the feed is no reply either
    # the comments nested in the legacy feed's posts are counted, not loaded as posts
    assert scalar(warehouse, "SELECT count(*) FROM posts WHERE text = 'Mantap'") == 0


COMMENTS_URL = (
    "https://graph.facebook.com/v10.0/19292868552_10158349356748553/comments"
    "?fields=created_time,from,message,id&after=b"
)


def _comment(number: int, author: str, **fields: object) -> dict[str, object]:
    return {
        "created_time": f"2021-07-10T0{number}:00:00+0000",
        "from": {"id": author, "name": "Humas" if author == "19292868552" else "Warga"},
        "message": f"balasan {number}",
        "id": f"10158349356748553_1015834940000000{number}",
        **fields,
    }


def test_a_comments_file_is_quarantined_not_loaded_as_posts(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """A visitor's comment (a reply to the Page) and the Page's answer to it (a reply to the
    visitor): neither becomes a post, of the Page or of an account named after the post."""
    path = tmp_path / "comments.json"
    body = {
        "data": [_comment(1, "5550001"), _comment(2, "19292868552")],
        "paging": {"cursors": {"after": "b"}, "next": COMMENTS_URL},
    }
    path.write_text(json.dumps(body), encoding="utf-8")
    assert detect(path) == "facebook-graph"
    summary = load(warehouse, path)
    assert (summary.posts_new, summary.quarantined) == (0, {"unsupported_kind": 2})
    assert scalar(warehouse, "SELECT count(*) FROM accounts") == 0
    detail = scalar(warehouse, "SELECT min(detail) FROM quarantine")
    assert detail.startswith("line 1, post 1: a comment, not a post")


def test_a_comment_among_posts_is_told_by_its_own_fields(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    original = json.loads((FIXTURES / "single_post_data.json").read_text())
    comments = [
        _comment(1, "5550001", like_count=2, can_remove=False, user_likes=False),
        _comment(2, "19292868552", parent={"id": "10158349356748553_101583494000000001"}),
        _comment(3, "19292868552", attachment={"type": "photo"}, comment_count=0),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(v) for v in [original, *comments]), encoding="utf-8")
    summary = load(warehouse, path)
    assert (summary.posts_new, summary.quarantined) == (1, {"unsupported_kind": 3})
    assert scalar(warehouse, "SELECT is_reply_to_other FROM posts") is False
