"""The X API v2, mounted at ``<root>/x`` (real root ``https://api.x.com``), in the shapes of
tests/fixtures/x/ (https://docs.x.com/x-api/fundamentals/data-dictionary).

- ``GET /2/users/by/username/:username`` and ``GET /2/users/:id`` with ``user.fields``
  (``public_metrics``: followers_count, following_count, tweet_count, listed_count);
- ``GET /2/users/:id/tweets`` with ``start_time``/``end_time`` (RFC 3339), ``max_results``
  (5-100, default 10), ``pagination_token`` → ``meta.next_token``, ``tweet.fields``,
  ``expansions=author_id,attachments.media_keys`` → ``includes.users``/``includes.media``
  (https://docs.x.com/x-api/posts/timelines/introduction, https://docs.x.com/x-api/fundamentals/pagination);
- ``GET /2/tweets?ids=`` (at most 100).

A bearer token in ``Authorization``; without a good one, 401 ``Unauthorized``. Every
response carries ``x-rate-limit-limit``/``-remaining``/``-reset`` (Unix seconds) for its
endpoint's 15-minute window; past the limit, 429 (https://docs.x.com/fundamentals/rate-limits).
An unknown account is a 200 answer holding only ``errors`` (``Not Found Error``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from govsocial.synth.platforms.base import (
    FakeApi,
    Reply,
    Request,
    after_cursor,
    cursor_of,
    int_param,
    json_reply,
)
from govsocial.synth.platforms.world import FakeAccount, FakePost

_PROBLEMS = "https://api.twitter.com/2/problems"
_NUMBER = re.compile(r"/\d+(?=/|$)")
_TAG = re.compile(r"#(\w+)")
_MENTION = re.compile(r"@(\w+)")
_URL = re.compile(r"https?://\S+")
_MEDIA_KEY = {"image": "3", "video": "7"}


def problem(status: int, title: str, detail: str | None = None) -> Reply:
    body = {"title": title, "detail": detail or title, "type": "about:blank", "status": status}
    return json_reply(status, body)


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _fields(request: Request, name: str) -> set[str]:
    return {f for f in request.query.get(name, "").split(",") if f}


class X(FakeApi):
    mount = "/x"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._windows: dict[str, tuple[int, int]] = {}  # endpoint → (window start, used)

    # ---- credentials and rate limits ----

    def authorise(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.context.credentials.x_bearer_token:
            return problem(401, "Unauthorized")
        _, remaining, reset = self._window(request, take=True)
        if remaining < 0:
            return self.rate_limited(request, datetime.fromtimestamp(reset, UTC))
        return None

    def _window(self, request: Request, take: bool = False) -> tuple[int, int, int]:
        limits = self.context.limits
        endpoint = _NUMBER.sub("/:id", request.path)
        if "/by/username/" in endpoint:  # one window for the endpoint, not per username
            endpoint = "/2/users/by/username/:username"
        now = int(self.context.now().timestamp())
        with self.context.lock:
            start, used = self._windows.get(endpoint, (now, 0))
            if now >= start + limits.x_window_s:
                start, used = now, 0
            if take:
                used += 1
            self._windows[endpoint] = (start, used)
        return limits.x_window_requests, limits.x_window_requests - used, start + limits.x_window_s

    def decorate(self, request: Request, reply: Reply) -> None:
        limit, remaining, reset = self._window(request)
        reply.headers.setdefault("x-rate-limit-limit", str(limit))
        reply.headers.setdefault("x-rate-limit-remaining", str(max(remaining, 0)))
        reply.headers.setdefault("x-rate-limit-reset", str(reset))

    # ---- routes ----

    def _parts(self, request: Request) -> list[str]:
        return [s for s in request.path.split("/") if s]

    def account_of(self, request: Request) -> FakeAccount | None:
        parts = self._parts(request)
        if parts[:3] == ["2", "users", "by"] and len(parts) >= 5:
            return self.world.account("x", parts[4])
        if parts[:2] == ["2", "users"] and len(parts) >= 3:
            return self.world.account("x", parts[2])
        return None

    def serve(self, request: Request) -> Reply:
        parts = self._parts(request)
        if parts[:4] == ["2", "users", "by", "username"] and len(parts) == 5:
            return self._user(request, parts[4], "username")
        if parts[:2] == ["2", "users"] and len(parts) == 3:
            return self._user(request, parts[2], "id")
        if parts[:2] == ["2", "users"] and len(parts) == 4 and parts[3] == "tweets":
            return self._timeline(request, parts[2])
        if parts == ["2", "tweets"]:
            return self._lookup(request)
        return problem(404, "Not Found Error", f"The route /{'/'.join(parts)} does not exist")

    def _not_found(self, value: str, parameter: str) -> dict[str, Any]:
        what = "username" if parameter == "username" else "id"
        return {
            "value": value,
            "detail": f"Could not find user with {what}: [{value}].",
            "title": "Not Found Error",
            "resource_type": "user",
            "parameter": parameter,
            "resource_id": value,
            "type": f"{_PROBLEMS}/resource-not-found",
        }

    def _user_object(self, account: FakeAccount, fields: set[str]) -> dict[str, Any]:
        now = self.context.now()
        user: dict[str, Any] = {
            "id": account.platform_id,
            "name": account.name,
            "username": account.handle,
        }
        if "public_metrics" in fields:
            user["public_metrics"] = {
                "followers_count": account.followers(now),
                "following_count": 120,
                "tweet_count": len(account.visible(now)),
                "listed_count": 10,
            }
        if "created_at" in fields:
            user["created_at"] = _time(account.created)
        if "description" in fields:
            user["description"] = f"Akun resmi {account.name}"
        return user

    def _user(self, request: Request, key: str, parameter: str) -> Reply:
        account = self.world.account("x", key)
        if account is None:
            return json_reply(200, {"errors": [self._not_found(key, parameter)]})
        return json_reply(
            200, {"data": self._user_object(account, _fields(request, "user.fields"))}
        )

    def _tweet(self, account: FakeAccount, post: FakePost, fields: set[str]) -> dict[str, Any]:
        counts = post.counts(self.context.now())
        tweet: dict[str, Any] = {
            "id": post.platform_id,
            "text": post.text,
            "edit_history_tweet_ids": [post.platform_id],
        }
        if "created_at" in fields:
            tweet["created_at"] = _time(post.posted_at)
        if "author_id" in fields:
            tweet["author_id"] = account.platform_id
        if "conversation_id" in fields:
            tweet["conversation_id"] = post.platform_id
        if "public_metrics" in fields:
            tweet["public_metrics"] = {
                "retweet_count": counts.shares,
                "reply_count": counts.comments,
                "like_count": counts.likes,
                "quote_count": counts.shares // 4,
                "bookmark_count": counts.likes // 20,
                "impression_count": max(counts.views, counts.likes * 12),
            }
        if "attachments" in fields and post.media_type in _MEDIA_KEY:
            tweet["attachments"] = {"media_keys": [self._media_key(post)]}
        if "entities" in fields:
            tweet["entities"] = self._entities(post.text)
        return tweet

    def _media_key(self, post: FakePost) -> str:
        return f"{_MEDIA_KEY[post.media_type]}_{post.platform_id}"

    def _entities(self, text: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        tags = [
            {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _TAG.finditer(text)
        ]
        mentions = [
            {"start": m.start(), "end": m.end(), "username": m.group(1)}
            for m in _MENTION.finditer(text)
        ]
        urls = [
            {
                "start": m.start(),
                "end": m.end(),
                "url": m.group(0),
                "expanded_url": m.group(0),
                "display_url": m.group(0).split("//", 1)[1],
            }
            for m in _URL.finditer(text)
        ]
        for key, value in (("hashtags", tags), ("mentions", mentions), ("urls", urls)):
            if value:
                found[key] = value
        return found

    def _media(self, posts: list[FakePost], fields: set[str]) -> list[dict[str, Any]]:
        media = []
        for post in posts:
            if post.media_type not in _MEDIA_KEY:
                continue
            kind = "photo" if post.media_type == "image" else "video"
            item: dict[str, Any] = {"media_key": self._media_key(post), "type": kind}
            if kind == "video" and "duration_ms" in fields:
                item["duration_ms"] = (post.duration_s or 0) * 1000
            if kind == "video" and "public_metrics" in fields:
                item["public_metrics"] = {"view_count": post.counts(self.context.now()).views}
            media.append(item)
        return media

    def _page(self, request: Request, pairs: list[tuple[FakeAccount, FakePost]]) -> dict[str, Any]:
        tweet_fields = _fields(request, "tweet.fields")
        body: dict[str, Any] = {"data": [self._tweet(a, p, tweet_fields) for a, p in pairs]}
        expansions = _fields(request, "expansions")
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            authors = {a.handle: a for a, _ in pairs}
            user_fields = _fields(request, "user.fields")
            includes["users"] = [self._user_object(a, user_fields) for a in authors.values()]
        if "attachments.media_keys" in expansions:
            media = self._media([p for _, p in pairs], _fields(request, "media.fields"))
            if media:
                includes["media"] = media
        if includes:
            body["includes"] = includes
        return body

    def _timeline(self, request: Request, user_id: str) -> Reply:
        account = self.world.account("x", user_id)
        if account is None:
            return json_reply(200, {"errors": [self._not_found(user_id, "id")]})
        q = request.query
        size = int_param(q, "max_results", 10)
        if not 5 <= size <= 100:
            detail = f"The `max_results` query parameter value [{size}] is not between 5 and 100"
            return json_reply(
                400,
                {
                    "errors": [{"parameters": {"max_results": [str(size)]}, "message": detail}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": f"{_PROBLEMS}/invalid-request",
                },
            )
        start, end = _moment(q.get("start_time")), _moment(q.get("end_time"))
        chosen = [
            p
            for p in account.visible(self.context.now())
            if (start is None or p.posted_at >= start) and (end is None or p.posted_at <= end)
        ]
        try:
            rest = after_cursor(chosen, q.get("pagination_token"))
        except ValueError:
            return problem(
                400, "Invalid Request", "The `pagination_token` query parameter value is not valid"
            )
        page = rest[:size]
        if not q.get("pagination_token"):
            self.context.first_page_served(account)
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return json_reply(200, {"meta": meta})
        body = self._page(request, [(account, p) for p in page])
        meta.update(newest_id=page[0].platform_id, oldest_id=page[-1].platform_id)
        if len(rest) > size:
            meta["next_token"] = cursor_of(page[-1])
        body["meta"] = meta
        return json_reply(200, body)

    def _lookup(self, request: Request) -> Reply:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return problem(
                400, "Invalid Request", "The `ids` query parameter value must hold 1 to 100 ids"
            )
        now = self.context.now()
        found: dict[str, tuple[FakeAccount, FakePost]] = {}
        wanted = set(ids)
        for account in self.world.accounts("x"):
            for post in account.visible(now):
                if post.platform_id in wanted:
                    found[post.platform_id] = (account, post)
        body = self._page(request, [found[i] for i in ids if i in found]) if found else {}
        errors = [
            {
                "value": i,
                "detail": f"Could not find tweet with ids: [{i}].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": i,
                "type": f"{_PROBLEMS}/resource-not-found",
            }
            for i in ids
            if i not in found
        ]
        if errors:
            body["errors"] = errors
        return json_reply(200, body)

    # ---- faults in X's shapes ----

    def rate_limited(self, request: Request, reset: datetime) -> Reply:
        reply = problem(429, "Too Many Requests")
        reply.headers.update(
            {
                "x-rate-limit-limit": str(self.context.limits.x_window_requests),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(reset.timestamp())),
            }
        )
        return reply

    def server_error(self, request: Request) -> Reply:
        return problem(503, "Service Unavailable")

    def expired(self, request: Request) -> Reply:
        return problem(401, "Unauthorized")

    def not_found(self, request: Request, account: FakeAccount) -> Reply:
        key = account.platform_id or account.handle
        by_name = "/by/username/" in request.path
        value = account.handle if by_name else key
        return json_reply(
            200, {"errors": [self._not_found(value, "username" if by_name else "id")]}
        )

    def forbidden(self, request: Request, account: FakeAccount) -> Reply:
        error = {
            "value": account.platform_id,
            "detail": "Sorry, you are not authorized to see the user with id: "
            f"[{account.platform_id}].",
            "title": "Authorization Error",
            "resource_type": "user",
            "parameter": "id",
            "resource_id": account.platform_id,
            "type": f"{_PROBLEMS}/not-authorized-for-resource",
        }
        return json_reply(200, {"errors": [error]})
