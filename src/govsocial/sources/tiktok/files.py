"""Read a file of TikTok Research API responses into staged posts and follower snapshots.

A file is one response, a JSON array of responses, or JSON Lines with one response per line
(pages saved one after another), read by the shared
:func:`~govsocial.sources.responses.read_responses`; a video or user object saved on its own
is read as a one-record response. Records are numbered 1, 2, … across the whole file; a line
that is not JSON, an error response or an object of another shape counts as one record too,
so nothing is dropped without a trace:

- every video of ``data.videos`` (``/v2/research/video/query/``) → a post;
- a user info response (``/v2/research/user/info/``), saved with the ``username`` it was
  asked about (the response does not carry it; see :mod:`.records`) → an account snapshot;
- a response of another Research API endpoint (comments, followers, liked videos) →
  quarantined ``unsupported_kind``.

A file with no successful response at all is refused, saying what it holds instead: the API's
error (``{"error": {"code": "daily_quota_limit_exceeded", …}}``) and its fix, or a response
cut off while it was saved. The responses carry no time of reading: ``captured_at`` follows
:func:`~govsocial.sources.capture.captured_at`. Docs: docs/import-tiktok.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from govsocial.sources.capture import captured_at
from govsocial.sources.documents import json_head
from govsocial.sources.responses import (
    Entry,
    ResponseFormat,
    Responses,
    entry,
    read_responses,
    stage_entries,
)
from govsocial.sources.staging import ImportOptions, Staged
from govsocial.sources.tiktok.records import (
    API,
    MEDIA_TYPE,
    Response,
    UserInfo,
    Video,
    api_error,
    is_error,
    parse_item,
)

FORMAT_NAME = "tiktok-research"
# TikTok's v2 envelope: "error": {"code": "ok" | "rate_limit_exceeded" | …, "log_id": "…"}.
_LOG_ID = re.compile(rb'"log_id"\s*:\s*"')
_CODE = re.compile(rb'"code"\s*:\s*"[a-z_]{1,64}"')
# A video (create_time in Unix seconds, and a field only TikTok's videos have) or a user.
_CREATE_TIME = re.compile(rb'"create_time"\s*:\s*-?\d')
_VIDEO_KEY = re.compile(
    rb'"(?:video_description|hashtag_names|music_id|region_code|effect_ids|voice_to_text)"\s*:'
)
_BIO = re.compile(rb'"bio_description"\s*:')
# What to do about the errors met most often (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling,
# https://developers.tiktok.com/doc/research-api-faq: 1,000 requests a day, reset at 00:00 UTC;
# a client access token lasts 2 hours).
_FIXES = {
    "access_token_invalid": "the client access token is invalid or expired (it lasts 2 "
    "hours): request a new one from /v2/oauth/token/ with the project's client key and "
    "secret, and fetch again",
    "scope_not_authorized": "the client is not approved for the Research API "
    "(research.data.basic): check the project in the TikTok for Developers portal",
    "scope_permission_missed": "a requested field needs a scope the client lacks: request "
    "only the fields the project is approved for, and fetch again",
    "rate_limit_exceeded": "too many requests at once: fetch again more slowly",
    "daily_quota_limit_exceeded": "the project's daily limit (1,000 requests) is used up: "
    "fetch again after it resets at 00:00 UTC",
    "invalid_params": "TikTok refused the request as written (a username that does not exist "
    "or is private, a date window longer than 30 days, a misspelt field): correct it as the "
    "message says and fetch again",
    "internal_error": "TikTok failed on its side: fetch again later",
}


def sniff(path: Path, head: bytes) -> bool:
    """JSON with TikTok's v2 envelope (a string ``error.code`` beside a ``log_id``), or whose
    first record is a TikTok video (``create_time`` in Unix seconds and a field only TikTok
    videos have: a page longer than the head is judged by its first videos) or user."""
    try:
        if json_head(head) is None:
            return False
        if _LOG_ID.search(head) and _CODE.search(head):
            return True
        return bool((_CREATE_TIME.search(head) and _VIDEO_KEY.search(head)) or _BIO.search(head))
    except Exception:  # sniffing must never fail
        return False


_FORMAT = ResponseFormat(
    API,
    is_error,
    api_error,
    _FIXES,
    other_fix="check the request (access token, fields, query)",
    save_again="the video query / user info responses",
    no_response=f"holds no {API} response (no data.videos page, user info or video object), "
    "so there is nothing to import. Import the /v2/research/video/query/ and "
    "/v2/research/user/info/ responses as received, or choose another --format.",
)


def read_file(path: Path) -> Responses[Video | UserInfo]:
    """Every record of the file in file order; refused when it holds no response at all."""
    return read_responses(path, _FORMAT, _entries)


def _entries(value: Any, place: str) -> list[Entry[Video | UserInfo]]:
    response = Response.from_payload(value)
    found: list[Entry[Video | UserInfo]] = []
    for number, item in enumerate(response.items, 1):
        where = place if response.bare else f"{place}, video {number}".removeprefix("document, ")
        # A user info that cannot be read is still a (failed) follower reading.
        parse: Callable[[], Video | UserInfo] = partial(parse_item, response, item)
        found.append(entry(response.kind == "user", item, where, parse))
    return found


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    """The file's posts (videos) and account snapshots (user info), as Arrow relations."""
    read = read_file(path)
    values = partial(_values, captured=captured_at(path, options))
    return stage_entries(read.entries, values, "tiktok", FORMAT_NAME, path)


def _values(record: Video | UserInfo, captured: datetime) -> Mapping[str, Any]:
    if isinstance(record, UserInfo):
        return {  # the Research API gives no user id: accounts are matched by username
            "account_handle": record.username,
            "account_name": record.display_name,
            "captured_at": captured,
            "followers": record.followers,
            "following": record.following,
            "posts_count": record.video_count,
        }
    return {
        "account_handle": record.username,
        "post_id": record.video_id,
        "posted_at": record.posted_at,
        "captured_at": captured,
        "media_type": MEDIA_TYPE,
        "text": record.description,
        "url": record.url,
        "is_repost": False,  # a repost is not the reposter's video: it is not in their query
        "is_reply_to_other": False,  # a video answers nobody (comments are not videos)
        "video_duration_s": record.duration_s,
        "views": record.views,
        "likes": record.likes,
        "comments": record.comments,
        "shares": record.shares,
        "saves": record.favorites,
    }
