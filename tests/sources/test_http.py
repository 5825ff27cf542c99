"""The HTTP client toolkit against a real HTTP server on 127.0.0.1 (pytest-httpserver)
serving recorded response shapes from tests/fixtures (see each folder's SOURCE.md): paging
with each API's paginator, resuming from a kept cursor, retries, rate-limit waits, the
classification of failures, quota budgets, and credentials kept out of everything."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from fakes import FakeTime
from govsocial.errors import (
    QuotaExhausted,
    SourceError,
    TerminalSourceError,
    TransientSourceError,
)
from govsocial.sources.http import (
    USER_AGENT,
    ApiClient,
    GraphApi,
    GraphCursorPaginator,
    NextTokenPaginator,
    PageTokenPaginator,
    QuotaBudget,
    Resume,
    RetryPolicy,
    TikTokApi,
    TikTokCursorPaginator,
    Wait,
    XApi,
    YouTubeApi,
)
from govsocial.sources.http.limits import PACIFIC, duration

FIXTURES = Path(__file__).parent.parent / "fixtures"
TOKEN = "EAABsbCS1iHgBAKZC9sECRETzZBtokenZB0123456789"  # what a Graph token looks like
KEY = "AIzaSyD-SECRET_key-0123456789abcdefghij"
BEARER = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BSECRETbearer%3DEUifiRBkKG5E2XzMDjRfl76ZC9"
START = datetime(2025, 3, 1, 2, 58, tzinfo=UTC)


def fixture(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / name).read_bytes()


def jsonl_line(platform: str, name: str, index: int) -> dict[str, Any]:
    lines = fixture(platform, name).decode().splitlines()
    return json.loads(lines[index])


class Routes:
    """A handler for every request to the test server: ``answer(request) -> Response``; it
    keeps each request's query, headers and body to assert on."""

    def __init__(self, server: HTTPServer, answer: Callable[[Request], Response]) -> None:
        self.seen: list[dict[str, Any]] = []
        self.answer = answer
        server.expect_request(re.compile(r"/.*")).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        self.seen.append(
            {
                "path": request.path,
                "query": {k: v[0] for k, v in parse_qs(request.query_string.decode()).items()},
                "headers": dict(request.headers),
                "json": request.get_json(silent=True),
            }
        )
        return self.answer(request)


def ok(body: bytes | dict[str, Any], **headers: str) -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(data, 200, headers=headers, content_type="application/json")


def status(code: int, body: bytes | dict[str, Any] = b"", **headers: str) -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(data, code, headers=headers, content_type="application/json")


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime(START)


@pytest.fixture
def waits() -> list[Wait]:
    return []


def api_client(
    server: HTTPServer,
    fake: FakeTime,
    waits: list[Wait] | None,
    platform: str,
    api: Any,
    path: str,
    credential: str,
    **kw: Any,
) -> ApiClient:
    if waits is not None:
        kw["on_wait"] = waits.append
    return ApiClient(
        platform,
        api,
        server.url_for(path),
        credential=credential,
        clock=fake.clock,
        sleep=fake.sleep,
        **kw,
    )


def graph_client(server: HTTPServer, fake: FakeTime, waits: list[Wait], **kw: Any) -> ApiClient:
    token = {"access_token": TOKEN}
    facebook = ("Facebook", GraphApi(), "/v19.0", "GOVSOCIAL_FACEBOOK_TOKEN")
    return api_client(server, fake, waits, *facebook, auth_params=token, **kw)


def youtube_client(server: HTTPServer, fake: FakeTime, **kw: Any) -> ApiClient:
    youtube = ("YouTube", YouTubeApi(), "/youtube/v3", "GOVSOCIAL_YOUTUBE_KEY")
    return api_client(server, fake, None, *youtube, auth_params={"key": KEY}, **kw)


def x_client(server: HTTPServer, fake: FakeTime, waits: list[Wait], **kw: Any) -> ApiClient:
    bearer = {"Authorization": f"Bearer {BEARER}"}
    x = ("X", XApi(), "/2", "GOVSOCIAL_X_BEARER_TOKEN")
    return api_client(server, fake, waits, *x, auth_headers=bearer, **kw)


# -- paging ---------------------------------------------------------------------------------


def test_graph_pages_follow_the_after_cursor_and_keep_no_token(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    pages = {
        None: fixture("facebook", "feeds_default_fields_p1.json"),
        "after": fixture("facebook", "feeds_default_fields_p2.json"),
    }
    routes = Routes(httpserver, lambda r: ok(pages[r.args.get("after")]))
    with graph_client(httpserver, fake, waits) as client:
        got = list(
            client.paginate(
                "/19292868552/feed", {"fields": "id,message", "limit": "5"}, GraphCursorPaginator()
            )
        )
    assert [p.number for p in got] == [1, 2]
    assert [len(p.data["data"]) for p in got] == [5, 5]
    assert [s["query"].get("after") for s in routes.seen] == [None, "after"]
    assert all(s["query"]["access_token"] == TOKEN for s in routes.seen)  # sent ...
    assert got[1].origin.endswith("/v19.0/19292868552/feed?fields=id%2Cmessage&limit=5&after=after")
    for page in got:  # ... and kept nowhere
        assert "access_token" not in page.origin
        assert TOKEN not in repr(page)
    # The recorded paging.next echoes a token: the kept body holds REDACTED in its place.
    assert b"access_token=access_token" not in got[0].body
    assert b"access_token=REDACTED" in got[0].body
    assert got[0].resume == Resume(2, {"after": "after"})
    assert got[1].resume is None
    assert client.usage.requests == 2


def test_graph_nested_cursor_goes_into_the_fields_expansion(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    first = json.loads(fixture("instagram", "business_discovery.json"))
    last = json.loads(fixture("instagram", "business_discovery.json"))
    last["business_discovery"]["media"]["paging"] = {"cursors": {"before": "QVFIUkx"}}
    routes = Routes(httpserver, lambda r: ok(last if ".after(" in r.args["fields"] else first))

    def fields(after: str | None) -> str:
        cursor = f".after({after})" if after else ""
        return f"business_discovery.username(jabarprovgov){{followers_count,media{cursor}{{id}}}}"

    paginator = GraphCursorPaginator(edge=("business_discovery", "media"), fields=fields)
    with graph_client(httpserver, fake, waits) as client:
        got = list(client.paginate("/17841405309211844", {}, paginator))
    assert len(got) == 2
    assert [s["query"]["fields"] for s in routes.seen] == [fields(None), fields("QVFIUkx")]
    assert got[0].resume == Resume(2, {"after": "QVFIUkx"})


def youtube_pages() -> dict[str | None, dict[str, Any]]:
    first = json.loads(fixture("youtube", "playlist_items_paged_1.json"))
    second = dict(first, nextPageToken="CBQQAA")
    third = {k: v for k, v in first.items() if k != "nextPageToken"}
    return {None: first, "CAoQAA": second, "CBQQAA": third}


def test_youtube_pages_follow_next_page_token(httpserver: HTTPServer, fake: FakeTime) -> None:
    pages = youtube_pages()
    routes = Routes(httpserver, lambda r: ok(pages[r.args.get("pageToken")]))
    with youtube_client(httpserver, fake) as client:
        got = list(
            client.paginate(
                "/playlistItems",
                {"part": "contentDetails", "playlistId": "UU_x5XG1OV2P6uZZ5FSM9Ttw"},
                PageTokenPaginator(),
            )
        )
    assert [p.number for p in got] == [1, 2, 3]
    assert [s["query"].get("pageToken") for s in routes.seen] == [None, "CAoQAA", "CBQQAA"]
    assert [s["query"]["key"] for s in routes.seen] == [KEY] * 3
    assert [p.resume for p in got] == [
        Resume(2, {"pageToken": "CAoQAA"}),
        Resume(3, {"pageToken": "CBQQAA"}),
        None,
    ]
    assert all("key=" not in p.origin and KEY not in p.origin for p in got)
    assert routes.seen[0]["headers"]["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("govsocial/")


def test_x_pages_follow_meta_next_token(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    first = jsonl_line("x", "noflat.jsonl", 0)
    second = jsonl_line("x", "withheld.jsonl", 3)  # a user-timeline page
    third = json.loads(json.dumps(second))
    del third["meta"]["next_token"]
    pages = {None: first, first["meta"]["next_token"]: second, second["meta"]["next_token"]: third}
    routes = Routes(httpserver, lambda r: ok(pages[r.args.get("pagination_token")]))
    with x_client(httpserver, fake, waits) as client:
        got = list(
            client.paginate(
                "/users/1175047638/tweets", {"max_results": "100"}, NextTokenPaginator()
            )
        )
    assert len(got) == 3
    assert [s["query"].get("pagination_token") for s in routes.seen] == [
        None,
        first["meta"]["next_token"],
        second["meta"]["next_token"],
    ]
    assert all(s["headers"]["Authorization"] == f"Bearer {BEARER}" for s in routes.seen)
    assert got[2].resume is None
    assert got[0].resume == Resume(2, {"next_token": first["meta"]["next_token"]})


def test_tiktok_pages_post_the_cursor_and_search_id(httpserver: HTTPServer, fake: FakeTime) -> None:
    first = json.loads(fixture("tiktok", "api_response.json"))
    last = json.loads(fixture("tiktok", "api_response.json"))
    last["data"].update(cursor=200, has_more=False)
    routes = Routes(httpserver, lambda r: ok(last if r.get_json()["cursor"] else first))
    query = {
        "query": {
            "and": [{"operation": "EQ", "field_name": "username", "field_values": ["kemenkes_ri"]}]
        },
        "start_date": "20240301",
        "end_date": "20240330",
        "max_count": 100,
        "cursor": 0,
    }
    with ApiClient(
        "TikTok",
        TikTokApi(),
        httpserver.url_for("/v2"),
        auth_headers={"Authorization": "Bearer clt.SECRETclienttoken123"},
        clock=fake.clock,
        sleep=fake.sleep,
    ) as client:
        got = list(
            client.paginate(
                "/research/video/query/",
                {"fields": "id,like_count"},
                TikTokCursorPaginator(),
                method="POST",
                json=query,
            )
        )
    assert len(got) == 2
    bodies = [s["json"] for s in routes.seen]
    assert bodies[0] == query
    assert bodies[1] == dict(query, cursor=100, search_id="7354367454467855403")
    assert got[0].resume == Resume(2, {"cursor": 100, "search_id": "7354367454467855403"})
    assert got[1].resume is None
    assert "clt.SECRET" not in got[0].origin


def test_a_walk_resumes_from_a_kept_cursor(httpserver: HTTPServer, fake: FakeTime) -> None:
    pages = youtube_pages()
    routes = Routes(httpserver, lambda r: ok(pages[r.args.get("pageToken")]))
    params = {"part": "contentDetails", "playlistId": "UU_x5XG1OV2P6uZZ5FSM9Ttw"}
    with youtube_client(httpserver, fake) as client:
        walk = client.paginate("/playlistItems", params, PageTokenPaginator())
        kept = next(walk).resume  # page 1 committed, then the run is killed
        walk.close()
        assert kept is not None
        saved = kept.to_json()
        assert KEY not in saved and "http" not in saved
        routes.seen.clear()
        rest = list(
            client.paginate(
                "/playlistItems", params, PageTokenPaginator(), resume=Resume.from_json(saved)
            )
        )
    assert [p.number for p in rest] == [2, 3]
    assert [s["query"].get("pageToken") for s in routes.seen] == ["CAoQAA", "CBQQAA"]
    assert rest[0].data == pages["CAoQAA"]


def test_a_cursor_that_does_not_move_stops_the_walk(httpserver: HTTPServer, fake: FakeTime) -> None:
    page = json.loads(fixture("youtube", "playlist_items_paged_1.json"))
    Routes(httpserver, lambda r: ok(page))  # always nextPageToken CAoQAA
    with youtube_client(httpserver, fake) as client, pytest.raises(TerminalSourceError) as err:
        list(client.paginate("/playlistItems", {"part": "id"}, PageTokenPaginator()))
    assert "same cursor twice" in err.value.message


# -- retries and waits ----------------------------------------------------------------------


def test_a_server_error_is_retried_with_backoff_then_succeeds(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    answers = iter(
        [
            status(500, b"<html>Internal Server Error</html>"),
            ok(fixture("facebook", "feeds_default_fields_p2.json")),
        ]
    )
    routes = Routes(httpserver, lambda r: next(answers))
    with graph_client(httpserver, fake, waits) as client:
        page = client.get("/19292868552/feed", {"fields": "id"})
    assert len(routes.seen) == 2
    assert len(page.data["data"]) == 5
    assert len(fake.slept) == 1 and 0 <= fake.slept[0] <= 2  # random up to 1 * 2**1 s
    assert [w.kind for w in waits] == ["retry"]
    assert str(waits[0]).startswith("Facebook: server error (HTTP 500); retrying in ")
    assert str(waits[0]).endswith("(attempt 2 of 5)")
    assert client.usage.retries == 1 and client.usage.requests == 2


def test_server_errors_give_up_after_the_attempts(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    routes = Routes(httpserver, lambda r: status(503))
    with (
        graph_client(httpserver, fake, waits, retry=RetryPolicy(attempts=3)) as client,
        pytest.raises(TransientSourceError) as err,
    ):
        client.get("/19292868552/feed", {"fields": "id"})
    assert len(routes.seen) == 3 and len(fake.slept) == 2
    assert err.value.status == 503 and err.value.retryable
    assert "Facebook: the server failed (HTTP 503, GET http://" in err.value.message
    assert "Fix: try again later" in err.value.message


def test_a_body_cut_off_is_retried(httpserver: HTTPServer, fake: FakeTime) -> None:
    whole = fixture("youtube", "playlist_items_paged_1.json")
    answers = iter([ok(whole[: len(whole) // 2]), ok(whole)])
    Routes(httpserver, lambda r: next(answers))
    with youtube_client(httpserver, fake) as client:
        page = client.get("/playlistItems", {"part": "id"})
    assert page.body == whole and len(fake.slept) == 1


def test_retry_after_is_honoured_for_a_503(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    answers = iter([status(503, b"", **{"Retry-After": "30"}), ok(youtube_pages()[None])])
    Routes(httpserver, lambda r: next(answers))
    with youtube_client(httpserver, fake, on_wait=waits.append) as client:
        client.get("/playlistItems", {"part": "id"})
    assert fake.slept == [31]
    assert [str(w) for w in waits] == [
        "YouTube: server error (HTTP 503); retrying in 31 s (attempt 2 of 5)"
    ]


def test_tiktok_rate_limit_waits_a_minute_then_continues(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    limited = fixture("tiktok", "quirks.jsonl").splitlines()[3]  # rate_limit_exceeded
    answers = iter([status(429, limited), ok(fixture("tiktok", "api_response.json"))])
    Routes(httpserver, lambda r: next(answers))
    with ApiClient(
        "TikTok",
        TikTokApi(),
        httpserver.url_for("/v2"),
        clock=fake.clock,
        sleep=fake.sleep,
        on_wait=waits.append,
    ) as client:
        page = client.request("POST", "/research/video/query/", json={"cursor": 0})
    assert page.data["data"]["has_more"] is True
    assert fake.slept == [61]
    assert str(waits[0]) == "TikTok rate limit reached; waiting 1 min until 02:59 UTC"


def test_x_429_waits_until_the_reset_then_continues(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    reset = START + timedelta(minutes=14)
    answers = iter(
        [
            status(
                429,
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                **{
                    "x-rate-limit-limit": "900",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(reset.timestamp())),
                },
            ),
            ok(
                jsonl_line("x", "users.jsonl", 0),
                **{
                    "x-rate-limit-limit": "900",
                    "x-rate-limit-remaining": "899",
                    "x-rate-limit-reset": str(int((reset + timedelta(minutes=15)).timestamp())),
                },
            ),
        ]
    )
    routes = Routes(httpserver, lambda r: next(answers))
    with x_client(httpserver, fake, waits) as client:
        page = client.get("/users", {"ids": "1175047638"})
    assert len(routes.seen) == 2 and page.status == 200
    assert fake.slept == [14 * 60 + 1]  # until the reset, and a second for clock skew
    assert [str(w) for w in waits] == ["X rate limit reached; waiting 14 min until 03:12 UTC"]
    window = client.usage.window("/users")
    assert window is not None and window.remaining == 899 and window.limit == 900


def test_an_exhausted_window_is_waited_for_before_sending(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    reset = START + timedelta(minutes=5)
    first = jsonl_line("x", "noflat.jsonl", 0)
    last = json.loads(json.dumps(first))
    del last["meta"]["next_token"]
    headers = {
        "x-rate-limit-limit": "1",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(reset.timestamp())),
    }
    routes = Routes(
        httpserver, lambda r: ok(last if "pagination_token" in r.args else first, **headers)
    )
    with x_client(httpserver, fake, waits) as client:
        got = list(client.paginate("/users/1175047638/tweets", {}, NextTokenPaginator()))
    assert len(got) == 2 and len(routes.seen) == 2  # no 429 was needed
    assert fake.slept == [5 * 60 + 1]
    assert str(waits[0]) == "X rate limit reached; waiting 5 min until 03:03 UTC"


def test_a_wait_longer_than_the_longest_is_not_made(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    reset = START + timedelta(hours=3)
    routes = Routes(
        httpserver,
        lambda r: status(
            429,
            {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"},
            **{"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(reset.timestamp()))},
        ),
    )
    with x_client(httpserver, fake, waits) as client, pytest.raises(TransientSourceError) as err:
        client.get("/users/by/username/jabarprovgov")
    assert len(routes.seen) == 1 and fake.slept == [] and waits == []
    assert err.value.rate_limited and err.value.retry_at == reset
    assert "run again after 2025-03-01 05:58 UTC" in err.value.message


@pytest.mark.parametrize("code", [1, 2, 4, 17, 32, 341, 613, 80001])
def test_graph_throttling_and_temporary_codes_are_transient(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait], code: int
) -> None:
    error = {
        "error": {
            "message": "(#17) User request limit reached",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "A1m6KK6iBqvjzPeQd4DYbKM",
        }
    }
    Routes(httpserver, lambda r: status(400 if code > 2 else 500, error))
    with (
        graph_client(httpserver, fake, waits, retry=RetryPolicy(attempts=1)) as client,
        pytest.raises(TransientSourceError) as err,
    ):
        client.get("/19292868552/feed")
    assert err.value.api_error is not None and err.value.api_error.code == str(code)
    assert err.value.rate_limited == (code > 2)


def test_graph_throttling_waits_for_the_time_to_regain_access(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    usage = {
        "19292868552": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 20,
                "estimated_time_to_regain_access": 3,
            }
        ]
    }
    error = {
        "error": {
            "message": "(#32) Page request limit reached",
            "type": "OAuthException",
            "code": 32,
            "fbtrace_id": "A1m6KK6iBqvjzPeQd4DYbKM",
        }
    }
    answers = iter(
        [
            status(400, error, **{"X-Business-Use-Case-Usage": json.dumps(usage)}),
            ok(
                fixture("facebook", "feeds_default_fields_p2.json"),
                **{"X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":9}'},
            ),
        ]
    )
    Routes(httpserver, lambda r: next(answers))
    with graph_client(httpserver, fake, waits) as client:
        client.get("/19292868552/feed")
        usage_now = client.usage
    assert fake.slept == [3 * 60 + 1]
    assert str(waits[0]) == "Facebook rate limit reached; waiting 3 min until 03:01 UTC"
    assert [(g.scope, g.call_count, g.percent) for g in usage_now.graph] == [("app", 28, 28)]
    assert "Graph API app usage: calls 28%, time 25%, CPU time 9%" in usage_now.lines()


# -- terminal failures and their messages ---------------------------------------------------


def test_graph_190_is_terminal_with_a_clear_message(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    # The documented envelope (developers.facebook.com/docs/graph-api/guides/error-handling),
    # its message echoing the token as the API does for a token it cannot parse.
    error = {
        "error": {
            "message": f"Error validating access token: Session has expired. {TOKEN}",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
            "fbtrace_id": "EJplcsCHuLu",
        }
    }
    routes = Routes(httpserver, lambda r: status(400, error))
    with graph_client(httpserver, fake, waits) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/19292868552/feed", {"fields": "id"}, about="account pemprovjabar")
    assert len(routes.seen) == 1 and fake.slept == []  # not retried
    message = err.value.message
    assert message.startswith("Facebook (account pemprovjabar): the access token has expired")
    assert f"(HTTP 400, GET {httpserver.url_for('/v19.0/19292868552/feed')}?fields=id)" in message
    assert "Graph API error (OAuthException, code 190): Error validating access token" in message
    assert "Fix: get a new access token" in message and "GOVSOCIAL_FACEBOOK_TOKEN" in message
    assert not err.value.retryable and err.value.status == 400


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "error": {
                    "message": "(#10) Requires pages_read_engagement permission",
                    "type": "OAuthException",
                    "code": 10,
                }
            },
            "lacks a permission",
        ),
        (
            {
                "error": {
                    "message": "(#803) Some of the aliases you requested do not exist: nobody",
                    "type": "OAuthException",
                    "code": 803,
                }
            },
            "unknown or not visible",
        ),
        (json.loads(fixture("facebook", "error.json")), "refused the request"),
    ],
)
def test_graph_permission_and_unknown_account_are_terminal(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait], body: Any, expected: str
) -> None:
    Routes(httpserver, lambda r: status(400, body))
    with graph_client(httpserver, fake, waits) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/nobody")
    assert expected in err.value.message and fake.slept == []


def test_x_lookup_answered_only_with_errors_is_terminal(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    # A recorded entry: "User has been suspended: [gatewaypundit]."
    suspended = jsonl_line("x", "noflat.jsonl", 0)["errors"][0]
    Routes(httpserver, lambda r: ok({"errors": [suspended]}))
    with x_client(httpserver, fake, waits) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/users/by/username/gatewaypundit")
    assert "User has been suspended: [gatewaypundit]" in err.value.message
    assert "(user gatewaypundit" in err.value.message


@pytest.mark.parametrize(
    ("code", "body", "expected"),
    [
        (
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            "bearer token was refused",
        ),
        (
            403,
            {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"},
            "may not use this endpoint",
        ),
        (
            404,
            {
                "title": "Not Found Error",
                "type": "about:blank",
                "status": 404,
                "detail": "Not Found",
            },
            "not found",
        ),
    ],
)
def test_x_client_errors_are_terminal(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait], code: int, body: Any, expected: str
) -> None:
    Routes(httpserver, lambda r: status(code, body))
    with x_client(httpserver, fake, waits) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/users/1175047638/tweets")
    assert expected in err.value.message and err.value.status == code


def test_tiktok_invalid_token_is_terminal_and_daily_limit_is_a_quota(
    httpserver: HTTPServer, fake: FakeTime
) -> None:
    answers = iter(
        [
            status(401, fixture("tiktok", "access_token_invalid.json")),
            status(429, fixture("tiktok", "daily_quota_limit_exceeded.jsonl").splitlines()[0]),
        ]
    )
    Routes(httpserver, lambda r: next(answers))
    with ApiClient(
        "TikTok", TikTokApi(), httpserver.url_for("/v2"), clock=fake.clock, sleep=fake.sleep
    ) as client:
        with pytest.raises(TerminalSourceError) as first:
            client.request("POST", "/research/user/info/", json={"username": "kemenkes_ri"})
        with pytest.raises(QuotaExhausted) as second:
            client.request("POST", "/research/user/info/", json={"username": "kemenkes_ri"})
    assert "client access token is invalid" in first.value.message
    assert "log_id 20220829194722CBE87ED59D524E727021" in first.value.message
    assert second.value.resets_at == datetime(2025, 3, 2, tzinfo=UTC)


# -- quotas ---------------------------------------------------------------------------------


def test_youtube_budget_refuses_a_call_that_would_exceed_it(
    httpserver: HTTPServer, fake: FakeTime
) -> None:
    routes = Routes(httpserver, lambda r: ok(fixture("youtube", "videos_info.json")))
    budget = QuotaBudget.youtube(limit=150, used=40, as_of=START)
    with youtube_client(httpserver, fake, budget=budget) as client:
        client.get("/videos", {"part": "statistics", "id": "1,2"}, cost=100)
        with pytest.raises(QuotaExhausted) as err:
            client.get("/search", {"part": "snippet", "q": "jabar"}, cost=100)
        usage = client.usage
    assert len(routes.seen) == 1  # refused before it was sent
    # 02:58 UTC is 18:58 the day before in California: the reset is the coming midnight there.
    midnight_pt = datetime(2025, 3, 1, tzinfo=PACIFIC)
    assert err.value.resets_at == midnight_pt == datetime(2025, 3, 1, 8, tzinfo=UTC)
    assert (
        "quota of 150 units would be exceeded (140 used, this call costs 100)" in err.value.message
    )
    assert "resets at midnight Pacific time (2025-03-01 08:00 UTC)" in err.value.message
    assert not err.value.retryable
    assert (usage.quota_used, usage.quota_limit) == (140, 150)
    # After midnight Pacific time the count starts again.
    fake.now = datetime(2025, 3, 1, 8, 0, 1, tzinfo=UTC)
    assert budget.used(fake.now) == 0 and budget.take(100, fake.now)


def test_youtube_quota_exceeded_stops_calls_until_midnight_pacific(
    httpserver: HTTPServer, fake: FakeTime
) -> None:
    routes = Routes(httpserver, lambda r: status(403, fixture("youtube", "quota_exceeded.json")))
    budget = QuotaBudget.youtube()
    with youtube_client(httpserver, fake, budget=budget) as client:
        with pytest.raises(QuotaExhausted) as first:
            client.get("/channels", {"part": "statistics", "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw"})
        with pytest.raises(QuotaExhausted):
            client.get("/channels", {"part": "statistics", "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw"})
    assert len(routes.seen) == 1 and fake.slept == []
    assert first.value.resets_at == datetime(2025, 3, 1, 8, tzinfo=UTC)
    assert "YouTube Data API error (quotaExceeded, code 403)" in first.value.message
    assert "<a href" not in first.value.message


def test_youtube_invalid_key_is_terminal(httpserver: HTTPServer, fake: FakeTime) -> None:
    Routes(httpserver, lambda r: status(400, fixture("youtube", "error_response.json")))
    with youtube_client(httpserver, fake) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/channels", {"part": "id"})
    assert "the API key was refused" in err.value.message
    assert "GOVSOCIAL_YOUTUBE_KEY" in err.value.message


def google_key_error(message: str, reason: str | None) -> dict[str, Any]:
    """A refused key as Google answers it today (400 ``badRequest``, the reason in
    ``error.details[]``, a ``google.rpc.ErrorInfo``), as recorded in
    gabe565/CastSponsorSkip#66 (API_KEY_INVALID), vueschool/vue-masterclass#10 (an expired key:
    its message, reason API_KEY_INVALID) and served by the fake YouTube server
    (API_KEY_EXPIRED); without ``reason``, the same answer with no details (eritislami/evobot
    discussion 405, trizen/youtube-viewer#308)."""
    inner: dict[str, Any] = {
        "code": 400,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": "badRequest"}],
        "status": "INVALID_ARGUMENT",
    }
    if reason is not None:
        inner["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "youtube.googleapis.com"},
            }
        ]
    return {"error": inner}


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("API key not valid. Please pass a valid API key.", "API_KEY_INVALID"),
        ("API key expired. Please renew the API key.", "API_KEY_EXPIRED"),
        ("API key expired. Please renew the API key.", "API_KEY_INVALID"),
        ("API key not valid. Please pass a valid API key.", None),
    ],
)
def test_youtube_bad_request_for_a_refused_key_names_the_key_setting(
    httpserver: HTTPServer, fake: FakeTime, message: str, reason: str | None
) -> None:
    routes = Routes(httpserver, lambda r: status(400, google_key_error(message, reason)))
    with youtube_client(httpserver, fake) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/channels", {"part": "id", "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw"})
    text = err.value.message
    assert "the API key was refused" in text and "Fix: create an API key" in text
    assert "GOVSOCIAL_YOUTUBE_KEY" in text and "govsocial bug" not in text
    assert message in text and (reason is None or reason in text)
    assert KEY not in text and len(routes.seen) == 1  # terminal: not tried again


def test_youtube_other_bad_requests_stay_refusals(httpserver: HTTPServer, fake: FakeTime) -> None:
    # The fake YouTube server's answer to an id it cannot read (badRequest, no key reason).
    body = {
        "error": {
            "code": 400,
            "message": "Invalid value for parameter id",
            "errors": [
                {
                    "message": "Invalid value for parameter id",
                    "domain": "youtube.parameter",
                    "reason": "badRequest",
                    "location": "id",
                    "locationType": "parameter",
                }
            ],
        }
    }
    Routes(httpserver, lambda r: status(400, body))
    with youtube_client(httpserver, fake) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/videos", {"part": "statistics", "id": "???"})
    assert "the API refused the request" in err.value.message
    assert "API key" not in err.value.message.split("Fix:")[0]


# Business discovery of a username that is not there, or is a personal account: 110/2207013.
NO_SUCH_IG_USER = json.loads(fixture("facebook", "no_such_user.json"))


def test_graph_business_discovery_of_an_unknown_user_is_that_account_unknown(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    # Code 110 without that subcode is not read as an unknown account.
    other = {"error": {**NO_SUCH_IG_USER["error"], "error_subcode": 1}}
    answers = iter([status(400, NO_SUCH_IG_USER), status(400, other)])
    routes = Routes(httpserver, lambda r: next(answers))
    fields = "business_discovery.username(nosuchaccount){followers_count,username}"
    with (
        graph_client(httpserver, fake, waits) as client,
        pytest.raises(TerminalSourceError) as err,
    ):
        client.get("/17841406338772941", {"fields": fields}, about="instagram account @x")
    text = err.value.message
    assert "the account is unknown or not visible" in text
    assert "Business and Creator accounts" in text and "govsocial bug" not in text
    assert "code 110" in text and "Invalid user id" in text
    assert err.value.api_error is not None and err.value.api_error.code == "110"
    assert len(routes.seen) == 1 and fake.slept == []
    with graph_client(httpserver, fake, waits) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/17841406338772941", {"fields": fields})
    assert "unknown or not visible" not in err.value.message


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        (fixture("tiktok", "user_not_found.json"), True),
        (
            # The fake TikTok server's answer for user info of a gone account.
            {
                "data": {},
                "error": {
                    "code": "invalid_params",
                    "message": "The user does not exist or is not public",
                    "log_id": "20250301031422D3E6A1F0B7C9485E2A72",
                },
            },
            True,
        ),
        (
            {
                "data": {},
                "error": {
                    "code": "invalid_params",
                    "message": "max_count must be between 1 and 100",
                    "log_id": "20250301031422D3E6A1F0B7C9485E2A73",
                },
            },
            False,
        ),
        (fixture("tiktok", "search_id_expired.json"), False),
    ],
)
def test_tiktok_invalid_params_about_the_user_is_that_account_unknown(
    httpserver: HTTPServer, fake: FakeTime, body: bytes | dict[str, Any], unknown: bool
) -> None:
    routes = Routes(httpserver, lambda r: status(400, body))
    with (
        ApiClient(
            "TikTok", TikTokApi(), httpserver.url_for("/v2"), clock=fake.clock, sleep=fake.sleep
        ) as client,
        pytest.raises(TerminalSourceError) as err,
    ):
        client.request(
            "POST", "/research/user/info/", json={"username": "nosuchuser"}, about="@nosuch"
        )
    text = err.value.message
    assert "invalid_params" in text and len(routes.seen) == 1
    assert ("the account is unknown or not visible" in text) is unknown
    assert ("govsocial bug" in text) is not unknown
    if unknown:
        assert "Fix: check the account's id or handle in the registry" in text


# -- credentials never shown ----------------------------------------------------------------


def test_tokens_appear_in_no_message_origin_body_or_repr(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    echo = {
        "error": {
            "message": f"Invalid OAuth access token - Cannot parse access token: "
            f"{TOKEN} (sent as access_token={TOKEN}&fields=id)",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "AbC",
        }
    }
    page_body = json.loads(fixture("facebook", "feeds_default_fields_p1.json"))
    page_body["paging"]["next"] = page_body["paging"]["next"].replace(
        "access_token=access_token", f"access_token={TOKEN}"
    )
    answers = iter([status(500, echo), ok(page_body), status(400, echo)])
    Routes(httpserver, lambda r: next(answers))
    with graph_client(httpserver, fake, waits) as client:
        # The caller's own params may carry a credential too (appsecret_proof).
        page = client.get("/19292868552/feed", {"fields": "id", "appsecret_proof": TOKEN[::-1]})
        with pytest.raises(TerminalSourceError) as err:
            client.get("/19292868552/feed", {"fields": "id"})
        shown = [
            page.origin,
            page.body.decode(),
            repr(page),
            repr(page.data),
            str(err.value),
            repr(err.value),
            err.value.message,
            str(err.value.url),
            repr(err.value.api_error),
            *map(str, waits),
            *client.usage.lines(),
            repr(client),
            repr(client.usage),
        ]
    assert waits  # the 500 was retried and said so
    for text in shown:
        assert TOKEN not in text and TOKEN[::-1] not in text, text
    assert "Cannot parse access token: REDACTED" in err.value.message


def test_a_bearer_token_echoed_in_a_body_is_removed(
    httpserver: HTTPServer, fake: FakeTime, waits: list[Wait]
) -> None:
    body = {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": f"Authorization: Bearer {BEARER} is not valid",
    }
    Routes(httpserver, lambda r: status(401, body))
    with x_client(httpserver, fake, waits) as client, pytest.raises(TerminalSourceError) as err:
        client.get("/users/me")
    for text in (str(err.value), repr(err.value), repr(err.value.api_error)):
        assert BEARER not in text and "SECRETbearer" not in text


def test_a_network_failure_is_transient_and_names_no_secret(fake: FakeTime) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    client = ApiClient(
        "YouTube",
        YouTubeApi(),
        "https://www.googleapis.com/youtube/v3",
        auth_params={"key": KEY},
        transport=httpx.MockTransport(refuse),
        clock=fake.clock,
        sleep=fake.sleep,
        retry=RetryPolicy(attempts=2),
    )
    with client, pytest.raises(TransientSourceError) as err:
        client.get("/channels", {"part": "id", "id": "UC123"})
    assert "the connection failed (ConnectError" in err.value.message
    assert (
        "GET https://www.googleapis.com/youtube/v3/channels?part=id&id=UC123" in err.value.message
    )
    assert KEY not in str(err.value) and err.value.status is None and len(fake.slept) == 1


# -- concurrency ----------------------------------------------------------------------------


def test_requests_in_flight_never_exceed_the_limit(fake: FakeTime) -> None:
    body = fixture("youtube", "videos_info.json")
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def slow(request: httpx.Request) -> httpx.Response:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return httpx.Response(200, content=body)

    client = ApiClient(
        "YouTube",
        YouTubeApi(),
        "https://www.googleapis.com/youtube/v3",
        auth_params={"key": KEY},
        transport=httpx.MockTransport(slow),
        concurrency=2,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.get("/videos", {"part": "statistics", "id": "1"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert errors == [] and state["most"] == 2 and client.usage.requests == 8


# -- small parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.2, "1 s"), (45, "45 s"), (841, "14 min"), (3600, "1 h"), (7500, "2 h 5 min")],
)
def test_waits_read_as_people_say_them(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


def test_a_resume_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not a saved cursor"):
        Resume.from_json('{"state": {}}')


def test_source_errors_are_one_tree() -> None:
    assert issubclass(QuotaExhausted, TerminalSourceError)
    assert issubclass(TerminalSourceError, SourceError)
    assert issubclass(TransientSourceError, SourceError)
    assert TransientSourceError("x").retryable and not TerminalSourceError("x").retryable
