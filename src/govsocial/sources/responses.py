"""Read a file of saved JSON API responses (YouTube, TikTok): the one read loop, with what
an error response and a response cut off while it was saved mean, and the refusal of a file
that holds no response at all.

The file is read by :func:`~govsocial.sources.documents.read_documents`. Each document is:

- unreadable: one quarantined record (a line cut off before its end says to save the
  response again, and is remembered: a file that is nothing but that is refused as cut);
- the API's error envelope: one quarantined ``api_error`` record, and the error kept for the
  refusal;
- anything else: handed to the format's ``entries``, which makes one :class:`Entry` per item
  of a response, or raises :class:`~govsocial.errors.RecordError` when the document is not a
  response of the API (one quarantined record).

A file without a single response is refused (:class:`~govsocial.errors.InputError`), saying
what it holds instead: the API's error and its fix, or the response cut off. The entries are
staged by :func:`stage_entries`, numbered 1, 2, … across the whole file.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from govsocial.errors import InputError, RecordError
from govsocial.sources.api import ApiError
from govsocial.sources.documents import read_documents
from govsocial.sources.rows import Rows, stage_rows
from govsocial.sources.staging import Staged

R = TypeVar("R")  # a format's record: a video, a channel, a user's info


@dataclass(frozen=True, slots=True)
class Entry(Generic[R]):
    """One record of the file: an item parsed (or why not), with where it is."""

    snapshot: bool  # an account reading: its row goes with the follower snapshots
    raw: Any  # as received (the text, for a line that is not JSON)
    place: str  # "line 2, item 4"; empty when the error's detail names it already
    record: R | RecordError


def entry(snapshot: bool, raw: Any, place: str, parse: Callable[[], R]) -> Entry[R]:
    """The entry of one item: ``parse()``'s record, or the :class:`RecordError` it raised."""
    record: R | RecordError
    try:
        record = parse()
    except RecordError as exc:
        record = exc
    return Entry(snapshot, raw, place, record)


@dataclass(frozen=True)
class ResponseFormat:
    """What a format's messages say: the API, the fix of each error kind it names, the fix
    of any other error, which responses to save again, and what a file without any holds."""

    api: str  # "YouTube Data API", as the API's errors name it
    is_error: Callable[[Any], bool]  # the API's error envelope
    api_error: Callable[[Any], ApiError]
    fixes: Mapping[str, str]  # error kind → its fix
    other_fix: str  # the fix of an error kind not in ``fixes``
    save_again: str  # "the videos.list / channels.list responses"
    no_response: str  # why a file without any response holds nothing, and what to import


@dataclass
class Responses(Generic[R]):
    """Every record of a file in file order, and what the refusal of a file says."""

    entries: list[Entry[R]] = field(default_factory=list)
    responses: int = 0
    errors: list[ApiError] = field(default_factory=list)
    cut: str | None = None  # where the first response that never ends begins


def read_responses(
    path: Path, about: ResponseFormat, entries: Callable[[Any, str], list[Entry[R]]]
) -> Responses[R]:
    """Every record of the file in file order; refused when it holds no response at all.
    ``entries(value, place)`` gives a response's entries, or raises :class:`RecordError`
    when ``value`` is not a response."""
    read = Responses[R]()
    try:
        for document in read_documents(path, about.api):
            value, place = document.value, document.place
            if document.error is not None:
                problem = document.error
                if problem.reason == "truncated_line":
                    read.cut = read.cut or place
                    problem = RecordError(
                        problem.reason,
                        f"{problem.detail}; the file is incomplete: save this response again "
                        "and import it",
                    )
                read.entries.append(Entry(False, document.text, "", problem))
            elif about.is_error(value):
                error = about.api_error(value)
                read.errors.append(error)
                detail = f"the API answered with an error instead of data: {error.describe()}"
                read.entries.append(Entry(False, value, place, RecordError("api_error", detail)))
            else:
                try:
                    items = entries(value, place)
                except RecordError as exc:
                    read.entries.append(Entry(False, value, place, exc))
                    continue
                read.responses += 1
                read.entries.extend(items)
    except InputError as exc:  # nothing readable: say so if it is because the file is cut
        if read.cut is not None:
            raise InputError(_cut_message(about.api, read.cut), path=path) from exc
        raise
    if not read.responses:
        raise InputError(_refusal(read, about), path=path)
    return read


def _cut_message(api: str, place: str) -> str:
    return (
        f"is incomplete: the {api} response that begins on {place} is cut off before its end "
        "(the download or the save was interrupted), so there is nothing to import. Save the "
        "response again, whole, and import the new file."
    )


def _refusal(read: Responses[R], about: ResponseFormat) -> str:
    """Why a file without a single response holds nothing to import, and the fix."""
    if read.errors:
        first = read.errors[0]
        more = len(read.errors) - 1
        also = f" (and {more:,} more error response{'s' * (more > 1)})" if more else ""
        # YouTube gives several reasons ("quotaExceeded, rateLimitExceeded"): the first known
        fixes = [about.fixes[k] for k in (first.kind or "").split(", ") if k in about.fixes]
        fix = fixes[0] if fixes else about.other_fix
        return (
            f"is a {about.api} error response, not data: {first.describe().rstrip('.')}{also}. "
            f"Nothing was imported. Fix: {fix}; then save {about.save_again} again and import "
            "those."
        )
    if read.cut is not None:
        return _cut_message(about.api, read.cut)
    return about.no_response


def stage_entries(
    entries: list[Entry[R]],
    values: Callable[[R], Mapping[str, Any]],
    platform: str,
    format_name: str,
    path: Path,
) -> list[Staged]:
    """The entries as the file's posts and account snapshots (``values`` gives a record's
    canonical values), numbered 1, 2, … across both. A file of account readings only is a
    file of account snapshots (no empty posts relation)."""
    numbers = itertools.count(1)  # one numbering for the file: record N names one record
    posts = Rows("posts", platform, numbers=numbers)
    snapshots = Rows("account_snapshots", platform, numbers=numbers)
    for item in entries:
        rows = snapshots if item.snapshot else posts
        rows.build(item.raw, partial(_values, values, item.record), item.place)
    primary = posts if len(posts) or not len(snapshots) else snapshots
    return stage_rows([posts, snapshots], primary, format_name, f"{path.name}, record ")


def _values(values: Callable[[R], Mapping[str, Any]], record: R | RecordError) -> Mapping[str, Any]:
    if isinstance(record, RecordError):
        raise record
    return values(record)
