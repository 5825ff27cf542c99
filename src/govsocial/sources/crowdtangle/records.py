"""The shape of a CrowdTangle CSV export: which columns mean what, per platform.

CrowdTangle (Meta's public-content monitor, closed in August 2024) exported a List, Saved
Search or historical-data request as CSV, UTF-8 with a byte order mark, one row per post. A
Facebook export has 41 columns (field meanings: the CrowdTangle codebook,
https://help.crowdtangle.com/en/articles/3213537, and https://github.com/CrowdTangle/API/wiki)::

    Page Name,User Name,Facebook Id,Page Category,Page Admin Top Country,Page Description,
    Page Created,Likes at Posting,Followers at Posting,Post Created,Post Created Date,
    Post Created Time,Type,Total Interactions,Likes,Comments,Shares,Love,Wow,Haha,Sad,Angry,
    Care,Video Share Status,Is Video Owner?,Post Views,Total Views,
    Total Views For All Crossposts,Video Length,URL,Message,Link,Final Link,Image Text,
    Link Text,Description,Sponsor Id,Sponsor Name,Sponsor Category,
    Total Interactions (weighted  —  Likes 1x Shares 1x Comments 1x Love 1x ...),
    Overperforming Score
    Humas Jabar,humasjabar,123456789012345,Government Organization,ID,...,
    2012-03-01 10:00:00,"407.137","410.002",2021-07-05 18:02:45 WIB,2021-07-05,18:02:45,
    Native Video,"1.204",1.100,52,30,40,2,1,0,0,31,owned,Yes,"12.345",...,00:03:34,
    https://www.facebook.com/humasjabar/posts/4123456789012345,"Banjir!\\nInfo ...",...,"1,4"

An Instagram export has other columns (``Account, User Name, Followers at Posting,
Post Created, Post Created Date, Post Created Time, Type, Total Interactions, Likes, Comments,
Views, URL, Link, Photo, Title, Description, Image Text, Sponsor Id, Sponsor Name,
Overperforming Score (weighted — Likes 1x Comments 1x )``) and no account id. Older Facebook
exports call ``Post Created`` ``Created``, and group exports have ``Group Name`` for
``Page Name``; both are accepted. Which platform a file is is told by its header.

:class:`Layout` is the one place a header is interpreted; the values are converted column by
column in :mod:`govsocial.sources.crowdtangle.convert`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

# CrowdTangle's post types (the CSV's "Type") -> canonical media_type, compared ignoring case.
# Off-platform videos (YouTube, Vimeo) are link posts: Facebook shows a link card and counts no
# views for them. "Live Video Scheduled" is the announcement of a live video.
FACEBOOK_TYPES: dict[str, str] = {
    "Photo": "image",
    "Album": "carousel",
    "Status": "text",
    "Link": "link",
    "YouTube": "link",
    "Vimeo": "link",
    "Video": "video",
    "Native Video": "video",
    "Live Video": "video",
    "Live Video Complete": "video",
    "Live Video Scheduled": "video",
    "Reel": "reel",
}
INSTAGRAM_TYPES: dict[str, str] = {
    "Photo": "image",
    "Album": "carousel",
    "Video": "video",
    "IGTV": "video",
    "Reel": "reel",
}

# logical field -> the header names it goes by (compared case-insensitively)
_COMMON: dict[str, tuple[str, ...]] = {
    "handle": ("User Name",),
    "posted": ("Post Created", "Created"),
    "type": ("Type",),
    "url": ("URL",),
    "likes": ("Likes",),
    "comments": ("Comments",),
    "followers": ("Followers at Posting",),
}
_FACEBOOK: dict[str, tuple[str, ...]] = {
    **_COMMON,
    "name": ("Page Name", "Group Name"),
    "account_id": ("Facebook Id",),
    "text": ("Message",),
    "shares": ("Shares",),
    "views": ("Post Views",),
    "video_length": ("Video Length",),
    # The reactions other than Like; "Thankful" existed in May 2016, "Care" since April 2020.
    **{name.lower(): (name,) for name in ("Love", "Wow", "Haha", "Sad", "Angry", "Care")},
    "thankful": ("Thankful",),
}
_INSTAGRAM: dict[str, tuple[str, ...]] = {
    **_COMMON,
    "name": ("Account",),  # the account's display name; its handle is "User Name"
    "text": ("Description",),
    "views": ("Views",),
}
REACTION_FIELDS = ("likes", "love", "wow", "haha", "sad", "angry", "care", "thankful")
_REQUIRED = {
    "facebook": ("account_id", "posted", "type", "url"),
    "instagram": ("handle", "posted", "type", "url"),
}
# Columns that hold whole numbers by nature: they reveal the file's thousands separator.
_INTEGER_ONLY = (
    "Total Interactions",
    "Likes at Posting",
    "Total Views",
    "Total Views For All Crossposts",
)
_DECIMAL_PREFIX = "overperforming score"  # a decimal number: "1,4" or "-0.52"


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip()).casefold()


@dataclass(frozen=True)
class Layout:
    """What the header of one export says: its platform and where each field is.

    ``where`` maps a logical field (``posted``, ``likes``, ``love``, …) to its column index;
    ``integers`` are the indices of every whole-number column, ``decimals`` those of decimal
    columns; ``missing`` names required columns the header lacks.
    """

    platform: Literal["facebook", "instagram"]
    header: tuple[str, ...]
    where: Mapping[str, int]
    integers: tuple[int, ...]
    decimals: tuple[int, ...]
    missing: tuple[str, ...]

    @classmethod
    def from_header(cls, header: Sequence[str]) -> Layout | None:
        """The layout of a CrowdTangle header; None if it is neither a Facebook nor an
        Instagram export."""
        keys = [_key(h) for h in header]
        index: dict[str, int] = {}
        for i, k in enumerate(keys):
            index.setdefault(k, i)
        platform: Literal["facebook", "instagram"]
        if "facebook id" in index:
            platform, fields = "facebook", _FACEBOOK
        elif {"account", "user name"} <= index.keys():
            platform, fields = "instagram", _INSTAGRAM
        else:
            return None
        where: dict[str, int] = {}
        for field, names in fields.items():
            found = [index[_key(n)] for n in names if _key(n) in index]
            if found:
                where[field] = found[0]
        missing = tuple(fields[f][0] for f in _REQUIRED[platform] if f not in where)
        counted = {"likes", "comments", "shares", "views", "followers", *REACTION_FIELDS}
        integers = {where[f] for f in counted if f in where}
        integers |= {index[_key(n)] for n in _INTEGER_ONLY if _key(n) in index}
        decimals = tuple(i for i, k in enumerate(keys) if k.startswith(_DECIMAL_PREFIX))
        return cls(platform, tuple(header), where, tuple(sorted(integers)), decimals, missing)

    @property
    def types(self) -> dict[str, str]:
        return FACEBOOK_TYPES if self.platform == "facebook" else INSTAGRAM_TYPES

    def name(self, field: str) -> str:
        """The header name of a logical field, for messages."""
        return self.header[self.where[field]].strip()
