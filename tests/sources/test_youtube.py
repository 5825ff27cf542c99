"""YouTube Data API v3 responses through the real loader into a real DuckDB warehouse."""

import gzip
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import strategies as st

from conftest import scalar
from format_files import check_any_content_loads_or_is_quarantined
from govsocial.errors import InputError, RecordError, UsageError
from govsocial.sources.formats import detect, stager
from govsocial.sources.staging import ImportOptions
from govsocial.sources.youtube import FORMAT
from govsocial.sources.youtube.values import parse_duration
from govsocial.store import Warehouse, load_file
from govsocial.store.ingest import ImportSummary

FIXTURES = Path(__file__).parent.parent / "fixtures" / "youtube"
CAPTURED = datetime(2025, 4, 1, 5, 0, tzinfo=UTC)
OPTIONS = ImportOptions(captured_at=CAPTURED)


def load(wh: Warehouse, path: Path, options: ImportOptions = OPTIONS) -> ImportSummary:
    return load_file(wh, path, lambda p: FORMAT.stage(p, options))


def fixture(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copy(FIXTURES / name, tmp_path / name))


def test_videos_list_page_loads_exact_posts_and_counts(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    summary = load(warehouse, fixture("videos_info.json", tmp_path))
    assert (summary.records_read, summary.posts_new, summary.snapshots_new) == (5, 5, 5)
    assert (summary.quarantined, summary.accounts_new) == ({}, 5)  # five channels
    rows = warehouse.con.execute(
        """SELECT p.platform_post_id, p.posted_at::VARCHAR, p.media_type, p.video_duration_s,
                  p.url, m.views, m.likes, m.comments, m.reactions, m.shares, m.saves,
                  m.captured_at::VARCHAR
           FROM posts p JOIN post_metrics m USING (post_id) ORDER BY p.posted_at"""
    ).fetchall()
    watch = "https://www.youtube.com/watch?v="
    captured = "2025-04-01 05:00:00+00"
    assert rows == [
        ("oUvxwwO7oJg", "2019-09-10 23:39:29+00", "video", 1193.0, watch + "oUvxwwO7oJg",
         2833926, 85131, 8926, None, None, None, captured),
        ("ovdbrdCIP7U", "2019-09-11 23:00:05+00", "video", 1811.0, watch + "ovdbrdCIP7U",
         1633545, 35325, 3016, None, None, None, captured),
        ("k91qEXgGm_Y", "2019-09-13 20:00:04+00", "video", 391.0, watch + "k91qEXgGm_Y",
         931022, 8683, 2965, None, None, None, captured),
        ("wnhysL6jC9s", "2019-09-14 19:42:34+00", "video", 809.0, watch + "wnhysL6jC9s",
         434677, 5524, 868, None, None, None, captured),
        ("9wCvNsXREls", "2019-09-15 21:17:40+00", "video", 500.0, watch + "9wCvNsXREls",
         1051426, 11646, 3280, None, None, None, captured),
    ]  # fmt: skip
    text, hashtags = warehouse.con.execute(
        "SELECT text, hashtags FROM posts WHERE platform_post_id = '9wCvNsXREls'"
    ).fetchone() or ("", [])
    assert text.startswith("Patriots vs. Dolphins Week 2 Highlights | NFL 2019\n\nThe New England")
    assert hashtags == ["dolphins", "nfl", "patriots"]
    # Channels are created unassigned, by id; no channels response in the file → no handle.
    account = warehouse.con.execute(
        "SELECT a.platform, a.platform_account_id, a.handle, a.institution_id "
        "FROM posts p JOIN accounts a USING (account_id) WHERE platform_post_id = '9wCvNsXREls'"
    ).fetchall()
    assert account == [("youtube", "UCDVYQ4Zhbm3S2dlz7P1GBDg", None, None)]
    # Every video names its channel (snippet.channelTitle): the accounts' display names.
    names = warehouse.con.execute(
        "SELECT platform_account_id, display_name FROM accounts ORDER BY 1"
    ).fetchall()
    assert names == [
        ("UC4mLlRa_dezwvytudo9s1sw", "Deestroying"),
        ("UCDVYQ4Zhbm3S2dlz7P1GBDg", "NFL"),
        ("UCJdl3Paao2f3ha5JXMYUCIA", "NFL Throwback"),
        ("UCiWLfSweyRNmLpgEHekhoAg", "ESPN"),
        ("UCqZQlzSHbVJrwrn5XvzrzcA", "NBC Sports"),
    ]
    # The record is kept as received, dislikeCount included (it is simply not mapped).
    kept = warehouse.con.execute(
        "SELECT origin, payload->>'$.statistics.dislikeCount' FROM raw_records "
        "WHERE record_index = 1"
    ).fetchone()
    assert kept == ("videos_info.json, record 1", "458")


def test_channels_list_becomes_follower_snapshots(warehouse: Warehouse, tmp_path: Path) -> None:
    summary = load(warehouse, fixture("info_multiple.json", tmp_path))
    assert (summary.kind, summary.records_read, summary.snapshots_new) == (
        "account_snapshots",
        2,
        2,
    )
    rows = warehouse.con.execute(
        """SELECT a.platform_account_id, a.handle, s.followers, s.following, s.posts_count,
                  s.captured_at::VARCHAR
           FROM account_snapshots s JOIN accounts a USING (account_id) ORDER BY 1"""
    ).fetchall()
    assert rows == [
        ("UCK8sQmJBp8GCxrOtXWBpyEA", "google", 10700000, None, 2678, "2025-04-01 05:00:00+00"),
        ("UC_x5XG1OV2P6uZZ5FSM9Ttw", "googledevelopers", 2260000, None, 5652,
         "2025-04-01 05:00:00+00"),
    ]  # fmt: skip
    # The channels' titles are their display names.
    names = warehouse.con.execute("SELECT handle, display_name FROM accounts ORDER BY 1")
    assert names.fetchall() == [("google", "Google"), ("googledevelopers", "Google Developers")]


def test_playlist_items_have_no_counts_and_are_quarantined_with_their_ids(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    summary = load(warehouse, fixture("playlist_items_paged_1.json", tmp_path))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (
        10,
        0,
        {"no_statistics": 10},
    )
    origin, detail, video = warehouse.con.execute(
        "SELECT origin, detail, payload->>'$.snippet.resourceId.videoId' FROM quarantine "
        "WHERE record_index = 1"
    ).fetchone() or ("", "", "")
    assert origin == "playlist_items_paged_1.json, record 1"
    assert detail == (
        "item 1: a playlistItem lists video CvTApw9X8aA without views, likes or comments; fetch "
        "videos.list?part=snippet,statistics,contentDetails&id=CvTApw9X8aA and import that "
        "response instead"
    )
    assert video == "CvTApw9X8aA"


def test_facebook_errors_stay_facebook_and_forcing_youtube_on_them_is_refused(
    tmp_path: Path,
) -> None:
    path = FIXTURES.parent / "facebook" / "error.json"
    assert detect(path) == "facebook-graph"
    assert not FORMAT.sniff(path, path.read_bytes())
    with pytest.raises(InputError, match="is facebook-graph data"):
        stager("youtube", OPTIONS)(path)


def _cut(text: str, before: str) -> str:
    """``text`` cut off just before the first ``before`` (a save interrupted there)."""
    return text[: text.index(before)]


def test_a_cut_last_line_is_quarantined_and_the_pages_before_it_load(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    page = json.dumps(json.loads((FIXTURES / "videos_info.json").read_text()))
    path = tmp_path / "pages.jsonl"
    path.write_text(page + "\n" + _cut(page, '"commentCount": "2965"'))
    summary = load_file(warehouse, path, stager("youtube", OPTIONS))
    assert (summary.records_read, summary.posts_new, summary.quarantined) == (
        6,
        5,
        {"truncated_line": 1},
    )
    detail = scalar(warehouse, "SELECT detail FROM quarantine")
    assert detail.startswith("line 2: the JSON ends early")
    assert detail.endswith("the file is incomplete: save this response again and import it")


def test_a_gzip_file_is_read_as_its_content(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "videos.json.gz"
    path.write_bytes(gzip.compress((FIXTURES / "videos_info.json").read_bytes()))
    assert detect(path) == "youtube"
    summary = load_file(warehouse, path, stager("youtube", OPTIONS))
    assert (summary.records_read, summary.posts_new) == (5, 5)
    origin = scalar(warehouse, "SELECT origin FROM raw_records WHERE record_index = 1")
    assert origin == "videos.json, record 1"


def test_quirks_load_or_are_quarantined_one_by_one(registered: Warehouse, tmp_path: Path) -> None:
    summary = load(registered, fixture("quirks.jsonl", tmp_path))
    assert summary.kind == "posts+account_snapshots"
    assert (summary.records_read, summary.posts_new, summary.snapshots_new) == (12, 4, 5)
    assert summary.accounts_new == 0  # matched to the registered kemenkes channel by its id
    assert summary.quarantined == {
        "api_error": 1,
        "bad_json": 1,
        "bad_value": 2,
        "hidden_subscribers": 1,
        "no_statistics": 1,
        "truncated_line": 1,
    }
    posts = registered.con.execute(
        """SELECT p.platform_post_id, p.posted_at::VARCHAR, p.media_type, p.video_duration_s,
                  p.text, m.views, m.likes, m.comments, a.institution_id
           FROM posts p JOIN post_metrics m USING (post_id) JOIN accounts a USING (account_id)
           ORDER BY p.posted_at"""
    ).fetchall()
    assert posts == [
        ("shortvideo1", "2025-03-01 01:00:00+00", "reel", 45.0, "Cuci tangan!", 1200, None, 4,
         "kemenkes"),
        ("hourvideo02", "2025-03-02 03:04:05.123+00", "video", 3720.0,
         "Judul\n\nDeskripsi #Sehat", 5000, 250, 0, "kemenkes"),
        ("dayvideo003", "2025-03-03 00:00:00+00", "video", 93600.0, "Judul\n\nDeskripsi #Sehat",
         10, 1, 1, "kemenkes"),
        ("upcoming006", "2025-03-06 00:00:00+00", "video", None, "Judul\n\nDeskripsi #Sehat",
         0, 0, 0, "kemenkes"),
    ]  # fmt: skip
    assert registered.con.execute(
        "SELECT followers, posts_count FROM account_snapshots"
    ).fetchall() == [(1230000, 4321)]
    details = dict(
        registered.con.execute("SELECT record_index, detail FROM quarantine ORDER BY 1").fetchall()
    )
    # Each detail names the place in the file: the line, and the item of its response.
    assert details[2] == (
        "line 1, item 2: channel UChiddenHiddenHiddenHidd hides its subscriber count "
        "(statistics.hiddenSubscriberCount is true), so its followers are unknown"
    )
    assert details[6] == "line 2, item 4: statistics.viewCount '1.2K' is not a whole number"
    assert details[7].startswith(
        "line 2, item 5: contentDetails.duration 'PT8X' is not an ISO 8601 duration"
    )
    assert details[9].startswith("line 2, item 7: video nostats0007 has no statistics")
    assert details[10] == (
        "line 3: the API answered with an error instead of data: YouTube Data API error "
        "(quotaExceeded, code 403): The request cannot be completed because you have exceeded "
        "your quota."
    )
    assert details[11].startswith("line 4 is not JSON")
    assert details[12] == (
        "line 5: the JSON ends early (a write cut off?); the file is incomplete: save this "
        "response again and import it"
    )
    payload = scalar(registered, "SELECT payload FROM quarantine WHERE reason = 'bad_json'")
    assert json.loads(payload) == "not json at all"


def test_handles_come_from_a_channels_response_in_the_same_file(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    channels = json.loads((FIXTURES / "info_multiple.json").read_text())
    videos = json.loads((FIXTURES / "videos_info.json").read_text())
    videos["items"] = videos["items"][:1]
    videos["items"][0]["snippet"]["channelId"] = "UCK8sQmJBp8GCxrOtXWBpyEA"
    path = tmp_path / "both.json"
    path.write_text(json.dumps([videos, channels]))
    summary = load(warehouse, path)
    assert (summary.posts_new, summary.snapshots_new, summary.accounts_new) == (1, 3, 2)
    owner = scalar(
        warehouse,
        "SELECT a.handle FROM posts p JOIN accounts a USING (account_id)",
    )
    assert owner == "google"


def test_captured_at_is_the_option_else_the_time_in_the_name_else_the_file_time(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    channels = json.loads((FIXTURES / "info_multiple.json").read_text())
    when = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC).timestamp()
    for number, (name, options) in enumerate(
        [
            ("2025-03-01-10-00-00-WIB-channels.json", OPTIONS),  # --captured-at wins
            ("2025-03-01-10-00-00-WIB-channels.json", ImportOptions()),  # then the name
            ("channels.json", ImportOptions()),  # then the file's modification time
        ]
    ):
        channels["etag"] = str(number)  # other bytes: a file not loaded before
        path = tmp_path / str(number) / name
        path.parent.mkdir()
        path.write_text(json.dumps(channels))
        os.utime(path, (when, when))
        load(warehouse, path, options)
    found = warehouse.con.execute(
        "SELECT DISTINCT captured_at::VARCHAR FROM account_snapshots ORDER BY 1"
    ).fetchall()
    assert found == [
        ("2025-02-03 04:05:06+00",),
        ("2025-03-01 03:00:00+00",),  # 10:00 WIB (UTC+7)
        ("2025-04-01 05:00:00+00",),
    ]


def test_loading_again_adds_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    path = fixture("quirks.jsonl", tmp_path)
    first = load(warehouse, path)
    assert load(warehouse, path).status == "skipped"
    same = tmp_path / "copy.jsonl"
    shutil.copy(path, same)
    assert (load(warehouse, same).status, load(warehouse, same).batch_id) == (
        "skipped",
        first.batch_id,
    )
    # Other bytes, same records and capture time: nothing new.
    lines = path.read_text().splitlines()
    reformatted = tmp_path / "reformatted.jsonl"
    reformatted.write_text("\n".join(json.dumps(json.loads(x)) for x in lines[:3]) + "\n")
    again = load(warehouse, reformatted)
    assert (again.status, again.posts_new, again.posts_updated, again.snapshots_new) == (
        "loaded",
        0,
        0,
        0,
    )


def test_odd_values_are_quarantined_one_by_one(warehouse: Warehouse, tmp_path: Path) -> None:
    base = json.loads((FIXTURES / "videos_info.json").read_text())["items"][0]
    changes = [
        ("snippet", "title", "\U0001f600 an emoji"),  # a surrogate *pair* in JSON: good
        ("snippet", "title", "\ud800 lone surrogate"),  # half of a cut emoji: not text
        ("statistics", "viewCount", 2**70),
        ("snippet", "publishedAt", "9999-12-31T23:59:59-01:00"),
        ("statistics", "likeCount", True),
        ("statistics", "likeCount", "-5"),
        ("snippet", "channelId", "UC x"),
        ("snippet", "publishedAt", "1970-01-01T00:00:00Z"),  # before YouTube existed
        ("snippet", "publishedAt", "2025-05-01T00:00:00Z"),  # after the file was saved
    ]
    items = []
    for number, (section, key, value) in enumerate(changes):
        item = json.loads(json.dumps(base))
        item["id"], item[section][key] = f"odd{number:08d}", value
        items.append(item)
    path = tmp_path / "odd.jsonl"
    page = {"kind": "youtube#videoListResponse", "items": items}
    path.write_text(json.dumps(page) + '\n{"kind": "youtube#video", "views": NaN}\n')
    summary = load(warehouse, path)
    assert (summary.records_read, summary.posts_new) == (10, 1)
    assert summary.quarantined == {
        "bad_json": 1,
        "bad_value": 5,
        "captured_before_posted": 1,
        "implausible_time": 1,
        "negative_count": 1,
    }
    assert scalar(warehouse, "SELECT left(text, 10) FROM posts") == "\U0001f600 an emoji"
    reasons = warehouse.con.execute("SELECT record_index, detail FROM quarantine ORDER BY 1")
    assert [d for _, d in reasons.fetchall()] == [
        "line 1, item 2: it contains an unpaired UTF-16 surrogate (\\udXXX, half of a cut "
        "emoji), which is not Unicode text",
        "line 1, item 3: statistics.viewCount 1180591620717411303424 is too large for a count "
        "(at most 9223372036854775807)",
        "line 1, item 4: snippet.publishedAt '9999-12-31T23:59:59-01:00' is not a real time "
        "(date value out of range)",
        "line 1, item 5: statistics.likeCount True is not a whole number",
        "column likes is negative: -5",
        "line 1, item 7: snippet.channelId 'UC x' is not a YouTube id",
        "posted_at 1970-01-01 00:00:00+00 is before youtube existed (2005-02-14)",
        "captured_at 2025-04-01 05:00:00+00 is before posted_at 2025-05-01 00:00:00+00",
        "line 2 is not JSON (NaN is not valid JSON)",
    ]
    # The record with the lone surrogate is kept, readable, with U+FFFD in its place.
    title = scalar(
        warehouse, "SELECT payload->>'$.snippet.title' FROM quarantine WHERE record_index = 2"
    )
    assert title == "\ufffd lone surrogate"


def test_tz_must_be_a_time_zone(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--tz: unknown time zone 'Mars/Olympus'"):
        FORMAT.stage(fixture("videos_info.json", tmp_path), ImportOptions(tz="Mars/Olympus"))


def test_sniff_says_yes_only_to_youtube_responses() -> None:
    # Every format's fixtures (real samples of the other readers included) and the templates.
    files = [p for p in FIXTURES.parent.glob("*/*") if p.suffix in {".json", ".jsonl", ".csv"}]
    files += Path(__file__).parents[2].joinpath("docs", "templates").glob("*.csv")
    found = {p.name for p in files if FORMAT.sniff(p, p.read_bytes()[:65536])}
    assert found == {
        "error_response.json",
        "info_multiple.json",
        "playlist_items_paged_1.json",
        "quirks.jsonl",
        "quota_exceeded.json",
        "videos_info.json",
    }
    assert not FORMAT.sniff(Path("x.json"), b'{"kind": "drive#fileList", "files": []}')
    assert not FORMAT.sniff(Path("x.json"), b"\xff\xfe garbage")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT8M20S", 500), ("PT1H2M", 3720), ("P1DT2H", 93600), ("PT45S", 45), ("P0D", 0),
     ("P1W", 604800), ("PT1.5S", 1.5)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "8M20S", "PT8X", "P1Y", "P1M", 500, None])
def test_bad_durations(text: object) -> None:
    with pytest.raises(RecordError, match="not an ISO 8601 duration"):
        parse_duration(text)


# Property: whatever the items or lines hold, a file never makes the reader raise, and every
# record is loaded or quarantined (now, or by an earlier file: a rejected record that arrives
# again is counted, not kept twice). Times range over centuries, so the loader's time rules
# (before YouTube, in the future, captured before posted) are met too.
_times = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1)).map(
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if t.microsecond % 2 else "%Y-%m-%dT%H:%M:%SZ")
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | _times,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_VIDEO = json.loads((FIXTURES / "videos_info.json").read_text())["items"][0]
_CHANNEL = json.loads((FIXTURES / "info_multiple.json").read_text())["items"][0]


@st.composite
def _item(draw: st.DrawFn) -> object:
    base = draw(st.sampled_from([_VIDEO, _CHANNEL]))
    item = json.loads(json.dumps(base))
    for section in draw(st.lists(st.sampled_from(["snippet", "statistics", "contentDetails"]))):
        key = draw(st.sampled_from(sorted(item.get(section, {"x": 1}))))
        if isinstance(item.get(section), dict):
            item[section][key] = draw(_json)
    return draw(st.sampled_from([item, draw(_json)]))


_line = st.one_of(
    st.lists(_item(), max_size=4).map(
        lambda items: json.dumps({"kind": "youtube#videoListResponse", "items": items})
    ),
    st.lists(_item(), max_size=3).map(
        lambda items: json.dumps({"kind": "youtube#channelListResponse", "items": items})
    ),
    _json.map(json.dumps),
    st.text(max_size=20).filter(lambda t: "\n" not in t and "\r" not in t),
)


def test_any_content_loads_or_is_quarantined_never_crashes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    first = json.dumps({"kind": "youtube#videoListResponse", "items": [_VIDEO]})
    check_any_content_loads_or_is_quarantined(folder, first, _line, load)


def test_videos_are_never_replies_and_comment_threads_are_not_videos(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    videos = json.loads((FIXTURES / "videos_info.json").read_text())
    videos["items"].append(  # a commentThreads.list item (a comment and the channel's reply)
        {
            "kind": "youtube#commentThread",
            "id": "UgzDE2tasfmrYLyNkGt4AaABAg",
            "snippet": {
                "videoId": "oUvxwwO7oJg",
                "topLevelComment": {"kind": "youtube#comment", "id": "UgzDE2tasfmrYLyNkGt4AaABAg"},
                "totalReplyCount": 1,
            },
        }
    )
    path = tmp_path / "videos_and_comments.json"
    path.write_text(json.dumps(videos), encoding="utf-8")
    summary = load(warehouse, path)
    assert (summary.posts_new, summary.quarantined) == (5, {"unsupported_kind": 1})
    found = warehouse.con.execute("SELECT DISTINCT is_reply_to_other FROM posts").fetchall()
    assert found == [(False,)]
