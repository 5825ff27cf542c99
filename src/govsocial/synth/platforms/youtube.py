"""The YouTube Data API v3, mounted at ``<root>/youtube/v3`` (real root
``https://www.googleapis.com/youtube/v3``), in the shapes of tests/fixtures/youtube/.

- ``GET /channels?part=snippet,statistics,contentDetails&id=UC…,UC…`` or ``&forHandle=@h``
  (https://developers.google.com/youtube/v3/docs/channels/list): counts are **strings**,
  ``contentDetails.relatedPlaylists.uploads`` names the uploads playlist; an unknown
  channel is a 200 answer without ``items``;
- ``GET /playlistItems?part=snippet,contentDetails&playlistId=UU…&maxResults=50&pageToken=…``
  (https://developers.google.com/youtube/v3/docs/playlistItems/list): newest first,
  ``maxResults`` 0-50 (default 5), ``nextPageToken`` until the last page; an unknown
  playlist is 404 ``playlistNotFound``;
- ``GET /videos?part=snippet,statistics,contentDetails&id=a,b,…`` (at most 50 ids,
  https://developers.google.com/youtube/v3/docs/videos/list).

The key goes in ``key=``; a missing one is 403 ``forbidden``, a wrong one 400 "API key not
valid" (``API_KEY_INVALID``). Each call costs 1 unit of the daily quota
(https://developers.google.com/youtube/v3/determine_quota_cost), which resets at midnight
Pacific time; past it, 403 ``quotaExceeded``. Errors: https://developers.google.com/youtube/v3/docs/errors
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
from govsocial.synth.platforms.world import FakeAccount, FakePost

PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_MESSAGE = (
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)


def _etag(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:27]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds: int | None) -> str:
    total = seconds or 0
    minutes, secs = divmod(total, 60)
    return f"PT{minutes}M{secs}S" if minutes else f"PT{secs}S"


def _snippet(account: FakeAccount, post: FakePost) -> dict[str, Any]:
    """What the snippets of a video and of its uploads playlist item both say of it (an
    upload's playlist item is published with it)."""
    title, _, description = post.text.partition(" #")
    return {
        "publishedAt": _time(post.posted_at),
        "channelId": account.platform_id,
        "title": title,
        "description": "#" + description,
        "channelTitle": account.name,
    }


def error(
    status: int, message: str, reason: str, domain: str = "global", **extra: Any
) -> dict[str, Any]:
    """Google's error envelope (tests/fixtures/youtube/quota_exceeded.json)."""
    inner: dict[str, Any] = {
        "code": status,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason, **extra}],
    }
    status_names = {
        400: "INVALID_ARGUMENT",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        503: "UNAVAILABLE",
    }
    if status in status_names:
        inner["status"] = status_names[status]
    return {"error": inner}


def _key_error(message: str, detail: str) -> Reply:
    body = error(400, message, "badRequest")
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": detail,
            "domain": "googleapis.com",
            "metadata": {"service": "youtube.googleapis.com"},
        }
    ]
    return json_reply(400, body)


class YouTube(FakeApi):
    mount = "/youtube/v3"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._units = PeriodCount(self.context.lock)

    # ---- credentials and quota ----

    def authorise(self, request: Request) -> Reply | None:
        key = request.query.get("key")
        if not key:
            message = "The request is missing a valid API key."
            return json_reply(403, error(403, message, "forbidden"))
        if key != self.context.credentials.youtube_key:
            return _key_error("API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
        return self._spend()

    def _spend(self) -> Reply | None:
        day = self.context.now().astimezone(PACIFIC).date()
        if self._units.add(day) > self.context.limits.youtube_daily_units:
            return json_reply(403, error(403, QUOTA_MESSAGE, "quotaExceeded", "youtube.quota"))
        return None

    def units_used(self) -> int:
        return self._units.count

    # ---- routes ----

    def account_of(self, request: Request) -> FakeAccount | None:
        q = request.query
        key = q.get("forHandle") or q.get("id", "").split(",")[0] or q.get("playlistId", "")
        if key.startswith("UU"):
            key = "UC" + key[2:]
        account = self.world.account("youtube", key) if key else None
        if account is None and request.path == "/videos" and key:
            account = self._owner(key)
        return account

    def _owner(self, video_id: str) -> FakeAccount | None:
        for account in self.world.accounts("youtube"):
            if any(p.platform_id == video_id for p in account.posts):
                return account
        return None

    def serve(self, request: Request) -> Reply:
        routes = {
            "/channels": self._channels,
            "/playlistItems": self._playlist_items,
            "/videos": self._videos,
        }
        route = routes.get(request.path.rstrip("/"))
        if route is None:
            return json_reply(404, error(404, "Not Found", "notFound"))
        return route(request)

    def _parts(self, request: Request) -> set[str]:
        return {p.strip() for p in request.query.get("part", "").split(",") if p.strip()}

    def _list(
        self,
        kind: str,
        items: list[dict[str, Any]],
        per_page: int,
        total: int | None = None,
        next_token: str | None = None,
    ) -> Reply:
        body: dict[str, Any] = {
            "kind": f"youtube#{kind}ListResponse",
            "etag": _etag(kind, len(items)),
        }
        if next_token:
            body["nextPageToken"] = next_token
        body["pageInfo"] = {
            "totalResults": len(items) if total is None else total,
            "resultsPerPage": per_page,
        }
        if items:
            body["items"] = items
        return json_reply(200, body)

    def _channels(self, request: Request) -> Reply:
        parts = self._parts(request)
        if not parts:
            return json_reply(
                400,
                error(
                    400,
                    "No filter selected. Expected one of: id, forHandle, ...",
                    "missingRequiredParameter",
                ),
            )
        q = request.query
        keys = (
            [q["forHandle"]] if "forHandle" in q else [k for k in q.get("id", "").split(",") if k]
        )
        found = [self.world.account("youtube", key) for key in keys]
        accounts = [a for a in found if a is not None and a.platform_id]
        return self._list("channel", [self._channel(a, parts) for a in accounts], 5)

    def _channel(self, account: FakeAccount, parts: set[str]) -> dict[str, Any]:
        now = self.context.now()
        item: dict[str, Any] = {
            "kind": "youtube#channel",
            "etag": _etag(account.platform_id, now),
            "id": account.platform_id,
        }
        if "snippet" in parts:
            item["snippet"] = {
                "title": account.name,
                "description": f"Kanal resmi {account.name}",
                "customUrl": f"@{account.handle.lower()}",
                "publishedAt": _time(account.created),
                "localized": {"title": account.name, "description": f"Kanal resmi {account.name}"},
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {
                "relatedPlaylists": {"likes": "", "uploads": account.uploads_playlist}
            }
        if "statistics" in parts:
            visible = account.visible(now)
            item["statistics"] = {
                "viewCount": str(sum(p.counts(now).views for p in visible)),
                "subscriberCount": str(account.followers(now)),
                "hiddenSubscriberCount": False,
                "videoCount": str(len(visible)),
            }
        return item

    def _playlist_items(self, request: Request) -> Reply:
        q = request.query
        playlist = q.get("playlistId", "")
        account = self.account_of(request) if playlist.startswith("UU") else None
        if account is None:
            return self.not_found(request, None)
        per_page = min(max(int_param(q, "maxResults", 5), 0), 50)
        try:
            rest = after_cursor(account.visible(self.context.now()), q.get("pageToken"))
        except ValueError:
            return json_reply(
                400, error(400, "The request specifies an invalid page token.", "invalidPageToken")
            )
        page, more = rest[:per_page], len(rest) > per_page
        if not q.get("pageToken"):
            self.context.first_page_served(account)
        parts = self._parts(request)
        items = [self._playlist_item(account, post, parts) for post in page]
        total = len(account.visible(self.context.now()))
        token = cursor_of(page[-1]) if more and page else None
        return self._list("playlistItem", items, per_page, total, token)

    def _playlist_item(
        self, account: FakeAccount, post: FakePost, parts: set[str]
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": "youtube#playlistItem",
            "etag": _etag(post.platform_id),
            "id": _etag(account.uploads_playlist, post.platform_id),
        }
        if "snippet" in parts:
            item["snippet"] = {
                **_snippet(account, post),
                "playlistId": account.uploads_playlist,
                "resourceId": {"kind": "youtube#video", "videoId": post.platform_id},
                "videoOwnerChannelTitle": account.name,
                "videoOwnerChannelId": account.platform_id,
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {
                "videoId": post.platform_id,
                "videoPublishedAt": _time(post.posted_at),
            }
        return item

    def _videos(self, request: Request) -> Reply:
        ids = [i for i in request.query.get("id", "").split(",") if i]
        if len(ids) > 50:
            message = "The request specifies more than 50 video ids in the id parameter."
            return json_reply(
                400, error(400, message, "badRequest", location="id", locationType="parameter")
            )
        now, parts = self.context.now(), self._parts(request)
        wanted = set(ids)
        found: dict[str, tuple[FakeAccount, FakePost]] = {}
        for account in self.world.accounts("youtube"):
            for post in account.visible(now):
                if post.platform_id in wanted:
                    found[post.platform_id] = (account, post)
        items = [self._video(*found[i], parts) for i in ids if i in found]
        return self._list("video", items, len(items))

    def _video(self, account: FakeAccount, post: FakePost, parts: set[str]) -> dict[str, Any]:
        now = self.context.now()
        item: dict[str, Any] = {
            "kind": "youtube#video",
            "etag": _etag(post.platform_id, now),
            "id": post.platform_id,
        }
        if "snippet" in parts:
            item["snippet"] = {
                **_snippet(account, post),
                "tags": post.hashtags,
                "categoryId": "25",
                "liveBroadcastContent": "none",
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {
                "duration": _duration(post.duration_s),
                "dimension": "2d",
                "definition": "hd",
                "caption": "false",
            }
        if "statistics" in parts:
            counts = post.counts(now)
            item["statistics"] = {
                "viewCount": str(counts.views),
                "likeCount": str(counts.likes),
                "favoriteCount": "0",
                "commentCount": str(counts.comments),
            }
        return item

    # ---- faults in YouTube's shapes ----

    def rate_limited(self, request: Request, reset: datetime) -> Reply:
        seconds = max(int((reset - self.context.now()).total_seconds()), 1)
        body = error(
            429,
            "Resource has been exhausted (e.g. check quota).",
            "rateLimitExceeded",
            "youtube.quota",
        )
        return json_reply(429, body, {"Retry-After": str(seconds)})

    def server_error(self, request: Request) -> Reply:
        return json_reply(503, error(503, "The service is currently unavailable.", "backendError"))

    def expired(self, request: Request) -> Reply:
        return _key_error("API key expired. Please renew the API key.", "API_KEY_EXPIRED")

    def not_found(self, request: Request, account: FakeAccount | None) -> Reply:
        if request.path.rstrip("/") == "/playlistItems":
            message = (
                "The playlist identified with the request's <code>playlistId</code> "
                "parameter cannot be found."
            )
            body = error(
                404,
                message,
                "playlistNotFound",
                "youtube.playlistItem",
                location="playlistId",
                locationType="parameter",
            )
            return json_reply(404, body)
        kind = "channel" if request.path.rstrip("/") == "/channels" else "video"
        return self._list(kind, [], 5)  # a gone channel or video is simply not listed

    def forbidden(self, request: Request, account: FakeAccount) -> Reply:
        message = "The request might not be properly authorized."
        return json_reply(403, error(403, message, "forbidden", "youtube.common"))
