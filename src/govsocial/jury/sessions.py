"""Sign-in sessions of the web app (docs/web.md, "Sessions").

A session is a random token (32 bytes) the browser keeps in an HttpOnly cookie; the store
keeps only its SHA-256, so a copy of the state file lets no one sign in as anybody. Each
session has its own CSRF token, an absolute expiry, and ends on sign-out, on a password
change (every session of that user), or when its user is disabled (checked on every
request: :func:`resume` reads the user in the same transaction).

Starting and ending a session are audit entries (``session.start``, ``session.end``); the log
names a session by the first 12 hex digits of its id (a hash of the hash of the token), never
by its token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from govsocial.errors import AuthError
from govsocial.jury.store import StateStore, iso, parse_iso
from govsocial.jury.users import User, _user

LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    """A live session: its user (checked now) and its CSRF token."""

    user: User
    csrf: str
    expires: str
    key: str  # the stored id (SHA-256 of the token); never shown


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _logged(key: str) -> str:
    """How the audit log names a session: not the stored key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def start(store: StateStore, user: User, lifetime: timedelta = LIFETIME) -> tuple[str, Session]:
    """A new session of ``user`` (just signed in): returns the token for the cookie (never
    kept) and the session."""
    token = secrets.token_urlsafe(32)
    key, csrf = _key(token), secrets.token_urlsafe(32)
    with store.write() as tx:
        expires = iso(tx.at + lifetime)
        tx.execute(
            "INSERT INTO sessions (id, user_id, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
            (key, user.id, csrf, iso(tx.at), expires),
        )
        tx.audit(
            user.actor,
            "session.start",
            f"user:{user.id}",
            None,
            {"session": _logged(key), "expires": expires},
        )
    return token, Session(user, csrf, expires, key)


def resume(store: StateStore, token: str) -> Session | None:
    """The live session of the cookie's ``token``, or None (unknown, ended, expired, or its
    user disabled or gone)."""
    if not token or len(token) > 200:
        return None
    with store.read() as tx:
        row = tx.one(
            "SELECT s.csrf, s.expires, s.ended, u.* FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.id = ?",
            (_key(token),),
        )
        if row is None or row["ended"] is not None or parse_iso(row["expires"]) <= tx.at:
            return None
        user = _user(row)
    if user.disabled:
        return None
    return Session(user, row["csrf"], row["expires"], _key(token))


def end(store: StateStore, token: str) -> None:
    """Sign out: the session of ``token`` ends (nothing happens if it is not live)."""
    key = _key(token)
    with store.write() as tx:
        row = tx.one("SELECT user_id FROM sessions WHERE id = ? AND ended IS NULL", (key,))
        if row is None:
            return
        tx.execute("UPDATE sessions SET ended = ? WHERE id = ?", (iso(tx.at), key))
        tx.audit(
            f"user:{row['user_id']}",
            "session.end",
            f"user:{row['user_id']}",
            {"session": _logged(key)},
            {"session": _logged(key), "why": "signed out"},
        )


def same(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


def require(session: Session | None) -> Session:
    if session is None:
        raise AuthError("sign in first")
    return session
