"""The Facebook Pages client against recorded Graph API responses served by an
``httpx.MockTransport`` handler, each body loaded into a real warehouse by the facebook-graph
reader (the same path as ``govsocial import``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import load_whole
from govsocial.errors import ConfigError, TerminalSourceError
from govsocial.sources.clients import AccountRef, Fetched
from govsocial.sources.facebook.client import IDS_PER_CALL, POST_FIELDS, FacebookClient
from govsocial.sources.http import Resume
from govsocial.store import Warehouse

FIXTURES = Path(__file__).parent.parent / "fixtures" / "facebook"
TOKEN = "EAAGm0PX4ZCpsBAKZCZBtest1234secretTOKEN"
ROOT = "https://graph.test/v21.0"
PAGE = AccountRef(1, "facebook", "19292868552", "FacebookforDevelopers")
SINCE = datetime(2021, 6, 1, tzinfo=UTC)
UNTIL = datetime(2021, 7, 15, tzinfo=UTC)
# Error envelopes as Meta's error-handling reference shows them
# (https://developers.facebook.com/docs/graph-api/guides/error-handling).
UNKNOWN = {
    "error": {
        "message": "(#803) Some of the aliases you requested do not exist: nosuchpage",
        "type": "OAuthException",
        "code": 803,
        "fbtrace_id": "AbCdEfGh123",
    }
}
EXPIRED = json.loads((FIXTURES / "token_expired.json").read_text(encoding="utf-8"))


def recorded(name: str) -> Any:
    """A recorded response, its echoed ``access_token=access_token`` made ours (the Graph API
    writes the caller's token into ``paging.next``)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text.replace("access_token=access_token", f"access_token={TOKEN}"))


P1, P2 = recorded("feeds_default_fields_p1.json"), recorded("feeds_default_fields_p2.json")
POSTS = {post["id"]: post for post in P1["data"] + P2["data"]}


class Graph:
    """A Graph API for one Page: ``/{page}``, ``/{page}/posts`` (the two recorded pages,
    cursor ``after``), ``/?ids=`` and ``/{post-id}``; ``gone`` posts and Pages answer 803."""

    def __init__(self, gone: frozenset[str] = frozenset()) -> None:
        self.requests: list[httpx.Request] = []
        self.gone = gone

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params, path = request.url.params, request.url.path.removeprefix("/v21.0")
        if params.get("access_token") != TOKEN:
            return httpx.Response(400, json=EXPIRED)
        if path == "/":
            ids = params["ids"].split(",")
            if len(ids) > IDS_PER_CALL or self.gone & set(ids):
                return httpx.Response(404, json=UNKNOWN)
            return httpx.Response(200, json={i: POSTS[i] for i in ids})
        node = path.strip("/").split("/")
        if node[0] in self.gone or node[0] not in ("19292868552", *POSTS):
            return httpx.Response(404, json=UNKNOWN)
        if node[0] in POSTS:
            return httpx.Response(200, json=POSTS[node[0]])
        if node[1:] == ["posts"]:
            page = P2 if params.get("after") == "after" else P1
            return httpx.Response(200, json=page, headers={"X-App-Usage": _usage(12)})
        page_object = recorded("single_default_page.json") | {"id": "19292868552"}
        return httpx.Response(200, json=page_object)


def _usage(calls: int) -> str:
    return json.dumps({"call_count": calls, "total_cputime": 3, "total_time": 4})


def client(handler: Callable[[httpx.Request], httpx.Response], token: str = TOKEN) -> Any:
    return FacebookClient(
        {"facebook_token": token},
        base_url=ROOT,
        transport=httpx.MockTransport(handler),
        sleep=lambda seconds: None,
    )


def load(wh: Warehouse, tmp_path: Path, fetched: Fetched, name: str) -> tuple[int, int, int]:
    """Posts new, post readings new, follower readings new."""
    return load_whole(wh, fetched, tmp_path, name, "facebook-graph")


def assert_no_token(*texts: str | bytes) -> None:
    for text in texts:
        assert TOKEN not in (text.decode() if isinstance(text, bytes) else text)


def test_posts_walk_both_pages_and_load_every_post(warehouse: Warehouse, tmp_path: Path) -> None:
    graph = Graph()
    with client(graph) as facebook:
        pages = list(facebook.posts(PAGE, SINCE, UNTIL, None))
    assert [p.number for p in pages] == [1, 2]
    assert pages[0].resume == Resume(2, {"after": "after"})
    assert pages[1].resume is None
    first = graph.requests[0].url.params
    assert graph.requests[0].url.path == "/v21.0/19292868552/posts"
    assert (first["since"], first["until"], first["limit"]) == ("1622505600", "1626307200", "100")
    assert first["fields"] == POST_FIELDS
    assert "reactions.type(LOVE).limit(0).summary(total_count).as(love)" in first["fields"]
    assert graph.requests[1].url.params["after"] == "after"
    # The recorded page echoes the token in paging.next: the kept body has REDACTED instead.
    assert b"access_token=REDACTED" in pages[0].body
    for page in pages:
        assert_no_token(page.body, page.origin)
        assert "access_token" not in page.origin
    assert [load(warehouse, tmp_path, p, f"p{p.number}") for p in pages] == [(5, 5, 0), (5, 5, 0)]
    assert warehouse.con.execute(
        "SELECT count(*), sum(m.reactions) FROM posts p JOIN post_metrics m USING (post_id)"
    ).fetchone() == (10, 756 + 27687)


def test_posts_resume_from_a_saved_cursor_continues_at_page_two() -> None:
    graph = Graph()
    saved = Resume.from_json(Resume(2, {"after": "after"}).to_json())
    with client(graph) as facebook:
        pages = list(facebook.posts(PAGE, SINCE, UNTIL, saved))
    assert [p.number for p in pages] == [2]
    assert len(graph.requests) == 1
    assert graph.requests[0].url.params["after"] == "after"
    assert [post["id"] for post in json.loads(pages[0].body)["data"]] == [
        post["id"] for post in P2["data"]
    ]


def test_posts_stop_after_the_page_that_reaches_before_since() -> None:
    """Page 1's oldest post is 2021-06-30: with since on 2021-07-01 the walk ends there,
    although the API's paging offers page 2."""
    graph = Graph()
    with client(graph) as facebook:
        pages = list(facebook.posts(PAGE, datetime(2021, 7, 1, tzinfo=UTC), UNTIL, None))
    assert [(p.number, p.resume) for p in pages] == [(1, None)]
    assert len(graph.requests) == 1


def test_followers_reads_the_page_object_as_one_snapshot(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    graph = Graph()
    with client(graph) as facebook:
        fetched = facebook.followers(PAGE)
    request = graph.requests[0]
    assert request.url.path == "/v21.0/19292868552"
    assert request.url.params["fields"] == "id,name,username,followers_count,fan_count,link"
    assert (
        fetched.origin == f"{ROOT}/19292868552?fields=id%2Cname%2Cusername%2Cfollowers_count"
        "%2Cfan_count%2Clink"
    )
    assert load(warehouse, tmp_path, fetched, "page") == (0, 0, 1)
    assert warehouse.con.execute("SELECT followers FROM account_snapshots").fetchall() == [
        (214507731,)
    ]


def test_followers_by_handle_when_the_page_id_is_not_known() -> None:
    graph = Graph()
    with client(graph) as facebook, pytest.raises(TerminalSourceError):
        facebook.followers(AccountRef(2, "facebook", None, "@nosuchpage"))
    assert graph.requests[0].url.path == "/v21.0/nosuchpage"


def test_recount_reads_ids_in_calls_of_fifty_into_the_same_posts(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    ids = [post["id"] for post in P1["data"]]
    with client(Graph()) as facebook:
        first = next(iter(facebook.posts(PAGE, SINCE, UNTIL, None)))
    assert load(warehouse, tmp_path, first, "posts") == (5, 5, 0)
    graph = Graph()
    many = ids * 11  # 55 asked, 5 different: one call
    with client(graph) as facebook:
        fetched = list(facebook.recount(PAGE, many))
    assert len(fetched) == 1
    assert graph.requests[0].url.path == "/v21.0/"
    assert graph.requests[0].url.params["ids"] == ",".join(ids)
    assert set(json.loads(fetched[0].body)) == set(ids)  # keyed by id
    # The same posts, a second reading of each one's counts.
    assert load(warehouse, tmp_path, fetched[0], "recount") == (0, 5, 0)


def test_recount_splits_more_than_fifty_ids_into_calls() -> None:
    ids = [f"19292868552_{n}" for n in range(120)]
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked = request.url.params["ids"].split(",")
        seen.append(len(asked))
        post = P1["data"][0]
        return httpx.Response(200, json={i: post | {"id": i} for i in asked})

    with client(handler) as facebook:
        assert len(list(facebook.recount(PAGE, ids))) == 3
    assert seen == [50, 50, 20]


def test_recount_skips_a_deleted_post_and_keeps_the_others(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    ids = [post["id"] for post in P1["data"]]
    graph = Graph(gone=frozenset({ids[2]}))
    with client(graph) as facebook:
        fetched = list(facebook.recount(PAGE, ids))
    assert [json.loads(f.body)["id"] for f in fetched] == [i for i in ids if i != ids[2]]
    loaded = [load(warehouse, tmp_path, f, f"one{n}") for n, f in enumerate(fetched)]
    assert loaded == [(1, 1, 0)] * 4


@pytest.mark.parametrize(
    ("account", "token", "said"),
    [
        (AccountRef(3, "facebook", "1234567890", "gonepage"), TOKEN, "unknown or not visible"),
        (PAGE, "EAAexpiredTOKEN987654", "access token has expired"),
    ],
)
def test_a_terminal_error_names_the_account_and_never_the_token(
    account: AccountRef, token: str, said: str
) -> None:
    graph = Graph(gone=frozenset({"1234567890"}))
    with client(graph, token) as facebook, pytest.raises(TerminalSourceError) as caught:
        list(facebook.posts(account, SINCE, UNTIL, None))
    error = caught.value
    assert len(graph.requests) == 1  # terminal: not retried
    assert account.describe() in error.message and said in error.message
    assert "Fix:" in error.message
    assert error.url is not None and "access_token" not in error.url
    assert token not in error.message and token not in (error.url or "")
    assert token not in repr(error.api_error)


def test_a_missing_token_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        FacebookClient({}, base_url=ROOT)
    assert "GOVSOCIAL_FACEBOOK_TOKEN" in caught.value.message
    assert "facebook_token" in caught.value.message


def test_usage_headers_are_read() -> None:
    with client(Graph()) as facebook:
        list(facebook.posts(PAGE, SINCE, UNTIL, None))
        usage = facebook.usage
    assert usage.requests == 2
    assert [g.call_count for g in usage.graph] == [12]
