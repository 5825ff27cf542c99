"""Small lookups of names for results: institutions, clusters, accounts."""

from __future__ import annotations

from dataclasses import dataclass

from govsocial.store.warehouse import Warehouse


@dataclass(frozen=True)
class AccountInfo:
    account_id: int
    institution_id: str | None
    platform: str
    handle: str | None


def institution_names(wh: Warehouse) -> dict[str, str]:
    return dict(wh.con.execute("SELECT institution_id, name FROM institutions").fetchall())


def cluster_names(wh: Warehouse) -> dict[str, tuple[str, str | None]]:
    rows = wh.con.execute("SELECT cluster_id, name, name_en FROM clusters").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def accounts(wh: Warehouse) -> dict[int, AccountInfo]:
    rows = wh.con.execute(
        "SELECT account_id, institution_id, platform, handle FROM accounts"
    ).fetchall()
    return {int(r[0]): AccountInfo(int(r[0]), r[1], r[2], r[3]) for r in rows}
