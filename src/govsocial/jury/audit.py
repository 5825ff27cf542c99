"""The audit log: append-only and hash-chained, so that any change to its past shows.

Each entry is (seq, at, actor, action, subject, before, after, prev_hash, hash), where
``hash = sha256(canonical entry without its hash)`` and ``prev_hash`` is the previous
entry's hash (64 zeros for the first). Editing an entry breaks its hash; deleting, inserting
or reordering entries breaks the next entry's ``prev_hash`` or the numbering; deleting the
last entries leaves the chain short of ``audit_head`` (the last seq and hash, written with
every entry). Someone who rewrites the whole chain after an entry is caught only by an anchor
kept elsewhere: :func:`verify` prints the head (``seq:hash``) to be noted or published, and
checks a given anchor is still in the chain. SQLite triggers refuse UPDATE and DELETE too.

Entries never hold a password, a password hash or a token: :func:`append` refuses them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from govsocial.errors import InputError

if TYPE_CHECKING:
    from govsocial.jury.store import StateStore

GENESIS = "0" * 64
# Keys that must never reach the log (a bug if they do), and the start of an argon2 hash.
SECRET_KEYS = frozenset({"password", "password_hash", "new_password", "token", "secret", "csrf"})
_HASH_PREFIX = "$argon2"
_FIELDS = ("seq", "at", "actor", "action", "subject", "before", "after", "prev_hash")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str  # UTC, ISO 8601
    actor: str  # "user:3", "console:alice", or "login:<hash>" for a failed login
    action: str  # "ballot.draft", "jury.close", "login", ...
    subject: str  # what it changed: "user:3", "jury:1", "ballot:1/3/most_active/pemda/x"
    before: Any  # JSON values; None when it did not exist
    after: Any
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found: ``ok``, or the first bad entry and what is wrong with it."""

    ok: bool
    entries: int
    head: str  # "seq:hash" of the last good entry: note it, and check it later as an anchor
    bad_seq: int | None = None
    problem: str | None = None


def canonical(value: Any) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: fields[k] for k in _FIELDS}).encode()).hexdigest()


def append(
    con: sqlite3.Connection, at: str, actor: str, action: str, subject: str, before: Any, after: Any
) -> int:
    """Append an entry inside the caller's transaction (StateStore.write); returns its seq."""
    for value in (before, after):
        _refuse_secrets(value, action)
    head = con.execute("SELECT seq, hash FROM audit_head").fetchone()
    fields = {
        "seq": int(head[0]) + 1,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "before": before,
        "after": after,
        "prev_hash": str(head[1]),
    }
    digest = entry_hash(fields)
    con.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*(fields[k] for k in _FIELDS[:5]), canonical(before), canonical(after), head[1], digest),
    )
    con.execute("UPDATE audit_head SET seq = ?, hash = ?", (fields["seq"], digest))
    return int(fields["seq"])


def _refuse_secrets(value: Any, action: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).lower() in SECRET_KEYS:
                raise ValueError(f"audit entry {action}: {key!r} must never be logged")
            _refuse_secrets(inner, action)
    elif isinstance(value, list | tuple):
        for inner in value:
            _refuse_secrets(inner, action)
    elif isinstance(value, str) and value.startswith(_HASH_PREFIX):
        raise ValueError(f"audit entry {action}: a password hash must never be logged")


def entries(store: StateStore, since: int = 0) -> Iterator[AuditEntry]:
    """The entries after seq ``since``, in order, as stored (a damaged one raises nothing
    here: :func:`verify` says what is wrong)."""
    cursor = store.sqlite.execute("SELECT * FROM audit WHERE seq > ? ORDER BY seq", (since,))
    for row in cursor:
        yield AuditEntry(
            row["seq"],
            row["at"],
            row["actor"],
            row["action"],
            row["subject"],
            _loads(row["before"]),
            _loads(row["after"]),
            row["prev_hash"],
            row["hash"],
        )


class _Unreadable:
    """Stands for stored JSON that no longer parses (an edit): it never hashes right."""

    def __init__(self, text: str) -> None:
        self.text = text


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return _Unreadable(str(text))


def check_chain(chain: Iterable[AuditEntry], anchor: str | None = None) -> VerifyReport:
    """Walk the entries in order: numbering from 1 without gaps, each ``prev_hash`` the
    previous hash, each hash recomputed. ``anchor`` ("seq:hash", from an earlier verify) must
    still be in the chain."""
    expected, prev, count = 1, GENESIS, 0
    anchor_seq, anchor_hash = _anchor(anchor)
    anchor_seen = False
    for entry in chain:
        problem, bad = None, entry.seq
        if entry.seq != expected:
            bad = expected
            if entry.seq == expected + 1:
                problem = f"it is missing (deleted): entry {entry.seq} follows entry {expected - 1}"
            elif entry.seq > expected:
                problem = f"it and the entries up to {entry.seq - 1} are missing (deleted)"
            else:
                problem = f"entry {entry.seq} comes where entry {expected} belongs (reordered)"
        elif entry.prev_hash != prev:
            problem = (
                f"its prev_hash is not the hash of entry {expected - 1}: an entry before it "
                "was deleted, inserted or reordered"
            )
        elif isinstance(entry.before, _Unreadable) or isinstance(entry.after, _Unreadable):
            problem = "its before/after is not the JSON that was written: it was edited"
        elif entry_hash(asdict(entry)) != entry.hash:
            problem = "its content does not match its hash: it was edited"
        if problem:
            return VerifyReport(False, count, f"{expected - 1}:{prev}", bad, problem)
        if entry.seq == anchor_seq:
            anchor_seen = True
            if entry.hash != anchor_hash:
                problem = "its hash is not the anchor's: the log was rewritten since the anchor"
                return VerifyReport(False, count, f"{expected - 1}:{prev}", entry.seq, problem)
        prev, expected, count = entry.hash, expected + 1, count + 1
    if anchor_seq is not None and not anchor_seen:
        problem = f"the anchored entry {anchor_seq} is no longer in the log"
        return VerifyReport(False, count, f"{count}:{prev}", anchor_seq, problem)
    return VerifyReport(True, count, f"{count}:{prev}")


def _anchor(anchor: str | None) -> tuple[int | None, str | None]:
    if anchor is None:
        return None, None
    seq, _, digest = anchor.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise InputError(f"anchor {anchor!r} is not SEQ:HASH as `govsocial audit verify` prints")
    return int(seq), digest.lower()


def verify(store: StateStore, anchor: str | None = None) -> VerifyReport:
    """Check the whole log of ``store`` (in one read snapshot), and that it ends where
    ``audit_head`` says (no entry deleted from its end)."""
    with store.read():
        report = check_chain(entries(store), anchor)
        head = store.sqlite.execute("SELECT seq, hash FROM audit_head").fetchone()
    if report.ok and f"{head[0]}:{head[1]}" != report.head:
        seq, last = int(head[0]), report.entries
        if seq > last:
            problem = f"entries {last + 1}–{seq} are missing from the end of the log (deleted)"
        elif seq < last:
            problem = f"entries {seq + 1}–{last} were added behind govsocial's back (inserted)"
        else:
            problem = "the log's head record does not match its last entry (edited)"
        return VerifyReport(False, last, report.head, min(seq, last) + 1, problem)
    return report


def export(store: StateStore, out: TextIO) -> int:
    """Write the log as JSON Lines (one canonical entry per line, in order); returns how many.
    ``check_chain(read_export(path))`` checks an exported file without the store."""
    count = 0
    with store.read():
        for entry in entries(store):
            out.write(canonical(_exported(entry)) + "\n")
            count += 1
    return count


def _exported(entry: AuditEntry) -> dict[str, Any]:
    fields = asdict(entry)
    for key in ("before", "after"):
        if isinstance(fields[key], _Unreadable):
            fields[key] = {"unreadable": fields[key].text}
    return fields


def read_export(path: Path) -> Iterator[AuditEntry]:
    """The entries of a file written by :func:`export`."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                fields = json.loads(line)
                yield AuditEntry(**{k: fields[k] for k in (*_FIELDS, "hash")})
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"not an audit entry ({exc}); export the log again with "
                    "`govsocial audit export`",
                    path=path,
                    place=f"line {number}",
                ) from exc
