"""Instagram Graph API JSON through the real loader into a real DuckDB warehouse."""

import json
import os
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
from govsocial.sources.facebook import FORMAT as FACEBOOK
from govsocial.sources.formats import detect, stager
from govsocial.sources.instagram import FORMAT
from govsocial.sources.staging import ImportOptions
from govsocial.store import Warehouse, load_file
from govsocial.store.ingest import ImportSummary

FIXTURES = Path(__file__).parent.parent / "fixtures" / "instagram"
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
        """SELECT p.platform_post_id, p.media_type, m.likes, m.comments, m.views, m.saves,
                  m.shares, m.reactions
           FROM posts p JOIN post_metrics m USING (post_id) ORDER BY p.posted_at"""
    ).fetchall()


def test_a_media_page_takes_its_account_from_the_paging_url(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    summary = load(warehouse, fixture("medias_p1.json", tmp_path))
    assert (summary.records_read, summary.posts_new, summary.snapshots_new) == (2, 2, 2)
    assert summary.unassigned_accounts == ["instagram:17841406338772941"]
    assert metrics(warehouse) == [
        ("17896622936197745", "image", 2, 6, None, None, None, None),
        ("17895731045244887", "image", 0, 0, None, None, None, None),
    ]
    post = warehouse.con.execute(
        """SELECT posted_at::VARCHAR, url, text FROM posts
           WHERE platform_post_id = '17895731045244887'"""
    ).fetchone()
    assert post == ("2021-08-13 08:25:28+00", "https://www.instagram.com/p/CSgf9BChwVq/", None)


def test_the_user_object_is_a_follower_snapshot(warehouse: Warehouse, tmp_path: Path) -> None:
    summary = load(warehouse, fixture("user_fields.json", tmp_path))
    assert (summary.kind, summary.snapshots_new, summary.posts_new) == ("account_snapshots", 1, 0)
    row = warehouse.con.execute(
        """SELECT a.platform_account_id, a.handle, s.followers, s.following, s.posts_count
           FROM account_snapshots s JOIN accounts a USING (account_id)"""
    ).fetchone()
    assert row == ("17841407673135339", "facebookfordevelopers", 64363, None, 427)


def test_album_children_are_not_posts(warehouse: Warehouse, tmp_path: Path) -> None:
    summary = load(warehouse, fixture("children.json", tmp_path))
    assert (summary.posts_new, summary.quarantined) == (0, {"missing_field": 2})
    detail = scalar(warehouse, "SELECT detail FROM quarantine WHERE record_index = 1")
    assert detail.startswith("line 1, item 1: no account for this media") and "children" in detail


def test_old_shape_insights_give_views_and_saves(warehouse: Warehouse, tmp_path: Path) -> None:
    summary = load(warehouse, fixture("media_insights_old.json", tmp_path))
    assert (summary.posts_new, summary.quarantined) == (3, {})
    assert metrics(warehouse) == [
        ("18000000000000001", "video", 120, 8, 450, 12, None, None),  # video_views
        ("18000000000000002", "image", 50, 2, None, 4, None, None),  # impressions not views
        ("18000000000000008", "reel", 75, 1, 2600, 9, None, None),  # plays
    ]
    assert warehouse.con.execute("SELECT platform_account_id, handle FROM accounts").fetchall() == [
        ("17841400000000002", "humasjabar")
    ]


def test_new_shape_insights_and_a_bad_value(warehouse: Warehouse, tmp_path: Path) -> None:
    load(warehouse, fixture("media_insights_old.json", tmp_path))
    summary = load(warehouse, fixture("media_insights_new.json", tmp_path))
    assert (summary.posts_new, summary.quarantined, summary.accounts_new) == (
        2,
        {"bad_value": 1},
        0,  # matched by username to the account the first file created with its id
    )
    assert metrics(warehouse)[3:] == [
        ("18000000000000003", "reel", 1204, 87, 18230, 51, 33, None),
        ("18000000000000004", "carousel", 310, 12, 5400, 0, None, None),
    ]
    detail = scalar(warehouse, "SELECT detail FROM quarantine")
    assert detail == "item 3: insights saved.total_value.value 'n/a' is not a whole number"


def test_business_discovery_gives_a_snapshot_and_posts_of_a_registered_account(
    registered: Warehouse, tmp_path: Path
) -> None:
    # Registered by handle only (the usual case): the import matches it and learns its id.
    # (A registered account with a *different* platform id would not be matched by handle.)
    registered.con.execute(
        "UPDATE accounts SET platform_account_id = NULL "
        "WHERE platform = 'instagram' AND handle_key = 'jabarprovgov'"
    )
    summary = load(registered, fixture("business_discovery.json", tmp_path))
    assert (summary.records_read, summary.posts_new, summary.snapshots_new) == (4, 3, 4)
    assert (summary.accounts_new, summary.unassigned_accounts, summary.quarantined) == (0, [], {})
    assert metrics(registered) == [
        ("17900000000000001", "carousel", 870, 11, None, None, None, None),
        ("17900000000000002", "reel", 300, 9, None, None, None, None),  # a /reel/ permalink
        ("17900000000000003", "image", None, 4, None, None, None, None),  # likes hidden
    ]
    row = registered.con.execute(
        """SELECT a.institution_id, s.followers, s.following, s.posts_count
           FROM account_snapshots s JOIN accounts a USING (account_id)"""
    ).fetchone()
    assert row == ("jabarprov", 1250000, 210, 9876)
    user = scalar(registered, "SELECT payload FROM raw_records WHERE record_index = 1")
    assert "media" not in json.loads(user)


def _business_discovery(tmp_path: Path, **user: object) -> Path:
    """business_discovery.json with these fields of the user object replaced."""
    document = json.loads((FIXTURES / "business_discovery.json").read_text())
    document["business_discovery"].update(user)
    path = tmp_path / "discovery.json"
    path.write_text(json.dumps(document), "utf-8")
    return path


@pytest.mark.parametrize("field", ["followers_count", "follows_count", "media_count"])
def test_a_bad_count_quarantines_the_reading_and_its_media_keep_their_account(
    warehouse: Warehouse, tmp_path: Path, field: str
) -> None:
    summary = load(warehouse, _business_discovery(tmp_path, **{field: "x"}))
    assert (summary.records_read, summary.posts_new) == (4, 3)
    assert summary.quarantined == {"bad_value": 1}
    detail = scalar(warehouse, "SELECT detail FROM quarantine")
    assert detail == f"line 1: {field} 'x' is not a whole number"
    assert warehouse.con.execute(
        """SELECT DISTINCT a.platform_account_id, a.handle, a.display_name
           FROM posts JOIN accounts a USING (account_id)"""
    ).fetchall() == [("17841400000000001", "jabarprovgov", "Pemerintah Provinsi Jawa Barat")]
    assert scalar(warehouse, "SELECT count(followers) FROM account_snapshots") == 0


def test_an_unreadable_user_object_says_so_for_its_media(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    summary = load(warehouse, _business_discovery(tmp_path, name=5))
    assert (summary.posts_new, summary.quarantined) == (0, {"bad_value": 1, "missing_field": 3})
    query = "SELECT detail FROM quarantine ORDER BY record_index"
    details = [r[0] for r in warehouse.con.execute(query).fetchall()]
    assert details[0] == "line 1: name 5 is not text"
    assert details[1] == (
        "line 1, media, item 1: no account for this media: it has no owner.id or username, and the "
        "user object it is in names none (name 5 is not text)"
    )


def test_a_lone_surrogate_quarantines_only_its_media(warehouse: Warehouse, tmp_path: Path) -> None:
    page = json.loads((FIXTURES / "media_insights_old.json").read_text())
    page["data"][0]["caption"] = "abc \ud83d"  # half of a cut emoji: JSON, but not Unicode
    path = tmp_path / "cut_emoji.json"
    path.write_text(json.dumps(page), "utf-8")
    summary = load(warehouse, path)
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (
        3,
        2,
        {"bad_value": 1},
    )
    detail, media_id = warehouse.con.execute(
        "SELECT detail, payload->>'$.id' FROM quarantine"
    ).fetchone() or ("", "")
    assert media_id == "18000000000000001"
    assert detail.startswith("line 1, item 1: it contains an unpaired UTF-16 surrogate")


def test_display_names_fill_the_accounts(warehouse: Warehouse, tmp_path: Path) -> None:
    load(warehouse, fixture("user_fields.json", tmp_path))
    load(warehouse, fixture("business_discovery.json", tmp_path))
    assert warehouse.con.execute(
        "SELECT handle, display_name FROM accounts ORDER BY handle"
    ).fetchall() == [
        ("facebookfordevelopers", "Facebook for Developers"),
        ("jabarprovgov", "Pemerintah Provinsi Jawa Barat"),
    ]
    # The media of business discovery carry their owner's name too.
    staged = FORMAT.stage(FIXTURES / "business_discovery.json", OPTIONS)
    names = [row["account_name"] for part in staged for row in part.arrow.to_pylist()]
    assert names == ["Pemerintah Provinsi Jawa Barat"] * 4


def test_a_media_gets_the_name_of_its_owner_elsewhere_in_the_file(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    user = json.loads((FIXTURES / "user_fields.json").read_text())
    media = json.loads((FIXTURES / "media_insights_old.json").read_text())
    owned = [{**m, "owner": {"id": user["id"]}, "username": None} for m in media["data"]]
    path = tmp_path / "media_then_user.jsonl"
    path.write_text(json.dumps({"data": owned}) + "\n" + json.dumps(user) + "\n")
    summary = load(warehouse, path)
    assert (summary.posts_new, summary.snapshots_new, summary.accounts_new) == (3, 4, 1)
    assert warehouse.con.execute(
        "SELECT DISTINCT a.handle, a.display_name FROM posts JOIN accounts a USING (account_id)"
    ).fetchall() == [("facebookfordevelopers", "Facebook for Developers")]


@pytest.mark.parametrize(
    "name", ["page_with_feed.json", "single_default_page.json", "feeds_default_fields_p1.json"]
)
def test_facebook_files_are_refused_as_instagram(
    warehouse: Warehouse, tmp_path: Path, name: str
) -> None:
    path = Path(shutil.copy(ALL_FIXTURES / "facebook" / name, tmp_path / name))
    with pytest.raises(InputError, match="--format facebook-graph"):
        load_file(warehouse, path, stager("instagram-graph", OPTIONS))
    # The reader refuses them too, when no sniff decides (a file mixing both platforms).
    with pytest.raises(InputError, match=r"Facebook .*--format facebook-graph"):
        FORMAT.stage(path, OPTIONS)
    mixed = tmp_path / "mixed.jsonl"
    media = (FIXTURES / "medias_p1.json").read_text()
    mixed.write_text(
        json.dumps(json.loads(media)) + "\n" + json.dumps(json.loads(path.read_text()))
    )
    with pytest.raises(InputError, match=r"mixed.jsonl, line 2.*--format facebook-graph"):
        load_file(warehouse, mixed, stager("instagram-graph", OPTIONS))
    tables = ("raw_files", "raw_records", "posts", "account_snapshots", "accounts", "quarantine")
    assert [scalar(warehouse, f"SELECT count(*) FROM {t}") for t in tables] == [0] * 6


def test_an_error_response_file_is_refused() -> None:
    with pytest.raises(InputError, match="OAuthException"):
        FORMAT.stage(ALL_FIXTURES / "facebook" / "error.json", OPTIONS)


def test_captured_at_is_the_file_time_unless_given(warehouse: Warehouse, tmp_path: Path) -> None:
    path = fixture("user_fields.json", tmp_path)
    when = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC).timestamp()
    os.utime(path, (when, when))
    load(warehouse, path, ImportOptions())
    assert scalar(warehouse, "SELECT captured_at::VARCHAR FROM account_snapshots") == (
        "2025-02-03 04:05:06+00"
    )


def test_loading_again_adds_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    path = fixture("business_discovery.json", tmp_path)
    load(warehouse, path)
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


@pytest.mark.parametrize(
    "url",
    [
        "https://graph.facebook.com/v6.0/17841406338772941/media?fields=id%2Ctimestamp&before=QVF",
        "https://graph.instagram.com/v21.0/17841406338772941/media?after=QVF",
        "https://graph.facebook.com/17841406338772941/media",
    ],
)
def test_the_last_empty_page_of_media_is_recognised_and_loads_nothing(
    warehouse: Warehouse, tmp_path: Path, url: str
) -> None:
    page = {"data": [], "paging": {"cursors": {"before": "QVF"}, "previous": url}}
    path = tmp_path / "media_p9.json"
    path.write_text(json.dumps([page]), "utf-8")
    assert detect(path) == "instagram-graph"
    summary = load_file(warehouse, path, stager(detect(path), OPTIONS))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (0, 0, {})
    assert not FACEBOOK.sniff(path, path.read_bytes())


def test_sniff_claims_instagram_graph_files_only() -> None:
    samples = [p for p in sorted(ALL_FIXTURES.glob("*/*")) if p.suffix in (".json", ".jsonl")]
    claimed = {p for p in samples if FORMAT.sniff(p, p.read_bytes()[:65536])}
    assert claimed == {p for p in samples if p.parent.name == "instagram"}
    for path in FIXTURES.glob("*.json*"):
        assert FORMAT.sniff(path, path.read_bytes()[:65536]), path.name
        assert not FACEBOOK.sniff(path, path.read_bytes()[:65536]), path.name
    assert not FORMAT.sniff(TEMPLATE, TEMPLATE.read_bytes())


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
    ["id", "timestamp", "caption", "media_type", "media_product_type", "like_count",
     "comments_count", "permalink", "owner", "username", "insights", "children"]
)  # fmt: skip
_changes = st.lists(st.dictionaries(_fields, _json, max_size=3), min_size=1, max_size=4)
_extra = st.lists(_json, max_size=2)
_cut = st.integers(min_value=0, max_value=300)


def _pages(changes: list[dict[str, object]], extra: list[object], cut: int) -> str:
    """Two good files' records, then media changed by ``changes`` plus ``extra`` junk items in
    a user's media edge, then a page cut after ``cut`` characters: JSONL."""
    page = json.loads((FIXTURES / "media_insights_old.json").read_text())
    user = json.loads((FIXTURES / "user_fields.json").read_text())
    media: list[dict[str, Any]] = page["data"]
    changed = [{**media[i % 3], **change} for i, change in enumerate(changes)]
    lines = [json.dumps(page), json.dumps({**user, "media": {"data": changed + extra}})]
    truncated = json.dumps({"data": changed})
    lines.append(truncated[: cut % (len(truncated) + 1)])
    return "\n".join(lines)


def test_malformed_records_load_or_are_quarantined(warehouse: Warehouse, tmp_path: Path) -> None:
    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(changes=_changes, extra=_extra, cut=_cut)
    def check(changes: list[dict[str, object]], extra: list[object], cut: int) -> None:
        path = tmp_path / "pages.jsonl"
        path.write_text(_pages(changes, extra, cut), "utf-8")
        summary = load(warehouse, path)
        if summary.status != "skipped":  # else the same bytes as an earlier example
            assert_each_record_kept_or_quarantined(warehouse, summary)
            assert summary.records_read >= 4 + len(changes) + len(extra)

    check()


def test_malformed_records_never_raise_and_each_gives_one_row(tmp_path: Path) -> None:
    @settings(max_examples=60, deadline=None)
    @given(changes=_changes, extra=_extra, cut=_cut)
    def check(changes: list[dict[str, object]], extra: list[object], cut: int) -> None:
        path = tmp_path / "pages.jsonl"
        path.write_text(_pages(changes, extra, cut), "utf-8")
        staged = FORMAT.stage(path, OPTIONS)
        rows = [r for part in staged for r in part.arrow.to_pylist()]
        numbers = [r["_row"] for r in rows]
        assert len(numbers) == len(set(numbers)) >= 4 + len(changes) + len(extra)
        for row in rows:  # a quarantined record says why; a good one has its key
            assert (row["_reason"] is None) == (row["_detail"] is None)
            assert row["_reason"] is not None or row["captured_at"] is not None
            json.loads(row["_payload"])

    check()


def test_media_are_never_replies_and_comments_are_not_media(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    load(warehouse, fixture("business_discovery.json", tmp_path))
    load(warehouse, fixture("medias_p1.json", tmp_path))
    found = warehouse.con.execute("SELECT DISTINCT is_reply_to_other FROM posts").fetchall()
    assert found == [(False,)] and scalar(warehouse, "SELECT count(*) FROM posts") > 0
    # GET /{media-id}/comments: a visitor's comment and the account's answer to it
    comments = {
        "data": [
            {"id": "17900000000000001", "text": "Mantap", "timestamp": "2021-08-13T09:00:00+0000",
             "username": "warga", "like_count": 3, "from": {"id": "178", "username": "warga"}},
            {"id": "17900000000000002", "text": "Terima kasih",
             "timestamp": "2021-08-13T10:00:00+0000", "username": "jabarprovgov",
             "parent_id": "17900000000000001"},
        ],
        "paging": {"next": "https://graph.facebook.com/v19.0/17895695668004550/comments?after=x"},
    }  # fmt: skip
    path = tmp_path / "comments.json"
    path.write_text(json.dumps(comments), encoding="utf-8")
    with pytest.raises(InputError, match="no Instagram media"):
        load(warehouse, path)
    with pytest.raises(InputError, match="no format knows"):
        detect(path)
