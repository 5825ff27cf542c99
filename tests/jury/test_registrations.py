"""Registration: operators propose changes to their own institution's accounts, organisers
approve (applied to a real DuckDB warehouse, validated as `registry load` validates a file) or
reject; a busy warehouse or a refused validation leaves the change pending and nothing
changed; re-approving an applied change does not apply it twice; every write is audited."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govsocial.errors import (
    AuthError,
    ConfigError,
    InputError,
    NotFoundError,
    WarehouseLockedError,
)
from govsocial.jury import registrations
from govsocial.jury.audit import entries, verify
from govsocial.jury.registrations import (
    decide,
    get_change,
    institution_view,
    list_changes,
    propose,
    withdraw,
)
from govsocial.jury.store import StateStore, Transaction
from govsocial.jury.users import Console, add_user
from govsocial.registry import read_registry
from govsocial.registry.load import check_registry
from govsocial.store.registry import RegisteredAccount, load_registry
from govsocial.store.warehouse import Warehouse
from jury.world import People

REGISTRY = """\
institutions:
  - id: x
    name: Pemerintah Kota X
    cluster: pemda
    sub_cluster: kota
    region: Jawa Barat
    accounts:
      - {platform: instagram, handle: kotax, platform_id: "111", name: Kota X}
      - {platform: x, handle: KotaX_Official}
  - id: y
    name: Kementerian Y
    cluster: kementerian
    accounts:
      - {platform: instagram, handle: kemeny, platform_id: "222"}
      - {platform: youtube, handle: kemenyri}
"""
UNASSIGNED = 99  # an account seen in an import, in no institution: tiktok @kotax_tt


def make_warehouse(folder: Path) -> Path:
    """A warehouse with institutions x (the operator's) and y, and an unassigned account."""
    db, file = folder / "w.duckdb", folder / "registry.yaml"
    file.write_text(REGISTRY, encoding="utf-8")
    load_registry(db, file)
    with Warehouse.open(db) as wh:
        wh.con.execute(
            "INSERT INTO accounts VALUES (?, NULL, 'tiktok', 'kotax_tt', 'kotax_tt', '999', "
            "NULL, false, 1)",
            [UNASSIGNED],
        )
    return db


@contextlib.contextmanager
def held(db: Path) -> Iterator[None]:
    """Another process (as a running `govsocial import` would) holds the warehouse open."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def accounts(db: Path, institution: str | None = "x") -> list[tuple[Any, ...]]:
    with Warehouse.open(db) as wh:
        return wh.con.execute(
            "SELECT account_id, platform, handle, platform_account_id FROM accounts "
            "WHERE institution_id IS NOT DISTINCT FROM ? ORDER BY account_id",
            [institution],
        ).fetchall()


def one_account(db: Path, institution: str, platform: str) -> RegisteredAccount:
    view = institution_view(db, institution)
    return next(a for a in view.accounts if a.platform == platform)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path)


@pytest.fixture
def other(store: StateStore) -> int:
    """The operator of institution y."""
    return add_user(
        store,
        Console("test"),
        name="Humas Y",
        login="operator.y",
        role="operator",
        password="sandi-operator-y",
        institution_id="y",
    ).id


def test_an_added_account_is_approved_into_the_registry(
    store: StateStore, people: People, db: Path
) -> None:
    change = propose(
        store,
        people.operator,
        "add",
        platform="YouTube",
        handle=" @KotaXChannel ",
        platform_id="UCx1",
        name="Kota X TV",
        reason="Our YouTube channel since 2024",
    )
    assert (change.status, change.platform, change.handle) == ("pending", "youtube", "KotaXChannel")
    assert change.institution_id == "x" and change.account_id is None
    before = accounts(db)
    done = decide(store, people.organiser, change.id, "approve", warehouse=db)
    assert done.status == "approved" and done.decided_by == people.organiser
    assert done.outcome is not None and done.outcome["already"] is False
    added = [a for a in accounts(db) if a not in before]
    assert [a[1:] for a in added] == [("youtube", "KotaXChannel", "UCx1")]
    assert done.outcome["after"]["account_id"] == added[0][0]
    with Warehouse.open(db) as wh:
        batch = wh.con.execute(
            "SELECT kind, source_format, path, status, accounts_new FROM ingest_batches "
            "WHERE batch_id = ?",
            [done.outcome["batch_id"]],
        ).fetchone()
        handle_key = wh.con.execute(
            "SELECT handle_key FROM accounts WHERE account_id = ?", [added[0][0]]
        ).fetchone()
    assert batch == ("registry", "registration", change.reference, "loaded", 1)
    assert handle_key == ("kotaxchannel",)
    actions = [
        (e.action, e.subject, e.actor) for e in entries(store) if e.subject == change.subject
    ]
    assert actions == [
        ("registration.propose", change.subject, f"user:{people.operator}"),
        ("registration.approve", change.subject, f"user:{people.organiser}"),
    ]
    approval = next(e for e in entries(store) if e.action == "registration.approve")
    assert approval.before["status"] == "pending" and approval.after["status"] == "approved"
    assert approval.after["outcome"]["batch_id"] == done.outcome["batch_id"]
    assert verify(store).ok


def test_an_account_seen_unassigned_is_assigned_not_duplicated(
    store: StateStore, people: People, db: Path
) -> None:
    change = propose(
        store, people.operator, "add", platform="tiktok", handle="KotaX_TT", reason="TikTok"
    )
    done = decide(store, people.organiser, change.id, "approve", warehouse=db)
    assert done.outcome is not None and done.outcome["before"]["institution_id"] is None
    assert done.outcome["after"]["account_id"] == UNASSIGNED
    assert (UNASSIGNED, "tiktok", "KotaX_TT", "999") in accounts(db)  # as proposed
    assert accounts(db, None) == []


def test_a_removed_account_leaves_the_institution_but_stays_in_the_warehouse(
    store: StateStore, people: People, db: Path
) -> None:
    gone = one_account(db, "x", "x")
    change = propose(store, people.operator, "remove", account=gone, reason="Closed in 2024")
    assert change.current == {"handle": "KotaX_Official", "platform_id": None, "name": None}
    decide(store, people.organiser, change.id, "approve", "checked", warehouse=db)
    assert gone.account_id not in [a[0] for a in accounts(db)]
    assert gone.account_id in [a[0] for a in accounts(db, None)]  # unassigned, posts kept


def test_a_corrected_handle_is_the_same_account_with_its_new_handle(
    store: StateStore, people: People, db: Path
) -> None:
    wrong = one_account(db, "x", "instagram")
    change = propose(
        store, people.operator, "correct", account=wrong, handle="@kota.x", reason="Renamed"
    )
    done = decide(store, people.organiser, change.id, "approve", warehouse=db)
    assert (wrong.account_id, "instagram", "kota.x", "111") in accounts(db)
    assert done.outcome is not None
    assert (done.outcome["before"]["handle"], done.outcome["after"]["handle"]) == (
        "kotax",
        "kota.x",
    )


def test_a_clash_with_another_institution_is_refused_and_stays_pending(
    store: StateStore, people: People, db: Path
) -> None:
    change = propose(
        store, people.operator, "add", platform="instagram", handle="KemenY", reason="ours"
    )
    before = accounts(db), accounts(db, "y")
    with pytest.raises(InputError, match="instagram handle '@kemeny'.*institution 'y'") as refused:
        decide(store, people.organiser, change.id, "approve", warehouse=db)
    assert "line" not in refused.value.message and "stays pending" in refused.value.message
    assert (accounts(db), accounts(db, "y")) == before
    assert get_change(store, people.organiser, change.id).status == "pending"
    assert [e.action for e in entries(store)][-1] == "registration.propose"
    with pytest.raises(InputError, match="note is empty"):
        decide(store, people.organiser, change.id, "reject", " ", warehouse=db)
    done = decide(store, people.organiser, change.id, "reject", "Y's account", warehouse=db)
    assert (done.status, done.note, done.outcome) == ("rejected", "Y's account", None)
    # Correcting a handle into another institution's is the same duplicate.
    mine = one_account(db, "x", "instagram")
    again = propose(store, people.operator, "correct", account=mine, handle="kemeny", reason="?")
    with pytest.raises(InputError, match="'@kemeny'.*institution 'y'"):
        decide(store, people.organiser, again.id, "approve", warehouse=db)


def test_an_account_the_institution_has_already_is_refused_as_the_loader_refuses_it(
    store: StateStore, people: People, db: Path
) -> None:
    change = propose(
        store, people.operator, "add", platform="instagram", platform_id="111", reason="dup"
    )
    with pytest.raises(InputError, match="duplicate instagram platform_id '111'.*'x'"):
        decide(store, people.organiser, change.id, "approve", warehouse=db)
    # The same check as a registry file: the in-memory validator is read_registry's.
    table = {
        "institutions": [
            {"id": "a", "name": "A", "cluster": "pemda", "accounts": [{"platform": "x"}]},
            {"id": "b", "name": "B", "cluster": "planet", "accounts": []},
        ]
    }
    with pytest.raises(InputError, match="handle or a platform_id") as table_error:
        check_registry(table)
    file = db.parent / "same.yaml"
    file.write_text(
        "institutions:\n  - {id: a, name: A, cluster: pemda, accounts: [{platform: x}]}\n"
        "  - {id: b, name: B, cluster: planet, accounts: []}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as file_error:
        read_registry(file)
    reasons = [(p.field, p.reason) for p in table_error.value.problems]  # type: ignore[attr-defined]
    assert reasons == [(p.field, p.reason) for p in file_error.value.problems]  # type: ignore[attr-defined]


def test_correcting_into_an_unassigned_accounts_handle_says_what_to_do(
    store: StateStore, people: People, db: Path
) -> None:
    wrong = one_account(db, "x", "instagram")
    with Warehouse.open(db) as wh:  # the right handle was imported as an account of its own
        wh.con.execute(
            "UPDATE accounts SET platform = 'instagram', handle = 'kota.x', handle_key = 'kota.x'"
            " WHERE account_id = ?",
            [UNASSIGNED],
        )
    change = propose(
        store, people.operator, "correct", account=wrong, handle="Kota.X", reason="typo"
    )
    with pytest.raises(InputError, match=f"account {UNASSIGNED}, seen in an import.*to add"):
        decide(store, people.organiser, change.id, "approve", warehouse=db)
    assert (wrong.account_id, "instagram", "kotax", "111") in accounts(db)


def test_a_busy_warehouse_refuses_the_approval_and_nothing_changes(
    store: StateStore, people: People, db: Path
) -> None:
    change = propose(store, people.operator, "add", platform="x", handle="kotax2", reason="new")
    before = accounts(db)
    with held(db):
        with pytest.raises(WarehouseLockedError) as busy:
            decide(store, people.organiser, change.id, "approve", warehouse=db)
        assert busy.value.message.startswith(registrations.BUSY)
        with pytest.raises(WarehouseLockedError, match="in use by another govsocial command"):
            institution_view(db, "x")
        assert get_change(store, people.organiser, change.id).status == "pending"
    assert accounts(db) == before
    assert [e.action for e in entries(store)][-1] == "registration.propose"
    done = decide(store, people.organiser, change.id, "approve", warehouse=db)
    assert done.status == "approved" and len(accounts(db)) == len(before) + 1


def test_an_approval_applied_but_not_recorded_is_not_applied_twice(
    store: StateStore, people: People, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step 3 (mark approved, audit) fails after step 2 (the warehouse) succeeded: the change
    stays pending with the registry updated; approving it again changes nothing more."""
    change = propose(store, people.operator, "add", platform="x", handle="kotax2", reason="new")
    before = accounts(db)
    real_audit = Transaction.audit

    def failing(self: Transaction, actor: str, action: str, *rest: Any) -> int:
        if action == "registration.approve":
            raise OSError("disk full")
        return real_audit(self, actor, action, *rest)

    monkeypatch.setattr(Transaction, "audit", failing)
    with pytest.raises(OSError, match="disk full"):
        decide(store, people.organiser, change.id, "approve", warehouse=db)
    monkeypatch.undo()
    assert get_change(store, people.organiser, change.id).status == "pending"
    applied = accounts(db)
    assert len(applied) == len(before) + 1
    done = decide(store, people.organiser, change.id, "approve", warehouse=db)
    assert done.outcome is not None and done.outcome["already"] is True
    assert done.outcome["after"]["handle"] == "kotax2"
    assert accounts(db) == applied
    with Warehouse.open(db) as wh:
        batches = wh.con.execute(
            "SELECT count(*) FROM ingest_batches WHERE path = ?", [change.reference]
        ).fetchone()
    assert batches == (1,)


def test_no_warehouse_or_no_institution_leaves_the_change_pending(
    store: StateStore, people: People, db: Path
) -> None:
    change = propose(store, people.operator, "add", platform="x", handle="kotax2", reason="new")
    with pytest.raises(ConfigError, match="no warehouse"):
        decide(store, people.organiser, change.id, "approve", warehouse=None)
    with pytest.raises(ConfigError, match="no warehouse"):
        institution_view(None, "x")
    with Warehouse.open(db) as wh:
        wh.con.execute("DELETE FROM institutions WHERE institution_id = 'x'")
    with pytest.raises(InputError, match="institution 'x' is not in the registry.*stays pending"):
        decide(store, people.organiser, change.id, "approve", warehouse=db)
    assert get_change(store, people.organiser, change.id).status == "pending"
    assert institution_view(db, "x").institution is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "rename"}, "unknown change 'rename'"),
        ({"platform": "myspace"}, "unknown platform 'myspace'"),
        ({"reason": "  "}, "reason is empty"),
        ({"reason": "x" * 1001}, "reason is too long"),
        ({"handle": "two words"}, "has spaces"),
        ({"handle": "h" * 101}, "handle is too long"),
        ({"handle": "@", "platform_id": ""}, "handle or its platform id"),
        ({"name": "a\nb"}, "line breaks"),
        ({"handle": "nul\x00"}, "control characters"),
    ],
)
def test_a_proposal_of_the_wrong_shape_is_refused_early(
    store: StateStore, people: People, fields: dict[str, str], message: str
) -> None:
    values = {"kind": "add", "platform": "x", "handle": "ok", "reason": "because", **fields}
    kind = values.pop("kind")
    with pytest.raises(InputError, match=message):
        propose(store, people.operator, kind, **values)
    assert list_changes(store, people.operator) == []


def test_remove_and_correct_need_an_account_of_the_operators_institution(
    store: StateStore, people: People, db: Path
) -> None:
    with pytest.raises(InputError, match="choose the account"):
        propose(store, people.operator, "remove", reason="?")
    theirs = one_account(db, "y", "instagram")
    with pytest.raises(AuthError, match="not an account of your institution"):
        propose(store, people.operator, "remove", account=theirs, reason="mine now")
    mine = one_account(db, "x", "instagram")
    with pytest.raises(InputError, match="already"):
        propose(store, people.operator, "correct", account=mine, handle="KOTAX", reason="?")
    with pytest.raises(InputError, match="correct handle"):
        propose(store, people.operator, "correct", account=mine, reason="?")
    with pytest.raises(InputError, match="instagram account, not x"):
        propose(store, people.operator, "remove", account=mine, platform="x", reason="?")
    first = propose(store, people.operator, "remove", account=mine, reason="gone")
    with pytest.raises(InputError, match=f"pending change already \\(change {first.id}\\)"):
        propose(store, people.operator, "correct", account=mine, handle="kx", reason="?")
    added = propose(store, people.operator, "add", platform="x", handle="New_X", reason="?")
    with pytest.raises(InputError, match=f"change {added.id} proposes this x account"):
        propose(store, people.operator, "add", platform="x", handle="@new_x", reason="?")
    assert [c.id for c in list_changes(store, people.operator)] == [added.id, first.id]


def test_who_may_do_what(store: StateStore, people: People, other: int, db: Path) -> None:
    mine = propose(store, people.operator, "add", platform="x", handle="kx2", reason="x's")
    theirs = propose(store, other, "add", platform="x", handle="ky2", reason="y's")
    assert theirs.institution_id == "y"
    for juror in (people.jurors[0], people.spare):
        with pytest.raises(AuthError):
            propose(store, juror, "add", platform="x", handle="j", reason="?")
        with pytest.raises(AuthError):
            list_changes(store, juror)
        with pytest.raises(AuthError):
            get_change(store, juror, mine.id)
    with pytest.raises(AuthError, match="only an organiser"):
        decide(store, people.operator, mine.id, "approve", warehouse=db)
    with pytest.raises(AuthError):
        propose(store, people.organiser, "add", platform="x", handle="o", reason="?")
    with pytest.raises(AuthError):
        propose(store, Console("t"), "add", platform="x", handle="o", reason="?")
    # An operator sees their own institution's changes only; another's is "not found".
    assert [c.id for c in list_changes(store, people.operator)] == [mine.id]
    with pytest.raises(AuthError, match="own institution"):
        list_changes(store, people.operator, institution_id="y")
    assert list_changes(store, people.operator, institution_id="x")[0].id == mine.id
    with pytest.raises(NotFoundError):
        get_change(store, people.operator, theirs.id)
    with pytest.raises(NotFoundError):
        withdraw(store, people.operator, theirs.id)
    assert get_change(store, other, theirs.id).status == "pending"
    # The organiser sees all, and filters.
    assert {c.id for c in list_changes(store, people.organiser)} == {mine.id, theirs.id}
    assert [c.id for c in list_changes(store, people.organiser, institution_id="y")] == [theirs.id]
    with pytest.raises(InputError, match="unknown status"):
        list_changes(store, people.organiser, status="lost")
    with pytest.raises(NotFoundError):
        decide(store, people.organiser, 999, "approve", warehouse=db)
    with pytest.raises(InputError, match="approve or reject"):
        decide(store, people.organiser, mine.id, "maybe", warehouse=db)


def test_only_the_proposer_withdraws_a_pending_change(
    store: StateStore, people: People, db: Path
) -> None:
    colleague = add_user(
        store,
        Console("test"),
        name="Humas X 2",
        login="operator.x2",
        role="operator",
        password="sandi-operator-x2",
        institution_id="x",
    ).id
    change = propose(store, people.operator, "add", platform="x", handle="kx3", reason="?")
    assert get_change(store, colleague, change.id).id == change.id  # same institution: seen
    with pytest.raises(AuthError, match="only its proposer"):
        withdraw(store, colleague, change.id)
    done = withdraw(store, people.operator, change.id)
    assert (done.status, done.decided_by) == ("withdrawn", people.operator)
    with pytest.raises(InputError, match="withdrawn already"):
        withdraw(store, people.operator, change.id)
    with pytest.raises(InputError, match="withdrawn already"):
        decide(store, people.organiser, change.id, "approve", warehouse=db)
    last = list(entries(store))[-1]
    assert (last.action, last.before["status"], last.after["status"]) == (
        "registration.withdraw",
        "pending",
        "withdrawn",
    )
    assert verify(store).ok
