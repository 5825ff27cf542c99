"""CrowdTangle rows → the canonical posts and account-snapshot relations.

Mapping (docs/import-crowdtangle.md has the full table): ``reactions`` is the sum of the
reaction columns (Likes + Love + Wow + Haha + Sad + Angry + Care), ``likes`` the Like reaction
alone; ``views`` is ``Post Views`` (Facebook) or ``Views`` (Instagram) for video posts only,
since CrowdTangle writes 0 for posts that have no view count; ``post_id`` comes from the URL;
``Followers at Posting`` becomes an account snapshot at the post's time; ``account_name`` is
``Page Name`` (``Group Name``) or, on Instagram, ``Account``. The counts were read when the
file was exported: ``captured_at`` is :func:`govsocial.sources.capture.captured_at`
(``--captured-at``, else the export time CrowdTangle writes in the file's name, else the
file's modification time).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govsocial.errors import InputError
from govsocial.sources.capture import captured_at
from govsocial.sources.crowdtangle import convert as cv
from govsocial.sources.crowdtangle.records import REACTION_FIELDS, Layout
from govsocial.sources.csvrows import TextRows, payload_keys
from govsocial.sources.payloads import quarantine_payload
from govsocial.sources.staging import ImportOptions
from govsocial.sources.timezones import resolve_tz

_VIDEO = pa.array(["video", "reel"])


def thousands_separator(layout: Layout, rows: TextRows) -> str | None:
    return cv.thousands_separator(
        [rows.columns[i] for i in layout.integers],
        [rows.columns[i] for i in layout.decimals],
    )


def posts_table(
    path: Path, layout: Layout, rows: TextRows, options: ImportOptions, sep: str | None
) -> pa.Table:
    """One row per CSV row: ``_row``, ``_reason``, ``_detail``, ``_payload``, the canonical
    post columns, and the raw text columns ``_c0 …`` (the payload of quarantined rows)."""
    n = rows.count
    cleaned: dict[str, pa.Array] = {}

    def raw(field: str) -> pa.Array:
        index = layout.where.get(field)
        # The CSV reader's chunks are kept: combining every column would copy the whole file.
        return rows.columns[index] if index is not None else pa.nulls(n, pa.string())

    def value(field: str) -> pa.Array:
        if field not in cleaned:
            cleaned[field] = cv.clean(raw(field))
        return cleaned[field]

    def quoted(field: str, then: str) -> Callable[[], pa.Array]:
        """The detail "Field 'value' …", made only if some row needs it."""
        return lambda: cv.joined(f"{layout.name(field)} '", value(field), "' " + then)

    found = cv.Findings(rows.reason, rows.detail)
    account = "account_id" if layout.platform == "facebook" else "handle"
    for field in ("type", "posted", "url", account):
        found.add(pc.is_null(value(field)), "missing_value", f"{layout.name(field)} is empty")
    times = cv.created_times(value("posted"), resolve_tz(options.tz) if options.tz else None)
    if pc.any(times.unzoned).as_py() and not pc.any(pc.is_valid(times.posted)).as_py():
        raise InputError(
            f"no {layout.name('posted')} time carries a known time zone (abbreviations found: "
            f"{', '.join(times.unknown_zones) or 'none'}). Give the zone the export was made "
            "in with --tz, e.g. --tz WIB or --tz Asia/Jakarta.",
            path=path,
        )
    found.add(
        times.unreadable,
        "bad_value",
        quoted("posted", "is not a time like 2021-07-05 18:02:45 WIB"),
    )
    found.add(
        times.impossible,
        "bad_value",
        quoted("posted", "is not a real time: no such date (or time of day)"),
    )
    found.add(
        times.unzoned,
        "bad_value",
        quoted("posted", "has no known time-zone abbreviation; give the zone with --tz"),
    )
    media, unknown_type = cv.media_types(value("type"), layout.types)
    types = f"is not a known CrowdTangle {layout.platform} post type ({', '.join(layout.types)})"
    found.add(unknown_type, "unknown_media_type", quoted("type", types))
    if layout.platform == "facebook":
        post_id = cv.facebook_post_ids(value("url"), value("account_id"))
    else:
        post_id = cv.instagram_post_ids(value("url"))
    unnamed = cv.flag(pc.and_(pc.is_null(post_id), pc.is_valid(value("url"))))
    found.add(unnamed, "bad_value", quoted("url", "names no post id"))
    counts: dict[str, pa.Array] = {}
    for field in ("likes", "comments", "shares", "views", *REACTION_FIELDS[1:]):
        if field in layout.where:
            counts[field], bad = cv.whole_numbers(value(field), sep)
            found.add(bad, "bad_value", quoted(field, "is not a whole number"))
    duration, bad = cv.durations(value("video_length"))
    if "video_length" in layout.where:
        found.add(bad, "bad_value", quoted("video_length", "is not a length like 00:03:34"))

    is_video = pc.is_in(media, value_set=_VIDEO)
    none = pa.nulls(n, pa.int64())
    reactions = [counts[f] for f in REACTION_FIELDS if f in counts]
    columns: dict[str, pa.Array] = {
        "platform": pa.repeat(pa.scalar(layout.platform), n),
        "account_platform_id": value("account_id"),
        "account_handle": value("handle"),
        "account_name": value("name"),
        "post_id": post_id,
        "posted_at": times.posted,
        "captured_at": pa.repeat(
            pa.scalar(captured_at(path, options), pa.timestamp("us", "UTC")), n
        ),
        "media_type": media,
        "text": pc.if_else(pc.equal(raw("text"), ""), pa.scalar(None, pa.string()), raw("text")),
        "url": value("url"),
        "is_repost": pa.repeat(pa.scalar(False), n),
        "is_reply_to_other": pa.repeat(pa.scalar(False), n),  # exports hold no comments
        "video_duration_s": pc.if_else(is_video, duration, pa.scalar(None, pa.float64())),
        "views": pc.if_else(is_video, counts.get("views", none), pa.scalar(None, pa.int64())),
        "likes": counts.get("likes", none),
        "reactions": reduce(pc.add, reactions) if layout.platform == "facebook" else none,
        "comments": counts.get("comments", none),
        "shares": counts.get("shares", none),
    }
    good = found.good
    if not pc.all(good).as_py():  # quarantined rows carry no canonical values
        columns = {k: pc.if_else(good, v, pa.scalar(None, v.type)) for k, v in columns.items()}
    return pa.table(
        {
            "_row": pa.array(range(1, n + 1), pa.int64()),
            "_reason": found.reason,
            "_detail": found.detail,
            "_payload": rows.payload,
            **columns,
            **{f"_c{i}": c for i, c in enumerate(rows.columns)},
        }
    )


def snapshots_table(
    layout: Layout, rows: TextRows, posts: pa.Table, sep: str | None
) -> pa.Table | None:
    """``Followers at Posting`` of each good post: a follower reading at the post's time.

    Rows whose post was quarantined or that give no count are left out (nothing to record);
    two posts of one account in the same second give one reading. A count that is not a
    whole number is quarantined (reason ``bad_value``) with its row as payload.
    """
    if "followers" not in layout.where:
        return None
    text = cv.clean(rows.columns[layout.where["followers"]])
    followers, bad = cv.whole_numbers(text, sep)
    shown = cv.joined(f"{layout.name('followers')} '", text, "' is not a whole number")
    table = pa.table(
        {
            "_row": posts["_row"],
            "_reason": pc.if_else(bad, pa.scalar("bad_value"), pa.scalar(None, pa.string())),
            "_detail": pc.if_else(bad, shown, pa.scalar(None, pa.string())),
            "platform": posts["platform"],
            "account_platform_id": posts["account_platform_id"],
            "account_handle": posts["account_handle"],
            "account_name": posts["account_name"],
            "captured_at": posts["posted_at"],
            "followers": followers,
        }
    ).filter(pc.and_(pc.is_null(posts["_reason"]), pc.is_valid(text)))
    bad = pc.is_valid(table["_reason"])
    account = table["account_platform_id"]
    if account.null_count:  # Instagram exports name accounts by handle
        account = pc.coalesce(account, pc.utf8_lower(table["account_handle"]))
    readings = table.append_column("_account", account).filter(pc.invert(bad))
    first = readings.group_by(["_account", "captured_at"]).aggregate([("_row", "min")])
    kept = np.zeros(rows.count + 1, dtype=bool)  # by row number: faster than a set lookup
    kept[first["_row_min"].to_numpy()] = True
    table = table.filter(pc.or_(bad, kept[table["_row"].to_numpy()]))
    payload = pa.nulls(table.num_rows, pa.string())
    wrong = table.filter(pc.is_valid(table["_reason"]))["_row"].to_pylist()
    if wrong:  # few rows: their payload is built here, row by row
        payloads = {r: _row_json(layout, rows, r - 1) for r in wrong}
        payload = pa.array([payloads.get(r) for r in table["_row"].to_pylist()], pa.string())
    return table.append_column("_payload", payload)


def _row_json(layout: Layout, rows: TextRows, index: int) -> str:
    """One CSV row as a JSON object keyed by the header (as DuckDB's payloads are)."""
    values = [column[index].as_py() for column in rows.columns]
    return quarantine_payload(dict(zip(payload_keys(layout.header), values, strict=True)))
