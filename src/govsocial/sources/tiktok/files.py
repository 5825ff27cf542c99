"""Read a file of TikTok Research API responses into staged posts and follower snapshots.

A file is one response, a JSON array of responses, or JSON Lines with one response per line
(pages saved one after another), read by the shared
:func:`~govsocial.sources.documents.read_documents`; a video or user object saved on its own
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

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from govsocial.errors import InputError, RecordError
from govsocial.sources.api import ApiError
from govsocial.sources.capture import captured_at
from govsocial.sources.documents import json_head, read_documents
from govsocial.sources.rows import Rows, stage_rows
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


@dataclass(frozen=True, slots=True)
class _Entry:
    """One record of the file: a video or user reading parsed (or why not), with its place."""

    snapshot: bool  # a user info: its row goes with the follower snapshots
    raw: Any  # as received (the text, for a line that is not JSON)
    place: str  # "line 2, video 4"; empty when the error's detail names it already
    record: Video | UserInfo | RecordError


@dataclass
class _Read:
    entries: list[_Entry] = field(default_factory=list)
    responses: int = 0
    errors: list[ApiError] = field(default_factory=list)
    cut: str | None = None  # where the first response that never ends begins


def read_file(path: Path) -> _Read:
    """Every record of the file in file order; refused when it holds no response at all."""
    read = _Read()
    try:
        for document in read_documents(path, API):
            if document.error is None:
                _read_document(read, document.value, document.place)
                continue
            problem = document.error
            if problem.reason == "truncated_line":
                read.cut = read.cut or document.place
                problem = RecordError(
                    problem.reason,
                    f"{problem.detail}; the file is incomplete: save this response again "
                    "and import it",
                )
            read.entries.append(_Entry(False, document.text, "", problem))
    except InputError as exc:  # nothing readable: say so if it is because the file is cut
        if read.cut is not None:
            raise InputError(_cut_message(read.cut), path=path) from exc
        raise
    if not read.responses:
        raise InputError(_refusal(read), path=path)
    return read


def _read_document(read: _Read, value: Any, place: str) -> None:
    if is_error(value):
        error = api_error(value)
        read.errors.append(error)
        detail = f"the API answered with an error instead of data: {error.describe()}"
        read.entries.append(_Entry(False, value, place, RecordError("api_error", detail)))
        return
    try:
        response = Response.from_payload(value)
    except RecordError as exc:
        read.entries.append(_Entry(False, value, place, exc))
        return
    read.responses += 1
    for number, item in enumerate(response.items, 1):
        record: Video | UserInfo | RecordError
        try:
            record = parse_item(response, item)
        except RecordError as exc:
            record = exc
        where = place if response.bare else f"{place}, video {number}".removeprefix("document, ")
        # A user info that cannot be read is still a (failed) follower reading.
        read.entries.append(_Entry(response.kind == "user", item, where, record))


def _cut_message(place: str) -> str:
    return (
        f"is incomplete: the {API} response that begins on {place} is cut off before its end "
        "(the download or the save was interrupted), so there is nothing to import. Save the "
        "response again, whole, and import the new file."
    )


def _refusal(read: _Read) -> str:
    """Why a file without a single response holds nothing to import, and the fix."""
    if read.errors:
        first = read.errors[0]
        more = len(read.errors) - 1
        also = f" (and {more:,} more error response{'s' * (more > 1)})" if more else ""
        fix = _FIXES.get(first.kind or "", "check the request (access token, fields, query)")
        return (
            f"is a {API} error response, not data: {first.describe().rstrip('.')}{also}. "
            f"Nothing was imported. Fix: {fix}; then save the video query / user info "
            "responses again and import those."
        )
    if read.cut is not None:
        return _cut_message(read.cut)
    return (
        f"holds no {API} response (no data.videos page, user info or video object), so there "
        "is nothing to import. Import the /v2/research/video/query/ and /v2/research/user/info/ "
        "responses as received, or choose another --format."
    )


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    """The file's posts (videos) and account snapshots (user info), as Arrow relations."""
    read = read_file(path)
    captured = captured_at(path, options)
    numbers = itertools.count(1)  # one numbering for the file: record N names one record
    posts = Rows("posts", "tiktok", numbers=numbers)
    snapshots = Rows("account_snapshots", "tiktok", numbers=numbers)
    for entry in read.entries:
        rows = snapshots if entry.snapshot else posts
        rows.build(entry.raw, partial(_values, entry.record, captured), entry.place)
    # A file of user info only is a file of account snapshots (no empty posts relation).
    primary = posts if len(posts) or not len(snapshots) else snapshots
    return stage_rows([posts, snapshots], primary, FORMAT_NAME, f"{path.name}, record ")


def _values(record: Video | UserInfo | RecordError, captured: datetime) -> Mapping[str, Any]:
    if isinstance(record, RecordError):
        raise record
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
