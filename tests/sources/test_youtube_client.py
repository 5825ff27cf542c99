"""The YouTube live client against an ``httpx.MockTransport`` YouTube Data API v3 that serves
the recorded response shapes of tests/fixtures/youtube (see its SOURCE.md):
``info_multiple.json`` (channels.list), ``playlist_items_paged_1.json`` (playlistItems.list:
its envelope, item ids and video ids; its items are re-served with ``part=contentDetails``
as https://developers.google.com/youtube/v3/docs/playlistItems#resource documents it) and
``videos_info.json`` (videos.list: its items re-served under the requested ids). Every body
fetched is loaded into a real warehouse by the ``youtube`` reader."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import scalar
from fakes import load_fetched, no_sleep
from govsocial.errors import ConfigError, QuotaExhausted, SourceError, TerminalSourceError
from govsocial.sources.clients import AccountRef, Fetched
from govsocial.sources.http import QuotaBudget, Resume
from govsocial.sources.youtube.client import YouTubeClient
from govsocial.store import Warehouse
from govsocial.store.ingest import ImportSummary

FIXTURES = Path(__file__).parent.parent / "fixtures" / "youtube"
KEY = "AIzaSyD-SECRET_key-0123456789abcdefghij"
NOW = datetime(2025, 3, 2, 6, 0, tzinfo=UTC)
CHANNELS = json.loads((FIXTURES / "info_multiple.json").read_text())
GOOGLE = CHANNELS["items"][0]  # UCK8sQmJBp8GCxrOtXWBpyEA, @google, uploads UUK8sQmJB...
CHANNEL_ID = GOOGLE["id"]
UPLOADS = GOOGLE["contentDetails"]["relatedPlaylists"]["uploads"]
PLAYLIST = json.loads((FIXTURES / "playlist_items_paged_1.json").read_text())
VIDEOS = json.loads((FIXTURES / "videos_info.json").read_text())
ACCOUNT = AccountRef(7, "youtube", CHANNEL_ID, "google")
BY_HANDLE = AccountRef(8, "youtube", None, "google")
GONE = AccountRef(9, "youtube", None, "dinas_dihapus")
TOTAL = 120  # uploads: one a day, newest first, from 2025-03-01 12:00 back
FIRST = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def published(index: int) -> datetime:
    return FIRST - timedelta(days=index)


def video_id(index: int) -> str:
    recorded = [item["snippet"]["resourceId"]["videoId"] for item in PLAYLIST["items"]]
    return recorded[index] if index < len(recorded) else f"vid{index:08d}"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeYouTube:
    """channels.list, playlistItems.list (pages of ``maxResults``) and videos.list over the
    uploads above; it keeps every request, and ``private`` lists uploads that are private (no
    ``videoPublishedAt``, as the API serves them)."""

    def __init__(self, private: frozenset[int] = frozenset()) -> None:
        self.requests: list[httpx.Request] = []
        self.private = private

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        query = request.url.params
        assert query["key"] == KEY
        route = request.url.path.removeprefix("/youtube/v3")
        if route == "/channels":
            return self.channels(query)
        if route == "/playlistItems":
            return self.playlist(query)
        if route == "/videos":
            return self.videos(query)
        return httpx.Response(404, json={"error": {"code": 404, "message": "Not Found"}})

    def channels(self, query: httpx.QueryParams) -> httpx.Response:
        assert query["part"] == "snippet,statistics,contentDetails"
        found = query.get("id") == CHANNEL_ID or query.get("forHandle") == "@google"
        # An unknown channel is a 200 with no "items" at all.
        body = {k: v for k, v in CHANNELS.items() if k != "items"}
        body["pageInfo"] = {"totalResults": int(found), "resultsPerPage": 5}
        if found:
            body["items"] = [GOOGLE]
        return httpx.Response(200, json=body)

    def playlist(self, query: httpx.QueryParams) -> httpx.Response:
        assert (query["part"], query["playlistId"]) == ("contentDetails", UPLOADS)
        size = int(query["maxResults"])
        start = int(query.get("pageToken", "tok0").removeprefix("tok"))
        items = []
        for index in range(start, min(start + size, TOTAL)):
            recorded = PLAYLIST["items"][index % len(PLAYLIST["items"])]
            details: dict[str, Any] = {"videoId": video_id(index)}
            if index not in self.private:
                details["videoPublishedAt"] = stamp(published(index))
            items.append(
                {**{k: recorded[k] for k in ("kind", "etag", "id")}, "contentDetails": details}
            )
        body: dict[str, Any] = {"kind": PLAYLIST["kind"], "etag": PLAYLIST["etag"]}
        if start + size < TOTAL:
            body["nextPageToken"] = f"tok{start + size}"
        body["pageInfo"] = {"totalResults": TOTAL, "resultsPerPage": size}
        body["items"] = items
        return httpx.Response(200, json=body)

    def videos(self, query: httpx.QueryParams) -> httpx.Response:
        assert query["part"] == "snippet,statistics,contentDetails"
        assert "maxResults" not in query  # not allowed with id
        ids = query["id"].split(",")
        assert len(ids) <= 50
        known = {video_id(i): i for i in range(TOTAL)}
        items = []
        for vid in ids:
            if vid not in known:
                continue  # deleted: simply absent
            item = copy.deepcopy(VIDEOS["items"][known[vid] % len(VIDEOS["items"])])
            item["id"] = vid
            item["snippet"].update(
                publishedAt=stamp(published(known[vid])),
                channelId=CHANNEL_ID,
                channelTitle="Google",
            )
            items.append(item)
        body = {"kind": VIDEOS["kind"], "etag": VIDEOS["etag"]}
        body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": len(items)}
        body["items"] = items
        return httpx.Response(200, json=body)

    def calls(self, route: str) -> list[httpx.QueryParams]:
        return [r.url.params for r in self.requests if r.url.path.endswith(route)]


def client(fake: FakeYouTube, budget: QuotaBudget | None = None) -> YouTubeClient:
    return YouTubeClient(
        {"youtube_key": KEY},
        base_url="http://127.0.0.1:9/youtube/v3",
        clock=lambda: NOW,
        sleep=no_sleep,
        transport=httpx.MockTransport(fake),
        budget=budget,
    )


def load(wh: Warehouse, fetched: Fetched, tmp_path: Path, name: str) -> ImportSummary:
    return load_fetched(wh, fetched, tmp_path, name, "youtube")


def test_followers_by_id_or_handle_load_as_one_channel_snapshot(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    fake = FakeYouTube()
    with client(fake) as yt:
        by_id = yt.followers(ACCOUNT)
        by_handle = yt.followers(BY_HANDLE)
    assert [(q.get("id"), q.get("forHandle")) for q in fake.calls("/channels")] == [
        (CHANNEL_ID, None),
        (None, "@google"),
    ]
    assert by_id.body == by_handle.body  # the same channel
    assert by_id.resume is None and by_id.number == 1 and by_id.fetched_at == NOW
    summary = load(warehouse, by_id, tmp_path, "followers")
    assert (summary.kind, summary.snapshots_new, summary.posts_new) == ("account_snapshots", 1, 0)
    row = warehouse.con.execute(
        "SELECT a.platform_account_id, s.followers, s.posts_count FROM account_snapshots s "
        "JOIN accounts a USING (account_id)"
    ).fetchone()
    assert row == (CHANNEL_ID, 10_700_000, 2678)  # the recorded statistics (strings)


def test_posts_walk_the_uploads_newest_first_within_since_until(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    fake = FakeYouTube(private=frozenset({3}))
    since, until = published(70) - timedelta(hours=1), published(5)  # uploads 6..70
    with client(fake) as yt:
        fetched = list(yt.posts(ACCOUNT, since, until, None))
        assert yt.usage.quota_used == 1 + 2 + 2  # channels + 2 playlist pages + 2 videos
    # Upload 71 (older than since) is on page 2: the walk ends there, page 3 is never asked.
    assert [q.get("pageToken") for q in fake.calls("/playlistItems")] == [None, "tok50"]
    assert [len(q["id"].split(",")) for q in fake.calls("/videos")] == [44, 21]
    assert [(f.number, f.resume) for f in fetched] == [
        (1, Resume(2, {"pageToken": "tok50"})),
        (2, None),
    ]
    assert all("videos?" in f.origin and KEY not in f.origin for f in fetched)
    summaries = [load(warehouse, f, tmp_path, f"posts{f.number}") for f in fetched]
    assert [s.posts_new for s in summaries] == [44, 21]
    assert [s.quarantined for s in summaries] == [{}, {}]
    first, last = warehouse.con.execute(
        "SELECT min(posted_at), max(posted_at) FROM posts"
    ).fetchone()
    assert (first, last) == (published(70), published(6))
    assert scalar(warehouse, "SELECT count(DISTINCT platform_post_id) FROM posts") == 65


def test_a_private_upload_is_not_asked_for() -> None:
    fake = FakeYouTube(private=frozenset({0, 2}))
    with client(fake) as yt:
        list(yt.posts(ACCOUNT, published(4), NOW, None))
    asked = fake.calls("/videos")[0]["id"].split(",")
    # 0 and 2 have no videoPublishedAt; 4 is published at `since` exactly (included).
    assert asked == [video_id(1), video_id(3), video_id(4)]


def test_a_resumed_walk_continues_at_the_kept_page(warehouse: Warehouse, tmp_path: Path) -> None:
    since, until = published(TOTAL), NOW  # everything: 3 pages
    with client(FakeYouTube()) as yt:
        whole = list(yt.posts(ACCOUNT, since, until, None))
    assert [f.number for f in whole] == [1, 2, 3] and whole[-1].resume is None
    kept = Resume.from_json(whole[0].resume.to_json())  # as the collector keeps it
    fake = FakeYouTube()
    with client(fake) as yt:
        again = list(yt.posts(ACCOUNT, since, until, kept))
    assert [q.get("pageToken") for q in fake.calls("/playlistItems")] == ["tok50", "tok100"]
    assert [(f.number, f.body) for f in again] == [(f.number, f.body) for f in whole[1:]]
    load(warehouse, whole[0], tmp_path, "p1")
    for f in again:
        load(warehouse, f, tmp_path, f"p{f.number}")
    assert scalar(warehouse, "SELECT count(*) FROM posts") == TOTAL


def test_pages_with_nothing_in_range_pass_their_resume_to_the_body_before() -> None:
    """Uploads 0..49 are newer than ``until``; the first body (page 2) resumes at page 3."""
    fake = FakeYouTube()
    with client(fake) as yt:
        fetched = list(yt.posts(ACCOUNT, published(TOTAL), published(49), None))
    assert [(f.number, f.resume) for f in fetched] == [
        (2, Resume(3, {"pageToken": "tok100"})),
        (3, None),
    ]


def test_recount_asks_videos_list_50_ids_at_a_time(warehouse: Warehouse, tmp_path: Path) -> None:
    fake = FakeYouTube()
    ids = [video_id(i) for i in range(TOTAL)] + ["deleted0001", video_id(0)]
    with client(fake) as yt:
        fetched = list(yt.recount(ACCOUNT, ids))
    assert [len(q["id"].split(",")) for q in fake.calls("/videos")] == [50, 50, 21]
    assert [f.number for f in fetched] == [1, 2, 3]
    summaries = [load(warehouse, f, tmp_path, f"recount{f.number}") for f in fetched]
    assert sum(s.posts_new for s in summaries) == TOTAL  # the deleted one is simply absent


def test_an_unknown_channel_is_terminal_and_named(tmp_path: Path) -> None:
    fake = FakeYouTube()
    with client(fake) as yt:
        with pytest.raises(TerminalSourceError) as followers:
            yt.followers(GONE)
        with pytest.raises(TerminalSourceError) as posts:
            list(yt.posts(GONE, published(10), NOW, None))
    for error in (followers.value, posts.value):
        text = str(error)
        assert "youtube account @dinas_dihapus" in text and "not found" in text
        assert "forHandle=%40dinas_dihapus" in text and "Fix:" in text
        assert KEY not in text and KEY not in (error.url or "")
    assert fake.calls("/playlistItems") == []  # nothing listed for a channel that is gone


def test_the_quota_budget_refuses_a_call_before_it_is_sent() -> None:
    fake = FakeYouTube()
    budget = QuotaBudget.youtube(3)
    with client(fake, budget) as yt:
        walk = yt.posts(ACCOUNT, published(TOTAL), NOW, None)
        with pytest.raises(QuotaExhausted) as refused:
            list(walk)
        assert yt.usage.quota_used == 3 and yt.usage.quota_limit == 3
    assert len(fake.requests) == 3  # channels, playlist page 1, videos; page 2 refused
    assert "quota of 3 units would be exceeded" in str(refused.value)
    assert KEY not in str(refused.value)


def test_the_key_appears_in_no_origin_body_or_error() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        # An error echoing the request URL, key included, as proxies and some APIs do.
        return httpx.Response(
            400,
            json={
                "error": {
                    "code": 400,
                    "message": f"Bad request {request.url}",
                    "errors": [
                        {"domain": "usageLimits", "reason": "keyInvalid", "message": "Bad Request"}
                    ],
                }
            },
        )

    with YouTubeClient(
        {"youtube_key": KEY}, transport=httpx.MockTransport(echo), clock=lambda: NOW, sleep=no_sleep
    ) as yt:
        assert KEY not in repr(yt)
        with pytest.raises(SourceError) as failed:
            yt.followers(ACCOUNT)
    assert KEY not in str(failed.value) and KEY not in (failed.value.url or "")
    assert "www.googleapis.com/youtube/v3/channels" in str(failed.value)
    assert "GOVSOCIAL_YOUTUBE_KEY" in str(failed.value)


def test_a_key_google_no_longer_takes_is_refused_naming_the_setting() -> None:
    """Today's answer to a wrong or expired key: 400 badRequest, the reason in
    ``error.details[]`` (as the fake YouTube server serves it)."""
    requests: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        message = "API key expired. Please renew the API key."
        return httpx.Response(
            400,
            json={
                "error": {
                    "code": 400,
                    "message": message,
                    "errors": [{"message": message, "domain": "global", "reason": "badRequest"}],
                    "status": "INVALID_ARGUMENT",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "API_KEY_EXPIRED",
                            "domain": "googleapis.com",
                            "metadata": {"service": "youtube.googleapis.com"},
                        }
                    ],
                }
            },
        )

    with (
        YouTubeClient(
            {"youtube_key": KEY},
            transport=httpx.MockTransport(refuse),
            clock=lambda: NOW,
            sleep=no_sleep,
        ) as yt,
        pytest.raises(TerminalSourceError) as refused,
    ):
        yt.followers(ACCOUNT)
    text = str(refused.value)
    assert "the API key was refused" in text and "API_KEY_EXPIRED" in text
    assert "GOVSOCIAL_YOUTUBE_KEY" in text.split("Fix:")[1] and "govsocial bug" not in text
    assert KEY not in text and len(requests) == 1


def test_a_missing_key_names_the_setting() -> None:
    with pytest.raises(ConfigError) as missing:
        YouTubeClient({})
    text = str(missing.value)
    assert "GOVSOCIAL_YOUTUBE_KEY" in text and "youtube_key" in text
    assert "docs/collect-youtube.md" in text
