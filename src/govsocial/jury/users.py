"""Accounts of the web app: organisers, jurors and institution operators (docs/jury.md).

Passwords are kept only as argon2id hashes (argon2-cffi, its default parameters, rehashed on
login when they change). A login is refused for a while after too many failed attempts
(:class:`Throttle`), and at once for a disabled user. Every function that acts for someone
takes the acting user's id (or :class:`Console`, the CLI at the server) and checks who that is
in the same transaction as the change: callers are not trusted to have checked.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from govsocial.errors import AuthError, InputError, NotFoundError
from govsocial.jury.store import StateStore, Transaction, iso, parse_iso

Role = Literal["organiser", "juror", "operator"]
ROLES: tuple[Role, ...] = ("organiser", "juror", "operator")
MIN_PASSWORD = 10
_LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{2,253}$")
ANONYMOUS = "anonymous"  # the actor of a failed or refused sign-in
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    id: int
    name: str
    login: str
    role: Role
    institution_id: str | None  # operators: the institution whose accounts they manage
    disabled: bool
    created: str

    @property
    def actor(self) -> str:
        return f"user:{self.id}"

    def audited(self) -> dict[str, object]:
        """What the audit log keeps of a user (never the password hash)."""
        return {
            "name": self.name,
            "login": self.login,
            "role": self.role,
            "institution_id": self.institution_id,
            "disabled": self.disabled,
        }


@dataclass(frozen=True)
class Console:
    """Someone at the server with access to the state file (the CLI): may manage users."""

    who: str

    @property
    def actor(self) -> str:
        return f"console:{self.who}"


Actor = int | Console


@dataclass(frozen=True)
class Throttle:
    """``attempts`` failed logins within ``window`` (since the last success) refuse the login
    until ``lockout`` after the last of them."""

    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a throttle allows at least one attempt")


def _user(row: sqlite3.Row) -> User:
    return User(
        row["id"],
        row["name"],
        row["login"],
        row["role"],
        row["institution_id"],
        bool(row["disabled"]),
        row["created"],
    )


def normal_login(login: str) -> str:
    return login.strip().lower()


def acting(tx: Transaction, actor: Actor, *roles: Role) -> User | Console:
    """The user acting, checked now: they exist, are not disabled, and hold one of ``roles``
    (any role when none is given). A :class:`Console` passes only where ``roles`` allows
    organisers (it manages users, it never scores)."""
    if isinstance(actor, Console):
        if roles and "organiser" not in roles:
            raise AuthError("only a signed-in user can do this, not the console")
        return actor
    row = tx.one("SELECT * FROM users WHERE id = ?", (actor,))
    if row is None:
        raise AuthError(f"user {actor} does not exist; sign in again")
    user = _user(row)
    if user.disabled:
        raise AuthError(f"user {user.login} is disabled")
    if roles and user.role not in roles:
        wanted = " or ".join(map(_a, roles))
        raise AuthError(f"{user.login} is {_a(user.role)}; only {wanted} may do this")
    return user


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def signed_in(tx: Transaction, actor: Actor, *roles: Role) -> User:
    """Like :func:`acting`, for what only a signed-in user does (juries, ballots)."""
    found = acting(tx, actor, *roles)
    if isinstance(found, Console):
        raise AuthError("only a signed-in user can do this, not the console")
    return found


def active_user(store: StateStore, user_id: int) -> User:
    """The user of a session, checked on every request: disabled means signed out at once."""
    with store.read() as tx:
        return signed_in(tx, user_id)


def _check_password(password: str, login: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters")
    if normal_login(password) == login:
        raise InputError("the password must not be the login")


def add_user(
    store: StateStore,
    actor: Actor,
    *,
    name: str,
    login: str,
    role: Role,
    password: str,
    institution_id: str | None = None,
) -> User:
    """Add a user (an organiser or the console does this)."""
    return _add(store, actor, name, login, role, password, institution_id, first=False)


def create_first_organiser(store: StateStore, *, name: str, login: str, password: str) -> User:
    """The web app's first-run page: the first user, an organiser; refused once anyone
    exists (so nobody can use that page to make themselves an organiser later)."""
    return _add(store, Console("first-run"), name, login, "organiser", password, None, first=True)


def _add(
    store: StateStore,
    actor: Actor,
    name: str,
    login: str,
    role: Role,
    password: str,
    institution_id: str | None,
    *,
    first: bool,
) -> User:
    login = normal_login(login)
    if not _LOGIN_RE.match(login):
        raise InputError(
            f"login {login!r}: use 3–254 lower-case letters, digits or . _ @ + - (an email works)"
        )
    if role not in ROLES:
        raise InputError(f"role {role!r}: one of {', '.join(ROLES)}")
    if (role == "operator") != bool(institution_id):
        raise InputError("an operator needs an institution id, and only an operator has one")
    if not name.strip():
        raise InputError("the name is empty")
    _check_password(password, login)
    hashed = _hasher.hash(password)  # slow on purpose: before the write lock is taken
    with store.write() as tx:
        if first and tx.one("SELECT 1 FROM users"):
            raise AuthError("the first organiser exists already; an organiser adds users")
        who = acting(tx, actor, "organiser")
        if tx.one("SELECT 1 FROM users WHERE login = ?", (login,)):
            raise InputError(f"login {login!r} is taken; choose another")
        cursor = tx.execute(
            "INSERT INTO users (name, login, role, institution_id, password_hash, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name.strip(), login, role, institution_id or None, hashed, iso(tx.at)),
        )
        user = _user(tx.all("SELECT * FROM users WHERE id = ?", (cursor.lastrowid,))[0])
        tx.audit(who.actor, "user.add", user.actor, None, user.audited())
    return user


def list_users(store: StateStore, actor: Actor) -> list[User]:
    with store.read() as tx:
        acting(tx, actor, "organiser")
        return [_user(r) for r in tx.all("SELECT * FROM users ORDER BY id")]


def find_user(store: StateStore, actor: Actor, login_or_id: str) -> User:
    """A user by login or id (for the CLI)."""
    for user in list_users(store, actor):
        if login_or_id in (str(user.id), user.login):
            return user
    raise NotFoundError(f"no user {login_or_id!r}; `govsocial users list` shows them")


def disable_user(store: StateStore, actor: Actor, user_id: int) -> User:
    """Disable a user: their sessions fail on the next request, their login at once. Their
    ballots stay (the tally counts what they submitted)."""
    with store.write() as tx:
        who = acting(tx, actor, "organiser")
        row = tx.one("SELECT * FROM users WHERE id = ?", (user_id,))
        if row is None:
            raise NotFoundError(f"no user {user_id}; `govsocial users list` shows them")
        before = _user(row)
        if isinstance(who, User) and who.id == user_id:
            raise AuthError("an organiser cannot disable themselves; ask another organiser")
        tx.execute("UPDATE users SET disabled = 1 WHERE id = ?", (user_id,))
        ended = _end_sessions(tx, user_id)
        after = _user(tx.all("SELECT * FROM users WHERE id = ?", (user_id,))[0])
        tx.audit(
            who.actor,
            "user.disable",
            before.actor,
            before.audited(),
            {**after.audited(), "sessions_ended": ended},
        )
    return after


def _end_sessions(tx: Transaction, user_id: int, keep: str | None = None) -> int:
    """End the user's live web sessions but ``keep`` (a session's stored id), in ``tx``."""
    cursor = tx.execute(
        "UPDATE sessions SET ended = ? WHERE user_id = ? AND ended IS NULL AND id IS NOT ?",
        (iso(tx.at), user_id, keep),
    )
    return int(cursor.rowcount)


def change_password(
    store: StateStore, actor: int, current: str, new: str, *, keep_session: str | None = None
) -> None:
    """A user changes their own password, giving the current one. Every other session of
    theirs ends (``keep_session``: the stored id of the session that asked, which goes on)."""
    with store.read() as tx:
        user = signed_in(tx, actor)
        row = tx.one("SELECT password_hash FROM users WHERE id = ?", (actor,))
    assert row is not None
    if not _matches(row[0], current):
        raise AuthError("the current password is wrong; the password was not changed")
    _check_password(new, user.login)
    hashed = _hasher.hash(new)
    with store.write() as tx:
        acting(tx, actor)
        tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", (hashed, actor))
        ended = _end_sessions(tx, actor, keep_session)
        after = {"changed": True, "sessions_ended": ended}
        tx.audit(user.actor, "user.password", user.actor, None, after)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so that it costs the same time."""
    return _hasher.hash("an unknown login: no password matches")


def _matches(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_login(
    store: StateStore, login: str, password: str, throttle: Throttle | None = None
) -> User:
    """The user whose login and password these are, or :class:`AuthError` saying only that
    they are wrong (never which). Every attempt is in the audit log, under the user or, for an
    unknown login (which may be a password typed in the wrong field), under a hash of it."""
    limits = throttle or Throttle()
    login = normal_login(login)
    with store.read() as tx:
        row = tx.one("SELECT * FROM users WHERE login = ?", (login,))
        subject = f"user:{row['id']}" if row else f"login:{_digest(login)}"
        until = _refused_until(tx, subject, limits)
    if until is not None:
        with store.write() as tx:
            tx.audit(ANONYMOUS, "login.refused", subject, None, {"until": until})
        raise AuthError(f"too many failed sign-ins for this login; try again after {until} UTC")
    stored = str(row["password_hash"]) if row is not None else _dummy_hash()
    matches = _matches(stored, password)
    user = _user(row) if row is not None and matches else None
    with store.write() as tx:
        if user is None or user.disabled:
            why = "disabled" if user is not None else "wrong login or password"
            tx.audit(ANONYMOUS, "login.failed", subject, None, {"reason": why})
        else:
            tx.audit(user.actor, "login", subject, None, {"login": user.login})
            if _hasher.check_needs_rehash(stored):
                new_hash = _hasher.hash(password)
                tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user.id))
    if user is None:
        raise AuthError("wrong login or password")
    if user.disabled:
        raise AuthError(f"{user.login} is disabled; ask an organiser")
    return user


def _digest(login: str) -> str:
    return hashlib.sha256(login.encode()).hexdigest()[:16]


def _refused_until(tx: Transaction, subject: str, limits: Throttle) -> str | None:
    """When the login may be tried again, if it is refused now: ``attempts`` failures since
    the last success within one ``window``, the last of them less than ``lockout`` ago."""
    last_ok = tx.one(
        "SELECT max(seq) FROM audit WHERE action = 'login' AND subject = ?", (subject,)
    )
    failures = [
        parse_iso(r["at"])
        for r in tx.all(
            "SELECT at FROM audit WHERE action = 'login.failed' AND subject = ? AND seq > ? "
            "AND at >= ? ORDER BY seq",
            (
                subject,
                (last_ok[0] if last_ok else None) or 0,
                iso(tx.at - limits.window - limits.lockout),
            ),
        )
    ]
    n = limits.attempts
    ends = [
        failures[i] + limits.lockout
        for i in range(n - 1, len(failures))
        if failures[i] - failures[i - n + 1] <= limits.window
    ]
    until = max(ends, default=None)
    return until.strftime("%Y-%m-%d %H:%M") if until is not None and until > tx.at else None


def has_users(store: StateStore) -> bool:
    """Whether anyone exists yet (the web's first-run page is open until someone does)."""
    with store.read() as tx:
        return tx.one("SELECT 1 FROM users LIMIT 1") is not None
