"""The TikTok Research API, mounted at ``<root>/tiktok`` (real root
``https://open.tiktokapis.com``), in the shapes of tests/fixtures/tiktok/.

- ``POST /v2/oauth/token/`` (form: ``client_key``, ``client_secret``,
  ``grant_type=client_credentials``) → ``{"access_token": "clt.…", "expires_in": 7200,
  "token_type": "Bearer"}`` (https://developers.tiktok.com/doc/client-access-token-management);
- ``POST /v2/research/video/query/?fields=…`` with a JSON body ``{"query": {"and":
  [{"operation": "IN", "field_name": "username", "field_values": ["h"]}]}, "start_date":
  "20250101", "end_date": "20250130", "max_count": 100, "cursor": 0, "search_id": "…"}``:
  dates ``YYYYMMDD`` (UTC, both included) at most 30 days apart, ``max_count`` at most 100,
  else 400 ``invalid_params``; the answer's ``data`` holds ``videos``, ``cursor``,
  ``search_id`` and ``has_more``. A ``search_id`` keeps the result set of its first page, so
  later pages are read from the same list (https://developers.tiktok.com/doc/research-api-specs-query-videos);
- ``POST /v2/research/user/info/?fields=…`` with ``{"username": "h"}``
  (https://developers.tiktok.com/doc/research-api-specs-query-user-info).

Every answer carries ``error`` (``{"code": "ok", "message": "", "log_id": …}`` on success;
https://developers.tiktok.com/doc/tiktok-api-v2-error-handling). Research requests count
against a daily limit (1,000 by default, reset at midnight UTC,
https://developers.tiktok.com/doc/research-api-faq); past it, 429
``daily_quota_limit_exceeded``.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from govsocial.synth.platforms.base import FakeApi, PeriodCount, Reply, Request, json_reply
from govsocial.synth.platforms.world import FakeAccount, FakePost

MAX_DAYS = 30
_DEFAULT_FIELDS = "id,create_time"


def _log_id(now: datetime, *parts: object) -> str:
    digest = hashlib.sha1(repr(parts).encode()).hexdigest()[:18].upper()
    return now.strftime("%Y%m%d%H%M%S") + digest


def _ok(now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": _log_id(now, data)}}


class TikTok(FakeApi):
    mount = "/tiktok"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._tokens: dict[str, datetime] = {}  # access token → expiry
        self._searches: dict[str, list[FakePost]] = {}
        self._search_ids = itertools.count(7_354_367_454_467_855_403)
        self._requests = PeriodCount(self.context.lock)

    def fail(self, status: int, code: str, message: str) -> Reply:
        now = self.context.now()
        body = {
            "data": {},
            "error": {"code": code, "message": message, "log_id": _log_id(now, code, message)},
        }
        return json_reply(status, body)

    # ---- the client access token ----

    def open_path(self, request: Request) -> bool:
        return request.path.rstrip("/") == "/v2/oauth/token"

    def _token(self, request: Request) -> Reply:
        form = request.body if isinstance(request.body, dict) else {}
        creds, now = self.context.credentials, self.context.now()
        if form.get("grant_type") != "client_credentials":
            return json_reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "The grant_type must be client_credentials.",
                    "log_id": _log_id(now, "grant"),
                },
            )
        if (form.get("client_key"), form.get("client_secret")) != (
            creds.tiktok_client_key,
            creds.tiktok_client_secret,
        ):
            return json_reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client key or secret is incorrect.",
                    "log_id": _log_id(now, "client"),
                },
            )
        lifetime = self.context.limits.tiktok_token_lifetime_s
        with self.context.lock:
            token = (
                f"clt.fake{len(self._tokens) + 1:04d}"
                + hashlib.sha1(f"{now}{len(self._tokens)}".encode()).hexdigest()[:24]
            )
            self._tokens[token] = now + timedelta(seconds=lifetime)
        return json_reply(
            200, {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}
        )

    def authorise(self, request: Request) -> Reply | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or expiry <= self.context.now():
            return self.expired(request)
        return self._count()

    def _count(self) -> Reply | None:
        today = self.context.now().date()
        if self._requests.add(today) > self.context.limits.tiktok_daily_requests:
            return self.fail(429, "daily_quota_limit_exceeded", "Daily quota limit exceeded")
        return None

    # ---- routes ----

    def _username(self, request: Request) -> str | None:
        body = request.body if isinstance(request.body, dict) else {}
        if request.path.rstrip("/") == "/v2/research/user/info":
            name = body.get("username")
            return name if isinstance(name, str) else None
        query = body.get("query")
        for group in ("and", "or"):
            for condition in (query or {}).get(group, []) if isinstance(query, dict) else []:
                if isinstance(condition, dict) and condition.get("field_name") == "username":
                    values = condition.get("field_values") or []
                    return str(values[0]) if values else None
        return None

    def account_of(self, request: Request) -> FakeAccount | None:
        name = self._username(request)
        return self.world.account("tiktok", name) if name else None

    def serve(self, request: Request) -> Reply:
        path = request.path.rstrip("/")
        if request.method != "POST":
            return self.fail(405, "invalid_params", f"{request.method} is not allowed: use POST")
        if path == "/v2/oauth/token":
            return self._token(request)
        if path == "/v2/research/video/query":
            return self._videos(request)
        if path == "/v2/research/user/info":
            return self._user(request)
        return self.fail(404, "invalid_params", f"No such endpoint: {path}/")

    def _fields(self, request: Request) -> set[str]:
        return {f for f in (request.query.get("fields") or _DEFAULT_FIELDS).split(",") if f}

    def _day_param(self, body: dict[str, Any], name: str) -> date | None:
        value = body.get(name)
        try:
            return datetime.strptime(str(value), "%Y%m%d").date() if value else None
        except ValueError:
            return None

    def _videos(self, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        start, end = self._day_param(body, "start_date"), self._day_param(body, "end_date")
        if start is None or end is None:
            return self.fail(
                400, "invalid_params", "start_date and end_date are required, as YYYYMMDD"
            )
        if end < start or (end - start).days > MAX_DAYS:
            message = f"The end_date must be no more than {MAX_DAYS} days after the start_date"
            return self.fail(400, "invalid_params", message)
        count = body.get("max_count", 20)
        if not isinstance(count, int) or not 1 <= count <= 100:
            return self.fail(400, "invalid_params", "max_count must be between 1 and 100")
        cursor = body.get("cursor", 0)
        if not isinstance(cursor, int) or cursor < 0:
            return self.fail(400, "invalid_params", "cursor must be a non-negative integer")
        search_id = body.get("search_id")
        username = self._username(request)
        account = self.world.account("tiktok", username) if username else None
        if search_id:
            found = self._searches.get(str(search_id))
            if found is None:
                return self.fail(400, "invalid_params", "The search_id is not valid")
        else:
            everyone = self.world.accounts("tiktok") if username is None else []
            found = self._search([account] if account else everyone, start, end)
            search_id = str(next(self._search_ids))
            self._searches[search_id] = found
            if account is not None:
                self.context.first_page_served(account)
        page = found[cursor : cursor + count]
        fields = self._fields(request)
        owners = {a.handle: a for a in self.world.accounts("tiktok")}
        videos = [self._video(self._owner(post, account, owners), post, fields) for post in page]
        data = {
            "videos": videos,
            "cursor": cursor + len(page),
            "search_id": search_id,
            "has_more": cursor + len(page) < len(found),
        }
        return json_reply(200, _ok(self.context.now(), data))

    def _search(self, accounts: list[FakeAccount], start: date, end: date) -> list[FakePost]:
        """The videos of ``accounts`` published on the days ``start`` to ``end`` (UTC)."""
        now = self.context.now()
        since = datetime(start.year, start.month, start.day, tzinfo=UTC)
        until = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
        return [p for a in accounts for p in a.visible(now) if since <= p.posted_at < until]

    def _owner(
        self, post: FakePost, account: FakeAccount | None, owners: dict[str, FakeAccount]
    ) -> FakeAccount:
        if account is not None:
            return account
        return next(a for a in owners.values() if post in a.posts)

    def _video(self, account: FakeAccount, post: FakePost, fields: set[str]) -> dict[str, Any]:
        counts = post.counts(self.context.now())
        values: dict[str, Any] = {
            "id": int(post.platform_id),
            "create_time": int(post.posted_at.timestamp()),
            "username": account.handle,
            "region_code": "ID",
            "video_description": post.text,
            "hashtag_names": post.hashtags,
            "view_count": counts.views,
            "like_count": counts.likes,
            "comment_count": counts.comments,
            "share_count": counts.shares,
            "video_duration": post.duration_s or 0,
        }
        return {k: v for k, v in values.items() if k in fields}

    def _user(self, request: Request) -> Reply:
        account = self.account_of(request)
        if account is None:
            return self.not_found(request, None)
        now = self.context.now()
        values: dict[str, Any] = {
            "display_name": account.name,
            "bio_description": f"Akun resmi {account.name}",
            "avatar_url": f"https://p16-sign.tiktokcdn.com/{account.handle}.jpeg",
            "is_verified": True,
            "follower_count": account.followers(now),
            "following_count": 45,
            "likes_count": sum(p.counts(now).likes for p in account.visible(now)),
            "video_count": len(account.visible(now)),
        }
        fields = self._fields(request)
        return json_reply(200, _ok(now, {k: v for k, v in values.items() if k in fields}))

    # ---- faults in TikTok's shapes ----

    def rate_limited(self, request: Request, reset: datetime) -> Reply:
        return self.fail(429, "rate_limit_exceeded", "API rate limit exceeded, please retry later.")

    def server_error(self, request: Request) -> Reply:
        return self.fail(500, "internal_error", "Something went wrong. Please try again later.")

    def expired(self, request: Request) -> Reply:
        return self.fail(
            401, "access_token_invalid", "Access token is invalid, please refresh token and retry"
        )

    def not_found(self, request: Request, account: FakeAccount | None) -> Reply:
        if request.path.rstrip("/") == "/v2/research/video/query":  # a gone account: no videos
            now = self.context.now()
            data = {
                "videos": [],
                "cursor": 0,
                "search_id": str(next(self._search_ids)),
                "has_more": False,
            }
            return json_reply(200, _ok(now, data))
        return self.fail(400, "invalid_params", "The user does not exist or is not public")

    def forbidden(self, request: Request, account: FakeAccount) -> Reply:
        return self.fail(
            403,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        )
