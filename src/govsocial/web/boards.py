"""A published run's leaderboards, for the public pages and the JSON API: the columns of a
category (one cluster or all, one platform or all), the query checked (:func:`board_query`) and
its rows filtered and sorted (:func:`board`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from govsocial.errors import InputError
from govsocial.reports.i18n import N_
from govsocial.web.published import RunData, account_totals


@dataclass(frozen=True)
class Column:
    """A leaderboard column: ``key`` in the URL's ``sort``, its label (a message, or a
    metric's label when ``metric``), numbers right-aligned, the first click's order."""

    key: str
    label: str
    numeric: bool = True
    descending: bool = True
    metric: str | None = None


RANK = Column("rank", N_("Rank"), descending=False)
NAME = Column("name", N_("Unit"), numeric=False, descending=False)
CLUSTER = Column("cluster", N_("Cluster"), numeric=False, descending=False)
SCORE = Column("score", N_("Score"))
POSTS = Column("posts", N_("Posts"))
FOLLOWERS = Column("followers", N_("Followers"))
INTERACTIONS = Column("interactions", N_("Interactions"))
PLATFORMS = Column("platforms", N_("Platforms"))
PLATFORM_RANK = Column("platform_rank", N_("Rank on the platform"), descending=False)
STATUS = Column("status", N_("Status"), numeric=False, descending=False)
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class BoardQuery:
    """A leaderboard's filters and order, checked: ``cluster`` and ``platform`` empty for
    all."""

    category: str
    cluster: str
    platform: str
    sort: str
    order: str

    def params(self, **changed: str) -> dict[str, str]:
        """The query string's values (defaults left out), with ``changed``."""
        values = {
            "category": self.category,
            "cluster": self.cluster,
            "platform": self.platform,
            "sort": self.sort,
            "order": self.order,
            **changed,
        }
        return {k: v for k, v in values.items() if v}

    def sorted_by(self, column: Column) -> dict[str, str]:
        """The query string's values after a click on ``column``'s heading: the other order
        for the column sorted by, the column's own order for another."""
        if column.key == self.sort:
            order = "asc" if self.order == "desc" else "desc"
        else:
            order = "desc" if column.descending else "asc"
        return self.params(sort=column.key, order=order)


@dataclass(frozen=True)
class Board:
    query: BoardQuery
    category: Mapping[str, Any]
    metrics: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    total: int  # units before paging (the API pages; the pages show every unit)


def board_query(
    data: RunData,
    category: str | None = None,
    cluster: str | None = None,
    platform: str | None = None,
    sort: str | None = None,
    order: str | None = None,
) -> BoardQuery:
    """The leaderboard's query, checked (an unknown value is refused naming the known ones);
    defaults: the first category, all clusters and platforms, by rank."""
    category = category or data.categories[0]["id"]
    if category not in data.category:
        raise InputError(
            f"there is no category {category!r} in run {data.run_id}; choose one of: "
            f"{', '.join(data.category)}"
        )
    clusters = [cl["cluster_id"] for cl in data.category[category]["clusters"]]
    if cluster and cluster not in clusters:
        raise InputError(
            f"there is no cluster {cluster!r} in category {category}; choose one of: "
            f"{', '.join(clusters)} (or none for all)"
        )
    if platform and platform not in data.platforms:
        raise InputError(
            f"there is no platform {platform!r} in run {data.run_id}; choose one of: "
            f"{', '.join(data.platforms)} (or none for all)"
        )
    columns = {c.key: c for c in board_columns(data, category, cluster or "", platform or "")}
    sort = sort or RANK.key
    if sort not in columns:
        raise InputError(f"cannot sort by {sort!r}; sort by one of: {', '.join(columns)}")
    if order and order not in ORDERS:
        raise InputError(f"order {order!r}: give asc or desc")
    order = order or ("desc" if columns[sort].descending else "asc")
    return BoardQuery(category, cluster or "", platform or "", sort, order)


def board_columns(data: RunData, category: str, cluster: str, platform: str) -> tuple[Column, ...]:
    metrics = [
        Column(c["metric"], c["metric"], metric=c["metric"])
        for c in data.category[category]["components"]
    ]
    return (
        RANK,
        NAME,
        *(() if cluster else (CLUSTER,)),
        SCORE,
        *((PLATFORM_RANK,) if platform else ()),
        *metrics,
        POSTS,
        FOLLOWERS,
        INTERACTIONS,
        *(() if platform else (PLATFORMS,)),
        STATUS,
    )


def board(
    data: RunData, q: BoardQuery, winners: frozenset[tuple[str, str, str]] = frozenset()
) -> Board:
    """The rows of the query, sorted (a unit without a value last, whatever the order; ties
    by rank, cluster and unit). ``winners``: (category, cluster, unit) the jury chose."""
    category = data.category[q.category]
    rows = [
        _view(data, r, q.platform, (q.category, r["cluster_id"], r["unit"]) in winners)
        for r in data.rows.get(q.category, [])
        if (not q.cluster or r["cluster_id"] == q.cluster)
        and (not q.platform or q.platform in r["on"])
    ]
    rows.sort(key=lambda r: (r["rank"], data.cluster_order.get(r["cluster_id"], 0), r["unit"]))
    value = _sort_value(q.sort, data.cluster_order)
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=value, reverse=q.order == "desc")  # stable: ties keep the rank order
    columns = board_columns(data, q.category, q.cluster, q.platform)
    metrics = tuple(c["metric"] for c in category["components"])
    ordered = tuple(present + missing)
    return Board(q, category, metrics, columns, ordered, len(ordered))


def _view(data: RunData, row: Mapping[str, Any], platform: str, winner: bool) -> dict[str, Any]:
    """A leaderboard row; with a platform, its own rank, percentiles and raw values on that
    platform and its accounts' posts, followers and interactions there."""
    view = dict(row, winner=winner, platform_rank=None, platform_of=None, values=None)
    if not platform:
        return view
    on = row["by_platform"].get(platform)
    if row["account_id"] is not None:
        accounts = [data.accounts[row["account_id"]]] if row["account_id"] in data.accounts else []
    else:
        accounts = [a for a in data.accounts_of[row["institution_id"]] if a["platform"] == platform]
    view.update(
        platform_rank=on["rank"] if on else None,
        platform_of=on["of"] if on else None,
        components={m: v["percentile"] for m, v in on["components"].items()} if on else {},
        values={m: v["value"] for m, v in on["components"].items()} if on else {},
        **account_totals(accounts),
    )
    return view


_STATUS_ORDER = {"nominated": 0, "held for review": 1}


def _sort_value(key: str, cluster_order: Mapping[str, int]) -> Callable[[Mapping[str, Any]], Any]:
    if key == "name":
        return lambda r: (str(r["institution_name"]).casefold(), r["handle"] or "", r["unit"])
    if key == "cluster":
        return lambda r: cluster_order.get(r["cluster_id"], 0)
    if key == "status":
        return lambda r: (0 if r["winner"] else 1, _STATUS_ORDER.get(r["status"] or "", 2))
    if key in {"rank", "score", "posts", "followers", "interactions", "platforms", "platform_rank"}:
        return lambda r: r[key]
    return lambda r: r["components"].get(key)
