"""What the Facebook and Instagram readers share: the Graph API's files and errors.

Both platforms answer through the same Graph API (https://developers.facebook.com/docs/graph-api/overview):
lists come as pages of results ``{"data": [...], "paging": {"cursors": {...}, "next":
"https://graph.facebook.com/v19.0/{id}/feed?fields=...&after=..."}}``, objects may carry
their lists in an edge (``{"id": ..., "feed": {"data": [...]}}``), times are ISO 8601 with
an offset written without a colon (``2021-05-24T03:23:53+0000``), a field without a value is
left out rather than written ``null``, and a failed call returns an error envelope::

    {"error": {"message": "(#100) ...", "type": "OAuthException", "code": 100,
               "fbtrace_id": "A1m6KK6iBqvjzPeQd4DYbKM"}}

(https://developers.facebook.com/docs/graph-api/guides/error-handling). A file holds one
response, a JSON array of them, or one per line (read by
:func:`~govsocial.sources.documents.read_documents`). :func:`read_items` walks it into
:class:`Item` records in file order; each reader says what its objects are (``classify``),
which of them prove the file is its own (``recognised``) and which belong to the other
platform (``foreign``: the file is refused, naming the right ``--format``). Field values
are read by :mod:`govsocial.sources.values`, as in every API reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

from govsocial.errors import InputError
from govsocial.sources.api import ApiError
from govsocial.sources.documents import Document, read_documents
from govsocial.sources.payloads import quarantine_payload
from govsocial.sources.rows import Rows, stage_rows
from govsocial.sources.staging import Staged
from govsocial.sources.values import show

P = TypeVar("P")  # what a reader attaches to the records nested in an object (its user)


def api_error(payload: Mapping[str, Any]) -> ApiError:
    """An error envelope ``{"error": {"message", "type", "code", ...}}`` as the shared shape."""
    inner = payload.get("error")
    error: Mapping[str, Any] = inner if isinstance(inner, Mapping) else {}
    message, kind, code = error.get("message"), error.get("type"), error.get("code")
    return ApiError(
        "Graph API",
        message if isinstance(message, str) else quarantine_payload(inner)[:200],
        code=str(code) if isinstance(code, int | str) and not isinstance(code, bool) else None,
        kind=kind if isinstance(kind, str) else None,
    )


def is_error(value: object) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("error"), Mapping)


@dataclass(frozen=True, slots=True)
class Item(Generic[P]):
    """One record of a Graph API file, in file order.

    ``kind`` is the reader's (``post``, ``page``, ``media``, ``user``), or ``error`` (an
    error envelope among the data) or ``bad`` (unreadable: ``reason``/``detail`` say why).
    ``place`` says where it is (``line 3, feed, post 2``; empty in a pretty-printed file
    that is one document);
    ``paging`` is the paging of the page of results that lists it; ``parent`` what the
    reader knows of the object whose edge holds it.
    """

    kind: str
    raw: Any  # the JSON value as received (raw dicts stay in sources/)
    place: str = ""
    paging: Mapping[str, Any] | None = None
    parent: P | None = None
    reason: str = ""
    detail: str = ""


def within(place: str, part: str) -> str:
    return f"{place}, {part}" if place else part


def placed(place: str, detail: str) -> str:
    """A quarantine detail that starts with where the record is."""
    return f"{place}: {detail}" if place else detail


def data_items(
    envelope: Mapping[str, Any], place: str, kind: str, noun: str, parent: P | None = None
) -> Iterator[Item[P]]:
    """The records of a page of results ``{"data": [...], "paging": {...}}``."""
    data = envelope.get("data")
    if not isinstance(data, list):
        detail = placed(place, f"data {show(data)} is not a list")
        yield Item("bad", envelope, place, reason="bad_value", detail=detail)
        return
    paging = envelope.get("paging")
    paging = paging if isinstance(paging, Mapping) else None
    for number, value in enumerate(data, start=1):
        where = within(place, f"{noun} {number}")
        if is_error(value):
            yield Item("error", value, where)
        elif not isinstance(value, Mapping):
            detail = placed(where, f"{show(value)} is not a {noun} object")
            yield Item("bad", value, where, reason="bad_value", detail=detail)
        else:
            yield Item(kind, value, where, paging=paging, parent=parent)


def read_items(
    path: Path,
    what: str,
    classify: Callable[[Mapping[str, Any], str], Iterable[Item[P]]],
    *,
    recognised: Callable[[Item[P]], bool],
    foreign: Callable[[Item[P]], str | None],
    nothing_found: str,
) -> list[Item[P]]:
    """Every record of ``path`` in file order; the file is refused (:class:`InputError`) when
    it is one error envelope, when none of its records is ``recognised``, or when one is
    ``foreign`` (of the other platform: the message says which and the ``--format``)."""
    items: list[Item[P]] = []
    documents = 0
    for document in read_documents(path, what):
        documents += 1
        items += _document_items(document, classify)
    if documents == 1 and len(items) == 1 and items[0].kind == "error":
        raise InputError(
            f"the file is an error response, not data: {api_error(items[0].raw).describe()}. "
            "Nothing to import; fix the request (access token, permissions) and export again.",
            path=path,
        )
    for item in items:
        if item.kind not in ("error", "bad"):
            other = foreign(item)
            if other is not None:
                raise InputError(other, path=path, place=item.place or None)
    if items and not any(recognised(item) for item in items):
        raise InputError(nothing_found, path=path)
    return items


def _document_items(
    document: Document, classify: Callable[[Mapping[str, Any], str], Iterable[Item[P]]]
) -> Iterable[Item[P]]:
    place = "" if document.place == "document" else document.place
    if document.error is not None:
        error = document.error
        return [Item("bad", document.text, place, reason=error.reason, detail=error.detail)]
    value = document.value
    if not isinstance(value, Mapping):
        detail = placed(place, f"{show(value)} is not a JSON object")
        return [Item("bad", value, place, reason="bad_value", detail=detail)]
    if is_error(value):
        return [Item("error", value, place)]
    if keyed_by_id(value):
        return [
            item
            for node_id, node in value.items()
            for item in classify(node, within(place, f"id {node_id}"))
        ]
    return classify(value, place)


def keyed_by_id(value: Mapping[str, Any]) -> bool:
    """Whether ``value`` answers a multiple-id read, ``GET /?ids=a,b&fields=...``: an object
    keyed by the ids asked for, each holding that object (its ``id`` the key, or the id the
    key is an alias of: a Page asked by username)::

        {"19292868552_10158349356748553": {"id": "19292868552_10158349356748553", ...},
         "19292868552_10158347294083553": {"id": "19292868552_10158347294083553", ...}}

    (https://developers.facebook.com/docs/graph-api/using-graph-api). Every value must be an
    object with an ``id``, and at least one keyed by its own id, so a post or Page (whose
    values are strings, numbers and edges without an ``id``) is never taken for one."""
    if not value:
        return False
    nodes = list(value.values())
    if not all(isinstance(node, Mapping) and isinstance(node.get("id"), str) for node in nodes):
        return False
    return any(key == node["id"] for key, node in value.items())


def quarantine(rows: Rows, item: Item[Any]) -> None:
    """An error envelope (``api_error``, with its message) or an unreadable record."""
    if item.kind == "error":
        rows.reject(item.raw, "api_error", placed(item.place, api_error(item.raw).describe()))
    else:
        rows.reject(item.raw, item.reason, item.detail)


def staged(path: Path, format_name: str, posts: Rows, snapshots: Rows) -> list[Staged]:
    """The file's posts and snapshots relations, leaving out an empty one (posts if both are)."""
    primary = snapshots if len(snapshots) and not len(posts) else posts
    return stage_rows([posts, snapshots], primary, format_name, f"{path.name}, record ")


# ---- paging URLs: what the request asked for, and whose edge it listed ----


def _paging_urls(paging: Mapping[str, Any] | None) -> Iterator[str]:
    for key in ("next", "previous"):
        url = (paging or {}).get(key)
        if isinstance(url, str):
            yield url


def requested_fields(paging: Mapping[str, Any] | None) -> frozenset[str] | None:
    """The top-level fields the page's request asked for, read off the ``fields`` parameter
    of its paging URL (which repeats the request): ``reactions.summary(true).limit(0)`` is
    ``reactions``, ``reactions.type(LIKE)...as(like)`` is ``like``. None: not known."""
    for url in _paging_urls(paging):
        found = _fields_of(url)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=64)  # every post of a page has the same URL
def _fields_of(url: str) -> frozenset[str] | None:
    fields = parse_qs(urlsplit(url).query).get("fields")
    return top_level_fields(fields[0]) if fields else None


_ALIAS = re.compile(r"\.as\(\s*(\w+)\s*\)")
_NAME = re.compile(r"\s*(\w+)")


def top_level_fields(spec: str) -> frozenset[str]:
    """``id,attachments{type,url},comments.summary(true)`` → {id, attachments, comments}."""
    names: set[str] = set()
    depth, start = 0, 0
    for index, char in enumerate(spec + ","):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            head = spec[start:index].split("{", 1)[0]  # modifiers come before sub-fields
            start = index + 1
            found = _ALIAS.search(head) or _NAME.match(head)
            if found:
                names.add(found.group(1))
    return frozenset(names)


def lists_edge(paging: Mapping[str, Any] | None, edge: str) -> bool:
    """Whether the page's paging URL lists an ``edge`` of some object:
    ``.../v10.0/19292868552_10158349356748553/comments?...``."""
    return any(
        urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] == edge for url in _paging_urls(paging)
    )


def edge_owner(paging: Mapping[str, Any] | None, edge: str) -> str | None:
    """The id whose ``edge`` the page lists: ``.../v6.0/17841406338772941/media?...``."""
    for url in _paging_urls(paging):
        found = _edge_path(edge).match(urlsplit(url).path)
        if found:
            return found.group(1)
    return None


@lru_cache(maxsize=8)
def _edge_path(edge: str) -> re.Pattern[str]:
    return re.compile(rf"^/(?:v\d+(?:\.\d+)?/)?(\d+)/{re.escape(edge)}/?$")


def pages_edge(head: bytes, hosts: tuple[str, ...], edges: tuple[str, ...]) -> bool:
    """Whether ``head`` (a file's first bytes) has a paging URL of a Graph API list of
    ``edges`` on one of ``hosts``: ``"next": "https://graph.facebook.com/v10.0/19292868552/
    feed?..."``, slashes escaped (``https:\\/\\/``) or not. The last page of a download has
    no records (``{"data": [], "paging": {"previous": ...}}``): its URL is all that says
    whose file it is."""
    return bool(_paging_pattern(hosts, edges).search(head))


@lru_cache(maxsize=8)
def _paging_pattern(hosts: tuple[str, ...], edges: tuple[str, ...]) -> re.Pattern[bytes]:
    slash = r"\\?/"  # as written, or escaped as JSON may escape it
    host, edge = "|".join(map(re.escape, hosts)), "|".join(map(re.escape, edges))
    pattern = (
        rf'"(?:next|previous)"\s*:\s*"https?:{slash}{slash}(?:{host})(?:{slash}v\d+(?:\.\d+)?)?'
        rf'{slash}[\w.-]+{slash}(?:{edge})(?:[?"\\/])'
    )
    return re.compile(pattern.encode())
