"""The Instagram client (business discovery) against Graph API responses served by an
``httpx.MockTransport`` handler, each body loaded into a real warehouse by the
instagram-graph reader (the same path as ``govsocial import``).

The responses wrap recorded media objects as the business_discovery reference shows
(https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/business_discovery):
``{"business_discovery": {<user fields>, "media": {"data": [...], "paging": {"cursors":
{"after": ...}}}}, "id": <our account>}``. Page 1 holds the media of
``business_discovery.json``, page 2 the two media recorded in ``medias_p1.json``; the account
is the user recorded in ``user_fields.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import load_whole
from govsocial.errors import ConfigError, TerminalSourceError
from govsocial.sources.clients import AccountRef, Fetched
from govsocial.sources.http import Resume
from govsocial.sources.instagram.client import InstagramClient
from govsocial.store import Warehouse

FIXTURES = Path(__file__).parent.parent / "fixtures" / "instagram"
TOKEN = "IGQVJtest1234secretTOKENvalue"
ME = "17841406338772941"  # the business account making the calls
ROOT = "https://graph.test/v21.0"
USER = json.loads((FIXTURES / "user_fields.json").read_text(encoding="utf-8"))
HANDLE = USER["username"]
ACCOUNT = AccountRef(1, "instagram", USER["id"], HANDLE)
CURSOR = "QVFIUkx"
NEWEST_FIRST = sorted(
    json.loads((FIXTURES / "business_discovery.json").read_text())["business_discovery"]["media"][
        "data"
    ],
    key=lambda m: m["timestamp"],
    reverse=True,
)
RECORDED = json.loads((FIXTURES / "medias_p1.json").read_text())["data"]
PAGES = {None: (NEWEST_FIRST, CURSOR), CURSOR: (RECORDED, None)}
FIELDS = re.compile(r"^business_discovery\.username\(([^)]*)\)\{(.*)\}$")
NOT_FOUND = {
    "error": {
        "message": "Unsupported get request. Object with ID 'nosuchaccount' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        "type": "GraphMethodException",
        "code": 100,
        "error_subcode": 33,
        "fbtrace_id": "AbCdEfGh789",
    }
}
EXPIRED = json.loads(
    (FIXTURES.parent / "facebook" / "token_expired.json").read_text(encoding="utf-8")
)


def discovery(user: dict[str, Any], media: list[Any] | None, after: str | None) -> Any:
    inner = dict(user)
    if media is not None:
        edge: dict[str, Any] = {"data": media}
        if after:
            edge["paging"] = {"cursors": {"before": "QVFIUmlt", "after": after}}
        inner["media"] = edge
    return {"business_discovery": inner, "id": ME}


class Graph:
    """Business discovery of one account; any other username is unknown."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.params.get("access_token") != TOKEN:
            return httpx.Response(400, json=EXPIRED)
        assert request.url.path == f"/v21.0/{ME}"
        found = FIELDS.match(request.url.params["fields"])
        assert found is not None
        username, wanted = found.groups()
        if username != HANDLE:
            return httpx.Response(400, json=NOT_FOUND)
        user = {"id": USER["id"], "username": HANDLE, "name": USER["name"]}
        if "followers_count" in wanted:
            user |= {k: USER[k] for k in ("followers_count", "media_count")}
        if "media." not in wanted:  # media_count is not the media edge
            return httpx.Response(200, json=discovery(user, None, None))
        cursor = re.search(r"\.after\(([^)]*)\)", wanted)
        media, after = PAGES[cursor.group(1) if cursor else None]
        return httpx.Response(200, json=discovery(user, media, after))


def client(handler: Callable[[httpx.Request], httpx.Response], token: str = TOKEN) -> Any:
    return InstagramClient(
        {"instagram_token": token, "instagram_user_id": ME},
        base_url=ROOT,
        transport=httpx.MockTransport(handler),
        sleep=lambda seconds: None,
    )


def load(wh: Warehouse, tmp_path: Path, fetched: Fetched, name: str) -> tuple[int, int, int]:
    """Posts new, post readings new, follower readings new."""
    return load_whole(wh, fetched, tmp_path, name, "instagram-graph")


def ids(fetched: Fetched) -> list[str]:
    return [m["id"] for m in json.loads(fetched.body)["business_discovery"]["media"]["data"]]


SINCE = datetime(2021, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)


def test_posts_walk_the_nested_cursor_and_load_every_media(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    graph = Graph()
    with client(graph) as instagram:
        pages = list(instagram.posts(ACCOUNT, SINCE, UNTIL, None))
    assert [(p.number, p.resume) for p in pages] == [(1, Resume(2, {"after": CURSOR})), (2, None)]
    first, second = (r.url.params["fields"] for r in graph.requests)
    assert first == (
        f"business_discovery.username({HANDLE}){{username,name,media.limit(50)"
        "{id,caption,media_type,media_product_type,timestamp,permalink,like_count,"
        "comments_count}}"
    )
    assert f"media.limit(50).after({CURSOR}){{" in second
    for page in pages:
        assert TOKEN not in page.body.decode() and TOKEN not in page.origin
        assert "access_token" not in page.origin
    # Media pages hold no follower reading: only followers() asks for the counts.
    assert [load(warehouse, tmp_path, p, f"p{p.number}") for p in pages] == [(3, 3, 0), (2, 2, 0)]
    rows = warehouse.con.execute(
        "SELECT a.handle, a.platform_account_id, count(*) FROM posts JOIN accounts a "
        "USING (account_id) GROUP BY ALL"
    ).fetchall()
    assert rows == [(HANDLE, USER["id"], 5)]


def test_posts_keep_the_window_and_stop_after_the_page_reaching_before_since(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    since = datetime(2021, 8, 13, 8, 10, tzinfo=UTC)  # between the two recorded media
    until = datetime(2025, 3, 1, 5, 0, tzinfo=UTC)  # the newest media is at until: left out
    graph = Graph()
    with client(graph) as instagram:
        pages = list(instagram.posts(ACCOUNT, since, until, None))
    assert [ids(p) for p in pages] == [
        [m["id"] for m in NEWEST_FIRST[1:]],
        [RECORDED[0]["id"]],
    ]
    assert pages[-1].resume is None
    assert len(graph.requests) == 2
    assert [load(warehouse, tmp_path, p, f"w{p.number}") for p in pages] == [(2, 2, 0), (1, 1, 0)]


def test_posts_stop_early_when_the_first_page_reaches_before_since() -> None:
    graph = Graph()
    since = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    with client(graph) as instagram:
        pages = list(instagram.posts(ACCOUNT, since, UNTIL, None))
    assert [(p.number, p.resume, len(ids(p))) for p in pages] == [(1, None, 2)]
    assert len(graph.requests) == 1


def test_posts_resume_from_a_saved_cursor() -> None:
    graph = Graph()
    with client(graph) as instagram:
        saved = next(iter(instagram.posts(ACCOUNT, SINCE, UNTIL, None))).resume
    assert saved is not None
    graph = Graph()
    with client(graph) as instagram:
        pages = list(instagram.posts(ACCOUNT, SINCE, UNTIL, Resume.from_json(saved.to_json())))
    assert [(p.number, ids(p)) for p in pages] == [(2, [m["id"] for m in RECORDED])]
    assert f".after({CURSOR})" in graph.requests[0].url.params["fields"]


def test_followers_is_one_snapshot_without_media(warehouse: Warehouse, tmp_path: Path) -> None:
    graph = Graph()
    with client(graph) as instagram:
        fetched = instagram.followers(ACCOUNT)
    fields = graph.requests[0].url.params["fields"]
    assert fields == (
        f"business_discovery.username({HANDLE})"
        "{followers_count,follows_count,media_count,username,name}"
    )
    assert load(warehouse, tmp_path, fetched, "followers") == (0, 0, 1)
    assert warehouse.con.execute(
        "SELECT followers, posts_count FROM account_snapshots"
    ).fetchall() == [(USER["followers_count"], USER["media_count"])]


def test_recount_rewalks_until_every_asked_media_is_seen(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    with client(Graph()) as instagram:
        first = list(instagram.posts(ACCOUNT, SINCE, UNTIL, None))
    for page in first:
        load(warehouse, tmp_path, page, f"p{page.number}")
    asked = [NEWEST_FIRST[1]["id"], RECORDED[0]["id"]]
    graph = Graph()
    with client(graph) as instagram:
        fetched = list(instagram.recount(ACCOUNT, asked))
    assert [ids(f) for f in fetched] == [[asked[0]], [asked[1]]]
    assert [load(warehouse, tmp_path, f, f"r{n}") for n, f in enumerate(fetched)] == [
        (0, 1, 0),
        (0, 1, 0),
    ]
    readings = warehouse.con.execute(
        "SELECT p.platform_post_id, count(*) FROM posts p JOIN post_metrics USING (post_id) "
        "GROUP BY ALL HAVING count(*) > 1 ORDER BY 1"
    ).fetchall()
    assert readings == sorted((i, 2) for i in asked)


def test_recount_stops_as_soon_as_all_are_found() -> None:
    graph = Graph()
    with client(graph) as instagram:
        fetched = list(instagram.recount(ACCOUNT, [NEWEST_FIRST[0]["id"]]))
    assert len(fetched) == 1 and len(graph.requests) == 1


def test_recount_of_a_deleted_media_stops_at_the_page_limit() -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        cursor = re.search(r"\.after\(c(\d+)\)", request.url.params["fields"])
        n = int(cursor.group(1)) if cursor else 0
        user = {"id": USER["id"], "username": HANDLE}
        return httpx.Response(200, json=discovery(user, RECORDED, f"c{n + 1}"))

    calls: list[httpx.Request] = []

    def counted(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return endless(request)

    instagram = InstagramClient(
        {"instagram_token": TOKEN, "instagram_user_id": ME},
        base_url=ROOT,
        transport=httpx.MockTransport(counted),
        recount_pages=4,
    )
    with instagram:
        assert list(instagram.recount(ACCOUNT, ["17800000000000000"])) == []
    assert len(calls) == 4


@pytest.mark.parametrize(
    ("account", "token", "said"),
    [
        (AccountRef(2, "instagram", None, "nosuchaccount"), TOKEN, "unknown or not visible"),
        (ACCOUNT, "IGQVJexpiredTOKEN987654", "access token has expired"),
    ],
)
def test_a_terminal_error_names_the_account_and_never_the_token(
    account: AccountRef, token: str, said: str
) -> None:
    graph = Graph()
    with client(graph, token) as instagram, pytest.raises(TerminalSourceError) as caught:
        list(instagram.posts(account, SINCE, UNTIL, None))
    error = caught.value
    assert len(graph.requests) == 1
    assert account.describe() in error.message and said in error.message
    assert "Fix:" in error.message
    assert error.url is not None and "access_token" not in error.url
    assert token not in error.message and token not in error.url


def test_a_username_business_discovery_cannot_find_is_that_account_unknown() -> None:
    """A username that does not exist or is a personal account: 400, code 110 subcode 2207013
    (as the fake Graph server and public business-discovery clients meet it)."""
    no_such_user = json.loads((FIXTURES.parent / "facebook" / "no_such_user.json").read_text())
    graph = Graph()

    def handler(request: httpx.Request) -> httpx.Response:
        if "username(dinas.pribadi)" in request.url.params.get("fields", ""):
            graph.requests.append(request)
            return httpx.Response(400, json=no_such_user)
        return graph(request)

    personal = AccountRef(4, "instagram", None, "dinas.pribadi")
    with client(handler) as instagram:
        with pytest.raises(TerminalSourceError) as caught:
            instagram.followers(personal)
        assert json.loads(instagram.followers(ACCOUNT).body)["business_discovery"]  # others go on
    text = caught.value.message
    assert text.startswith("Instagram (instagram account @dinas.pribadi): ")
    assert "the account is unknown or not visible" in text and "code 110" in text
    assert "Business and Creator accounts" in text and "govsocial bug" not in text
    assert len(graph.requests) == 2 and TOKEN not in text


def test_an_account_without_a_usable_handle_is_terminal_without_a_call() -> None:
    graph = Graph()
    with client(graph) as instagram, pytest.raises(TerminalSourceError) as caught:
        instagram.followers(AccountRef(3, "instagram", "17841400000000001", None))
    assert "instagram account id 17841400000000001" in caught.value.message
    assert "handle" in caught.value.message and graph.requests == []


@pytest.mark.parametrize("missing", ["instagram_token", "instagram_user_id"])
def test_a_missing_credential_is_a_config_error_naming_the_setting(missing: str) -> None:
    credentials = {"instagram_token": TOKEN, "instagram_user_id": ME}
    del credentials[missing]
    with pytest.raises(ConfigError) as caught:
        InstagramClient(credentials, base_url=ROOT)
    assert f"GOVSOCIAL_{missing.upper()}" in caught.value.message
    assert missing in caught.value.message
