"""The words every stage shares, defined once: platforms, media types, counts, Jakarta time.

Every stage imports these from here (the registry, the readers, the loader, the award engine
and the synthetic world), so a new platform or media type is added in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

PLATFORMS = ("facebook", "instagram", "x", "youtube", "tiktok")
# How each platform's name is written for people (reports, pages).
PLATFORM_NAMES = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "X",
    "youtube": "YouTube",
    "tiktok": "TikTok",
}
MEDIA_TYPES = ("image", "video", "text", "link", "carousel", "reel")
# The per-post counts a snapshot can carry (post_metrics); NULL means "not known", never 0.
COUNT_COLUMNS = ("views", "likes", "reactions", "comments", "shares", "quotes", "saves")
# The per-account counts of a follower snapshot (account_snapshots).
ACCOUNT_COUNT_COLUMNS = ("followers", "following", "posts_count")

WIB = timezone(timedelta(hours=7), "WIB")  # Western Indonesian Time (Jakarta): no DST

# When each platform opened to the public: a post dated earlier cannot be real (a zero
# timestamp, 1969/1970, a year-1 placeholder) and is quarantined as ``implausible_time``.
# Facebook: 2004-02-04; YouTube: 2005-02-14 (domain live, first video 2005-04-23);
# Twitter: 2006-03-21 (first tweet); Instagram: 2010-10-06; TikTok: 2016-09-20 (Douyin,
# which TikTok's international app grew out of).
PLATFORM_LAUNCH: dict[str, datetime] = {
    "facebook": datetime(2004, 2, 4, tzinfo=UTC),
    "youtube": datetime(2005, 2, 14, tzinfo=UTC),
    "x": datetime(2006, 3, 21, tzinfo=UTC),
    "instagram": datetime(2010, 10, 6, tzinfo=UTC),
    "tiktok": datetime(2016, 9, 20, tzinfo=UTC),
}
# A capture (or post) time later than the import's clock by more than this is in the future:
# clocks drift a little, but counts cannot be read tomorrow.
FUTURE_TOLERANCE = timedelta(hours=1)

# The import formats, in the order they are sniffed (govsocial.sources.formats.FORMATS holds
# the readers; named here so that the command line can list them without importing them).
FORMAT_NAMES = (
    "generic",
    "crowdtangle",
    "x-v2",
    "facebook-graph",
    "instagram-graph",
    "youtube",
    "tiktok-research",
)

# What a hashtag and a mention are, after their '#' / '@': the one grammar the loader (posts'
# hashtags and mentions columns, in DuckDB's RE2) and the text stage's tokeniser (Python's
# regex) both use. A hashtag needs a letter (#2024 is not one, as on the platforms); a mention
# may hold inner dots (Instagram's @humas.jabar).
HASHTAG_BODY = r"[\p{L}\p{M}\p{N}_]*\p{L}[\p{L}\p{M}\p{N}_]*"
MENTION_BODY = r"[\p{L}\p{N}_](?:[\p{L}\p{N}_.]*[\p{L}\p{N}_])?"
