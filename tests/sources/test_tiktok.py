"""TikTok Research API responses through the real loader into a real DuckDB warehouse."""

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import strategies as st

from conftest import scalar
from format_files import check_any_content_loads_or_is_quarantined
from govsocial.errors import InputError, RecordError
from govsocial.registry import read_registry
from govsocial.sources.formats import detect, stager
from govsocial.sources.staging import ImportOptions
from govsocial.sources.tiktok import FORMAT, Response, UserInfo, Video, saved_response
from govsocial.sources.tiktok.records import unix_time
from govsocial.store import Warehouse, apply_registry, known_clusters, load_file
from govsocial.store.ingest import ImportSummary

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tiktok"
CAPTURED = datetime(2025, 4, 1, 5, 0, tzinfo=UTC)
OPTIONS = ImportOptions(captured_at=CAPTURED)
REGISTRY = """\
institutions:
  - id: kemenkes
    name: Kementerian Kesehatan
    cluster: kementerian
    accounts:
      - {platform: tiktok, handle: kemenkes_ri}
"""


def load(wh: Warehouse, path: Path, options: ImportOptions = OPTIONS) -> ImportSummary:
    return load_file(wh, path, lambda p: FORMAT.stage(p, options))


def fixture(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copy(FIXTURES / name, tmp_path / name))


def test_a_video_query_page_loads_every_video_with_its_counts(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    summary = load(warehouse, fixture("api_response.json", tmp_path))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (27, 27, {})
    assert summary.accounts_new == 27  # one video per account, created unassigned by username
    rows = warehouse.con.execute(
        """SELECT p.platform_post_id, p.posted_at::VARCHAR, p.media_type, p.video_duration_s,
                  p.url, p.text, p.hashtags, p.is_repost, p.is_reply_to_other, m.views,
                  m.likes, m.comments, m.shares, m.saves, m.reactions, m.captured_at::VARCHAR,
                  a.handle, a.platform_account_id, a.institution_id
           FROM posts p JOIN post_metrics m USING (post_id) JOIN accounts a USING (account_id)
           WHERE a.handle IN ('s.clovis', 'illyonz') ORDER BY 1"""
    ).fetchall()
    captured = "2025-04-01 05:00:00+00"
    assert rows == [
        # create_time 1704499189 (Unix seconds, UTC); like_count absent: not known, not 0
        ("7320768149928955182", "2024-01-05 23:59:49+00", "reel", None,
         "https://www.tiktok.com/@illyonz/video/7320768149928955182", "#catfishing ",
         ["catfishing"], False, False, 0, None, 0, 0, None, None, captured,
         "illyonz", None, None),
        ("7320768196569599275", "2024-01-05 23:59:56+00", "reel", None,
         "https://www.tiktok.com/@s.clovis/video/7320768196569599275",
         "#duet with @MarvelKitties2022 #cats ", ["cats", "duet"], False, False, 4, 6, 0, 0,
         None, None, captured, "s.clovis", None, None),
    ]  # fmt: skip
    # Each video is kept as received; its 19-digit id (a JSON integer) keeps every digit.
    kept = warehouse.con.execute(
        "SELECT origin, payload->>'$.id', payload->>'$.music_id' FROM raw_records "
        "WHERE record_index = 1"
    ).fetchone()
    assert kept == ("api_response.json, record 1", "7320768196569599275", "7159460238003800066")


def test_user_info_saved_with_its_username_is_a_follower_reading_of_the_registered_account(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    apply_registry(warehouse, read_registry(registry, known_clusters(warehouse)), registry)
    summary = load(warehouse, fixture("user_info.json", tmp_path))
    assert (summary.kind, summary.records_read, summary.snapshots_new) == (
        "account_snapshots",
        1,
        1,
    )
    assert summary.accounts_new == 0  # matched to the registry by its username
    row = warehouse.con.execute(
        """SELECT a.institution_id, a.handle, a.display_name, s.followers, s.following,
                  s.posts_count, s.captured_at::VARCHAR
           FROM account_snapshots s JOIN accounts a USING (account_id)"""
    ).fetchall()
    assert row == [
        ("kemenkes", "kemenkes_ri", "Kementerian Kesehatan RI", 232, 45, 44,
         "2025-04-01 05:00:00+00"),
    ]  # fmt: skip


def test_a_username_holding_nul_characters_is_quarantined_not_stored(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """A real response: the API wrote six NULs into a username; it would rename the account."""
    summary = load(warehouse, fixture("api_videos_response_unicode.json", tmp_path))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (
        1,
        0,
        {"bad_value": 1},
    )
    detail = scalar(warehouse, "SELECT detail FROM quarantine")
    assert detail.startswith("column account_handle holds a control character")
    assert scalar(warehouse, "SELECT count(*) FROM accounts") == 0


def test_quirks_load_or_are_quarantined_one_by_one(warehouse: Warehouse, tmp_path: Path) -> None:
    summary = load(warehouse, fixture("quirks.jsonl", tmp_path))
    assert summary.kind == "posts+account_snapshots"
    assert (summary.records_read, summary.posts_new, summary.accounts_new) == (14, 4, 1)
    assert summary.quarantined == {
        "api_error": 1,
        "bad_json": 1,
        "bad_value": 2,
        "implausible_time": 1,
        "missing_field": 1,
        "negative_count": 1,
        "truncated_line": 1,
        "unsupported_kind": 1,
    }
    posts = warehouse.con.execute(
        """SELECT p.platform_post_id, p.video_duration_s, m.views, m.likes, m.comments,
                  m.shares, m.saves, a.handle, a.display_name
           FROM posts p JOIN post_metrics m USING (post_id) JOIN accounts a USING (account_id)
           ORDER BY 1"""
    ).fetchall()
    assert posts == [
        ("7476000000000000001", 31.0, 1000, 100, 10, 1, 2, "humasjabar", "Humas Jabar"),
        # no username field: the account the saved page names
        ("7476000000000000002", 32.0, 2000, 200, 20, 2, 4, "humasjabar", "Humas Jabar"),
        # the documentation's "video_id"
        ("7476000000000000005", 35.0, 5000, 500, 50, 5, 10, "humasjabar", "Humas Jabar"),
        # video_duration 0 (a photo post): no length; favorites_count not requested: unknown
        ("7476000000000000007", None, 7000, 700, 70, 7, None, "humasjabar", "Humas Jabar"),
    ]
    assert warehouse.con.execute(
        "SELECT followers, following, posts_count FROM account_snapshots"
    ).fetchall() == [(120000, 12, 880)]
    details = dict(
        warehouse.con.execute("SELECT record_index, detail FROM quarantine ORDER BY 1").fetchall()
    )
    assert details == {
        2: "line 2: the user info names no account: TikTok's /v2/research/user/info/ answers "
        'without the username, so keep it beside the response\'s data ("username": "the '
        'username requested") and import the file again',
        5: "line 3, video 3: create_time '1740787200' is not Unix seconds",
        6: "posted_at 1970-01-01 00:00:00+00 is before tiktok existed (2016-09-20)",
        8: "line 3, video 6: like_count '12' is not a whole number",
        10: "column shares is negative: -3",
        11: "line 4: the API answered with an error instead of data: TikTok Research API error "
        "(rate_limit_exceeded): API rate limit exceeded, please retry later. (log_id "
        "20250301020305ABCDEF0123456789ABCD)",
        12: "line 5: a response whose data holds comments, cursor, has_more is neither a video "
        "query (data.videos) nor user info: only /v2/research/video/query/ and "
        "/v2/research/user/info/ responses give posts and followers",
        13: "line 6 is not JSON (Expecting value: line 1 column 1 (char 0))",
        14: "line 7: the JSON ends early (a write cut off?); the file is incomplete: save this "
        "response again and import it",
    }
    # The user info without a username is kept whole, with its counts, for a later fix.
    kept = scalar(warehouse, "SELECT payload->>'$.data.follower_count' FROM quarantine "
                  "WHERE record_index = 2")  # fmt: skip
    assert kept == "5"


def test_pages_saved_one_per_line_load_and_a_later_reading_adds_counts_not_posts(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    page = (FIXTURES / "api_response.json").read_text(encoding="utf-8")
    first = tmp_path / "2025-03-01-10-00-00-WIB-videos.jsonl"
    first.write_text(page + "\n" + page[: page.index('"username":"rokxz"')] + "\n")
    summary = load(warehouse, first, ImportOptions())  # captured_at from the file's name
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (
        28,
        27,
        {"truncated_line": 1},
    )
    later = json.loads(page)
    for video in later["data"]["videos"]:
        video["view_count"] += 100
    second = tmp_path / "2025-03-08-10-00-00-WIB-videos.json"
    second.write_text(json.dumps(later), encoding="utf-8")
    again = load(warehouse, second, ImportOptions())
    assert (again.posts_new, again.quarantined) == (0, {})
    readings = warehouse.con.execute(
        """SELECT m.captured_at::VARCHAR, m.views FROM post_metrics m JOIN posts p
           USING (post_id) WHERE p.platform_post_id = '7320768196569599275' ORDER BY 1"""
    ).fetchall()
    assert readings == [("2025-03-01 03:00:00+00", 4), ("2025-03-08 03:00:00+00", 104)]
    assert load(warehouse, second, ImportOptions()).status == "skipped"


def test_a_gzip_file_is_read_as_its_content(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "page.json.gz"
    path.write_bytes(gzip.compress((FIXTURES / "api_response.json").read_bytes()))
    assert detect(path) == "tiktok-research"
    summary = load_file(warehouse, path, stager("tiktok-research", OPTIONS))
    assert (summary.records_read, summary.posts_new) == (27, 27)
    assert scalar(warehouse, "SELECT origin FROM raw_records WHERE record_index = 1") == (
        "page.json, record 1"
    )


def test_videos_and_users_saved_on_their_own_are_read_too(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """A JSON array of bare videos (``data.videos`` saved alone, as some tools write it), the
    ``favourites_count`` spelling of the fields list, and a bare user object with its username."""
    videos = json.loads((FIXTURES / "api_response.json").read_text())["data"]["videos"][:2]
    videos[0]["favourites_count"] = 9
    user = {"username": "s.clovis", "display_name": "Clovis", "follower_count": 10}
    path = tmp_path / "videos.json"
    path.write_text(json.dumps([*videos, user], indent=2), encoding="utf-8")
    assert detect(path) == "tiktok-research"
    summary = load(warehouse, path)
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (3, 2, {})
    assert scalar(warehouse, "SELECT max(saves) FROM post_metrics") == 9
    assert warehouse.con.execute(
        "SELECT a.handle, a.display_name, s.followers FROM account_snapshots s "
        "JOIN accounts a USING (account_id)"
    ).fetchall() == [("s.clovis", "Clovis", 10)]


def test_a_collected_response_with_its_username_reads_as_the_saved_file_does() -> None:
    """The collector keeps a user info response with the username it asked about."""
    response = json.loads((FIXTURES / "user_info.json").read_text())
    del response["username"]
    saved = saved_response(response, "kemenkes_ri")
    parsed = Response.from_payload(saved)
    assert (parsed.kind, parsed.bare, parsed.username) == ("user", True, "kemenkes_ri")
    assert UserInfo.from_payload(saved) == UserInfo(
        "kemenkes_ri", "Kementerian Kesehatan RI", 232, 45, 44
    )
    with pytest.raises(RecordError, match="names no account"):
        UserInfo.from_payload(response)
    video = Video.from_payload({"id": 1, "create_time": 1704499196}, owner="kemenkes_ri")
    assert video.url == "https://www.tiktok.com/@kemenkes_ri/video/1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "create_time is missing"),
        (True, "create_time True is not Unix seconds"),
        (1704499196.5, "create_time 1704499196.5 is not Unix seconds"),
        ("1704499196", "create_time '1704499196' is not Unix seconds"),
        (10**12, "create_time 1000000000000 is not a real time"),
    ],
)
def test_create_time_must_be_unix_seconds(value: object, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        unix_time(value, "create_time")


def test_create_time_is_read_as_utc() -> None:
    assert unix_time(1704499196, "create_time") == datetime(2024, 1, 5, 23, 59, 56, tzinfo=UTC)


def test_sniff_says_yes_only_to_tiktok_responses() -> None:
    # Every format's fixtures (real samples of the other readers included) and the templates.
    files = [p for p in FIXTURES.parent.glob("*/*") if p.suffix in {".json", ".jsonl", ".csv"}]
    files += Path(__file__).parents[2].joinpath("docs", "templates").glob("*.csv")
    found = {p.name for p in files if FORMAT.sniff(p, p.read_bytes()[:65536])}
    assert found == {
        "access_token_invalid.json",
        "api_response.json",
        "api_videos_response_unicode.json",
        "daily_quota_limit_exceeded.jsonl",
        "quirks.jsonl",
        "search_id_expired.json",  # error envelopes the client's tests serve
        "user_info.json",
        "user_not_found.json",
    }
    assert not FORMAT.sniff(Path("x.json"), b'{"created_time": 1704499196, "music_id": 1}')
    assert not FORMAT.sniff(Path("x.json"), b"\xff\xfe garbage")


def test_a_page_longer_than_the_sniffed_head_is_recognised_by_its_first_videos(
    tmp_path: Path,
) -> None:
    """100 videos with transcripts: the error object (and its log_id) is past the 64 KiB."""
    page = json.loads((FIXTURES / "api_response.json").read_text())
    video = {**page["data"]["videos"][0], "voice_to_text": "kata " * 200}
    page["data"]["videos"] = [{**video, "id": video["id"] + i} for i in range(100)]
    path = tmp_path / "long.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    assert path.read_bytes().index(b'"log_id"') > 65536
    assert detect(path) == "tiktok-research"


def test_youtube_files_are_refused_naming_their_format(tmp_path: Path) -> None:
    path = FIXTURES.parent / "youtube" / "videos_info.json"
    with pytest.raises(InputError, match="is youtube data"):
        stager("tiktok-research", OPTIONS)(path)


# Property: whatever the videos or lines hold, a file never makes the reader raise, and every
# record is loaded or quarantined (now, or by an earlier file: a rejected record that arrives
# again is counted, not kept twice).
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_VIDEO = json.loads((FIXTURES / "api_response.json").read_text())["data"]["videos"][0]
_USER = json.loads((FIXTURES / "user_info.json").read_text())


@st.composite
def _video(draw: st.DrawFn) -> object:
    video = dict(_VIDEO)
    for key in draw(st.lists(st.sampled_from(sorted(video)))):
        video[key] = draw(_json | st.integers(min_value=-(2**40), max_value=2**40))
    return draw(st.sampled_from([video, draw(_json)]))


_line = st.one_of(
    st.lists(_video(), max_size=4).map(
        lambda videos: json.dumps({"data": {"videos": videos}, "error": {"code": "ok"}})
    ),
    _json.map(lambda data: json.dumps({**_USER, "data": data})),
    _json.map(json.dumps),
    st.text(max_size=20).filter(lambda t: "\n" not in t and "\r" not in t),
)


def test_any_content_loads_or_is_quarantined_never_crashes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    first = json.dumps({"data": {"videos": [_VIDEO]}, "error": {"code": "ok"}})
    check_any_content_loads_or_is_quarantined(folder, first, _line, load)
