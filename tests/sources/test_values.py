"""The JSON value parsers every API reader uses (``govsocial.sources.values``), and the JSON
sniff every JSON format starts with (``documents.json_head``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govsocial.errors import RecordError
from govsocial.sources.documents import json_head
from govsocial.sources.values import (
    COUNT_RANGE,
    MAX_COUNT,
    count,
    identifier,
    mapping,
    show,
    text,
    timestamp,
)

JAKARTA = ZoneInfo("Asia/Jakarta")


def refusal(parse: object, *args: object) -> tuple[str, str]:
    with pytest.raises(RecordError) as caught:
        parse(*args)  # type: ignore[operator]
    return caught.value.reason, caught.value.detail


@pytest.mark.parametrize(
    "written",
    [
        "2019-09-15T21:17:40.000Z",  # X, YouTube
        "2019-09-15T21:17:40Z",  # YouTube without milliseconds
        "2019-09-15T21:17:40+0000",  # Graph API
        "2019-09-15T21:17:40+00:00",  # twarc's retrieved_at
        "2019-09-16T04:17:40+07:00",
        "2019-09-15T21:17:40.000000000Z",  # nanoseconds: cut to microseconds
    ],
)
def test_times_with_an_offset_are_utc_whatever_the_zone(written: str) -> None:
    expected = datetime(2019, 9, 15, 21, 17, 40, tzinfo=UTC)
    for zone in (None, UTC, JAKARTA):
        assert timestamp(written, "t", zone) == expected


def test_a_time_without_an_offset_is_read_in_the_zone_or_refused() -> None:
    assert timestamp("2019-09-16T04:17:40", "t", JAKARTA) == datetime(
        2019, 9, 15, 21, 17, 40, tzinfo=UTC
    )
    assert timestamp("2019-09-15T21:17:40", "t", UTC).hour == 21
    reason, detail = refusal(timestamp, "2019-09-16T04:17:40", "snippet.publishedAt", None)
    assert reason == "bad_value"
    assert detail.startswith("snippet.publishedAt '2019-09-16T04:17:40' has no UTC offset")
    assert "--tz" in detail


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (None, "missing_field", "created_at is missing"),
        ("", "missing_field", "created_at is missing"),
        ("yesterday", "bad_value", "created_at 'yesterday' is not an ISO 8601 timestamp"),
        (1615000000, "bad_value", "created_at 1615000000 is not an ISO 8601 timestamp"),
        (True, "bad_value", "created_at True is not an ISO 8601 timestamp"),
        (
            "2019-02-30T04:17:40Z",
            "bad_value",
            "created_at '2019-02-30T04:17:40Z' is not a real time (day is out of range for month)",
        ),
        (  # in range where written, out of range in UTC
            "9999-12-31T23:59:59-01:00",
            "bad_value",
            "created_at '9999-12-31T23:59:59-01:00' is not a real time (date value out of range)",
        ),
        (
            "0001-01-01T00:00:00+01:00",
            "bad_value",
            "created_at '0001-01-01T00:00:00+01:00' is not a real time (date value out of range)",
        ),
        (
            "2019-09-15T21:17:40+24:00",
            "bad_value",
            "created_at '2019-09-15T21:17:40+24:00' has a bad UTC offset",
        ),
    ],
)
def test_bad_times_are_refused_saying_why(value: object, reason: str, detail: str) -> None:
    assert refusal(timestamp, value, "created_at", UTC) == (reason, detail)


@given(
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)),
    st.integers(-23 * 60, 23 * 60),
)
def test_any_iso_time_with_an_offset_is_that_moment(moment: datetime, minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    assert timestamp(aware.isoformat(), "t", None) == aware


def test_counts() -> None:
    assert count(None, "likes") is None  # not known, never 0
    assert count(0, "likes") == 0
    assert count(-5, "likes") == -5  # the loader quarantines it, naming the column
    assert count(MAX_COUNT, "likes") == MAX_COUNT == 2**63 - 1
    assert count(COUNT_RANGE.start, "likes") == -(2**63)
    assert refusal(count, True, "shares.count") == (
        "bad_value",
        "shares.count True is not a whole number",
    )
    assert refusal(count, 12.0, "likes")[1] == "likes 12.0 is not a whole number"
    assert refusal(count, "12", "likes")[1] == "likes '12' is not a whole number"
    assert refusal(count, 2**63, "likes")[1] == (
        "likes 9223372036854775808 is too large for a count (at most 9223372036854775807)"
    )
    assert refusal(count, -(2**63) - 1, "likes")[1] == (
        "likes -9223372036854775809 is too small for a count (at least -9223372036854775808)"
    )


@given(st.integers(-(2**70), 2**70))
def test_a_count_is_any_integer_a_bigint_holds(number: int) -> None:
    if -(2**63) <= number < 2**63:
        assert count(number, "n") == number
    else:
        assert refusal(count, number, "n")[0] == "bad_value"


def test_text_objects_and_ids() -> None:
    assert text(None, "message") is None
    assert text("Halo \ud83d", "message") == "Halo \ud83d"  # the payload check quarantines it
    assert refusal(text, 5, "message") == ("bad_value", "message 5 is not text")
    assert mapping(None, "from") is None
    assert mapping({"id": "1"}, "from") == {"id": "1"}
    assert refusal(mapping, [1], "from") == ("bad_value", "from [1] is not a JSON object")
    assert identifier("19292868552", "id") == "19292868552"
    assert identifier(19292868552, "id") == "19292868552"  # Graph ids written as numbers
    assert refusal(identifier, None, "from.id") == ("missing_field", "from.id is missing")
    assert refusal(identifier, "", "from.id") == ("missing_field", "from.id is missing")
    assert refusal(identifier, True, "from.id") == ("bad_value", "from.id True is not an id")
    assert refusal(identifier, 1.5, "from.id") == ("bad_value", "from.id 1.5 is not an id")


def test_values_are_shown_on_one_short_line() -> None:
    assert show("a\nb") == "'a\\nb'"
    assert show("\ud800") == "'\\ud800'"  # storable: no unpaired surrogate in a detail
    long = show("x" * 500)
    assert len(long) == 60
    assert long.endswith("…")


@pytest.mark.parametrize(
    ("head", "json"),
    [
        (b'{"data": []}', True),
        (b"[{}]", True),
        (b'\xef\xbb\xbf \r\n\t{"kind": "youtube#videoListResponse"}', True),
        (b"", False),
        (b"\xef\xbb\xbf", False),
        (b"id,text\n", False),
        (b'"{"', False),
        (b"\x00{", False),
    ],
)
def test_json_head(head: bytes, json: bool) -> None:
    found = json_head(head)
    assert (found is not None) == json
    if found is not None:
        assert found.startswith((b"{", b"["))
