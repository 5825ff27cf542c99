"""Column-wise conversions of CrowdTangle values, with pyarrow.compute (no per-row Python).

Every function takes whole string columns (as read from the CSV) and returns the converted
column and, where a value can be wrong, a boolean column marking the values it could not read;
:class:`Findings` turns those marks into the ``_reason``/``_detail`` of each row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govsocial.sources.timezones import arrow_timezone, fixed_offset

_NULL_TEXT = pa.scalar(None, pa.string())


def clean(values: pa.Array) -> pa.Array:
    """Trimmed text; an empty cell is NULL (not known)."""
    text = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(text, ""), _NULL_TEXT, text)


def combined(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array of a column (the CSV reader gives columns in chunks, which most compute
    functions read as they are; the few that need one array get it here)."""
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def flag(mask: pa.Array) -> pa.Array:
    """A boolean column with NULL read as false."""
    return pc.fill_null(mask, False)


def thousands_separator(integers: Sequence[pa.Array], decimals: Sequence[pa.Array]) -> str | None:
    """The file's thousands separator ("." or ","), or None if it writes none.

    Exports follow the exporting user's locale: ``407.137`` (Indonesian, German …) or
    ``407,137`` (English) for 407137, with the decimal mark the other way round (``1,4`` or
    ``1.4``). Columns that hold whole numbers by nature decide: any separator in them groups
    thousands (the more frequent one wins). Only if they show none does a decimal column
    (Overperforming Score) decide, by a decimal mark followed by other than three digits.
    """
    votes = {
        sep: sum(pc.sum(pc.match_substring(col, sep)).as_py() or 0 for col in integers)
        for sep in (".", ",")
    }
    if votes["."] != votes[","]:
        return "." if votes["."] > votes[","] else ","
    hints = {
        mark: sum(
            pc.sum(
                pc.match_substring_regex(col, rf"^[+-]?\d+{re.escape(mark)}(\d{{1,2}}|\d{{4,}})$")
            ).as_py()
            or 0
            for col in decimals
        )
        for mark in (".", ",")
    }
    if hints[","] != hints["."]:
        return "." if hints[","] > hints["."] else ","
    return None


def whole_numbers(values: pa.Array, sep: str | None) -> tuple[pa.Array, pa.Array]:
    """(int64 column, bad mask): ``1.234`` with sep "." is 1234; empty is NULL; ``-3``,
    ``1,5`` or ``abc`` are bad."""
    text = clean(values)
    # Most cells are plain digits: those are cast at once, the others matched one by one.
    plain = flag(pc.and_(pc.ascii_is_decimal(text), pc.less_equal(pc.utf8_length(text), 18)))
    number = pc.cast(pc.if_else(plain, text, _NULL_TEXT), pa.int64())
    rest = pc.and_(pc.is_valid(text), pc.invert(plain))
    if not pc.any(rest).as_py():
        return number, rest
    pattern = r"^\d{1,18}$"
    if sep:
        pattern = rf"^(\d{{1,18}}|\d{{1,3}}({re.escape(sep)}\d{{3}}){{1,5}})$"
    good = flag(pc.match_substring_regex(text, pattern))
    digits = pc.replace_substring(text, sep, "") if sep else text
    number = pc.cast(pc.if_else(good, digits, _NULL_TEXT), pa.int64())
    return number, pc.and_(pc.is_valid(text), pc.invert(good))


_DURATION = r"^(?:(?P<h>\d{1,4}):)?(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)$"


def durations(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(seconds as float64, bad mask) from ``Video Length``: ``00:03:34`` is 214.0, ``N/A`` is
    NULL."""
    text = clean(values)
    text = pc.if_else(
        flag(pc.is_in(pc.utf8_upper(text), pa.array(["N/A", "NA", "-"]))), _NULL_TEXT, text
    )
    parts = pc.extract_regex(text, _DURATION)
    hours = pc.struct_field(parts, "h")
    hours = pc.if_else(pc.equal(hours, ""), "0", hours)

    def number(field: pa.Array) -> pa.Array:
        return pc.cast(field, pa.float64())

    seconds = pc.add(
        pc.add(
            pc.multiply(number(hours), 3600.0),
            pc.multiply(number(pc.struct_field(parts, "m")), 60.0),
        ),
        number(pc.struct_field(parts, "s")),
    )
    return seconds, flag(pc.and_(pc.is_valid(text), pc.is_null(parts)))


@dataclass
class Times:
    """``Post Created`` read: UTC times, and which rows could not be placed in time."""

    posted: pa.Array  # timestamp[us, UTC]; NULL where unreadable or without a known zone
    unreadable: pa.Array  # not "YYYY-MM-DD HH:MM:SS[ ZONE]" (or a month 13, an hour 24)
    impossible: pa.Array  # of that shape, but no such date or time (2021-02-30, 23:59:60)
    unzoned: pa.Array  # readable, but without a zone (or with an unknown one) and no --tz
    unknown_zones: list[str]


_CREATED = r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}:\d{2})(?:\s+(?P<zone>\S+))?$"
_UTC_US = pa.timestamp("us", tz="UTC")


def _assume(naive: pa.Array, zone: tzinfo) -> pa.Array:
    # 'earliest': a wall time repeated or skipped by a summer-time change does not fail.
    local = pc.assume_timezone(
        naive, timezone=arrow_timezone(zone), ambiguous="earliest", nonexistent="earliest"
    )
    return pc.cast(local, _UTC_US)


def _as_written(date: pa.Array, time: pa.Array, naive: pa.Array) -> pa.Array:
    """Where ``naive`` (strptime's reading of ``date time``) is another moment than the text
    says: strptime moves a day or second that does not exist on (2021-02-30 is read as
    2021-03-02, 23:59:60 as the next day's 00:00:00), so its parts are compared with the
    text's, as whole numbers (20210230 against 20210302), column by column. Only a day of 29
    or more or a second of 60 or more can be moved, so only those rows are compared."""
    day = pc.cast(pc.utf8_slice_codeunits(date, 8, 10), pa.int64())
    second = pc.cast(pc.utf8_slice_codeunits(time, 6, 8), pa.int64())
    suspect = flag(pc.or_(pc.greater_equal(day, 29), pc.greater_equal(second, 60)))
    where = pc.indices_nonzero(suspect)
    moved = np.zeros(len(date), dtype=bool)
    if len(where):
        date, time, naive = date.take(where), time.take(where), naive.take(where)

        def digits(high: pa.Array, middle: pa.Array, low: pa.Array) -> pa.Array:
            return pc.add(pc.multiply(pc.add(pc.multiply(high, 100), middle), 100), low)

        # Not year_month_day: it crashes on long columns with this pyarrow.
        written_date = pc.cast(pc.replace_substring(date, "-", ""), pa.int64())
        written_time = pc.cast(pc.replace_substring(time, ":", ""), pa.int64())
        read_date = digits(pc.year(naive), pc.month(naive), pc.day(naive))
        read_time = digits(pc.hour(naive), pc.minute(naive), pc.second(naive))
        differs = pc.or_(
            pc.not_equal(written_date, read_date), pc.not_equal(written_time, read_time)
        )
        moved[where.to_numpy()] = flag(differs).to_numpy(zero_copy_only=False)
    return pa.array(moved)


def created_times(values: pa.Array, override: tzinfo | None) -> Times:
    """``2021-07-05 18:02:45 BRT``: the wall time in the zone its abbreviation names, or in
    ``override`` (``--tz``) when given, which wins over the file's abbreviation. A date or
    time that does not exist (``2021-02-30``, ``2021-02-29``, ``23:59:60``) is ``impossible``,
    never moved to another day."""
    text = clean(values)
    parts = pc.extract_regex(text, _CREATED)
    date, time = pc.struct_field(parts, "date"), pc.struct_field(parts, "time")
    stamp = pc.binary_join_element_wise(date, time, " ")
    naive = pc.strptime(stamp, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    unreadable = flag(pc.and_(pc.is_valid(text), pc.is_null(naive)))
    impossible = _as_written(date, time, naive)
    if pc.any(impossible).as_py():
        naive = pc.if_else(impossible, pa.scalar(None, naive.type), naive)
    if override is not None:
        posted = _assume(naive, override)
        none = pa.repeat(pa.scalar(False), len(values))
        return Times(posted, unreadable, impossible, none, [])
    zones = pc.struct_field(parts, "zone")
    posted = pa.nulls(len(values), _UTC_US)
    unknown: list[str] = []
    for name in pc.unique(zones).to_pylist():
        if not name:
            continue
        zone = fixed_offset(name)
        if zone is None:
            unknown.append(name)
            continue
        posted = pc.if_else(flag(pc.equal(zones, name)), _assume(naive, zone), posted)
    unzoned = flag(pc.and_(pc.is_valid(naive), pc.is_null(posted)))
    return Times(posted, unreadable, impossible, unzoned, sorted(unknown))


_FB_QUERY = r"[?&](?:story_fbid|fbid|v)=(?P<id>\d+|pfbid\w+)"
_FB_PATH = r"/(?P<id>\d+|pfbid\w+)/?(?:[?#].*)?$"  # the last path segment (unanchored: fast)
_IG_PATH = r"instagram\.com/(?:[\w.]+/)?(?:p|reel|reels|tv)/(?P<id>[\w-]+)"


def _capture(values: pa.Array, pattern: str) -> pa.Array:
    return pc.struct_field(pc.extract_regex(values, pattern), "id")


def facebook_post_ids(urls: pa.Array, page_ids: pa.Array) -> pa.Array:
    """``{Facebook Id}_{id}``, the Graph API's post id, from the post's URL
    (``…/posts/{id}``, ``…/videos/{id}/``, ``…/photos/a.1/{id}/``, ``permalink.php?story_fbid=``,
    ``…/posts/pfbid0…``); NULL if the URL names no post."""
    url = clean(urls)
    ident = _capture(url, _FB_PATH)
    other = flag(pc.and_(pc.is_null(ident), pc.is_valid(url)))
    if pc.any(other).as_py():  # permalink.php?story_fbid=, photo.php?fbid=, watch/?v=
        ident, other = combined(ident), combined(other)  # replace_with_mask takes arrays
        ident = pc.replace_with_mask(ident, other, combined(_capture(url.filter(other), _FB_QUERY)))
    return pc.binary_join_element_wise(clean(page_ids), ident, "_")


def instagram_post_ids(urls: pa.Array) -> pa.Array:
    """The shortcode of ``https://www.instagram.com/p/{shortcode}/`` (or ``/reel/``, ``/tv/``)."""
    return _capture(clean(urls), _IG_PATH)


def media_types(values: pa.Array, table: dict[str, str]) -> tuple[pa.Array, pa.Array]:
    """(media_type, unknown mask) from the export's ``Type`` via ``table`` (ignoring case)."""
    key = pc.utf8_lower(clean(values))
    index = pc.index_in(key, value_set=pa.array([k.lower() for k in table], pa.string()))
    media = pc.take(pa.array(list(table.values()), pa.string()), index)
    return media, flag(pc.and_(pc.is_valid(key), pc.is_null(index)))


def joined(*parts: pa.Array | str) -> pa.Array:
    """A text column: the parts (literal text or columns) joined; NULL where a column is."""
    return pc.binary_join_element_wise(*parts, "")


class Findings:
    """Per-row quarantine reasons; the first finding of a row wins."""

    def __init__(self, reason: pa.Array, detail: pa.Array) -> None:
        self.reason = reason
        self.detail = detail

    def add(self, mask: pa.Array, code: str, detail: str | Callable[[], pa.Array]) -> None:
        """Mark the rows of ``mask`` (if not marked yet) with ``code`` and ``detail``, a text
        or a function making the detail column (called only if some row is marked)."""
        if not pc.any(mask).as_py():
            return
        fresh = pc.and_(pc.is_null(self.reason), mask)
        self.reason = pc.if_else(fresh, pa.scalar(code), self.reason)
        self.detail = pc.if_else(
            fresh, detail if isinstance(detail, str) else detail(), self.detail
        )

    @property
    def good(self) -> pa.Array:
        return pc.is_null(self.reason)
