"""The TikTok Research API client against a fake TikTok (an ``httpx.MockTransport`` handler)
serving the recorded response shapes of tests/fixtures/tiktok (SOURCE.md, CLIENT_SOURCE.md):
the client access token and its renewal, video queries in windows of at most 30 days paged
by cursor and search_id, resuming mid-window, terminal errors, rate and daily limits, the
token kept out of everything, and fetched bodies loaded into a real warehouse as files."""

from __future__ import annotations

import copy
import json
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from conftest import scalar
from fakes import FakeTime
from govsocial.errors import ConfigError, QuotaExhausted, TerminalSourceError
from govsocial.sources.clients import AccountRef, Fetched, PlatformClient
from govsocial.sources.formats import stager
from govsocial.sources.http import QuotaBudget, Resume, RetryPolicy, Wait
from govsocial.sources.staging import ImportOptions
from govsocial.sources.tiktok.client import (
    USER_FIELDS,
    VIDEO_FIELDS,
    TikTokClient,
    Window,
    days_of,
    windows,
)
from govsocial.store import Warehouse, load_file

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tiktok"
ROOT = "http://127.0.0.1:9/tiktok"  # never reached: the transport answers
KEY = "awx9kq2msecretclientkey01"
SECRET = "Zq8rT3vS9xSECRETclientsecret0123456789"
CREDENTIALS = {"tiktok_client_key": KEY, "tiktok_client_secret": SECRET}
START = datetime(2025, 4, 1, 2, 58, tzinfo=UTC)
KEMENKES = AccountRef(7, "tiktok", None, "kemenkes_ri")
JABAR = AccountRef(8, "tiktok", None, "humasjabar")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def quirk(code: str) -> dict[str, Any]:
    """The error line of quirks.jsonl with ``error.code`` = ``code``."""
    for line in (FIXTURES / "quirks.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("error", {}).get("code") == code:
            return value
    raise LookupError(code)


RECORDED = fixture("api_response.json")["data"]["videos"]  # 27 real video objects


def videos_of(username: str, count: int, newest: datetime, every: timedelta) -> list[dict]:
    """``count`` videos of ``username``, newest first, ``every`` apart: the recorded video
    objects (their keys and value types) with the account, id and time changed."""
    made = []
    for n in range(count):
        video = copy.deepcopy(RECORDED[n % len(RECORDED)])
        video["username"] = username
        video["id"] = 7480000000000000000 + zlib.crc32(username.encode()) % 1000 * 10_000 + n
        video["create_time"] = int((newest - every * n).timestamp())
        made.append(video)
    return made


class FakeTikTok:
    """TikTok's token, user info and video query endpoints over the recorded shapes, as the
    reference describes them: a form-encoded token request; a bearer token on every research
    request; videos filtered by the query and by ``start_date``..``end_date`` (UTC days, both
    included, at most 30 days apart), newest first, ``max_count`` a page, continued with
    ``cursor`` and the ``search_id`` of the first page."""

    def __init__(self, videos: list[dict], *, lifetime: int = 7200) -> None:
        self.videos = videos
        self.users = {
            "kemenkes_ri": fixture("user_info.json"),
            "humasjabar": fixture("user_info.json"),
        }
        for user in self.users.values():
            del user["username"]  # the real response does not name its user
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.requests: list[httpx.Request] = []
        self.queries: list[dict[str, Any]] = []
        self.searches: dict[str, list[dict]] = {}
        self.faults: list[httpx.Response] = []  # answered, in order, before anything else
        self.refuse_client = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/tiktok")
        if path == "/v2/oauth/token/":
            return self.token(request)
        if self.faults:
            return self.faults.pop(0)
        bearer = request.headers.get("authorization", "")
        if not bearer.startswith("Bearer ") or bearer[7:] not in self.valid:
            return httpx.Response(401, json=fixture("access_token_invalid.json"))
        body = json.loads(request.content)
        if path == "/v2/research/user/info/":
            assert request.url.params["fields"] == USER_FIELDS
            user = self.users.get(body["username"])
            if user is None:
                return httpx.Response(400, json=fixture("user_not_found.json"))
            return httpx.Response(200, json=user)
        assert path == "/v2/research/video/query/", path
        assert request.url.params["fields"] == VIDEO_FIELDS
        return self.query(body)

    def token(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if self.refuse_client or form != {
            "client_key": KEY,
            "client_secret": SECRET,
            "grant_type": "client_credentials",
        }:
            return httpx.Response(401, json=fixture("oauth_invalid_client.json"))
        answer = fixture("oauth_token.json")
        token = f"{answer['access_token']}{len(self.issued) + 1}"
        self.issued.append(token)
        self.valid.add(token)
        return httpx.Response(
            200, json={**answer, "access_token": token, "expires_in": self.lifetime}
        )

    def query(self, body: dict[str, Any]) -> httpx.Response:
        self.queries.append(body)
        start = datetime.strptime(body["start_date"], "%Y%m%d").replace(tzinfo=UTC)
        end = datetime.strptime(body["end_date"], "%Y%m%d").replace(tzinfo=UTC)
        if (end - start).days > 30 or end < start:
            return httpx.Response(400, json=fixture("user_not_found.json"))
        search_id = body.get("search_id")
        if search_id is None:
            (condition,) = body["query"]["and"]
            values = condition["field_values"]
            field = {"username": "username", "video_id": "id"}[condition["field_name"]]
            found = [
                v
                for v in self.videos
                if str(v[field]) in values
                and start <= datetime.fromtimestamp(v["create_time"], UTC) < end + timedelta(days=1)
            ]
            found.sort(key=lambda v: -v["create_time"])
            search_id = str(7354367454467855403 + len(self.searches))
            self.searches[search_id] = found
        elif search_id not in self.searches:
            return httpx.Response(400, json=fixture("search_id_expired.json"))
        found = self.searches[search_id]
        cursor = body.get("cursor", 0)
        page = found[cursor : cursor + body["max_count"]]
        data = {
            "videos": page,
            "cursor": cursor + len(page),
            "search_id": search_id,
            "has_more": cursor + len(page) < len(found),
        }
        error = {"code": "ok", "message": "", "log_id": "20240405132544A8A35938AA061A19F445"}
        return httpx.Response(200, json={"data": data, "error": error})


def client(
    server: FakeTikTok,
    time_: FakeTime | None = None,
    *,
    waits: list[Wait] | None = None,
    budget: QuotaBudget | None = None,
) -> TikTokClient:
    time_ = time_ or FakeTime(START)
    return TikTokClient(
        CREDENTIALS,
        base_url=ROOT,
        on_wait=None if waits is None else waits.append,
        clock=time_.clock,
        sleep=time_.sleep,
        transport=httpx.MockTransport(server),
        budget=budget,
        retry=RetryPolicy(attempts=3),
    )


def research(server: FakeTikTok) -> list[httpx.Request]:
    return [r for r in server.requests if "/research/" in r.url.path]


def load(warehouse: Warehouse, tmp_path: Path, fetched: list[Fetched]) -> None:
    """Each body saved as a file and imported as a user would (`govsocial import`)."""
    options = ImportOptions(captured_at=START)
    for n, item in enumerate(fetched, 1):
        path = tmp_path / f"response-{n}.json"
        path.write_bytes(item.body)
        load_file(warehouse, path, stager("tiktok-research", options))


# -- windows ----------------------------------------------------------------------------------


def test_windows_cover_every_day_once_newest_first_in_at_most_30_days() -> None:
    found = windows(date(2025, 1, 1), date(2025, 3, 31))
    assert found == [
        Window(date(2025, 3, 2), date(2025, 3, 31)),
        Window(date(2025, 1, 31), date(2025, 3, 1)),
        Window(date(2025, 1, 1), date(2025, 1, 30)),
    ]
    assert windows(date(2025, 3, 5), date(2025, 3, 5)) == [
        Window(date(2025, 3, 5), date(2025, 3, 5))
    ]
    # [since, until): until's own day is not asked when until is midnight
    assert days_of(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)) == (
        date(2025, 1, 1),
        date(2025, 3, 31),
    )
    assert days_of(START, START) is None


def test_is_a_platform_client_reading_the_tiktok_research_format() -> None:
    reader: PlatformClient = client(FakeTikTok([]))
    assert (reader.platform, reader.format) == ("tiktok", "tiktok-research")


# -- the token ----------------------------------------------------------------------------------


def test_a_client_token_is_asked_once_with_the_form_and_sent_as_bearer_only(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    server = FakeTikTok([])
    with client(server) as tiktok:
        first = tiktok.followers(KEMENKES)
        second = tiktok.followers(JABAR)
    assert len(server.issued) == 1 and tiktok.token_requests == 1
    asked = research(server)
    assert [r.headers["authorization"] for r in asked] == [f"Bearer {server.issued[0]}"] * 2
    assert [json.loads(r.content) for r in asked] == [
        {"username": "kemenkes_ri"},
        {"username": "humasjabar"},
    ]
    assert first.origin == f"{ROOT}/v2/research/user/info/?fields={USER_FIELDS.replace(',', '%2C')}"
    kept = json.loads(first.body)
    assert kept["username"] == "kemenkes_ri" and kept["data"]["follower_count"] == 232
    load(warehouse, tmp_path, [first, second])
    rows = warehouse.con.execute(
        "SELECT a.handle, s.followers FROM account_snapshots s JOIN accounts a USING (account_id) "
        "ORDER BY 1"
    ).fetchall()
    assert rows == [("humasjabar", 232), ("kemenkes_ri", 232)]


def test_the_token_is_renewed_before_it_expires() -> None:
    server, time_ = FakeTikTok([]), FakeTime(START)
    with client(server, time_) as tiktok:
        tiktok.followers(KEMENKES)
        time_.now += timedelta(seconds=7200 - 301)  # still more than 5 minutes left
        tiktok.followers(KEMENKES)
        assert len(server.issued) == 1
        time_.now += timedelta(seconds=2)  # under 5 minutes left: a new one first
        tiktok.followers(KEMENKES)
    assert len(server.issued) == 2
    assert research(server)[-1].headers["authorization"] == f"Bearer {server.issued[1]}"


def test_a_token_the_api_calls_invalid_is_renewed_once_then_the_error_stands() -> None:
    server = FakeTikTok([])
    with client(server) as tiktok:
        tiktok.followers(KEMENKES)
        server.valid.clear()  # revoked: the next call is refused, a new token works
        assert json.loads(tiktok.followers(KEMENKES).body)["username"] == "kemenkes_ri"
        assert len(server.issued) == 2
        server.faults = [httpx.Response(401, json=fixture("access_token_invalid.json"))] * 2
        with pytest.raises(TerminalSourceError) as refused:
            tiktok.followers(KEMENKES)
    assert len(server.issued) == 3  # one renewal for the refusal, not a loop
    message = str(refused.value)
    assert "client access token is invalid or expired" in message
    assert "access_token_invalid" in message and "tiktok account @kemenkes_ri" in message


def test_a_wrong_client_secret_is_refused_naming_the_settings_not_the_secret() -> None:
    server = FakeTikTok([])
    server.refuse_client = True
    with client(server) as tiktok, pytest.raises(TerminalSourceError) as refused:
        tiktok.followers(KEMENKES)
    message = str(refused.value)
    assert "GOVSOCIAL_TIKTOK_CLIENT_KEY and GOVSOCIAL_TIKTOK_CLIENT_SECRET" in message
    assert "invalid_client" in message and "Client key or secret is incorrect" in message
    assert SECRET not in message and KEY not in message
    assert not research(server)


def test_missing_credentials_are_a_config_error_naming_each_setting() -> None:
    with pytest.raises(ConfigError) as missing:
        TikTokClient({"tiktok_client_key": KEY, "tiktok_client_secret": " "})
    message = str(missing.value)
    assert "GOVSOCIAL_TIKTOK_CLIENT_SECRET" in message and "tiktok_client_secret" in message
    assert "GOVSOCIAL_TIKTOK_CLIENT_KEY" not in message and "docs/collect-tiktok.md" in message
    with pytest.raises(
        ConfigError, match="GOVSOCIAL_TIKTOK_CLIENT_KEY and GOVSOCIAL_TIKTOK_CLIENT_SECRET"
    ):
        TikTokClient({})


# -- posts ------------------------------------------------------------------------------------

SINCE = datetime(2025, 1, 1, tzinfo=UTC)
UNTIL = datetime(2025, 4, 1, tzinfo=UTC)


def quarter() -> list[dict]:
    """250 videos of kemenkes_ri, one every 8 hours back from 31 March (83 days), and 5 of
    humasjabar: the first and last windows hold more than a page."""
    newest = datetime(2025, 3, 31, 20, 0, tzinfo=UTC)
    return [
        *videos_of("kemenkes_ri", 250, newest, timedelta(hours=8)),
        *videos_of("humasjabar", 5, newest, timedelta(days=1)),
    ]


def test_posts_are_asked_in_windows_of_30_days_newest_first_and_paged_by_cursor(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    server = FakeTikTok(quarter())
    with client(server) as tiktok:
        fetched = list(tiktok.posts(KEMENKES, SINCE, UNTIL, None))
    asked = server.queries
    assert [(q["start_date"], q["end_date"], q.get("cursor")) for q in asked] == [
        ("20250302", "20250331", None),  # 90 videos: one page
        ("20250131", "20250301", None),  # 90 videos
        ("20250101", "20250130", None),  # 70 videos (250 - 180), back to 2 January
    ]
    assert asked[0]["query"] == {
        "and": [{"operation": "EQ", "field_name": "username", "field_values": ["kemenkes_ri"]}]
    }
    assert asked[0]["max_count"] == 100
    assert [f.number for f in fetched] == [1, 2, 3]
    # after a window's last page, the walk continues in the next older window
    assert [f.resume for f in fetched] == [
        Resume(2, {"window_start": "20250131", "window_end": "20250301"}),
        Resume(3, {"window_start": "20250101", "window_end": "20250130"}),
        None,
    ]
    load(warehouse, tmp_path, fetched)
    assert scalar(warehouse, "SELECT count(*) FROM posts") == 250
    assert scalar(warehouse, "SELECT count(DISTINCT platform_post_id) FROM posts") == 250
    assert scalar(warehouse, "SELECT count(*) FROM post_metrics") == 250


def test_a_window_of_more_than_a_page_is_continued_with_cursor_and_search_id() -> None:
    newest = datetime(2025, 3, 31, 23, 0, tzinfo=UTC)
    server = FakeTikTok(videos_of("kemenkes_ri", 230, newest, timedelta(hours=3)))  # 29 days
    with client(server) as tiktok:
        fetched = list(tiktok.posts(KEMENKES, datetime(2025, 3, 2, tzinfo=UTC), UNTIL, None))
    first_id = server.queries[0].get("search_id")
    assert first_id is None
    search_id = json.loads(fetched[0].body)["data"]["search_id"]
    assert [(q.get("cursor"), q.get("search_id")) for q in server.queries] == [
        (None, None),
        (100, search_id),
        (200, search_id),
    ]
    assert {(q["start_date"], q["end_date"]) for q in server.queries} == {("20250302", "20250331")}
    assert [f.resume for f in fetched] == [
        Resume(
            2,
            {
                "window_start": "20250302",
                "window_end": "20250331",
                "cursor": 100,
                "search_id": search_id,
            },
        ),
        Resume(
            3,
            {
                "window_start": "20250302",
                "window_end": "20250331",
                "cursor": 200,
                "search_id": search_id,
            },
        ),
        None,
    ]
    assert [len(json.loads(f.body)["data"]["videos"]) for f in fetched] == [100, 100, 30]


def walk_ids(fetched: list[Fetched]) -> list[str]:
    return [str(v["id"]) for f in fetched for v in json.loads(f.body)["data"]["videos"]]


def test_a_walk_resumed_mid_window_continues_there_then_goes_to_older_windows(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    newest = datetime(2025, 3, 31, 23, 0, tzinfo=UTC)
    videos = videos_of("kemenkes_ri", 400, newest, timedelta(hours=4))  # 67 days, 180 a window
    whole = list(client(FakeTikTok(videos)).posts(KEMENKES, SINCE, UNTIL, None))
    assert [f.number for f in whole] == [1, 2, 3, 4, 5]

    server = FakeTikTok(videos)
    with client(server) as tiktok:  # killed after the first page is committed
        pages = tiktok.posts(KEMENKES, SINCE, UNTIL, None)
        first = next(pages)
        pages.close()
    kept = first.resume
    assert kept is not None and kept.state["cursor"] == 100
    saved = Resume.from_json(kept.to_json())  # as the collector keeps it in the warehouse

    later = FakeTime(START + timedelta(hours=1))
    with client(server, later) as tiktok:  # a new run, a new token, the same search
        rest = list(tiktok.posts(KEMENKES, SINCE, UNTIL + timedelta(days=1), saved))
    assert len(server.issued) == 2
    resumed = server.queries[1]
    assert (resumed["start_date"], resumed["end_date"], resumed["cursor"]) == (
        "20250302",
        "20250331",
        100,
    )
    assert resumed["search_id"] == json.loads(first.body)["data"]["search_id"]
    assert [(q["start_date"], q["end_date"]) for q in server.queries[2:]] == [
        ("20250131", "20250301"),
        ("20250131", "20250301"),
        ("20250101", "20250130"),
    ]
    assert [f.number for f in rest] == [2, 3, 4, 5]
    assert walk_ids([first, *rest]) == walk_ids(whole)  # nothing lost, nothing twice
    load(warehouse, tmp_path, [first, *rest])
    assert scalar(warehouse, "SELECT count(*) FROM posts") == 400


def test_a_resume_after_a_windows_last_page_starts_the_older_window_fresh() -> None:
    server = FakeTikTok(quarter())
    saved = Resume(3, {"window_start": "20250131", "window_end": "20250301"})
    with client(server) as tiktok:
        rest = list(tiktok.posts(KEMENKES, SINCE, UNTIL, saved))
    assert [(q["start_date"], q["end_date"], q.get("cursor")) for q in server.queries] == [
        ("20250131", "20250301", None),
        ("20250101", "20250130", None),
    ]
    assert [f.number for f in rest] == [3, 4] and rest[-1].resume is None


def test_a_resumed_search_id_that_expired_starts_its_window_again() -> None:
    newest = datetime(2025, 3, 31, 23, 0, tzinfo=UTC)
    server = FakeTikTok(videos_of("kemenkes_ri", 150, newest, timedelta(hours=4)))
    saved = Resume(
        2, {"window_start": "20250302", "window_end": "20250331", "cursor": 100, "search_id": "1"}
    )
    with client(server) as tiktok:
        rest = list(tiktok.posts(KEMENKES, datetime(2025, 3, 2, tzinfo=UTC), UNTIL, saved))
    assert [(q.get("cursor"), q.get("search_id")) for q in server.queries][:2] == [
        (100, "1"),
        (None, None),
    ]
    assert len(walk_ids(rest)) == 150 and rest[0].number == 2


def test_an_account_with_no_videos_yields_one_empty_page_per_window_that_loads(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    server = FakeTikTok([])
    with client(server) as tiktok:
        fetched = list(tiktok.posts(KEMENKES, datetime(2025, 3, 1, tzinfo=UTC), UNTIL, None))
    assert len(fetched) == 2 and fetched[0].resume == Resume(
        2, {"window_start": "20250301", "window_end": "20250301"}
    )
    load(warehouse, tmp_path, fetched)
    assert scalar(warehouse, "SELECT count(*) FROM posts") == 0


# -- errors and limits ---------------------------------------------------------------------


def test_a_missing_user_is_a_terminal_error_for_that_account_only() -> None:
    server = FakeTikTok([])
    with client(server) as tiktok:
        with pytest.raises(TerminalSourceError) as gone:
            tiktok.followers(AccountRef(9, "tiktok", None, "no_such_user_2025"))
        assert json.loads(tiktok.followers(KEMENKES).body)["username"] == "kemenkes_ri"
        with pytest.raises(TerminalSourceError, match="finds accounts by username only"):
            tiktok.followers(AccountRef(10, "tiktok", "6812345", None))
    message = str(gone.value)
    assert message.startswith("TikTok (tiktok account @no_such_user_2025): ")
    assert "HTTP 400" in message and "invalid_params" in message
    assert "could not be found or is not public" in message and "Fix: check the account" in message
    assert "the account is unknown or not visible" in message and "govsocial bug" not in message
    assert len(research(server)) == 2  # a terminal error is not retried


def test_a_rate_limit_is_waited_out_and_said_then_the_walk_goes_on() -> None:
    server, time_, waits = FakeTikTok(quarter()), FakeTime(START), []
    server.faults = [httpx.Response(429, json=quirk("rate_limit_exceeded"))]
    with client(server, time_, waits=waits) as tiktok:
        fetched = list(tiktok.posts(JABAR, datetime(2025, 3, 20, tzinfo=UTC), UNTIL, None))
    assert len(walk_ids(fetched)) == 5
    assert [w.kind for w in waits] == ["rate_limit"]
    assert str(waits[0]).startswith("TikTok rate limit reached; waiting 1 min until")
    assert time_.slept and time_.slept[0] >= 60


def test_the_daily_request_limit_is_budgeted_and_the_platforms_word_ends_the_day() -> None:
    server = FakeTikTok(quarter())
    budget = QuotaBudget.tiktok(limit=2)
    with client(server, budget=budget) as tiktok:
        pages = tiktok.posts(KEMENKES, SINCE, UNTIL, None)
        assert next(pages).number == 1 and next(pages).number == 2
        with pytest.raises(QuotaExhausted) as refused:
            next(pages)
        assert tiktok.usage.quota_used == 2 and tiktok.usage.requests == 2
    assert len(research(server)) == 2  # the third was not sent
    assert "quota of 1,000 requests" not in str(refused.value)
    assert "2 requests would be exceeded" in str(refused.value)

    server = FakeTikTok([])
    server.faults = [httpx.Response(429, json=fixture_line("daily_quota_limit_exceeded.jsonl"))]
    with client(server) as tiktok, pytest.raises(QuotaExhausted) as spent:
        tiktok.followers(KEMENKES)
    assert "the day's request limit is used up" in str(spent.value)
    assert spent.value.resets_at == datetime(2025, 4, 2, tzinfo=UTC)


def fixture_line(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8").splitlines()[0])


def test_no_token_key_or_secret_appears_anywhere_a_person_can_read(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    server, waits = FakeTikTok(quarter()), []
    server.faults = [httpx.Response(503, text="upstream down")]
    seen: list[str] = []
    with client(server, waits=waits) as tiktok:
        fetched = [tiktok.followers(KEMENKES), *tiktok.posts(KEMENKES, SINCE, UNTIL, None)]
        fetched += list(tiktok.recount(KEMENKES, walk_ids(fetched[1:2])[:3]))
        server.valid.clear()
        server.faults = [httpx.Response(401, json=fixture("access_token_invalid.json"))] * 2
        for call in (
            lambda: tiktok.followers(KEMENKES),
            lambda: tiktok.followers(AccountRef(1, "tiktok", None, "x")),
        ):
            try:
                call()
            except TerminalSourceError as exc:
                seen += [str(exc), repr(exc), str(exc.url), str(exc.api_error)]
        seen += [*tiktok.usage.lines(), repr(tiktok)]
    seen += (
        [str(w) for w in waits] + [f.origin for f in fetched] + [f.body.decode() for f in fetched]
    )
    seen += [f.resume.to_json() for f in fetched if f.resume]
    assert waits and len(seen) > 10
    assert sum("access_token_invalid" in t for t in seen) >= 1 and any(
        "HTTP 400" in t for t in seen
    )
    secrets = [KEY, SECRET, *server.issued]
    assert len(server.issued) == 2
    for text in seen:
        for secret in secrets:
            assert secret not in text
    # on the wire: the secret only in the token form, the token only in the header
    for request in server.requests:
        if request.url.path.endswith("/oauth/token/"):
            continue
        sent = str(request.url) + request.content.decode()
        assert all(s not in sent for s in secrets)
    load(warehouse, tmp_path, fetched)
    kept = warehouse.con.execute("SELECT payload::VARCHAR FROM raw_records").fetchall()
    assert kept and all(s not in row[0] for row in kept for s in secrets)


# -- recount ---------------------------------------------------------------------------------


def test_recount_asks_the_ids_in_the_last_30_days_then_the_missing_ones_before(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    newest = datetime(2025, 3, 31, 20, 0, tzinfo=UTC)
    videos = videos_of("kemenkes_ri", 50, newest, timedelta(days=1))  # back to 10 February
    server = FakeTikTok(videos)
    ids = [str(videos[n]["id"]) for n in (0, 5, 40)]  # 31 March, 26 March, 19 February
    with client(server) as tiktok:  # today is 1 April
        fetched = list(tiktok.recount(KEMENKES, [*ids, ids[0]]))
    assert [(q["start_date"], q["end_date"]) for q in server.queries] == [
        ("20250303", "20250401"),
        ("20250201", "20250302"),
    ]
    assert [q["query"]["and"][0]["field_values"] for q in server.queries] == [ids, ids[2:]]
    assert server.queries[0]["query"]["and"][0]["operation"] == "IN"
    assert server.queries[0]["query"]["and"][0]["field_name"] == "video_id"
    assert [f.number for f in fetched] == [1, 2] and all(f.resume is None for f in fetched)
    assert walk_ids(fetched) == ids
    load(warehouse, tmp_path, fetched)
    assert scalar(warehouse, "SELECT count(*) FROM post_metrics") == 3
