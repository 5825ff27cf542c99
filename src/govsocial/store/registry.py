"""Write a validated registry into the warehouse (one transaction: all of it or nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from govsocial.errors import InputError, NotFoundError
from govsocial.registry import Account, Cluster, Institution, Registry, default_clusters
from govsocial.registry.models import normalise_handle
from govsocial.store.batches import identify, start_batch
from govsocial.store.warehouse import Warehouse


@dataclass(frozen=True)
class RegistryLoadSummary:
    batch_id: int
    institutions_new: int
    institutions_updated: int
    accounts_new: int
    accounts_updated: int


def known_clusters(wh: Warehouse) -> tuple[Cluster, ...]:
    rows = wh.con.execute("SELECT cluster_id, name, name_en, sub_clusters FROM clusters").fetchall()
    return tuple(Cluster(r[0], r[1], r[2], tuple(r[3])) for r in rows)


def apply_registry(wh: Warehouse, registry: Registry, path: Path | None) -> RegistryLoadSummary:
    """Upsert clusters, institutions and accounts. Institutions not in the file are kept.

    Accounts are matched to existing ones by (platform, platform id), then by (platform,
    handle): an account first seen unassigned in an import is assigned here, not duplicated.
    """
    con = wh.con
    with wh.transaction():
        batch_id = start_batch(
            wh,
            kind="registry",
            source_format="registry",
            file=identify(path) if path else None,
            synthetic=registry.synthetic,
        )
        present = {r[0] for r in con.execute("SELECT cluster_id FROM clusters").fetchall()}
        for c in (*default_clusters(), *registry.clusters):
            if c.id in present and c not in registry.clusters:
                continue
            con.execute(
                "INSERT OR REPLACE INTO clusters VALUES (?, ?, ?, ?)",
                [c.id, c.name, c.name_en, list(c.sub_clusters)],
            )
        existing = {r[0] for r in con.execute("SELECT institution_id FROM institutions").fetchall()}
        institutions = pa.table(
            {
                "institution_id": [i.id for i in registry.institutions],
                "name": [i.name for i in registry.institutions],
                "cluster_id": [i.cluster for i in registry.institutions],
                "sub_cluster": pa.array(
                    [i.sub_cluster for i in registry.institutions], pa.string()
                ),
                "region": pa.array([i.region for i in registry.institutions], pa.string()),
            }
        )
        con.register("_reg_institutions", institutions)
        con.execute(
            "INSERT OR REPLACE INTO institutions SELECT *, ?, ? FROM _reg_institutions",
            [registry.synthetic, batch_id],
        )
        accounts_new, accounts_updated = _upsert_accounts(wh, registry, batch_id)
        institutions_new = sum(1 for i in registry.institutions if i.id not in existing)
        con.execute(
            "UPDATE ingest_batches SET status = 'loaded', finished_at = ?, records_read = ?,"
            " accounts_new = ? WHERE batch_id = ?",
            [
                datetime.now(UTC),
                len(registry.institutions) + registry.accounts_count,
                accounts_new,
                batch_id,
            ],
        )
    return RegistryLoadSummary(
        batch_id,
        institutions_new,
        len(registry.institutions) - institutions_new,
        accounts_new,
        accounts_updated,
    )


def _upsert_accounts(wh: Warehouse, registry: Registry, batch_id: int) -> tuple[int, int]:
    """Match the file's accounts to known ones (platform id, then handle); insert the rest."""
    pairs = [(inst.id, acc) for inst in registry.institutions for acc in inst.accounts]
    wh.con.register(
        "_reg_accounts",
        pa.table(
            {
                "ordinal": pa.array(range(len(pairs)), pa.int64()),
                "institution_id": [i for i, _ in pairs],
                "platform": [a.platform for _, a in pairs],
                "handle": pa.array([a.handle for _, a in pairs], pa.string()),
                "handle_key": pa.array([a.handle_key for _, a in pairs], pa.string()),
                "platform_id": pa.array([a.platform_id for _, a in pairs], pa.string()),
                "display_name": pa.array([a.name for _, a in pairs], pa.string()),
            }
        ),
    )
    con = wh.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _reg AS SELECT *, NULL::INTEGER AS account_id "
        "FROM _reg_accounts"
    )
    con.execute("""UPDATE _reg SET account_id = a.account_id FROM accounts a
        WHERE a.platform = _reg.platform AND _reg.platform_id IS NOT NULL
          AND a.platform_account_id = _reg.platform_id""")
    con.execute("""UPDATE _reg SET account_id = a.account_id FROM accounts a
        WHERE _reg.account_id IS NULL AND a.platform = _reg.platform
          AND _reg.handle_key IS NOT NULL AND a.handle_key = _reg.handle_key
          AND (_reg.platform_id IS NULL OR a.platform_account_id IS NULL)""")
    con.execute("""UPDATE accounts SET institution_id = r.institution_id,
            handle = coalesce(r.handle, accounts.handle),
            handle_key = coalesce(r.handle_key, accounts.handle_key),
            platform_account_id = coalesce(r.platform_id, accounts.platform_account_id),
            display_name = coalesce(r.display_name, accounts.display_name)
        FROM _reg r WHERE accounts.account_id = r.account_id""")
    updated = _count(wh, "SELECT count(*) FROM _reg WHERE account_id IS NOT NULL")
    # New accounts get ids in the file's order, so the same file gives the same ids.
    con.execute(
        """INSERT INTO accounts
        SELECT (SELECT coalesce(max(account_id), 0) FROM accounts)
                   + row_number() OVER (ORDER BY ordinal),
               institution_id, platform, handle, handle_key, platform_id, display_name, ?, ?
        FROM _reg WHERE account_id IS NULL""",
        [registry.synthetic, batch_id],
    )
    new = _count(wh, "SELECT count(*) FROM _reg WHERE account_id IS NULL")
    con.execute("DROP TABLE _reg")
    con.unregister("_reg_accounts")
    return new, updated


def _count(wh: Warehouse, sql: str) -> int:
    row = wh.con.execute(sql).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class InstitutionRow:
    institution_id: str
    name: str
    cluster_id: str
    sub_cluster: str | None
    region: str | None
    accounts: int


def list_institutions(wh: Warehouse, cluster: str | None = None) -> list[InstitutionRow]:
    """Institutions (of one cluster, or all) with their number of accounts.

    An unknown ``cluster`` is a :class:`NotFoundError` listing the clusters that exist.
    """
    if cluster is not None:
        clusters = [c.id for c in known_clusters(wh)]
        if cluster not in clusters:
            raise NotFoundError(
                f"No cluster '{cluster}' in {wh.path}. Clusters: {', '.join(sorted(clusters))}."
            )
    rows = wh.con.execute(
        """SELECT i.institution_id, i.name, i.cluster_id, i.sub_cluster, i.region,
                  count(a.account_id)
           FROM institutions i LEFT JOIN accounts a USING (institution_id)
           WHERE ?::VARCHAR IS NULL OR i.cluster_id = ?
           GROUP BY ALL ORDER BY i.cluster_id, i.institution_id""",
        [cluster, cluster],
    ).fetchall()
    return [InstitutionRow(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows]


def load_registry(db: Path, file: Path) -> RegistryLoadSummary:
    """Validate the registry ``file`` and load it into the warehouse at ``db``.

    The file is read and validated before the warehouse is opened, so a file with problems
    leaves no trace (not even a new, empty warehouse file).
    """
    from govsocial.registry import read_registry

    if not db.exists():
        registry = read_registry(file, default_clusters())
        with Warehouse.open(db, create=True) as wh:
            return apply_registry(wh, registry, file)
    with Warehouse.open(db) as wh:
        registry = read_registry(file, known_clusters(wh))
        return apply_registry(wh, registry, file)


# -- one account change at a time (the web app's registration, jury/registrations.py) ---------
ChangeKind = Literal["add", "remove", "correct"]
CHANGE_FORMAT = "registration"  # ingest_batches.source_format of an applied account change


@dataclass(frozen=True)
class RegisteredInstitution:
    institution_id: str
    name: str
    cluster_id: str
    cluster_name: str | None
    sub_cluster: str | None
    region: str | None
    synthetic: bool


@dataclass(frozen=True)
class RegisteredAccount:
    """An account as the warehouse holds it; ``institution_id`` None: unassigned."""

    account_id: int
    institution_id: str | None
    platform: str
    handle: str | None
    platform_id: str | None
    name: str | None

    def as_entry(self) -> dict[str, str]:
        """The account as a registry file lists it (only the fields it has)."""
        return _entry(self.platform, self.handle, self.platform_id, self.name)


def _row(wh: Warehouse, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """The first row of a query, or None (every row fetched: DuckDB keeps a connection busy
    until a result is read to its end)."""
    rows = wh.con.execute(sql, params).fetchall()
    return tuple(rows[0]) if rows else None


_ACCOUNT_COLUMNS = "account_id, institution_id, platform, handle, platform_account_id, display_name"


def _account(row: tuple[object, ...]) -> RegisteredAccount:
    return RegisteredAccount(
        int(str(row[0])),
        None if row[1] is None else str(row[1]),
        str(row[2]),
        None if row[3] is None else str(row[3]),
        None if row[4] is None else str(row[4]),
        None if row[5] is None else str(row[5]),
    )


def registered_institution(wh: Warehouse, institution_id: str) -> RegisteredInstitution | None:
    row = _row(
        wh,
        """SELECT i.institution_id, i.name, i.cluster_id, c.name, i.sub_cluster, i.region,
                  i.is_synthetic
           FROM institutions i LEFT JOIN clusters c USING (cluster_id)
           WHERE i.institution_id = ?""",
        [institution_id],
    )
    if row is None:
        return None
    return RegisteredInstitution(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]))


def registered_accounts(wh: Warehouse, institution_id: str) -> list[RegisteredAccount]:
    """The institution's accounts, by platform and handle."""
    rows = wh.con.execute(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE institution_id = ? "
        "ORDER BY platform, handle_key NULLS LAST, platform_account_id, account_id",
        [institution_id],
    ).fetchall()
    return [_account(r) for r in rows]


def find_account(wh: Warehouse, account_id: int) -> RegisteredAccount | None:
    row = _row(wh, f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE account_id = ?", [account_id])
    return None if row is None else _account(row)


@dataclass(frozen=True)
class AccountChange:
    """One change to one institution's accounts. ``reference`` names it (e.g.
    ``registration:12/3f9a...``): it becomes the path of its ingest batch, which marks it
    applied. ``add``: ``platform`` with ``handle`` and/or ``platform_id`` (and ``name``);
    ``remove``: ``account_id``; ``correct``: ``account_id`` and its new ``handle``."""

    reference: str
    kind: ChangeKind
    institution_id: str
    platform: str
    handle: str | None = None
    platform_id: str | None = None
    name: str | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class AccountChangeResult:
    """What applying a change did: its ingest batch, the account before and after. ``already``:
    the change had been applied before (its batch exists) and nothing changed now."""

    batch_id: int
    account_id: int | None
    before: RegisteredAccount | None
    after: RegisteredAccount | None
    already: bool = False


def apply_account_change(wh: Warehouse, change: AccountChange) -> AccountChangeResult:
    """Apply one change to the registry in one transaction (all of it or nothing), after
    validating the institution's accounts as they would be through the same checks as
    `registry load` (:func:`govsocial.registry.load.check_registry`: platform, handle or
    platform id, no account listed twice; a clash with another institution's account is
    such a duplicate). Idempotent: a change whose batch exists is not applied again.

    - add: the account joins the institution; an account seen unassigned in an import is
      matched (platform id, then handle) and assigned, as `registry load` does;
    - remove: the account leaves the institution (unassigned: its posts stay, the awards no
      longer count it); a later registry file or change may assign it again;
    - correct: the same account gets the new handle (refused when an unassigned account of
      the platform has that handle: add that one, and remove the wrong one, instead).

    Raises :class:`NotFoundError` (no such institution or account), :class:`InputError` (the
    account is no longer the institution's) or :class:`RegistryError` (the validation).
    """
    from govsocial.registry.load import check_registry

    with wh.transaction(f"applying {change.reference} to the registry"):
        done = _row(
            wh,
            "SELECT min(batch_id) FROM ingest_batches WHERE source_format = ? AND path = ? "
            "AND status = 'loaded'",
            [CHANGE_FORMAT, change.reference],
        )
        if done and done[0] is not None:
            account = _changed_account(wh, change)
            return AccountChangeResult(
                int(done[0]), account.account_id if account else None, None, account, True
            )
        institution = registered_institution(wh, change.institution_id)
        if institution is None:
            raise NotFoundError(
                f"{change.reference}: institution '{change.institution_id}' is not in the "
                f"registry of {wh.path}; load it with `govsocial registry load FILE` first."
            )
        own = registered_accounts(wh, change.institution_id)
        target = _target(wh, change, institution)
        entries = [a.as_entry() for a in own if target is None or a.account_id != target.account_id]
        if change.kind == "add":
            entries.append(_entry(change.platform, change.handle, change.platform_id, change.name))
        elif change.kind == "correct" and target is not None:
            entries.append({**target.as_entry(), "handle": change.handle or ""})
        table = {
            "synthetic": institution.synthetic,
            "institutions": [
                *_clashing_institutions(wh, change, target),
                _institution_entry(institution, entries),
            ],
        }
        check_registry(table, known_clusters(wh), change.reference)
        batch_id = start_batch(
            wh,
            kind="registry",
            source_format=CHANGE_FORMAT,
            file=None,
            synthetic=institution.synthetic,
        )
        wh.con.execute(
            "UPDATE ingest_batches SET path = ? WHERE batch_id = ?", [change.reference, batch_id]
        )
        before, new = _apply(wh, change, institution, target, batch_id)
        after = _changed_account(wh, change)
        wh.con.execute(
            "UPDATE ingest_batches SET status = 'loaded', finished_at = ?, records_read = 1,"
            " accounts_new = ? WHERE batch_id = ?",
            [datetime.now(UTC), new, batch_id],
        )
    return AccountChangeResult(
        batch_id, after.account_id if after else None, before, after, already=False
    )


def _target(
    wh: Warehouse, change: AccountChange, institution: RegisteredInstitution
) -> RegisteredAccount | None:
    """The account a remove or correct is about, still the institution's."""
    if change.kind == "add":
        return None
    found = find_account(wh, change.account_id) if change.account_id is not None else None
    if found is None:
        raise NotFoundError(
            f"{change.reference}: account {change.account_id} is not in the warehouse {wh.path}."
        )
    if found.institution_id != institution.institution_id:
        now = f"institution '{found.institution_id}'" if found.institution_id else "no institution"
        raise InputError(
            f"{change.reference}: account {found.account_id} ({found.platform} "
            f"@{found.handle or found.platform_id}) belongs to {now} now, not to "
            f"'{institution.institution_id}'; reject this change."
        )
    if change.kind == "correct":
        clash = _row(
            wh,
            "SELECT account_id FROM accounts WHERE institution_id IS NULL AND platform = ? "
            "AND handle_key = ? AND account_id <> ?",
            [found.platform, normalise_handle(change.handle), found.account_id],
        )
        if clash:
            raise InputError(
                f"{change.reference}: {found.platform} @{normalise_handle(change.handle)} is "
                f"another account already (account {clash[0]}, seen in an import, unassigned). "
                "Reject this change, and propose to add that account and to remove the wrong one."
            )
    return found


def _entry(
    platform: str, handle: str | None, platform_id: str | None, name: str | None
) -> dict[str, str]:
    """An account as a registry file lists it (only the fields given)."""
    entry = {"platform": platform}
    for key, value in (("handle", handle), ("platform_id", platform_id), ("name", name)):
        if value:
            entry[key] = value
    return entry


def _institution_entry(
    institution: RegisteredInstitution, accounts: list[dict[str, str]]
) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": institution.institution_id,
        "name": institution.name,
        "cluster": institution.cluster_id,
    }
    if institution.sub_cluster:
        entry["sub_cluster"] = institution.sub_cluster
    if institution.region:
        entry["region"] = institution.region
    entry["accounts"] = accounts
    return entry


def _clashing_institutions(
    wh: Warehouse, change: AccountChange, target: RegisteredAccount | None
) -> list[dict[str, object]]:
    """Other institutions' accounts with the new handle or platform id, each under its
    institution: listed before the changed institution, the validation names them as the
    first listing of a duplicate."""
    platform = target.platform if target else change.platform
    handle_key = normalise_handle(change.handle)
    platform_id = change.platform_id if change.kind == "add" else None
    rows = wh.con.execute(
        f"""SELECT {_ACCOUNT_COLUMNS} FROM accounts
            WHERE platform = ? AND institution_id IS NOT NULL AND institution_id <> ?
              AND ((?::VARCHAR IS NOT NULL AND handle_key = ?)
                   OR (?::VARCHAR IS NOT NULL AND platform_account_id = ?))
            ORDER BY institution_id, account_id""",
        [platform, change.institution_id, handle_key, handle_key, platform_id, platform_id],
    ).fetchall()
    by_institution: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        account = _account(row)
        by_institution.setdefault(str(account.institution_id), []).append(account.as_entry())
    found = []
    for institution_id, accounts in by_institution.items():
        other = registered_institution(wh, institution_id)
        if other is not None:
            found.append(_institution_entry(other, accounts))
    return found


def _apply(
    wh: Warehouse,
    change: AccountChange,
    institution: RegisteredInstitution,
    target: RegisteredAccount | None,
    batch_id: int,
) -> tuple[RegisteredAccount | None, int]:
    """Make the validated change; returns the account before it and how many accounts are
    new."""
    if target is not None:
        if change.kind == "remove":
            wh.con.execute(
                "UPDATE accounts SET institution_id = NULL WHERE account_id = ?",
                [target.account_id],
            )
        else:
            account = Account(target.platform, (change.handle or "").lstrip("@"), None)
            wh.con.execute(
                "UPDATE accounts SET handle = ?, handle_key = ? WHERE account_id = ?",
                [account.handle, account.handle_key, target.account_id],
            )
        return target, 0
    account = Account(
        change.platform,
        change.handle.lstrip("@") if change.handle else None,
        change.platform_id,
        change.name,
    )
    before = _matching(wh, account, unassigned=True)
    single = Institution(
        institution.institution_id,
        institution.name,
        institution.cluster_id,
        institution.sub_cluster,
        institution.region,
        (account,),
    )
    new, _ = _upsert_accounts(wh, Registry((single,), synthetic=institution.synthetic), batch_id)
    return before, new


def _matching(wh: Warehouse, account: Account, *, unassigned: bool) -> RegisteredAccount | None:
    """The account ``registry load`` would match ``account`` to (platform id, then handle),
    among the unassigned ones or all."""
    where = "institution_id IS NULL AND " if unassigned else ""
    if account.platform_id:
        row = _row(
            wh,
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE {where}platform = ? "
            "AND platform_account_id = ? ORDER BY account_id LIMIT 1",
            [account.platform, account.platform_id],
        )
        if row is not None:
            return _account(row)
    if account.handle_key:
        row = _row(
            wh,
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE {where}platform = ? "
            "AND handle_key = ? AND (?::VARCHAR IS NULL OR platform_account_id IS NULL) "
            "ORDER BY account_id LIMIT 1",
            [account.platform, account.handle_key, account.platform_id],
        )
        if row is not None:
            return _account(row)
    return None


def _changed_account(wh: Warehouse, change: AccountChange) -> RegisteredAccount | None:
    """The account the change is about, as it is now."""
    if change.account_id is not None:
        return find_account(wh, change.account_id)
    return _matching(
        wh, Account(change.platform, change.handle, change.platform_id), unassigned=False
    )
