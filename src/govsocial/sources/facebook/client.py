"""Facebook Pages through the Graph API: a Page's follower count, its posts with their
reaction, comment and share totals, and fresh totals of posts already kept.

Every body fetched is a Graph API response the facebook-graph reader reads as a file
(:mod:`govsocial.sources.facebook.files`), so collected and imported posts load the same way:

- followers: ``GET /{page-id}?fields=id,name,username,followers_count,fan_count,link``, a
  Page object (https://developers.facebook.com/docs/graph-api/reference/page);
- posts: ``GET /{page-id}/posts?fields=...&since=...&until=...&limit=100``: "/{page-id}/posts
  shows only the posts that were published by this page" (``/feed`` adds visitors' posts and
  posts the Page is tagged in), at most 100 a page
  (https://developers.facebook.com/docs/graph-api/reference/page/feed), walked by cursor
  (:class:`~govsocial.sources.http.GraphCursorPaginator`); ``since``/``until`` are unix
  seconds (https://developers.facebook.com/docs/graph-api/results, time-based pagination);
- recount: ``GET /?ids=a,b,c&fields=...``, up to 50 posts a call (the Graph API's
  multiple-id read, https://developers.facebook.com/docs/graph-api/using-graph-api ; more ids
  are refused with "(#100) Too many IDs. Maximum: 50"), answered as an object keyed by id.

Credentials: a Page or system-user access token (``access_token``), from the
``facebook_token`` setting; docs/collect-facebook-instagram.md says how to get one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from govsocial.errors import TerminalSourceError
from govsocial.sources.clients import (
    GRAPH_ROOT,
    AccountRef,
    Auth,
    Fetched,
    ToolkitClient,
    account_failure,
    fetched,
)
from govsocial.sources.facebook.files import FORMAT_NAME
from govsocial.sources.http import GraphApi, GraphCursorPaginator, Page, Resume

PAGE_FIELDS = "id,name,username,followers_count,fan_count,link"
# The per-type totals are field aliases of the reactions edge (``reactions.type(LOVE)
# .limit(0).summary(total_count).as(love)``), as the recorded feed pages show.
_REACTION_TYPES = ("LIKE", "LOVE", "WOW", "HAHA", "SAD", "ANGRY")
POST_FIELDS = ",".join(
    [
        "id",
        "created_time",
        "message",
        "permalink_url",
        "status_type",
        "parent_id",
        "attachments{media_type,type,url}",
        "reactions.summary(total_count).limit(0)",
        "comments.summary(total_count).limit(0)",
        "shares",
        *(
            f"reactions.type({kind}).limit(0).summary(total_count).as({kind.lower()})"
            for kind in _REACTION_TYPES
        ),
    ]
)
PAGE_SIZE = 100  # the most /posts gives in one page
IDS_PER_CALL = 50  # the most ?ids= takes


def unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


class FacebookClient(ToolkitClient):
    """The Facebook Pages client (:class:`govsocial.sources.clients.PlatformClient`); its
    keywords are :class:`~govsocial.sources.clients.ClientOptions`."""

    platform = "facebook"
    format = FORMAT_NAME
    name = "Facebook"
    api = GraphApi
    root = GRAPH_ROOT
    settings = (("facebook_token", "a Page or system-user access token"),)
    docs = "docs/collect-facebook-instagram.md"

    def auth(self, values: Mapping[str, str]) -> Auth:
        return Auth(params={"access_token": values["facebook_token"]})

    def followers(self, account: AccountRef) -> Fetched:
        """The Page object: the reader keeps it as one follower reading."""
        page = self._api.get(
            f"/{_node(account)}", {"fields": PAGE_FIELDS}, about=account.describe()
        )
        return fetched(page)

    def posts(
        self, account: AccountRef, since: datetime, until: datetime, resume: Resume | None
    ) -> Iterator[Fetched]:
        """The Page's own posts from ``since`` to ``until``, newest first, 100 a page. A post
        at the very second of ``until`` may come in this run and the next: the loader keeps
        one post and two readings of its counts. A page holding a post before ``since`` ends
        the walk, whatever its paging says (the API gives none; a time-paged ``next`` link
        could lose ``since``)."""
        params = {
            "fields": POST_FIELDS,
            "since": unix(since),
            "until": unix(until),
            "limit": str(PAGE_SIZE),
        }
        pages = self._api.paginate(
            f"/{_node(account)}/posts",
            params,
            GraphCursorPaginator(),
            resume=resume,
            about=account.describe(),
        )
        for page in pages:
            if page.resume is not None and _reaches_before(page.data, since):
                yield fetched(page, None)
                return
            yield fetched(page, page.resume)

    def recount(self, account: AccountRef, post_ids: Sequence[str]) -> Iterator[Fetched]:
        """Fresh totals of ``post_ids``, 50 a call. A post deleted since (or hidden from the
        token) makes the API refuse its whole call: "(#803) Some of the aliases you requested
        do not exist", or code 100 "... does not exist". That call's posts are then read one
        by one and the ones that are gone skipped (the follower reading says when the whole
        Page is)."""
        about = account.describe()
        ids = list(dict.fromkeys(post_ids))
        for start in range(0, len(ids), IDS_PER_CALL):
            chunk = ids[start : start + IDS_PER_CALL]
            try:
                yield fetched(self._read_ids(chunk, about))
            except TerminalSourceError as exc:
                if not _gone(exc):
                    raise
                for post_id in chunk:
                    try:
                        yield fetched(self._read_ids([post_id], about))
                    except TerminalSourceError as single:
                        if not _gone(single):
                            raise

    def _read_ids(self, ids: list[str], about: str) -> Page:
        if len(ids) == 1:  # one post: GET /{post-id}, a single post the reader reads too
            return self._api.get(f"/{ids[0]}", {"fields": POST_FIELDS}, about=about)
        return self._api.get("/", {"ids": ",".join(ids), "fields": POST_FIELDS}, about=about)


def _node(account: AccountRef) -> str:
    """The Page's id, else its username (the Graph API takes either in the path)."""
    node = account.platform_id or account.handle
    if not node:
        raise account_failure(
            "Facebook",
            account,
            "the account has neither a Page id nor a username. Fix: add its platform_id (or "
            "handle) in the registry.",
        )
    return node.lstrip("@")


def _reaches_before(data: object, since: datetime) -> bool:
    """Whether a page of posts holds one created before ``since`` (posts come newest first)."""
    items = data.get("data") if isinstance(data, Mapping) else None
    for item in items if isinstance(items, list) else []:
        created = item.get("created_time") if isinstance(item, Mapping) else None
        if isinstance(created, str):
            try:
                moment = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S%z")
            except ValueError:
                continue  # the reader quarantines it, saying why
            if moment < since:
                return True
    return False


def _gone(exc: TerminalSourceError) -> bool:
    """The API said an id does not exist (deleted, or not visible to the token)."""
    error = exc.api_error
    if error is None:
        return False
    said = error.message.lower()
    return error.code == "803" or (
        error.code == "100" and ("does not exist" in said or "do not exist" in said)
    )
