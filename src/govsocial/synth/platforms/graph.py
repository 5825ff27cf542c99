"""The Graph API for Facebook Pages and Instagram, mounted at ``<root>/graph/v21.0`` (real
root ``https://graph.facebook.com/v21.0``), in the shapes of tests/fixtures/facebook/ and
tests/fixtures/instagram/.

Facebook (https://developers.facebook.com/docs/graph-api/reference/page,
https://developers.facebook.com/docs/graph-api/reference/page/feed):

- ``GET /{page-id or username}?fields=id,name,username,fan_count,followers_count``;
- ``GET /{page-id}/posts`` (also ``/feed``, ``/published_posts``) with ``fields`` (field
  expansion: ``reactions.summary(total_count)``, ``...type(LIKE)...as(like)``,
  ``comments.summary(true)``, ``shares``, ``attachments{...}``), ``since``/``until`` (Unix
  seconds), ``limit`` (default 25, at most 100) and ``after``; pages carry
  ``paging.cursors`` and, while more remain, ``paging.next``, a URL that repeats the request
  **with its access_token**, as the real API's does (https://developers.facebook.com/docs/graph-api/results);
  an absent ``shares`` means none, as the API leaves out empty fields;
- ``GET /?ids=a,b&fields=...``: several objects keyed by id
  (https://developers.facebook.com/docs/graph-api/guides/field-expansion#multiple-ids).

Instagram (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/business_discovery):
``GET /{ig-user-id}?fields=business_discovery.username(h){followers_count,media_count,
media.limit(n).after(c){id,caption,...}}``, the media paged by ``paging.cursors`` inside.

Errors (https://developers.facebook.com/docs/graph-api/guides/error-handling): 190
``OAuthException`` (token invalid or expired), 100 subcode 33 "does not exist" and 803
(unknown ids), 10 (permission), 110/2207013 (business discovery: no such user), throttling
4 (app), 32 (page) with ``X-App-Usage`` / ``X-Business-Use-Case-Usage`` headers
(https://developers.facebook.com/docs/graph-api/overview/rate-limiting/), 2 (temporary).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from govsocial.synth.platforms.base import (
    FakeApi,
    PeriodCount,
    Reply,
    Request,
    after_cursor,
    cursor_of,
    int_param,
    json_reply,
)
from govsocial.synth.platforms.fields import Field, names, parse_fields
from govsocial.synth.platforms.world import FakeAccount, FakePost

VERSION = "v21.0"
_EDGES = ("posts", "feed", "published_posts")
_PAGE_DEFAULT = "name,id"
_POST_DEFAULT = "created_time,message,id"
_ATTACHMENT = {  # media type → (attachments media_type, type)
    "image": ("photo", "photo"),
    "video": ("video", "video_inline"),
    "link": ("link", "share"),
    "carousel": ("album", "album"),
    "reel": ("video", "video_inline"),
}
_IG_TYPES = {"image": "IMAGE", "video": "VIDEO", "carousel": "CAROUSEL_ALBUM", "reel": "VIDEO"}


def _trace(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:23]


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def error(
    status: int, message: str, code: int, kind: str = "OAuthException", **extra: Any
) -> Reply:
    body = {
        "error": {
            "message": message,
            "type": kind,
            "code": code,
            **extra,
            "fbtrace_id": _trace(message, code),
        }
    }
    return json_reply(status, body)


def _moment(value: str | None) -> float | None:
    """``since``/``until``: Unix seconds, or an ISO date (the API takes strtotime text)."""
    if not value:
        return None
    if value.lstrip("-").isdigit():
        return float(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class Graph(FakeApi):
    mount = f"/graph/{VERSION}"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._calls = PeriodCount(self.context.lock)

    # ---- credentials and usage ----

    def _token(self, request: Request) -> str | None:
        token = request.query.get("access_token")
        header = request.headers.get("authorization", "")
        if not token and header.split(" ", 1)[0].lower() in ("bearer", "oauth"):
            token = header.split(" ", 1)[1].strip() if " " in header else None
        return token

    def authorise(self, request: Request) -> Reply | None:
        token = self._token(request)
        creds = self.context.credentials
        if not token:
            return error(
                400,
                "An active access token must be used to query information about the current user.",
                2500,
            )
        if token not in (creds.facebook_token, creds.instagram_token):
            return error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        return None

    def _usage(self) -> int:
        calls = self._calls.add(int(self.context.now().timestamp() // 3600))
        return min(100, calls * 100 // self.context.limits.graph_hourly_calls)

    def decorate(self, request: Request, reply: Reply) -> None:
        percent = self._usage()
        usage = {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
        reply.headers.setdefault("X-App-Usage", json.dumps(usage))
        account = self.account_of(request)
        if (
            account is not None
            and account.platform_id
            and "X-Business-Use-Case-Usage" not in reply.headers
        ):
            kind = "pages" if account.platform == "facebook" else "instagram"
            entry = {
                "type": kind,
                "call_count": percent,
                "total_cputime": percent // 2,
                "total_time": percent // 2,
                "estimated_time_to_regain_access": 0,
            }
            reply.headers["X-Business-Use-Case-Usage"] = json.dumps({account.platform_id: [entry]})

    # ---- what a request is about ----

    def _segments(self, request: Request) -> list[str]:
        return [s for s in request.path.split("/") if s]

    def _discovery(self, request: Request) -> Field | None:
        try:
            fields = parse_fields(request.query.get("fields", ""))
        except ValueError:
            return None
        return next((f for f in fields if f.name == "business_discovery"), None)

    def _facebook(self, key: str) -> FakeAccount | None:
        account = self.world.account("facebook", key)
        if account is None and "_" in key:
            account = self.world.account("facebook", key.split("_", 1)[0])
        return account

    def account_of(self, request: Request) -> FakeAccount | None:
        segments = self._segments(request)
        discovery = self._discovery(request)
        if discovery is not None:
            return self.world.account("instagram", discovery.modifiers.get("username", ""))
        if not segments:
            first = request.query.get("ids", "").split(",")[0]
            return self._facebook(first) if first else None
        return self._facebook(segments[0])

    # ---- routes ----

    def serve(self, request: Request) -> Reply:
        segments = self._segments(request)
        try:
            fields = parse_fields(request.query.get("fields", "") or "id")
        except ValueError as exc:
            return error(400, f"(#100) Syntax error in fields: {exc}", 100)
        if not segments:
            return self._many(request)
        if len(segments) == 2 and segments[1] in _EDGES:
            account = self._facebook(segments[0])
            if account is None:
                return self._unknown(segments[0])
            return self._posts(request, account, segments[1])
        if len(segments) != 1:
            return error(400, f"(#100) Unknown path components: /{'/'.join(segments[1:])}", 100)
        discovery = next((f for f in fields if f.name == "business_discovery"), None)
        if discovery is not None:
            if segments[0] != self.context.credentials.instagram_user_id:
                return self._unknown(segments[0])
            return self._business_discovery(segments[0], discovery)
        obj = self._object(segments[0], request)
        return obj if isinstance(obj, Reply) else json_reply(200, obj)

    def _requested(self, request: Request, default: str) -> list[Field]:
        return parse_fields(request.query.get("fields") or default)

    def _object(self, key: str, request: Request) -> dict[str, Any] | Reply:
        account = self.world.account("facebook", key)
        if account is not None:
            return self._page(account, self._requested(request, _PAGE_DEFAULT))
        if "_" in key:
            owner = self._facebook(key)
            post = (
                next((p for p in owner.visible(self.context.now()) if p.platform_id == key), None)
                if owner
                else None
            )
            if owner is not None and post is not None:
                return self._post(owner, post, self._requested(request, _POST_DEFAULT))
        return self._unknown(key)

    def _unknown(self, key: str) -> Reply:
        return error(
            400,
            f"Unsupported get request. Object with ID '{key}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation. Please read the "
            "Graph API documentation at https://developers.facebook.com/docs/graph-api",
            100,
            "GraphMethodException",
            error_subcode=33,
        )

    def _many(self, request: Request) -> Reply:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            return error(400, "(#100) Missing required parameter: ids", 100)
        found: dict[str, Any] = {}
        missing = []
        for key in ids:
            obj = self._object(key, request)
            if isinstance(obj, Reply):
                missing.append(key)
            else:
                found[key] = obj
        if missing:
            message = f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}"
            return error(404, message, 803)
        return json_reply(200, found)

    def _page(self, account: FakeAccount, fields: list[Field]) -> dict[str, Any]:
        followers = account.followers(self.context.now())
        values = {
            "id": account.platform_id,
            "name": account.name,
            "username": account.handle,
            "followers_count": followers,
            "fan_count": int(followers * 0.93),
            "category": "Government organization",
            "link": f"https://www.facebook.com/{account.handle}",
        }
        page = {f.key: values[f.name] for f in fields if f.name in values}
        page["id"] = account.platform_id
        return page

    def _posts(self, request: Request, account: FakeAccount, edge: str) -> Reply:
        q = request.query
        limit = min(max(int_param(q, "limit", 25), 1), 100)
        since, until = _moment(q.get("since")), _moment(q.get("until"))
        now = self.context.now()
        chosen = [
            p
            for p in account.visible(now)
            if (since is None or p.posted_at.timestamp() >= since)
            and (until is None or p.posted_at.timestamp() < until)
        ]
        try:
            rest = after_cursor(chosen, q.get("after"))
        except ValueError:
            return error(400, "(#100) The after cursor is not valid", 100)
        page = rest[:limit]
        if not q.get("after"):
            self.context.first_page_served(account)
        fields = self._requested(request, _POST_DEFAULT)
        body: dict[str, Any] = {"data": [self._post(account, p, fields) for p in page]}
        if page:
            paging: dict[str, Any] = {
                "cursors": {"before": cursor_of(page[0]), "after": cursor_of(page[-1])}
            }
            if len(rest) > limit:
                params = {k: v for k, v in q.items() if k != "after"}
                params.update(
                    access_token=self._token(request) or "",
                    limit=str(limit),
                    after=cursor_of(page[-1]),
                )
                base = f"{self.context.root}{self.mount}/{account.platform_id}/{edge}"
                paging["next"] = f"{base}?{urlencode(params)}"
            body["paging"] = paging
        return json_reply(200, body)

    def _post(self, account: FakeAccount, post: FakePost, fields: list[Field]) -> dict[str, Any]:
        counts = post.counts(self.context.now())
        loves = counts.likes // 10
        out: dict[str, Any] = {}
        for f in fields:
            if f.name == "id":
                out["id"] = post.platform_id
            elif f.name == "created_time":
                out[f.key] = _time(post.posted_at)
            elif f.name == "message":
                out[f.key] = post.text
            elif f.name == "permalink_url":
                out[f.key] = (
                    f"https://www.facebook.com/{account.platform_id}/posts/{post.platform_id.split('_')[1]}"
                )
            elif f.name == "status_type":
                out[f.key] = (
                    "added_photos" if post.media_type == "image" else "mobile_status_update"
                )
            elif f.name == "from":
                out[f.key] = {"name": account.name, "id": account.platform_id}
            elif f.name == "attachments" and post.media_type in _ATTACHMENT:
                media, kind = _ATTACHMENT[post.media_type]
                out[f.key] = {
                    "data": [
                        {
                            "media_type": media,
                            "type": kind,
                            "url": f"https://www.facebook.com/{post.platform_id}",
                        }
                    ]
                }
            elif f.name in ("reactions", "likes"):
                kind = f.modifiers.get("type", "").upper()
                total = {"": counts.likes + loves, "LIKE": counts.likes, "LOVE": loves}.get(kind, 0)
                if f.name == "likes":
                    total = counts.likes
                out[f.key] = self._edge(total, f, {"viewer_reaction": "NONE"})
            elif f.name == "comments":
                out[f.key] = self._edge(
                    counts.comments, f, {"order": "ranked", "can_comment": False}
                )
            elif f.name == "shares" and counts.shares:  # absent when nobody shared
                out[f.key] = {"count": counts.shares}
        out.setdefault("id", post.platform_id)
        return out

    def _edge(self, total: int, f: Field, extra: dict[str, Any]) -> dict[str, Any]:
        edge: dict[str, Any] = {"data": []}
        if "summary" in f.modifiers:
            edge["summary"] = {"total_count": total, **extra}
        return edge

    # ---- Instagram business discovery ----

    def _business_discovery(self, me: str, discovery: Field) -> Reply:
        username = discovery.modifiers.get("username", "")
        account = self.world.account("instagram", username)
        if account is None:
            return self._no_user(username)
        now = self.context.now()
        visible = account.visible(now)
        values = {
            "id": account.platform_id,
            "username": account.handle,
            "name": account.name,
            "followers_count": account.followers(now),
            "follows_count": 120,
            "media_count": len(visible),
            "biography": f"Akun resmi {account.name}",
        }
        found: dict[str, Any] = {}
        for f in discovery.sub or []:
            if f.name == "media":
                media = self._media(account, f)
                if isinstance(media, Reply):
                    return media
                found[f.key] = media
            elif f.name in values:
                found[f.key] = values[f.name]
        found["id"] = account.platform_id
        return json_reply(200, {"business_discovery": found, "id": me})

    def _no_user(self, username: str) -> Reply:
        return error(
            400,
            "Invalid user id",
            110,
            error_subcode=2207013,
            is_transient=False,
            error_user_title="Cannot find User",
            error_user_msg=f"The user with username: {username} cannot be found.",
        )

    def _media(self, account: FakeAccount, f: Field) -> dict[str, Any] | Reply:
        limit = min(max(int(f.modifiers.get("limit", "25") or 25), 1), 100)
        after = f.modifiers.get("after")
        try:
            rest = after_cursor(account.visible(self.context.now()), after)
        except ValueError:
            return error(400, "(#100) The after cursor is not valid", 100)
        page = rest[:limit]
        if not after:
            self.context.first_page_served(account)
        wanted = names(f.sub) or {"id"}
        body: dict[str, Any] = {"data": [self._ig_media(account, p, wanted) for p in page]}
        if page:
            cursors = {"before": cursor_of(page[0])}
            if len(rest) > limit:
                cursors["after"] = cursor_of(page[-1])
            body["paging"] = {"cursors": cursors}
        return body

    def _ig_media(self, account: FakeAccount, post: FakePost, wanted: set[str]) -> dict[str, Any]:
        counts = post.counts(self.context.now())
        code = post.platform_id[-11:]
        kind = "reel" if post.media_type == "reel" else "p"
        values: dict[str, Any] = {
            "id": post.platform_id,
            "caption": post.text,
            "comments_count": counts.comments,
            "like_count": counts.likes,
            "media_type": _IG_TYPES.get(post.media_type, "IMAGE"),
            "media_product_type": "REELS" if post.media_type == "reel" else "FEED",
            "permalink": f"https://www.instagram.com/{kind}/{code}/",
            "timestamp": _time(post.posted_at),
            "username": account.handle,
        }
        media = {k: v for k, v in values.items() if k in wanted}
        if "children" in wanted and post.media_type == "carousel":
            media["children"] = {"data": [{"id": f"{post.platform_id}{n}"} for n in (1, 2)]}
        media["id"] = post.platform_id
        return media

    # ---- faults in the Graph API's shapes ----

    def rate_limited(self, request: Request, reset: datetime) -> Reply:
        minutes = max(math.ceil((reset - self.context.now()).total_seconds() / 60), 1)
        account = self.account_of(request)
        if account is not None and account.platform == "facebook" and account.platform_id:
            reply = error(400, "(#32) Page request limit reached", 32, is_transient=True)
            entry = {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 40,
                "total_time": 60,
                "estimated_time_to_regain_access": minutes,
            }
            reply.headers["X-Business-Use-Case-Usage"] = json.dumps({account.platform_id: [entry]})
            return reply
        reply = error(400, "(#4) Application request limit reached", 4, is_transient=True)
        reply.headers["X-App-Usage"] = json.dumps(
            {"call_count": 100, "total_cputime": 40, "total_time": 60}
        )
        return reply

    def server_error(self, request: Request) -> Reply:
        return error(
            500,
            "An unexpected error has occurred. Please retry your request later.",
            2,
            is_transient=True,
        )

    def expired(self, request: Request) -> Reply:
        stamp = self.context.now().strftime("%A, %d-%b-%y %H:%M:%S")
        return error(
            400,
            f"Error validating access token: Session has expired on {stamp} PDT.",
            190,
            error_subcode=463,
        )

    def not_found(self, request: Request, account: FakeAccount) -> Reply:
        if account.platform == "instagram":
            return self._no_user(account.handle)
        return self._unknown(account.platform_id or account.handle)

    def forbidden(self, request: Request, account: FakeAccount) -> Reply:
        if account.platform == "instagram":
            return error(403, "(#10) Application does not have permission for this action", 10)
        message = (
            "(#10) This endpoint requires the 'pages_read_engagement' permission or the "
            "'Page Public Content Access' feature."
        )
        return error(403, message, 10)
