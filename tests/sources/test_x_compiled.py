"""The compiled path of the X reader reads exactly what the reference path reads.

``compiled.decode_page`` decodes ordinary pages with msgspec; everything else falls back to the
reference (``from_payload``). Whatever a file holds, both paths must stage the same rows:
same record numbers, same canonical values, same quarantine findings, and payloads that are
the same JSON (the compiled path keeps the record's own bytes, the reference re-encodes it).
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.errors import RecordError
from govsocial.sources import rows
from govsocial.sources.staging import ImportOptions
from govsocial.sources.values import timestamp
from govsocial.sources.x.compiled import decode_page
from govsocial.sources.x.files import stage
from govsocial.sources.x.records import User
from x_pages import (
    json_value,
    mixed_lines,
    ordinary_pages,
    ordinary_tweets,
    page,
    pages_with_users,
    tweet,
)

X = Path(__file__).parent.parent / "fixtures" / "x"
OPTIONS = ImportOptions(captured_at=datetime(2025, 3, 9, tzinfo=UTC))


def staged_rows(path: Path, compiled: bool) -> list[tuple[str, list[dict[str, Any]]]]:
    relations = []
    for part in stage(path, OPTIONS, compiled=compiled):
        assert part.arrow is not None
        records = part.arrow.to_pylist()
        for record in records:
            record["_payload"] = json.loads(record["_payload"])
        relations.append((part.kind, records))
    return relations


def assert_same_on_both_paths(path: Path) -> None:
    assert staged_rows(path, compiled=True) == staged_rows(path, compiled=False)


def test_every_fixture_stages_the_same_on_both_paths() -> None:
    files = sorted(X.glob("*.json*"))
    assert len(files) >= 7
    for path in files:
        assert_same_on_both_paths(path)


@settings(max_examples=300, deadline=None)
@given(body=mixed_lines)
def test_any_file_stages_the_same_on_both_paths(body: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mixed.jsonl"
        path.write_text("\n".join([page(tweet("1")), *body]) + "\n", encoding="utf-8")
        assert_same_on_both_paths(path)


@settings(max_examples=200, deadline=None)
@given(line=ordinary_pages())
def test_ordinary_pages_take_the_compiled_path(line: str) -> None:
    decoded = decode_page(line.encode())
    assert decoded is not None
    body = json.loads(line)
    data = body["data"]
    assert decoded.single == isinstance(data, dict)
    assert [t.id for _, t in decoded.tweets] == [
        t["id"] for t in ([data] if isinstance(data, dict) else data)
    ]


def test_display_names_are_read_on_both_paths() -> None:
    for compiled in (True, False):
        relations = dict(staged_rows(X / "stream.jsonl", compiled))
        names = [r["account_name"] for r in relations["posts"] if r["_reason"] is None]
        assert names == ["Pemprov Jawa Barat"] * 3, compiled
        readings = [r["account_name"] for r in relations["account_snapshots"]]
        assert readings == ["Pemprov Jawa Barat"] * 2, compiled
    line = page(tweet("1")).replace('"username"', '"name": "Humas Jabar", "username"')
    decoded = decode_page(line.encode())
    assert decoded is not None
    assert [user.name for user, _ in decoded.users] == ["Humas Jabar"]
    unnamed = decode_page(page(tweet("1")).encode())  # no name requested: unknown
    assert unnamed is not None and [u.name for u, _ in unnamed.users] == [None]


def test_what_sends_a_page_to_the_reference_path() -> None:
    def compiled(line: str | bytes) -> bool:
        return decode_page(line.encode() if isinstance(line, str) else line) is not None

    assert compiled(page(tweet("1")))
    assert not compiled(page(tweet("1", id=1)))  # an id that is a number
    assert not compiled(page(tweet("1", in_reply_to_user_id=5)))
    assert not compiled(page(tweet("1", conversation_id={"id": "1"})))
    assert compiled(page(tweet("1", in_reply_to_user_id="5", conversation_id="1")))
    assert not compiled(page(tweet("1", public_metrics={"like_count": "3"})))
    assert not compiled(page(tweet("1", public_metrics={"like_count": True})))
    assert not compiled(page(tweet("1", public_metrics={"like_count": 2**63})))
    assert not compiled(page(tweet("1", created_at="2025-13-01")))
    assert not compiled(page(tweet("1", author={"id": "2", "username": "a"})))  # flattened
    assert not compiled(page(tweet("1"), errors=[{"title": "Not Found Error"}]))
    assert not compiled(page(tweet("1"), at="yesterday"))
    users = {"data": [{"id": "2", "username": "a", "public_metrics": {"followers_count": 1}}]}
    assert not compiled(json.dumps(users))  # a users page
    assert not compiled(json.dumps(tweet("1")))  # a bare tweet (twarc2 flatten)
    # An unpaired surrogate anywhere (even in a field nobody reads) or bytes that are not
    # UTF-8: the reference path quarantines what it must.
    assert not compiled(page(tweet("1", withheld={"note": "\udc00"})))
    assert not compiled(page(tweet("1")).encode().replace(b"Halo", b"Hal\xff"))
    # ... even in a part nobody reads (msgspec checks UTF-8 only where it decodes)
    assert not compiled(
        page(tweet("1"), meta={"next_token": "caf"}).encode().replace(b"caf", b"caf\xe9")
    )
    assert compiled(page(tweet("1"), meta={"next_token": "café"}).encode())  # UTF-8 is fine
    deep = "[" * 5000 + "]" * 5000
    assert not compiled(page(tweet("1")).replace('"Halo"', deep))  # too deep to read


@st.composite
def replying_tweets(draw: st.DrawFn) -> dict[str, Any]:
    """An ordinary tweet with the fields that tell a reply: ids of every relation to the
    tweet and its author, and sometimes a value of any type (the reference path's case)."""
    found: dict[str, Any] = draw(ordinary_tweets)
    odd = st.sampled_from([None, "", 5, True, ["5"]]) | json_value
    if draw(st.booleans()):
        found["conversation_id"] = draw(st.sampled_from([found["id"], "900"]) | odd)
    if draw(st.booleans()):
        found["in_reply_to_user_id"] = draw(st.sampled_from([found["author_id"], "5"]) | odd)
    return found


@settings(max_examples=300, deadline=None)
@given(pages=st.lists(st.lists(replying_tweets(), min_size=1, max_size=4), min_size=1, max_size=3))
def test_both_paths_tell_replies_alike(pages: list[list[dict[str, Any]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "replies.jsonl"
        path.write_text("\n".join(page(*tweets) for tweets in pages) + "\n", encoding="utf-8")
        assert_same_on_both_paths(path)
    for tweets in pages:  # the fields X writes (ids as text, or null) keep the compiled path
        plain = all(
            type(t.get(k)) in (str, type(None))
            for t in tweets
            for k in ("conversation_id", "in_reply_to_user_id")
        )
        if plain:
            assert decode_page(page(*tweets).encode()) is not None


def test_lines_the_compiled_path_refuses_still_stage_the_same(tmp_path: Path) -> None:
    bad_utf8 = page(tweet("2"), meta={"next_token": "caf"}).encode().replace(b"caf", b"caf\xe9")
    deep = page(tweet("3"), meta="M").replace('"M"', "[" * 1500 + "]" * 1500)
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join([page(tweet("1")).encode(), bad_utf8, deep.encode(), b""]))
    assert_same_on_both_paths(path)
    reasons = [r["_reason"] for _, records in staged_rows(path, True) for r in records]
    assert "bad_encoding" in reasons and "bad_json" in reasons


def test_rows_held_in_arrow_batches_make_the_same_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sorted(X.glob("*.json*"))
    whole = [staged_rows(path, compiled=True) for path in paths]
    monkeypatch.setattr(rows, "BATCH_ROWS", 3)  # many small batches, rejects among them
    assert [staged_rows(path, compiled=True) for path in paths] == whole
    assert [staged_rows(path, compiled=False) for path in paths] == whole


def user_objects(number: int, body: dict[str, Any]) -> list[tuple[str, Any]]:
    """The user objects of a page on line ``number``, with their places: each user of
    ``includes.users``, and the inline ``author`` of a flattened tweet."""
    data = body["data"]
    if isinstance(data, dict):
        tweets = [("data", data)]
    else:
        tweets = [(f"data[{i}]", t) for i, t in enumerate(data)]
    found = [
        (f"line {number}, {where}, author", t["author"])
        for where, t in tweets
        if isinstance(t, dict) and isinstance(t.get("author"), dict)
    ]
    wrote = {t.get("author_id") for _, t in tweets if isinstance(t, dict) and _hashable(t)}
    users = enumerate(body["includes"]["users"])
    return found + [
        (f"line {number}, includes.users[{i}]", u)
        for i, u in users
        # authors only: mentioned, quoted or retweeted users are not read
        if isinstance(u, dict) and isinstance(u.get("id"), str | int) and u.get("id") in wrote
    ]


def _hashable(item: dict[str, Any]) -> bool:
    return isinstance(item.get("author_id"), str | int)


def strict(body: dict[str, Any]) -> bool:
    try:
        json.dumps(body, allow_nan=False)
    except ValueError:
        return False
    return True


def reading(captured: datetime, raw: Any) -> tuple[Any, ...]:
    user = User.from_payload(raw)
    return (captured, user.id, user.username, user.name, user.followers, user.following,
            user.tweet_count)  # fmt: skip


def assert_every_user_is_one_reading(bodies: list[dict[str, Any]], path: Path) -> None:
    """Each user object is a reading (good, or quarantined at its place) or the same reading
    of the same account at the same capture time as an earlier one: never lost."""
    for compiled in (True, False):
        relations = dict(staged_rows(path, compiled))
        snapshots = relations.get("account_snapshots", [])
        places = [r["_detail"].split(": ", 1)[0] for r in snapshots if r["_reason"]]
        assert len(places) == len(set(places))
        good = {reading(r["captured_at"], r["_payload"]) for r in snapshots if not r["_reason"]}
        objects, repeats, taken = 0, 0, set()
        for number, body in enumerate(bodies, start=1):
            if not strict(body):
                continue  # the line is not JSON (Infinity): it is one quarantined record
            at = body.get("__twarc", {"retrieved_at": None})["retrieved_at"]
            try:
                captured = OPTIONS.captured_at if at is None else timestamp(at, "at", UTC)
            except RecordError:
                captured = None  # every record of the page is quarantined
            for place, raw in user_objects(number, body):
                objects += 1
                if place in places:
                    continue
                assert captured is not None, f"{place}: not quarantined, no capture time"
                try:
                    key = reading(captured, raw)
                except RecordError as exc:
                    raise AssertionError(f"{place}: not quarantined: {exc.detail}") from None
                assert key in good, (place, compiled)
                repeats += key in taken
                taken.add(key)
        assert objects - repeats <= len(snapshots) <= objects, compiled


@settings(max_examples=300, deadline=None)
@given(bodies=st.lists(pages_with_users(), max_size=4))
def test_every_user_of_a_page_is_read_on_both_paths(bodies: list[dict[str, Any]]) -> None:
    bodies = [json.loads(page(tweet("1"))), *bodies]  # a first page that says "X data"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "users.jsonl"
        path.write_text("".join(json.dumps(b) + "\n" for b in bodies), encoding="utf-8")
        assert_same_on_both_paths(path)
        assert_every_user_is_one_reading(bodies, path)
