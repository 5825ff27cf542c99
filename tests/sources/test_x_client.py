"""The X live client against an ``httpx.MockTransport`` X API v2 that serves the recorded
response shapes of tests/fixtures/x (see its SOURCE.md): the user-timeline page of
``withheld.jsonl`` (line 4: 100 posts of @PhillyNEFL, its ``includes`` and partial
``errors``; twarc's own ``__twarc`` is removed, the API never sends it), re-paged by the
requested ``start_time``/``end_time`` and ``pagination_token``; that page's
``includes.users`` entry for the account as the user lookup ``{"data": {...}}``; and its
``Not Found Error`` objects for unknown users and posts. Every body fetched is loaded into a
real warehouse by the ``x-v2`` reader."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import scalar
from fakes import FakeTime, load_fetched, no_sleep
from govsocial.errors import ConfigError, TerminalSourceError
from govsocial.sources.clients import AccountRef, Fetched
from govsocial.sources.http import Resume, Wait
from govsocial.sources.x.client import TWEET_PARAMS, XClient
from govsocial.store import Warehouse
from govsocial.store.ingest import ImportSummary

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BSECRETbearer%3DEUifiRBkKG5E2XzMDjRfl76ZC9"
NOW = datetime(2020, 5, 6, 12, 0, tzinfo=UTC)
TIMELINE = json.loads((FIXTURES / "withheld.jsonl").read_text().splitlines()[3])
del TIMELINE["__twarc"]
USER_ID = "2351222345"
USER = next(u for u in TIMELINE["includes"]["users"] if u["id"] == USER_ID)
POSTS = TIMELINE["data"]  # newest first, 2020-05-05 back to 2020-04-14
NOT_FOUND = TIMELINE["errors"][0]  # {"title": "Not Found Error", "resource_type": "tweet", ...}
ACCOUNT = AccountRef(3, "x", USER_ID, "PhillyNEFL")
BY_HANDLE = AccountRef(4, "x", None, "PhillyNEFL")
GONE = AccountRef(5, "x", None, "humas_dihapus")
PAGE = 40  # the fake server's page size (the API may send fewer than max_results)
RESET = int((NOW + timedelta(minutes=15)).timestamp())


def created(post: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(post["created_at"].replace("Z", "+00:00"))


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def missing(kind: str, parameter: str, value: str) -> dict[str, Any]:
    """The recorded Not Found Error, about another resource."""
    return {
        **NOT_FOUND,
        "value": value,
        "resource_id": value,
        "resource_type": kind,
        "parameter": parameter,
        "detail": f"Could not find {kind} with {parameter}: [{value}].",
    }


class FakeX:
    """User lookup, the user's posts timeline and posts lookup; keeps every request.
    ``limited`` answers the first timeline call with a 429 until the window's reset."""

    def __init__(self, limited: bool = False) -> None:
        self.requests: list[httpx.Request] = []
        self.limited = limited

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        path = request.url.path.removeprefix("/x")
        query = request.url.params
        headers = {
            "x-rate-limit-limit": "1500",
            "x-rate-limit-remaining": "1499",
            "x-rate-limit-reset": str(RESET),
        }
        if path in (f"/2/users/{USER_ID}", "/2/users/by/username/PhillyNEFL"):
            assert query["user.fields"] == "public_metrics,created_at,description,username,name"
            return httpx.Response(200, json={"data": USER}, headers=headers)
        if path.startswith("/2/users/by/username/"):
            name = path.rsplit("/", 1)[1]
            return httpx.Response(200, json={"errors": [missing("user", "username", name)]})
        if path == f"/2/users/{USER_ID}/tweets":
            if self.limited:
                self.limited = False
                limit = {**headers, "x-rate-limit-remaining": "0"}
                problem = {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                }
                return httpx.Response(429, json=problem, headers=limit)
            return httpx.Response(200, json=self.timeline(query), headers=headers)
        if path == "/2/tweets":
            return httpx.Response(200, json=self.lookup(query), headers=headers)
        return httpx.Response(404, json={"title": "Not Found", "type": "about:blank"})

    def timeline(self, query: httpx.QueryParams) -> dict[str, Any]:
        for name, value in TWEET_PARAMS.items():
            assert query[name] == value
        assert query["max_results"] == "100"
        start = moment(query["start_time"])
        end = moment(query["end_time"]) if "end_time" in query else NOW
        within = [p for p in POSTS if start <= created(p) <= end + timedelta(seconds=0.999)]
        offset = int(query.get("pagination_token", "0"))
        page = within[offset : offset + PAGE]
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return {"meta": meta}
        meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if offset + PAGE < len(within):
            meta["next_token"] = str(offset + PAGE)
        return {"data": page, "includes": TIMELINE["includes"], "meta": meta}

    def lookup(self, query: httpx.QueryParams) -> dict[str, Any]:
        for name, value in TWEET_PARAMS.items():
            assert query[name] == value
        ids = query["ids"].split(",")
        assert len(ids) <= 100
        known = {p["id"]: p for p in POSTS}
        body: dict[str, Any] = {}
        data = [known[i] for i in ids if i in known]
        if data:
            body["data"] = data
            body["includes"] = TIMELINE["includes"]
        errors = [missing("tweet", "ids", i) for i in ids if i not in known]
        if errors:
            body["errors"] = errors
        return body

    def calls(self, suffix: str) -> list[httpx.QueryParams]:
        return [r.url.params for r in self.requests if r.url.path.endswith(suffix)]


def client(fake: FakeX, **options: Any) -> XClient:
    options.setdefault("sleep", no_sleep)
    return XClient(
        {"x_bearer_token": TOKEN},
        base_url="http://127.0.0.1:9/x",
        clock=lambda: NOW,
        transport=httpx.MockTransport(fake),
        **options,
    )


def load(wh: Warehouse, fetched: Fetched, tmp_path: Path, name: str) -> ImportSummary:
    return load_fetched(wh, fetched, tmp_path, name, "x-v2")


def test_followers_by_id_or_username_load_as_one_follower_reading(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    fake = FakeX()
    with client(fake) as x:
        by_id = x.followers(ACCOUNT)
        by_name = x.followers(BY_HANDLE)
    assert [r.url.path for r in fake.requests] == [
        f"/x/2/users/{USER_ID}",
        "/x/2/users/by/username/PhillyNEFL",
    ]
    assert by_id.body == by_name.body and by_id.resume is None
    summary = load(warehouse, by_id, tmp_path, "user")
    assert (summary.kind, summary.snapshots_new, summary.posts_new) == ("account_snapshots", 1, 0)
    row = warehouse.con.execute(
        "SELECT a.platform_account_id, a.handle, s.followers, s.following, s.posts_count "
        "FROM account_snapshots s JOIN accounts a USING (account_id)"
    ).fetchone()
    assert row == (USER_ID, "PhillyNEFL", 443, 809, 15121)


def test_posts_are_asked_within_since_until_and_paged_by_next_token(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    since = datetime(2020, 4, 20, tzinfo=UTC)
    until = datetime(2020, 5, 5, 16, 45, 14, tzinfo=UTC)  # a post at exactly `until`: excluded
    expected = [p for p in POSTS if since <= created(p) < until]
    assert PAGE < len(expected) < 2 * PAGE and any(created(p) == until for p in POSTS)
    fake = FakeX()
    with client(fake) as x:
        fetched = list(x.posts(ACCOUNT, since, until, None))
    asked = fake.calls("/tweets")
    assert [(q["start_time"], q["end_time"]) for q in asked] == [
        ("2020-04-20T00:00:00Z", "2020-05-05T16:45:13Z")  # end_time is inclusive
    ] * 2
    assert [q.get("pagination_token") for q in asked] == [None, "40"]
    end = {"start_time": "2020-04-20T00:00:00Z", "end_time": "2020-05-05T16:45:13Z"}
    assert [(f.number, f.resume) for f in fetched] == [
        (1, Resume(2, {"next_token": "40", **end})),
        (2, None),
    ]
    summaries = [load(warehouse, f, tmp_path, f"page{f.number}") for f in fetched]
    assert sum(s.posts_new for s in summaries) == len(expected)
    assert {s.quarantined.get("bad_value") for s in summaries} == {None}
    posted = warehouse.con.execute("SELECT min(posted_at), max(posted_at) FROM posts").fetchone()
    assert posted == (min(map(created, expected)), max(map(created, expected)))
    # The author's follower reading rides on every page; one reading at one capture time.
    assert scalar(warehouse, "SELECT count(*) FROM account_snapshots") == 1
    assert all(TOKEN not in f.origin and TOKEN.encode() not in f.body for f in fetched)


def test_a_resumed_walk_repeats_the_first_request_and_continues(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    since, until = datetime(2020, 4, 1, tzinfo=UTC), datetime(2020, 6, 1, tzinfo=UTC)
    with client(FakeX()) as x:
        walk = x.posts(ACCOUNT, since, until, None)
        first = next(walk)  # killed after the first page was committed
    assert first.resume is not None
    assert "end_time" not in first.origin  # until is after now: read up to now
    kept = Resume.from_json(first.resume.to_json())
    fake = FakeX()
    later = lambda: NOW + timedelta(days=30)  # noqa: E731 - the next run, a month later
    with XClient(
        {"x_bearer_token": TOKEN},
        base_url="http://127.0.0.1:9/x",
        clock=later,
        sleep=no_sleep,
        transport=httpx.MockTransport(fake),
    ) as x:
        rest = list(x.posts(ACCOUNT, since, until, kept))
    asked = fake.calls("/tweets")
    assert [q.get("pagination_token") for q in asked] == ["40", "80"]
    assert all("end_time" not in q for q in asked)  # as the first page asked
    assert {q["start_time"] for q in asked} == {"2020-04-01T00:00:00Z"}
    assert [f.number for f in rest] == [2, 3]
    for f in [first, *rest]:
        load(warehouse, f, tmp_path, f"page{f.number}")
    assert scalar(warehouse, "SELECT count(*) FROM posts") == len(POSTS)


def test_an_empty_window_is_one_empty_page_that_loads_nothing(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    since, until = datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 2, 1, tzinfo=UTC)
    with client(FakeX()) as x:
        fetched = list(x.posts(ACCOUNT, since, until, None))
    assert [(f.number, f.resume) for f in fetched] == [(1, None)]
    summary = load(warehouse, fetched[0], tmp_path, "empty")
    assert (summary.status, summary.records_read) == ("loaded", 0)


def test_posts_of_an_account_known_by_username_look_its_id_up_once() -> None:
    fake = FakeX()
    with client(fake) as x:
        x.followers(BY_HANDLE)
        list(x.posts(BY_HANDLE, datetime(2020, 5, 1, tzinfo=UTC), NOW, None))
        list(x.posts(BY_HANDLE, datetime(2020, 5, 4, tzinfo=UTC), NOW, None))
    paths = [r.url.path for r in fake.requests]
    assert paths.count("/x/2/users/by/username/PhillyNEFL") == 1
    assert paths.count(f"/x/2/users/{USER_ID}/tweets") == 2


def test_recount_looks_posts_up_100_ids_at_a_time(warehouse: Warehouse, tmp_path: Path) -> None:
    kept, gone = [p["id"] for p in POSTS], [f"99{n:017d}" for n in range(150)]
    ids = kept[:50] + gone[:50] + kept[50:] + gone[50:]
    fake = FakeX()
    with client(fake) as x:
        fetched = list(x.recount(ACCOUNT, ids))
    assert [len(q["ids"].split(",")) for q in fake.calls("/2/tweets")] == [100, 100, 50]
    # The third batch holds only deleted posts: the API answers with errors alone, skipped.
    assert [f.number for f in fetched] == [1, 2]
    summaries = [load(warehouse, f, tmp_path, f"recount{f.number}") for f in fetched]
    assert sum(s.posts_new for s in summaries) == len(POSTS)
    # Each deleted post of a batch with data is quarantined, saying so.
    assert [s.quarantined for s in summaries] == [{"api_error": 50}] * 2


def test_an_unknown_user_is_terminal_and_named() -> None:
    fake = FakeX()
    with client(fake) as x:
        with pytest.raises(TerminalSourceError) as followers:
            x.followers(GONE)
        with pytest.raises(TerminalSourceError) as posts:
            list(x.posts(GONE, datetime(2020, 5, 1, tzinfo=UTC), NOW, None))
    for error in (followers.value, posts.value):
        text = str(error)
        assert "x account @humas_dihapus" in text and "Not Found Error" in text
        assert "/2/users/by/username/humas_dihapus" in text and "Fix:" in text
        assert TOKEN not in text
    assert fake.calls("/tweets") == []


def test_a_rate_limit_waits_until_the_reset_and_is_said() -> None:
    waits: list[Wait] = []
    time_ = FakeTime(NOW)  # the clock moves on; nothing really waits
    fake = FakeX(limited=True)
    with XClient(
        {"x_bearer_token": TOKEN},
        base_url="http://127.0.0.1:9/x",
        clock=time_.clock,
        sleep=time_.sleep,
        on_wait=waits.append,
        transport=httpx.MockTransport(fake),
    ) as x:
        fetched = list(x.posts(ACCOUNT, datetime(2020, 5, 1, tzinfo=UTC), NOW, None))
        # Per endpoint (the toolkit writes ids as :id).
        windows = [w for w in x.usage.windows if w.endpoint.endswith("/users/:id/tweets")]
    assert len(fetched) == 1 and len(fake.calls("/tweets")) == 2
    assert [w.kind for w in waits] == ["rate_limit"] and time_.slept == [pytest.approx(901.0)]
    assert "X rate limit reached; waiting 15 min" in str(waits[0])
    assert [(w.limit, w.remaining) for w in windows] == [(1500, 1499)]


def test_the_token_appears_in_no_origin_body_or_error() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        said = request.headers["authorization"]
        problem = {
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": f"Unauthorized: {said}",
        }
        return httpx.Response(401, json=problem)

    with XClient(
        {"x_bearer_token": TOKEN},
        transport=httpx.MockTransport(echo),
        clock=lambda: NOW,
        sleep=no_sleep,
    ) as x:
        assert TOKEN not in repr(x)
        with pytest.raises(TerminalSourceError) as refused:
            x.followers(ACCOUNT)
    text = str(refused.value)
    assert TOKEN not in text and TOKEN not in (refused.value.url or "")
    assert "api.x.com/2/users/2351222345" in text and "GOVSOCIAL_X_BEARER_TOKEN" in text


def test_a_missing_token_names_the_setting() -> None:
    with pytest.raises(ConfigError) as missing_token:
        XClient({"x_bearer_token": "  "})
    text = str(missing_token.value)
    assert "GOVSOCIAL_X_BEARER_TOKEN" in text and "x_bearer_token" in text
    assert "docs/collect-x.md" in text


def test_times_too_close_to_now_are_kept_clear_of_the_10_second_rule() -> None:
    """X refuses a start_time or end_time less than 10 seconds before the request."""
    fake = FakeX()
    with client(fake) as x:
        list(x.posts(ACCOUNT, NOW - timedelta(seconds=5), NOW, None))
        assert list(x.posts(ACCOUNT, NOW, NOW, None)) == []  # an empty period asks nothing
    (asked,) = fake.calls("/tweets")
    assert asked["start_time"] == "2020-05-06T11:59:30Z" and "end_time" not in asked
