"""The one HTTP client toolkit every platform collector uses (DESIGN.md, "Collection"), in the
style of dlt's REST client (https://dlthub.com/docs/general-usage/http/rest-client).

    from govsocial.sources.http import ApiClient, PageTokenPaginator, QuotaBudget, YouTubeApi

    with ApiClient("YouTube", YouTubeApi(), "https://www.googleapis.com/youtube/v3",
                   auth_params={"key": key}, credential="GOVSOCIAL_YOUTUBE_KEY",
                   budget=QuotaBudget.youtube(), on_wait=lambda w: print(w)) as client:
        for page in client.paginate("/playlistItems", {"part": "contentDetails",
                                    "playlistId": uploads, "maxResults": "50"},
                                    PageTokenPaginator(), resume=saved, about="channel X"):
            load(page.body, origin=page.origin, number=page.number)  # one transaction
            save(page.resume)                                       # None after the last

- :mod:`~govsocial.sources.http.client`: :class:`ApiClient`, :class:`Page`, :class:`Resume`,
  :class:`RetryPolicy`;
- :mod:`~govsocial.sources.http.paginators`: one strategy per API shape;
- :mod:`~govsocial.sources.http.apis`: each API's failures classified (transient, rate
  limit, quota, terminal) with the fix;
- :mod:`~govsocial.sources.http.limits`: :class:`Usage` (what the headers said),
  :class:`Wait` (said on screen), :class:`QuotaBudget`;
- :mod:`~govsocial.sources.http.redact`: credentials kept out of everything.
"""

from govsocial.sources.http.apis import Api, Failure, GraphApi, TikTokApi, XApi, YouTubeApi
from govsocial.sources.http.client import USER_AGENT, ApiClient, Page, Resume, RetryPolicy
from govsocial.sources.http.limits import GraphUsage, QuotaBudget, RateWindow, Usage, Wait
from govsocial.sources.http.paginators import (
    BasePaginator,
    GraphCursorPaginator,
    NextTokenPaginator,
    PageRequest,
    PageTokenPaginator,
    TikTokCursorPaginator,
)
from govsocial.sources.http.redact import Redactor

__all__ = [
    "USER_AGENT",
    "Api",
    "ApiClient",
    "BasePaginator",
    "Failure",
    "GraphApi",
    "GraphCursorPaginator",
    "GraphUsage",
    "NextTokenPaginator",
    "Page",
    "PageRequest",
    "PageTokenPaginator",
    "QuotaBudget",
    "RateWindow",
    "Redactor",
    "Resume",
    "RetryPolicy",
    "TikTokApi",
    "TikTokCursorPaginator",
    "Usage",
    "Wait",
    "XApi",
    "YouTubeApi",
]
