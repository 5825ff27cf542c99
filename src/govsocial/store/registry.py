"""Write a validated registry into the warehouse (one transaction: all of it or nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from govsocial.errors import NotFoundError
from govsocial.registry import Cluster, Registry, default_clusters
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
