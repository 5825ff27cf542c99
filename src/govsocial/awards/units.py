"""From the cube to one row per (unit, platform) of a category, with every metric value.

A *unit* is an institution (all its accounts on a platform pooled: posts, interactions and
followers summed) or a single account, as the category says. Rows are built with NumPy
group-bys over the cube, which is small (see ``govsocial.metrics.cube``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from govsocial.metrics.formulas import unit_metrics, weeks_in_period

Array = NDArray[Any]
_SUMS = (
    "n",
    "n_rated",
    "sum_rate",
    "sum_log",
    "sum_log2",
    "interactions",
    "likes",
    "comments",
    "shares",
    "n_liked",
    "n_commented",
    "n_shared",
    "n_viewed",
    "sum_view_rate",
    "n_above_audience",
)


@dataclass
class UnitTable:
    """Columns of equal length, one row per (unit, platform)."""

    unit: Array  # institution id, or account id as text
    platform: Array
    cluster: Array
    institution: Array
    account: Array  # account id (account units) or -1
    columns: dict[str, Array] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.unit)


def _group(keys: list[Array]) -> tuple[Array, Array]:
    """Row index of each group's first row, and each row's group number (sorted groups).

    Each key column is coded to integers first, then the codes are combined into one int64:
    NumPy sorts int64 fast, record arrays of strings slowly.
    """
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        uniques, codes = np.unique(key, return_inverse=True)
        combined = combined * (len(uniques) + 1) + codes.ravel()
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    return first, inverse.ravel()


@dataclass(frozen=True)
class Followers:
    """Per account id (dense arrays): followers at the period's start and at its end."""

    first: Array
    last: Array


def follower_bounds(snapshots: pa.Table, m: Any) -> Followers:
    """First = latest snapshot at or before the period's start (else the earliest after it);
    last = latest snapshot before the period's end. ``snapshots`` sorted by account, time."""
    accounts = snapshots.column("account_id").to_numpy().astype(np.int64)
    captured = snapshots.column("captured_at").to_numpy().astype("datetime64[us]").astype(np.int64)
    followers = snapshots.column("followers").to_numpy().astype(float)
    start = np.datetime64(m.period_start.replace(tzinfo=None), "us").astype(np.int64)
    size = int(accounts.max()) + 1 if len(accounts) else 1
    first, last = np.zeros(size), np.zeros(size)
    ids, begins, counts = np.unique(accounts, return_index=True, return_counts=True)
    for account, begin, count in zip(ids, begins, counts, strict=True):
        times = captured[begin : begin + count]
        before = int(np.searchsorted(times, start, side="right"))
        first[account] = followers[begin + max(before - 1, 0)]
        last[account] = followers[begin + count - 1]
    return Followers(first, last)


def cube_columns(cube: pa.Table) -> dict[str, Array]:
    """The cube as NumPy columns: convert once per run, every category reads them."""
    return {n: cube.column(n).to_numpy(zero_copy_only=False) for n in cube.column_names}


def build_units(
    columns: dict[str, Array],
    followers: Followers,
    m: Any,
    category: Any,
    theme_column: str | None,
) -> UnitTable:
    """``columns``: the cube as :func:`cube_columns` gives it."""
    col = columns
    platforms = category.platforms or m.platforms
    keep = ~col["is_repost"].astype(bool) & np.isin(col["platform"], list(platforms))
    if category.media_types:
        keep &= np.isin(col["media_type"], list(category.media_types))
    col = {k: v[keep] for k, v in col.items()}
    account_unit = category.unit == "account"
    unit = col["account_id"].astype(str) if account_unit else col["institution_id"].astype(str)
    first, group = _group([unit, col["platform"]])
    size = len(first)

    def total(values: Array, mask: Array | None = None) -> Array:
        weights = values.astype(float) if mask is None else np.where(mask, values, 0).astype(float)
        return np.bincount(group, weights=np.nan_to_num(weights), minlength=size)

    table = UnitTable(
        unit[first],
        col["platform"][first],
        col["cluster_id"][first],
        col["institution_id"][first],
        col["account_id"][first] if account_unit else np.full(size, -1),
    )
    sums = {name: total(col[name]) for name in _SUMS}
    if theme_column is not None:
        theme = col[theme_column].astype(bool)
        sums |= {f"theme_{name}": total(col[name], theme) for name in _SUMS}
    active = np.zeros(size)
    if len(group):
        weekly = np.unique((group.astype(np.int64) * 100_000 + col["week"])[col["n"] > 0])
        np.add.at(active, weekly // 100_000, 1)
    followers_first, followers_last = _sum_followers(followers, col["account_id"], group, size)
    table.columns = {
        "posts": sums["n"],
        "active_weeks": active,
        "interactions": sums["interactions"],
        "followers": followers_last,
        "followers_first": followers_first,
        **{f"_{k}": v for k, v in sums.items()},
    }
    metrics, notes = unit_metrics(
        sums,
        table.columns,
        platform=table.platform,
        cluster=table.cluster,
        weeks=weeks_in_period(m),
        epsilon=m.shrinkage_epsilon,
        has_theme=theme_column is not None,
    )
    table.columns |= metrics
    table.notes += notes
    return table


def _sum_followers(
    followers: Followers, account: Array, group: Array, size: int
) -> tuple[Array, Array]:
    """Per group: the summed followers of its distinct accounts at the period's start and end."""
    account = account.astype(np.int64)
    known = account < len(followers.first)
    pairs = np.unique(group[known].astype(np.int64) * (len(followers.first) + 1) + account[known])
    groups, accounts = pairs // (len(followers.first) + 1), pairs % (len(followers.first) + 1)
    first, last = np.zeros(size), np.zeros(size)
    np.add.at(first, groups, followers.first[accounts])
    np.add.at(last, groups, followers.last[accounts])
    return first, last
