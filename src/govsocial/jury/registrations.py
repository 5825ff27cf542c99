"""Registration: an institution's operator proposes changes to its official accounts (add one,
remove one, correct a handle); an organiser approves or rejects each (docs/web.md,
"Registration").

The proposals live in the web state file (table ``registrations``); the registry they change
lives in the warehouse, which allows one writing process. So the warehouse is opened only for a
moment: to read an institution's accounts, and to apply an approved change in one transaction
(:func:`govsocial.store.registry.apply_account_change`: validated as `registry load` validates
a file). An approval is, in order: (1) check the pending change, (2) apply it to the warehouse,
(3) mark it approved and audit it, all inside one write transaction of the state file. If (2)
fails (the warehouse is busy, the change does not validate) nothing changed anywhere and the
change stays pending. If (3) fails after (2), the registry is changed and the proposal still
pending: approving it again finds the change's ingest batch and changes nothing more.

As everywhere in the jury core, each function takes the acting user's id and checks them in
its own transaction; an operator's institution comes from their user row, never from a form.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from govsocial.errors import (
    AuthError,
    ConfigError,
    InputError,
    NotFoundError,
    RegistryError,
    StoreError,
    WarehouseLockedError,
)
from govsocial.jury.store import StateStore, Transaction, iso
from govsocial.jury.users import Actor, User, signed_in
from govsocial.registry.models import normalise_handle
from govsocial.store.registry import (
    AccountChange,
    ChangeKind,
    RegisteredAccount,
    RegisteredInstitution,
    apply_account_change,
    registered_accounts,
    registered_institution,
)
from govsocial.vocabulary import PLATFORMS

Status = Literal["pending", "approved", "rejected", "withdrawn"]
Decision = Literal["approve", "reject"]
KINDS: tuple[ChangeKind, ...] = ("add", "remove", "correct")
STATUSES: tuple[Status, ...] = ("pending", "approved", "rejected", "withdrawn")
DECISIONS: tuple[Decision, ...] = ("approve", "reject")
MAX_HANDLE = 100
MAX_PLATFORM_ID = 100
MAX_NAME = 200
MAX_TEXT = 1000  # a reason, a decision's note
BUSY = "the warehouse is in use by another govsocial command; approve again when it finishes"
BUSY_READING = (
    "the warehouse is in use by another govsocial command; its accounts can be read again "
    "when it finishes"
)
NO_WAREHOUSE = (
    "this web server has no warehouse, so the registry can be neither read nor changed here; "
    "start it with `govsocial serve --db WAREHOUSE`"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# One web thread at a time opens the warehouse (DuckDB: one writing process, and this is it).
_WAREHOUSE = threading.Lock()


@dataclass(frozen=True)
class Registration:
    """One proposed change. ``current``: the account as the operator saw it (remove,
    correct); ``handle``/``platform_id``/``name``: the new account (add) or the new handle
    (correct); ``outcome``: what the approval did (the ingest batch, the account before and
    after)."""

    id: int
    institution_id: str
    kind: ChangeKind
    platform: str
    account_id: int | None
    handle: str | None
    platform_id: str | None
    name: str | None
    current: dict[str, Any] | None
    reason: str
    status: Status
    proposed_by: int
    proposer: str  # the proposer's name
    proposed: str
    decided_by: int | None
    decider: str | None
    decided: str | None
    note: str | None
    outcome: dict[str, Any] | None
    uid: str

    @property
    def subject(self) -> str:
        return f"registration:{self.id}"

    @property
    def reference(self) -> str:
        """Names the change in the warehouse (its ingest batch's path): unique across state
        files, so that a re-approval finds what an earlier one applied."""
        return f"registration:{self.id}/{self.uid}"

    def audited(self) -> dict[str, Any]:
        kept = asdict(self)
        for key in ("proposer", "decider", "uid"):
            kept.pop(key)
        return kept


@dataclass(frozen=True)
class InstitutionView:
    """An institution and its accounts, as the warehouse holds them now."""

    institution: RegisteredInstitution | None  # None: not in the warehouse's registry
    accounts: tuple[RegisteredAccount, ...]


_SELECT = """SELECT r.*, p.name AS proposer, d.name AS decider FROM registrations r
    JOIN users p ON p.id = r.proposed_by LEFT JOIN users d ON d.id = r.decided_by"""


def _registration(row: sqlite3.Row) -> Registration:
    return Registration(
        row["id"],
        row["institution_id"],
        row["kind"],
        row["platform"],
        row["account_id"],
        row["handle"],
        row["platform_id"],
        row["name"],
        json.loads(row["current"]) if row["current"] else None,
        row["reason"],
        row["status"],
        row["proposed_by"],
        row["proposer"],
        row["proposed"],
        row["decided_by"],
        row["decider"],
        row["decided"],
        row["note"],
        json.loads(row["outcome"]) if row["outcome"] else None,
        row["uid"],
    )


def _load(tx: Transaction, registration_id: int) -> Registration:
    row = tx.one(f"{_SELECT} WHERE r.id = ?", (registration_id,))
    if row is None:
        raise NotFoundError(f"no registration change {registration_id}")
    return _registration(row)


def _visible(tx: Transaction, user: User, registration_id: int) -> Registration:
    """The change, if ``user`` may see it: an operator sees their institution's only (another
    institution's is "not found", so that its existence does not show)."""
    change = _load(tx, registration_id)
    if user.role == "operator" and change.institution_id != user.institution_id:
        raise NotFoundError(f"no registration change {registration_id}")
    return change


# ---------------------------------------------------------------- checking a proposal's shape


def _text(value: str | None, what: str, limit: int, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InputError(f"the {what} is empty; write it")
        return None
    if len(text) > limit:
        raise InputError(f"the {what} is too long ({len(text)} characters; at most {limit})")
    if _CONTROL.search(text) or (limit < MAX_TEXT and "\n" in text):
        raise InputError(f"the {what} has control characters or line breaks; remove them")
    return text


def _token(value: str | None, what: str, limit: int) -> str | None:
    """A handle (without ``@``) or a platform id: one word."""
    text = _text(value, what, limit)
    if text is None:
        return None
    if what == "handle":
        text = text.lstrip("@")
        if not text:
            return None
    if any(c.isspace() for c in text):
        raise InputError(f"the {what} {text!r} has spaces; a {what} is one word")
    return text


def _platform(value: str) -> str:
    platform = value.strip().lower()
    if platform not in PLATFORMS:
        raise InputError(f"unknown platform {value!r}; use one of: {', '.join(PLATFORMS)}")
    return platform


# ---------------------------------------------------------------- operators


def propose(
    store: StateStore,
    actor: Actor,
    kind: str,
    *,
    reason: str,
    platform: str = "",
    handle: str | None = None,
    platform_id: str | None = None,
    name: str | None = None,
    account: RegisteredAccount | None = None,
) -> Registration:
    """An operator proposes a change to their own institution's accounts.

    - ``add``: ``platform`` with a ``handle`` and/or a ``platform_id`` (and the account's
      ``name``);
    - ``remove``: ``account`` (one of the institution's, as read from the warehouse);
    - ``correct``: ``account`` and its new ``handle``.

    The shape is checked here (platform, handle, sizes); the registry's own validation runs
    when the organiser approves (:func:`decide`).
    """
    if kind not in KINDS:
        raise InputError(f"unknown change {kind!r}; one of: {', '.join(KINDS)}")
    why = _text(reason, "reason", MAX_TEXT, required=True)
    new_handle = _token(handle, "handle", MAX_HANDLE)
    new_id = _token(platform_id, "platform id", MAX_PLATFORM_ID)
    new_name = _text(name, "account name", MAX_NAME)
    if kind == "add":
        chosen = _platform(platform)
        if new_handle is None and new_id is None:
            raise InputError("a new account needs its handle or its platform id; give one")
        current = None
    else:
        if account is None:
            raise InputError("choose the account to change")
        chosen = account.platform
        if platform and _platform(platform) != chosen:
            raise InputError(f"account {account.account_id} is a {chosen} account, not {platform}")
        current = {
            "handle": account.handle,
            "platform_id": account.platform_id,
            "name": account.name,
        }
        new_id, new_name = None, None
        if kind == "remove":
            new_handle = None
        elif new_handle is None:
            raise InputError("write the account's correct handle")
        elif normalise_handle(new_handle) == normalise_handle(account.handle):
            raise InputError(f"the handle is @{account.handle} already; write the correct one")
    with store.write() as tx:
        user = signed_in(tx, actor, "operator")
        institution = str(user.institution_id)
        if account is not None and account.institution_id != institution:
            raise AuthError(
                f"account {account.account_id} is not an account of your institution "
                f"({institution}); you can change only your institution's accounts"
            )
        _refuse_repeat(tx, institution, kind, chosen, account, new_handle, new_id)
        cursor = tx.execute(
            "INSERT INTO registrations (institution_id, kind, platform, account_id, handle,"
            " platform_id, name, current, reason, status, proposed_by, proposed, uid)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            (
                institution,
                kind,
                chosen,
                account.account_id if account else None,
                new_handle,
                new_id,
                new_name,
                json.dumps(current) if current is not None else None,
                why,
                user.id,
                iso(tx.at),
                secrets.token_hex(8),
            ),
        )
        made = _load(tx, int(cursor.lastrowid or 0))
        tx.audit(user.actor, "registration.propose", made.subject, None, made.audited())
        return made


def _refuse_repeat(
    tx: Transaction,
    institution: str,
    kind: str,
    platform: str,
    account: RegisteredAccount | None,
    handle: str | None,
    platform_id: str | None,
) -> None:
    """One pending change per account; one pending addition per handle or platform id."""
    if account is not None:
        row = tx.one(
            "SELECT id FROM registrations WHERE institution_id = ? AND account_id = ? "
            "AND status = 'pending'",
            (institution, account.account_id),
        )
        if row:
            raise InputError(
                f"account {account.account_id} has a pending change already (change "
                f"{row[0]}); withdraw it, or wait for the organiser's decision"
            )
        return
    for pending in tx.all(
        "SELECT id, handle, platform_id FROM registrations WHERE institution_id = ? "
        "AND kind = 'add' AND platform = ? AND status = 'pending'",
        (institution, platform),
    ):
        same_handle = handle and normalise_handle(pending["handle"]) == normalise_handle(handle)
        if same_handle or (platform_id and pending["platform_id"] == platform_id):
            raise InputError(f"change {pending['id']} proposes this {platform} account already")


def withdraw(store: StateStore, actor: Actor, registration_id: int) -> Registration:
    """Its proposer takes back a pending change."""
    with store.write() as tx:
        user = signed_in(tx, actor, "operator")
        change = _visible(tx, user, registration_id)
        if change.proposed_by != user.id:
            raise AuthError(f"only its proposer may withdraw change {registration_id}")
        _pending(change)
        tx.execute(
            "UPDATE registrations SET status = 'withdrawn', decided = ?, decided_by = ? "
            "WHERE id = ?",
            (iso(tx.at), user.id, change.id),
        )
        done = _load(tx, change.id)
        tx.audit(
            user.actor, "registration.withdraw", change.subject, change.audited(), done.audited()
        )
        return done


def _pending(change: Registration) -> None:
    if change.status != "pending":
        raise InputError(f"change {change.id} is {change.status} already; it cannot change now")


# ---------------------------------------------------------------- reading


def list_changes(
    store: StateStore,
    actor: Actor,
    *,
    status: str | None = None,
    institution_id: str | None = None,
) -> list[Registration]:
    """The changes an operator may see (their institution's) or an organiser (all, or one
    institution's), newest first; ``status`` filters. An operator asking for another
    institution is refused."""
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown status {status!r}; one of: {', '.join(STATUSES)}")
    with store.read() as tx:
        user = signed_in(tx, actor, "operator", "organiser")
        if user.role == "operator":
            if institution_id is not None and institution_id != user.institution_id:
                raise AuthError("an operator sees only their own institution's registration")
            institution_id = user.institution_id
        rows = tx.all(
            f"{_SELECT} WHERE (? IS NULL OR r.institution_id = ?) AND (? IS NULL OR r.status = ?)"
            " ORDER BY r.id DESC",
            (institution_id, institution_id, status, status),
        )
        return [_registration(r) for r in rows]


def get_change(store: StateStore, actor: Actor, registration_id: int) -> Registration:
    with store.read() as tx:
        user = signed_in(tx, actor, "operator", "organiser")
        return _visible(tx, user, registration_id)


def institution_view(warehouse: Path | None, institution_id: str) -> InstitutionView:
    """The institution and its accounts, read from the warehouse now (opened for a moment).
    :class:`WarehouseLockedError` when another command holds it; :class:`ConfigError` when
    the server has no warehouse."""
    from govsocial.store.warehouse import Warehouse

    if warehouse is None:
        raise ConfigError(NO_WAREHOUSE)
    with _warehouse_use(BUSY_READING), Warehouse.open(warehouse) as wh:
        return InstitutionView(
            registered_institution(wh, institution_id),
            tuple(registered_accounts(wh, institution_id)),
        )


@contextmanager
def _warehouse_use(busy: str) -> Iterator[None]:
    """One thread at a time; the warehouse held by another process said in our words."""
    with _WAREHOUSE:
        try:
            yield
        except StoreError as exc:
            if _locked(exc):
                raise WarehouseLockedError(f"{busy} ({exc.message})") from exc
            raise


def _locked(exc: StoreError) -> bool:
    return isinstance(exc, WarehouseLockedError) or "could not set lock" in exc.message.lower()


# ---------------------------------------------------------------- organisers


def decide(
    store: StateStore,
    actor: Actor,
    registration_id: int,
    decision: str,
    note: str = "",
    *,
    warehouse: Path | None,
) -> Registration:
    """An organiser approves a pending change (applied to the warehouse's registry, then
    marked approved) or rejects it (a note saying why is required).

    An approval that cannot be applied leaves the change pending and raises: the warehouse is
    busy (:class:`WarehouseLockedError`, :data:`BUSY`), or the registry would not validate
    (:class:`InputError` with the problems: reject the change with them, or approve again once
    what is in the way is fixed).
    """
    if decision not in DECISIONS:
        raise InputError(f"unknown decision {decision!r}; approve or reject")
    said = _text(note, "note", MAX_TEXT, required=decision == "reject")
    with store.write() as tx:
        user = signed_in(tx, actor, "organiser")
        change = _load(tx, registration_id)
        _pending(change)
        outcome = _apply(warehouse, change) if decision == "approve" else None
        tx.execute(
            "UPDATE registrations SET status = ?, decided = ?, decided_by = ?, note = ?,"
            " outcome = ? WHERE id = ?",
            (
                "approved" if decision == "approve" else "rejected",
                iso(tx.at),
                user.id,
                said,
                json.dumps(outcome) if outcome is not None else None,
                change.id,
            ),
        )
        done = _load(tx, change.id)
        tx.audit(
            user.actor,
            f"registration.{decision}",
            change.subject,
            change.audited(),
            done.audited(),
        )
        return done


def _apply(warehouse: Path | None, change: Registration) -> dict[str, Any]:
    """Apply ``change`` to the warehouse (step 2 of an approval); what it did, to keep."""
    from govsocial.store.warehouse import Warehouse

    if warehouse is None:
        raise ConfigError(NO_WAREHOUSE)
    wanted = AccountChange(
        change.reference,
        change.kind,
        change.institution_id,
        change.platform,
        change.handle,
        change.platform_id,
        change.name,
        change.account_id,
    )
    try:
        with _warehouse_use(BUSY), Warehouse.open(warehouse) as wh:
            result = apply_account_change(wh, wanted)
    except RegistryError as exc:
        problems = "; ".join(
            f"field '{p.field}': {_no_line(p.reason)}. Fix: {p.fix}" for p in exc.problems
        )
        raise InputError(
            f"change {change.id} cannot be applied, the registry would not validate: "
            f"{problems}. It stays pending: reject it with the reason, or approve it again "
            "once what is in the way has changed"
        ) from exc
    except (InputError, NotFoundError) as exc:
        raise InputError(
            f"change {change.id} cannot be applied: {exc.message} It stays pending."
        ) from exc
    return {
        "batch_id": result.batch_id,
        "account_id": result.account_id,
        "before": asdict(result.before) if result.before else None,
        "after": asdict(result.after) if result.after else None,
        "already": result.already,
    }


def _no_line(reason: str) -> str:
    """A validation reason without the line of the YAML it was checked as (no one sees it)."""
    return re.sub(r" at line \d+", "", reason)
