"""Write a validated registry into the warehouse (one transaction: all of it or nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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
        inst_rows = [
            (i.id, i.name, i.cluster, i.sub_cluster, i.region, registry.synthetic, batch_id)
            for i in registry.institutions
        ]
        if inst_rows:
            con.executemany(
                "INSERT OR REPLACE INTO institutions VALUES (?, ?, ?, ?, ?, ?, ?)", inst_rows
            )
        accounts_new = accounts_updated = 0
        for inst in registry.institutions:
            for acc in inst.accounts:
                found = _find_account(wh, acc.platform, acc.platform_id, acc.handle_key)
                if found is None:
                    con.execute(
                        "INSERT INTO accounts VALUES "
                        "(nextval('account_id_seq'), ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            inst.id,
                            acc.platform,
                            acc.handle,
                            acc.handle_key,
                            acc.platform_id,
                            acc.name,
                            registry.synthetic,
                            batch_id,
                        ],
                    )
                    accounts_new += 1
                else:
                    con.execute(
                        "UPDATE accounts SET institution_id = ?, handle = coalesce(?, handle),"
                        " handle_key = coalesce(?, handle_key),"
                        " platform_account_id = coalesce(?, platform_account_id),"
                        " display_name = coalesce(?, display_name) WHERE account_id = ?",
                        [inst.id, acc.handle, acc.handle_key, acc.platform_id, acc.name, found],
                    )
                    accounts_updated += 1
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


def _find_account(
    wh: Warehouse, platform: str, platform_id: str | None, handle_key: str | None
) -> int | None:
    if platform_id:
        row = wh.con.execute(
            "SELECT account_id FROM accounts WHERE platform = ? AND platform_account_id = ?",
            [platform, platform_id],
        ).fetchone()
        if row:
            return int(row[0])
    if handle_key:
        row = wh.con.execute(
            "SELECT account_id FROM accounts WHERE platform = ? AND handle_key = ?",
            [platform, handle_key],
        ).fetchone()
        if row:
            return int(row[0])
    return None
