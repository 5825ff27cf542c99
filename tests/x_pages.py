"""X API v2 pages for tests: builders, and hypothesis strategies for pages of any content."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st


def tweet(tweet_id: str = "1", **fields: Any) -> dict[str, Any]:
    base = {
        "id": tweet_id,
        "author_id": "2000000001",
        "created_at": "2025-03-01T01:15:00.000Z",
        "text": "Halo",
        "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 0},
        "edit_history_tweet_ids": [tweet_id],
    }
    return base | fields


def page(
    *tweets: dict[str, Any], at: str | None = "2025-03-02T00:00:00+00:00", **extra: Any
) -> str:
    users = [
        {"id": "2000000001", "username": "JabarProvGov", "public_metrics": {"followers_count": 9}}
    ]
    body: dict[str, Any] = {"data": list(tweets), "includes": {"users": users}, **extra}
    if at is not None:
        body["__twarc"] = {"url": "https://api.twitter.com/2/tweets", "retrieved_at": at}
    return json.dumps(body)


# text with control characters (NUL) and unpaired surrogates, which JSON can carry escaped
odd_text = st.text(st.characters() | st.characters(categories=["Cs", "Cc"]), max_size=8)
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
maybe = st.one_of  # a field: a plausible value or anything at all
tweets = st.fixed_dictionaries(
    {
        "id": maybe(st.integers(1, 10**20).map(str), json_value),
        "author_id": maybe(st.sampled_from(["1", "2"]), json_value),
        "created_at": maybe(
            st.sampled_from(["2025-03-01T01:15:00.000Z", "2025-13-01", ""]), json_value
        ),
    },
    optional={
        "text": odd_text,
        "public_metrics": maybe(
            st.dictionaries(
                st.sampled_from(["like_count", "retweet_count", "impression_count"]),
                st.integers(-5, 2**64) | json_value,
            ),
            json_value,
        ),
        "attachments": maybe(
            st.fixed_dictionaries({"media_keys": st.lists(st.sampled_from(["3_1", "7_2"]))}),
            json_value,
        ),
        "referenced_tweets": json_value,
        "entities": json_value,
    },
)
some_id = maybe(st.sampled_from(["1", "2", "3_1", "7_2"]), json_value)
users = st.fixed_dictionaries(
    {"id": some_id},
    optional={
        "username": json_value,
        "name": maybe(st.sampled_from(["Pemprov Jawa Barat", ""]), odd_text, json_value),
        "public_metrics": maybe(
            st.fixed_dictionaries({"followers_count": st.integers(-1, 2**64) | json_value}),
            json_value,
        ),
    },
)
media = st.fixed_dictionaries(
    {"media_key": some_id},
    optional={
        "type": maybe(st.sampled_from(["photo", "video"]), json_value),
        "duration_ms": st.integers(-1, 2**64) | json_value,
    },
)
includes = maybe(
    st.fixed_dictionaries(
        {}, optional={"users": st.lists(users | json_value), "media": st.lists(media | json_value)}
    ),
    json_value,
)
lines = st.lists(
    st.one_of(
        st.lists(tweets, max_size=3).map(lambda ts: page(*ts)),
        st.builds(lambda ts, inc: page(*ts, includes=inc), st.lists(tweets, max_size=2), includes),
        st.builds(lambda ts, at: page(*ts, at=at), st.lists(tweets, max_size=2), odd_text),
        tweets.map(lambda t: page(t)[: len(page(t)) // 2]),
        json_value.map(json.dumps),
        st.text(max_size=30).map(lambda s: s.replace("\n", " ").replace("\r", " ")),
    ),
    max_size=5,
)


def any_file(folder: Path, body: list[str]) -> Path:
    path = folder / "any.jsonl"  # a valid first page, so the file is X data; then anything
    path.write_text("\n".join([page(tweet("1")), *body]) + "\n", encoding="utf-8")
    return path


# Ordinary pages: every field of its documented type (what the compiled path reads).
ids = st.integers(1, 10**19).map(str)
counts = st.integers(0, 2**63 - 1)
authors = st.sampled_from(["2000000001", "5", "6"])
media_keys = st.sampled_from(["3_1", "7_2", "16_3", "99_4"])
x_time = st.datetimes(min_value=datetime(2006, 3, 21), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
)
ordinary_tweets = st.fixed_dictionaries(
    {"id": ids, "author_id": authors, "created_at": x_time},
    optional={
        "text": st.text(max_size=12),  # any characters, emoji included (no lone surrogates)
        "public_metrics": st.dictionaries(
            st.sampled_from(
                [
                    "retweet_count",
                    "reply_count",
                    "like_count",
                    "quote_count",
                    "bookmark_count",
                    "impression_count",
                ]
            ),
            counts,
        ),
        "referenced_tweets": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["retweeted", "quoted", "replied_to"]), "id": ids}
            ),
            max_size=2,
        ),
        "attachments": st.fixed_dictionaries({"media_keys": st.lists(media_keys, max_size=3)}),
        "entities": st.fixed_dictionaries(
            {
                "urls": st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "expanded_url": st.sampled_from(
                                ["https://econ.st/3u7", "https://x.com/a/status/1", "nolink", ""]
                            ),
                            "url": st.sampled_from(["https://t.co/abc", "http://www.twitter.com"]),
                            "media_key": media_keys,
                        },
                    ),
                    max_size=2,
                )
            }
        ),
        "edit_history_tweet_ids": st.lists(ids, max_size=1),
        "lang": st.sampled_from(["in", "en"]),
    },
)
ordinary_users = st.fixed_dictionaries(
    {"id": authors, "username": st.sampled_from(["JabarProvGov", "@humas", "@", "x_y"])},
    optional={
        "name": st.text(max_size=8),
        "public_metrics": st.dictionaries(
            st.sampled_from(["followers_count", "following_count", "tweet_count"]), counts
        ),
    },
)
ordinary_media = st.fixed_dictionaries(
    {"media_key": media_keys},
    optional={
        "type": st.sampled_from(["photo", "video", "animated_gif"]),
        "duration_ms": st.integers(0, 10**9),
        "public_metrics": st.fixed_dictionaries({"view_count": counts}),
    },
)
retrieved = st.sampled_from(
    ["2025-03-02T00:00:00+00:00", "2025-03-02T07:00:00+07:00", "2025-03-02T00:00:00.5Z"]
)


@st.composite
def ordinary_pages(draw: st.DrawFn) -> str:
    """A search page (or a streaming line, with one tweet) as the API and twarc2 write it."""
    tweets = draw(st.lists(ordinary_tweets, min_size=1, max_size=4))
    body: dict[str, Any] = {
        "data": tweets[0] if draw(st.booleans()) else tweets,
        "includes": {
            "users": draw(st.lists(ordinary_users, max_size=3)),
            "media": draw(st.lists(ordinary_media, max_size=3)),
        },
        "meta": {"result_count": len(tweets)},
    }
    if draw(st.booleans()):
        body["__twarc"] = {"url": "https://api.twitter.com/2/tweets/search/all"}
        if draw(st.booleans()):
            body["__twarc"]["retrieved_at"] = draw(retrieved)
    return json.dumps(body, ensure_ascii=draw(st.booleans()))


# An ordinary tweet with one field of any content: the edge of what the compiled path reads.
odd_tweets = st.builds(
    lambda t, key, value: t | {key: value},
    ordinary_tweets,
    st.sampled_from(
        [
            "id",
            "author_id",
            "created_at",
            "text",
            "public_metrics",
            "referenced_tweets",
            "attachments",
            "entities",
            "author",
        ]
    ),
    json_value,
)
mixed_lines = st.lists(
    st.one_of(
        ordinary_pages(),
        st.lists(odd_tweets, min_size=1, max_size=2).map(lambda ts: page(*ts)),
        st.builds(lambda ts, inc: page(*ts, includes=inc), st.lists(ordinary_tweets), includes),
        lines.map("\n".join),
    ),
    max_size=4,
)


# Pages whose includes.users hold anything: ordinary users, users with broken or missing
# counts, non-objects, and the same user again (an author expanded twice).
expanded_users = st.one_of(ordinary_users, users, json_value)
capture_times = st.one_of(
    st.none(), retrieved, st.sampled_from(["yesterday", "infinity", "2025-03-02T00:00"]), odd_text
)


@st.composite
def pages_with_users(draw: st.DrawFn) -> dict[str, Any]:
    """A page of tweets (ordinary or with one odd field) and users of any content."""
    found = draw(st.lists(expanded_users, max_size=4))
    if found:
        found += draw(st.lists(st.sampled_from(found), max_size=2))
    tweets = draw(st.lists(ordinary_tweets | odd_tweets, max_size=3))
    body: dict[str, Any] = {
        "data": tweets[0] if len(tweets) == 1 and draw(st.booleans()) else tweets,
        "includes": {"users": found},
    }
    at = draw(capture_times)
    if at is not None:
        body["__twarc"] = {"retrieved_at": at}
    return body
