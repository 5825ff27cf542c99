"""The YouTube Data API v3 live client (:class:`YouTubeClient`), on the one HTTP toolkit.

It reads, with an API key (the ``key`` parameter,
https://developers.google.com/youtube/v3/docs#calling-the-api):

- followers: ``channels.list`` (``part=snippet,statistics,contentDetails``; ``id`` = the
  channel id, or ``forHandle`` = ``@handle`` when the registry has no id)
  https://developers.google.com/youtube/v3/docs/channels/list — the response is what the
  ``youtube`` reader reads as a channel snapshot (subscribers, video count);
- posts: the channel's uploads playlist (``contentDetails.relatedPlaylists.uploads`` of the
  same channels.list answer, asked once per account and kept) walked with
  ``playlistItems.list`` (``part=contentDetails``, ``maxResults=50``, ``pageToken``)
  https://developers.google.com/youtube/v3/docs/playlistItems/list , newest first; for each
  page, ``videos.list`` (``part=snippet,statistics,contentDetails``, ``id`` = up to 50
  comma-separated ids) https://developers.google.com/youtube/v3/docs/videos/list gives the
  videos with their counts: that body is what is loaded, carrying the playlist page's resume;
- recount: ``videos.list`` by id, 50 at a time (the most ``id`` takes).

Only videos published in ``[since, until)`` (``contentDetails.videoPublishedAt`` of the
playlist item) are asked for, since the reader loads every video of a body; an item without
``videoPublishedAt`` is a private or deleted video, which ``videos.list`` would not return
either. The walk stops after the first page holding a video older than ``since`` (the uploads
playlist lists the newest first).

Quota: every call costs units of a daily quota, 10,000 by default, reset at midnight Pacific
time; ``channels.list``, ``playlistItems.list`` and ``videos.list`` cost 1 unit each
(https://developers.google.com/youtube/v3/determine_quota_cost). Each call's cost is taken
from a :class:`~govsocial.sources.http.QuotaBudget` before it is sent, so a run stops cleanly
(:class:`~govsocial.errors.QuotaExhausted`) instead of being refused by Google mid-walk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Unpack

from govsocial.errors import TerminalSourceError
from govsocial.sources.clients import (
    AccountRef,
    Auth,
    ClientOptions,
    Fetched,
    ToolkitClient,
    account_failure,
    fetched,
)
from govsocial.sources.http import Page, PageTokenPaginator, QuotaBudget, Resume, YouTubeApi
from govsocial.sources.http.apis import NOT_FOUND
from govsocial.sources.youtube.files import FORMAT_NAME

BASE_URL = "https://www.googleapis.com/youtube/v3"
BATCH = 50  # the most ids videos.list takes, and the most items a playlistItems page holds
# Units per call (https://developers.google.com/youtube/v3/determine_quota_cost).
COST_LIST = 1
CHANNEL_PARTS = "snippet,statistics,contentDetails"
VIDEO_PARTS = "snippet,statistics,contentDetails"


def _moment(value: Any) -> datetime | None:
    """An RFC 3339 time as the API writes it (``2019-11-21T22:17:43.000Z``), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _items(data: Any) -> list[dict[str, Any]]:
    items = data.get("items") if isinstance(data, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


class YouTubeClient(ToolkitClient):
    """A :class:`~govsocial.sources.clients.PlatformClient` for YouTube channels (see the
    module docstring). ``credentials["youtube_key"]`` is the API key; the keywords are
    :class:`~govsocial.sources.clients.ClientOptions`, ``budget`` the daily quota (default:
    10,000 units, :meth:`QuotaBudget.youtube`)."""

    platform = "youtube"
    format = FORMAT_NAME
    name = "YouTube"
    api = YouTubeApi
    root = BASE_URL
    settings = (
        (
            "youtube_key",
            "an API key of a Google Cloud project with the YouTube Data API v3 enabled",
        ),
    )
    docs = "docs/collect-youtube.md"

    def __init__(self, credentials: Mapping[str, str], **options: Unpack[ClientOptions]) -> None:
        super().__init__(credentials, **options)
        self._uploads: dict[int, str] = {}  # account_id -> its uploads playlist id

    def auth(self, values: Mapping[str, str]) -> Auth:
        return Auth(params={"key": values["youtube_key"]})

    def default_budget(self) -> QuotaBudget:
        return QuotaBudget.youtube()

    # -- followers --------------------------------------------------------------------------

    def followers(self, account: AccountRef) -> Fetched:
        """The channel's ``channels.list`` answer: one subscriber reading."""
        return fetched(self._channel(account))

    def _channel(self, account: AccountRef) -> Page:
        params = {"part": CHANNEL_PARTS}
        if account.platform_id:
            params["id"] = account.platform_id
        elif account.handle:
            handle = account.handle
            params["forHandle"] = handle if handle.startswith("@") else f"@{handle}"
        else:
            raise account_failure(
                "YouTube",
                account,
                "the account has neither a channel id nor a handle. Fix: add its channel id "
                "(UC...) or @handle to the registry.",
            )
        page = self._api.get("/channels", params, cost=COST_LIST, about=account.describe())
        channels = _items(page.data)
        if not channels:
            # An unknown or deleted channel is not an HTTP error: the list is just empty.
            raise _unreadable(account, page, "the channel was not found (no channel in the answer)")
        related = channels[0].get("contentDetails", {})
        uploads = related.get("relatedPlaylists", {}) if isinstance(related, dict) else {}
        playlist = uploads.get("uploads") if isinstance(uploads, dict) else None
        if isinstance(playlist, str) and playlist:
            self._uploads[account.account_id] = playlist
        return page

    def _uploads_of(self, account: AccountRef) -> str:
        if account.account_id not in self._uploads:
            page = self._channel(account)
            if account.account_id not in self._uploads:
                what = "the channel lists no uploads playlist, so its videos cannot be listed"
                raise _unreadable(account, page, what)
        return self._uploads[account.account_id]

    # -- posts ------------------------------------------------------------------------------

    def posts(
        self, account: AccountRef, since: datetime, until: datetime, resume: Resume | None
    ) -> Iterator[Fetched]:
        """The channel's videos published in ``[since, until)``, newest first: one
        ``videos.list`` body per uploads page that holds any (pages without any are skipped,
        and the body before them carries the resume past them)."""
        if until <= since:
            return
        playlist = self._uploads_of(account)
        about = account.describe()
        walk = self._api.paginate(
            "/playlistItems",
            {"part": "contentDetails", "playlistId": playlist, "maxResults": str(BATCH)},
            PageTokenPaginator(),
            resume=resume,
            cost=COST_LIST,
            about=about,
        )
        pending: Fetched | None = None
        for page in walk:
            ids, older = _wanted(page.data, since, until)
            following = None if older else page.resume
            if ids:
                videos = self._videos(ids, about)
                if pending is not None:
                    yield pending
                pending = fetched(videos, following, number=page.number)
            elif pending is not None:  # nothing here: the last body resumes past this page
                pending = replace(pending, resume=following)
            if older:
                break
        if pending is not None:
            yield pending

    def _videos(self, ids: Sequence[str], about: str) -> Page:
        # No maxResults: videos.list refuses it together with id.
        params = {"part": VIDEO_PARTS, "id": ",".join(ids)}
        return self._api.get("/videos", params, cost=COST_LIST, about=about)

    # -- recount ----------------------------------------------------------------------------

    def recount(self, account: AccountRef, post_ids: Sequence[str]) -> Iterator[Fetched]:
        """Fresh counts of the given videos, ``videos.list`` 50 ids at a time (a deleted or
        private video is simply absent from the answer)."""
        about = account.describe()
        unique = list(dict.fromkeys(i for i in post_ids if i))
        for number, start in enumerate(range(0, len(unique), BATCH), 1):
            page = self._videos(unique[start : start + BATCH], about)
            yield fetched(page, number=number)


def _unreadable(account: AccountRef, page: Page, what: str) -> TerminalSourceError:
    """A channel that ``channels.list`` answered for without what its videos need."""
    return account_failure(
        "YouTube", account, f"{what} (GET {page.origin}). Fix: {NOT_FOUND}.", page
    )


def _wanted(data: Any, since: datetime, until: datetime) -> tuple[list[str], bool]:
    """The ids of a ``playlistItems.list`` page's videos published in ``[since, until)``, and
    whether the page holds one older than ``since`` (the walk ends with it). A page::

        {"kind": "youtube#playlistItemListResponse", "nextPageToken": "CAoQAA",
         "items": [{"kind": "youtube#playlistItem", "id": "UExPVTJY...",
                    "contentDetails": {"videoId": "CvTApw9X8aA",
                                       "videoPublishedAt": "2019-11-21T22:17:43Z"}}, ...]}
    """
    ids: list[str] = []
    older = False
    for item in _items(data):
        details = item.get("contentDetails")
        if not isinstance(details, dict):
            continue
        video, published = details.get("videoId"), _moment(details.get("videoPublishedAt"))
        if not isinstance(video, str) or not video or published is None:
            continue  # private or deleted: videos.list would not return it
        if published < since:
            older = True
        elif published < until and video not in ids:
            ids.append(video)
    return ids, older
