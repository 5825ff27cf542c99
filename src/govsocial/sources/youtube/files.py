"""Read a file of YouTube Data API v3 responses into staged posts and channel snapshots.

A file is one response (``{"kind": "youtube#videoListResponse", "items": [...]}``), a JSON
array of responses, or JSON Lines with one response per line (pages saved one after another),
read by the shared :func:`~govsocial.sources.responses.read_responses`. Every *item* of every
response is one record, numbered 1, 2, … across the whole file; a line that is not JSON, an
error envelope or a non-YouTube object among the responses counts as one record too, so
nothing is dropped without a trace:

- ``youtube#video`` → a post (``videos.list``); ``youtube#channel`` → an account snapshot;
- ``youtube#playlistItem`` / ``youtube#searchResult`` → quarantined ``no_statistics`` (these
  list video ids without counts; the detail names the ``videos.list`` call to make instead).

A file with no response at all is refused, saying what it holds instead: the API's error
(``{"error": {"code": 403, "errors": [{"reason": "quotaExceeded"}]}}``) and its fix, or a
response cut off while it was saved. The API response carries no time of reading:
``captured_at`` follows :func:`~govsocial.sources.capture.captured_at`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from functools import partial
from pathlib import Path
from typing import Any

from govsocial.sources.api import error_in_head
from govsocial.sources.capture import captured_at, time_zone
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
from govsocial.sources.youtube.records import (
    API,
    Channel,
    Page,
    Video,
    api_error,
    is_error,
    parse_item,
)

FORMAT_NAME = "youtube"
_FIRST_KIND = re.compile(rb'"kind"\s*:\s*"([^"]{0,80})"')
# Google's error envelope: {"error": {"code", "message", "errors": [{"domain", "reason"}]}}.
_DOMAIN = re.compile(rb'"domain"\s*:\s*"')
_REASON = re.compile(rb'"reason"\s*:\s*"')
# What to do about the errors met most often (https://developers.google.com/youtube/v3/docs/errors).
_FIXES = {
    "quotaExceeded": "the project's daily quota is used up: fetch again after it resets "
    "(midnight Pacific time) or with a key of another project",
    "rateLimitExceeded": "too many requests at once: fetch again more slowly",
    "keyInvalid": "the API key is wrong: copy it again from the Google Cloud console "
    "(APIs & Services → Credentials) and fetch again",
    "keyExpired": "the API key has expired: create a new one and fetch again",
    "accessNotConfigured": "the YouTube Data API v3 is not enabled for the key's project: "
    "enable it in the Google Cloud console and fetch again",
}
_FIXES["dailyLimitExceeded"] = _FIXES["quotaExceeded"]
_FIXES["userRateLimitExceeded"] = _FIXES["rateLimitExceeded"]


def sniff(path: Path, head: bytes) -> bool:
    """JSON whose first ``"kind"`` is a ``youtube#`` kind, or Google's error envelope (with
    ``domain``/``reason``, which Facebook's ``fbtrace_id``/``...Exception`` errors lack)."""
    try:
        if json_head(head) is None:
            return False
        match = _FIRST_KIND.search(head)
        if match is not None and match.group(1).startswith(b"youtube#"):
            return True
        return bool(
            error_in_head(head, graph=False) and _DOMAIN.search(head) and _REASON.search(head)
        )
    except Exception:  # sniffing must never fail
        return False


_FORMAT = ResponseFormat(
    API,
    is_error,
    api_error,
    _FIXES,
    other_fix="check the request (API key, quota, parameters)",
    save_again="the videos.list / channels.list responses",
    no_response=f"holds no {API} response (no JSON object with a youtube# kind), so there is "
    "nothing to import. Import the videos.list / channels.list responses as received, or "
    "choose another --format.",
)


def read_file(path: Path, tz: tzinfo | None) -> Responses[Video | Channel]:
    """Every record of the file in file order; refused when it holds no response at all."""
    return read_responses(path, _FORMAT, partial(_entries, tz=tz))


def _entries(value: Any, place: str, tz: tzinfo | None) -> list[Entry[Video | Channel]]:
    page = Page.from_payload(value)
    found: list[Entry[Video | Channel]] = []
    for number, item in enumerate(page.items, 1):
        kind = page.item_kind(item)
        parse: Callable[[], Video | Channel] = partial(parse_item, kind, item, tz)
        # A channel item that cannot be read still belongs with the follower snapshots.
        snapshot = kind == "youtube#channel"
        found.append(entry(snapshot, item, _item_place(page, place, number), parse))
    return found


def _item_place(page: Page, place: str, number: int) -> str:
    if page.bare:
        return place
    return f"item {number}" if place == "document" else f"{place}, item {number}"


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    """The file's posts (videos) and account snapshots (channels), as Arrow relations."""
    read = read_file(path, time_zone(options, default=None))
    captured = captured_at(path, options)
    channels = [e.record for e in read.entries if isinstance(e.record, Channel)]
    # A channel hiding its subscribers still names its handle, for its videos in this file.
    handles = {c.channel_id: c.handle for c in channels}
    values = partial(_values, captured=captured, handles=handles)
    return stage_entries(read.entries, values, FORMAT_NAME, FORMAT_NAME, path)


def _values(
    record: Video | Channel, captured: datetime, handles: dict[str, str | None]
) -> Mapping[str, Any]:
    if isinstance(record, Channel):
        return _snapshot_values(record, captured)
    return _post_values(record, captured, handles)


def _post_values(
    video: Video, captured: datetime, handles: dict[str, str | None]
) -> Mapping[str, Any]:
    return {
        "account_platform_id": video.channel_id,
        "account_handle": handles.get(video.channel_id),
        "account_name": video.channel_title,
        "post_id": video.video_id,
        "posted_at": video.published_at,
        "captured_at": captured,
        "media_type": video.media_type,
        "text": video.text,
        "url": video.url,
        "is_repost": False,
        "is_reply_to_other": False,  # a video answers nobody (comments are not videos)
        "video_duration_s": video.duration_s,
        "views": video.views,
        "likes": video.likes,
        "comments": video.comments,
    }


def _snapshot_values(channel: Channel, captured: datetime) -> Mapping[str, Any]:
    unknown = channel.followers_unknown()
    if unknown is not None:
        raise unknown
    return {
        "account_platform_id": channel.channel_id,
        "account_handle": channel.handle,
        "account_name": channel.title,
        "captured_at": captured,
        "followers": channel.subscribers,
        "posts_count": channel.video_count,
    }
