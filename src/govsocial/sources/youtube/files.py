"""Read a file of YouTube Data API v3 responses into staged posts and channel snapshots.

A file is one response (``{"kind": "youtube#videoListResponse", "items": [...]}``), a JSON
array of responses, or JSON Lines with one response per line (pages saved one after another).
Every *item* of every response is one record, numbered 1, 2, … across the whole file; a line
that is not JSON, an error envelope or a non-YouTube object among the responses counts as one
record too, so nothing is dropped without a trace:

- ``youtube#video`` → a post (``videos.list``); ``youtube#channel`` → an account snapshot;
- ``youtube#playlistItem`` / ``youtube#searchResult`` → quarantined ``no_statistics`` (these
  list video ids without counts; the detail names the ``videos.list`` call to make instead).

The API response carries no time of reading, so ``captured_at`` is ``--captured-at`` or else
the file's modification time (UTC).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pyarrow as pa

from govsocial.errors import InputError
from govsocial.sources.staging import (
    ACCOUNT_SNAPSHOT_COLUMNS,
    POST_COLUMNS,
    ImportOptions,
    Kind,
    Staged,
    staged_from_arrow,
)
from govsocial.sources.timezones import resolve_tz
from govsocial.sources.youtube.documents import Row, dumps, read_documents
from govsocial.sources.youtube.records import (
    Channel,
    Page,
    PlaylistItem,
    SearchResult,
    Video,
    describe_error,
)
from govsocial.sources.youtube.values import RecordError

FORMAT_NAME = "youtube"
_FIRST_KIND = re.compile(rb'"kind"\s*:\s*"([^"]{0,80})"')
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
}


def sniff(path: Path, head: bytes) -> bool:
    """A JSON document or JSON Lines whose first ``"kind"`` is a ``youtube#`` kind."""
    try:
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not start.startswith((b"{", b"[")):
            return False
        match = _FIRST_KIND.search(head)
        return match is not None and match.group(1).startswith(b"youtube#")
    except Exception:  # sniffing must never fail
        return False


def _tz(options: ImportOptions) -> tzinfo | None:
    return None if options.tz is None else resolve_tz(options.tz)


def _captured_at(path: Path, options: ImportOptions) -> datetime:
    if options.captured_at is not None:
        when = options.captured_at
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _item(page: Page, item: Any, tz: tzinfo | None) -> Video | Channel | Row:
    """One item → a parsed record, or the quarantine finding of a record without counts."""
    kind = page.item_kind(item)
    if kind == "youtube#video":
        return Video.from_payload(item, tz)
    if kind == "youtube#channel":
        return Channel.from_payload(item)
    if kind in ("youtube#playlistItem", "youtube#searchResult"):
        cls = PlaylistItem if kind == "youtube#playlistItem" else SearchResult
        video_id = cls.from_payload(item).video_id
        return {
            "_reason": "no_statistics",
            "_detail": f"a {kind.removeprefix('youtube#')} lists video {video_id} without views, "
            f"likes or comments; fetch videos.list?part=snippet,statistics,contentDetails"
            f"&id={video_id} and import that response instead",
        }
    raise RecordError("unsupported_kind", f"a {kind} item is not a video or a channel")


def parse_file(
    path: Path, options: ImportOptions
) -> tuple[list[tuple[int, str, Video | Row]], list[tuple[int, str, Channel | Row]]]:
    """Every record of the file, numbered: (row, payload JSON, record or finding) per kind."""
    tz = _tz(options)
    posts: list[tuple[int, str, Video | Row]] = []
    channels: list[tuple[int, str, Channel | Row]] = []
    errors, pages = [], 0
    for document, problem in read_documents(path):
        if problem is not None:
            posts.append((len(posts) + len(channels) + 1, json.dumps(document), problem))
            continue
        try:
            page = Page.from_payload(document)
        except RecordError as exc:
            if exc.reason == "api_error":
                errors.append(describe_error(document))
            row = len(posts) + len(channels) + 1
            posts.append((row, dumps(document), {"_reason": exc.reason, "_detail": exc.detail}))
            continue
        pages += 1
        for item in page.items:
            row = len(posts) + len(channels) + 1
            record: Video | Channel | Row
            try:
                record = _item(page, item, tz)
            except RecordError as exc:
                record = {"_reason": exc.reason, "_detail": exc.detail}
            if isinstance(record, Video):
                posts.append((row, dumps(item), record))
            # A channel item that cannot be read still belongs with the follower snapshots.
            elif isinstance(record, Channel) or page.item_kind(item) == "youtube#channel":
                channels.append((row, dumps(item), record))
            else:
                posts.append((row, dumps(item), record))
    if not pages:
        what = f"the API's {'; '.join(errors)}" if errors else "no YouTube Data API response"
        raise InputError(
            f"holds {what}, so there is nothing to import. Fix the request (key, quota, "
            "parameters) and save the videos.list / channels.list responses again.",
            path=path,
        )
    return posts, channels


def _table(rows: list[Row], columns: dict[str, str]) -> pa.Table:
    fields = [
        pa.field("_row", pa.int64()),
        pa.field("_reason", pa.string()),
        pa.field("_detail", pa.string()),
        pa.field("_payload", pa.string()),
        *(pa.field(name, _ARROW_TYPES[duck]) for name, duck in columns.items()),
    ]
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in fields})


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    """The file's posts (videos) and account snapshots (channels), as Arrow relations."""
    posts, channels = parse_file(path, options)
    captured = _captured_at(path, options)
    handles = {c.channel_id: c.handle for _, _, c in channels if isinstance(c, Channel)}
    post_rows = [_post_row(r, p, v, captured, handles) for r, p, v in posts]
    snapshot_rows = [_snapshot_row(r, p, c, captured) for r, p, c in channels]
    parts: list[tuple[Kind, list[Row], dict[str, str]]] = [
        ("posts", post_rows, POST_COLUMNS),
        ("account_snapshots", snapshot_rows, ACCOUNT_SNAPSHOT_COLUMNS),
    ]
    return [
        staged_from_arrow(
            _table(rows, columns),
            kind=kind,
            source_format=FORMAT_NAME,
            origin_label=f"{path.name}, record ",
        )
        for kind, rows, columns in parts
        if rows or (kind == "posts" and not snapshot_rows)
    ]


def _post_row(
    row: int, payload: str, video: Video | Row, captured: datetime, handles: dict[str, str | None]
) -> Row:
    if not isinstance(video, Video):
        return {"_row": row, "_payload": payload, **video}
    return {
        "_row": row,
        "_payload": payload,
        "platform": "youtube",
        "account_platform_id": video.channel_id,
        "account_handle": handles.get(video.channel_id),
        "post_id": video.video_id,
        "posted_at": video.published_at,
        "captured_at": captured,
        "media_type": video.media_type,
        "text": video.text,
        "url": video.url,
        "is_repost": False,
        "video_duration_s": video.duration_s,
        "views": video.views,
        "likes": video.likes,
        "comments": video.comments,
    }


def _snapshot_row(row: int, payload: str, channel: Channel | Row, captured: datetime) -> Row:
    if not isinstance(channel, Channel):
        return {"_row": row, "_payload": payload, **channel}
    finding: Row = {}
    if not channel.has_statistics:
        finding = {
            "_reason": "no_statistics",
            "_detail": f"channel {channel.channel_id} has no statistics; request channels.list "
            "with part=snippet,statistics",
        }
    elif channel.hidden:
        finding = {
            "_reason": "hidden_subscribers",
            "_detail": f"channel {channel.channel_id} hides its subscriber count "
            "(statistics.hiddenSubscriberCount is true), so its followers are unknown",
        }
    if finding:
        return {"_row": row, "_payload": payload, **finding}
    return {
        "_row": row,
        "_payload": payload,
        "platform": "youtube",
        "account_platform_id": channel.channel_id,
        "account_handle": channel.handle,
        "captured_at": captured,
        "followers": channel.subscribers,
        "posts_count": channel.video_count,
    }
