"""From the cube to one row per (unit, platform) of a category, with every metric value.

A *unit* is a single account or an institution, as the category says. On each platform an
institution is made of its accounts there as the methodology's ``accounts`` rule says:

- ``"main"``: its **main account** alone, the one with the most followers at the period's end
  among its accounts on the platform (ties: the smallest account id). Adding satellite
  accounts changes nothing, and neither does how they perform.
- ``"pooled"``: all its accounts summed (posts, interactions, followers; rates post-weighted).
  Satellite accounts add posts (Most Active) and pull the rate toward theirs.

Rows are built with NumPy group-bys over the cube, which is small (see
``govsocial.metrics.cube``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from govsocial.awards.methodology import Category, Eligibility, Methodology
from govsocial.metrics.cube import SUMS
from govsocial.metrics.formulas import unit_metrics, weeks_in_period
from govsocial.store.lookup import AccountInfo

Array = NDArray[Any]

# Where the followers at posting of a unit's posts came from (``metrics.facts``:
# ``followers_source``; the cube counts each per row): a reading before the post, the next one
# after it (within ``max_follower_gap_days``), or none near enough (the post has no rate).
FOLLOWER_SOURCES = {
    "before": ("n_followers_before",),
    "after": ("n_followers_after",),
    "unknown": ("n_followers_too_far", "n_followers_none"),
}
# Every additive measure a unit row sums from the cube.
UNIT_SUMS = (*SUMS, *(name for names in FOLLOWER_SOURCES.values() for name in names))


@dataclass
class UnitTable:
    """Columns of equal length, one row per (unit, platform)."""

    unit: Array  # institution id, or account id as text
    platform: Array
    cluster: Array
    institution: Array
    account: Array  # account id (account units) or -1
    accounts: list[tuple[int, ...]] = field(default_factory=list)  # per row: the accounts in it
    columns: dict[str, Array] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.unit)


def group_rows(keys: list[Array]) -> tuple[Array, Array]:
    """Row index of each group's first row, and each row's group number (sorted groups).

    Each key column is coded to integers first, then the codes are combined into one int64:
    NumPy sorts int64 fast, record arrays of strings slowly.
    """
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        size, codes = _codes(key)
        combined = combined * (size + 1) + codes
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _codes(key: Array) -> tuple[int, Array]:
    """The number of distinct values of ``key``, and each value's position among them sorted.

    Arrow's hash-based dictionary encoding, then a sort of the (few) distinct values only:
    NumPy's ``unique`` sorts every row, slowly for text."""
    encoded = pa.array(key).dictionary_encode()
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    position = np.empty(len(distinct), dtype=np.int64)
    position[np.argsort(distinct, kind="stable")] = np.arange(len(distinct))
    codes: Array = position[encoded.indices.to_numpy(zero_copy_only=False)]
    return len(distinct), codes


@dataclass(frozen=True)
class Followers:
    """Per account id (dense arrays): followers at the period's start and at its end, and how
    far (days) each of those readings is from the period's start and end.

    An account without any snapshot has 0 at both ends (it fails any follower floor, and has no
    growth) and infinite distances."""

    first: Array
    last: Array
    first_gap_days: Array
    last_gap_days: Array


_DAY_US = 86_400 * 1_000_000


def follower_bounds(snapshots: pa.Table, m: Methodology) -> Followers:
    """First = latest snapshot at or before the period's start (else the earliest after it);
    last = the latest snapshot given (those up to the period's end). ``snapshots`` sorted by
    account, then time."""
    accounts = snapshots.column("account_id").to_numpy().astype(np.int64)
    captured = snapshots.column("captured_at").to_numpy().astype("datetime64[us]").astype(np.int64)
    followers = snapshots.column("followers").to_numpy().astype(float)
    start = np.datetime64(m.period_start.replace(tzinfo=None), "us").astype(np.int64)
    end = np.datetime64(m.period_end.replace(tzinfo=None), "us").astype(np.int64)
    size = int(accounts.max()) + 1 if len(accounts) else 1
    first, last = np.zeros(size), np.zeros(size)
    first_gap, last_gap = np.full(size, np.inf), np.full(size, np.inf)
    ids, begins, counts = np.unique(accounts, return_index=True, return_counts=True)
    for account, begin, count in zip(ids, begins, counts, strict=True):
        times = captured[begin : begin + count]
        at_start = max(int(np.searchsorted(times, start, side="right")) - 1, 0)
        first[account] = followers[begin + at_start]
        last[account] = followers[begin + count - 1]
        first_gap[account] = abs(int(times[at_start]) - int(start)) / _DAY_US
        last_gap[account] = abs(int(end) - int(times[-1])) / _DAY_US
    return Followers(first, last, first_gap, last_gap)


def cube_columns(cube: pa.Table) -> dict[str, Array]:
    """The cube as NumPy columns: convert once per run, every category reads them."""
    return {n: cube.column(n).to_numpy(zero_copy_only=False) for n in cube.column_names}


def main_accounts(owners: Mapping[int, AccountInfo], followers: Followers) -> Array:
    """The ids of the main accounts, sorted: per institution and platform, of the ``owners``
    accounts, the one with the most followers at the period's end (``last``; an account
    without a snapshot counts 0), ties to the smallest id.

    What an account did in the period plays no part: an institution cannot choose which of its
    accounts represents it by posting (or going silent) on one of them.
    """
    owned = sorted(
        (a.institution_id, a.platform, a.account_id) for a in owners.values() if a.institution_id
    )
    if not owned:
        return np.zeros(0, dtype=np.int64)
    ids = np.array([account for _, _, account in owned], dtype=np.int64)
    _, group = group_rows([np.array([o[0] for o in owned]), np.array([o[1] for o in owned])])
    known = ids < len(followers.last)
    audience = np.zeros(len(ids))
    audience[known] = np.nan_to_num(followers.last[ids[known]], nan=0.0)
    order = np.lexsort((ids, -audience, group))  # per group: most followers, then smallest id
    ordered = group[order]
    leads = np.r_[True, ordered[1:] != ordered[:-1]]
    result: Array = np.sort(ids[order][leads])
    return result


def _cube_owners(columns: dict[str, Array]) -> dict[int, AccountInfo]:
    """The accounts of the cube (those that published in the period) with their owners."""
    ids, where = np.unique(columns["account_id"].astype(np.int64), return_index=True)
    institutions, platforms = columns["institution_id"][where], columns["platform"][where]
    return {
        int(a): AccountInfo(int(a), str(i), str(p), None)
        for a, i, p in zip(ids, institutions, platforms, strict=True)
    }


def build_units(
    columns: dict[str, Array],
    followers: Followers,
    m: Methodology,
    category: Category,
    theme_column: str | None,
    owners: Mapping[int, AccountInfo] | None = None,
) -> UnitTable:
    """``columns``: the cube as :func:`cube_columns` gives it. ``owners``: every account the
    warehouse assigns to an institution (``store.lookup.accounts``), among which an
    institution's main account is chosen; None: the accounts of the cube, i.e. those that
    published in the period."""
    return prepare_units(columns, followers, m, category, theme_column, owners).table()


@dataclass(frozen=True)
class PreparedUnits:
    """The cube rows one category reads, grouped once into its (unit, platform) rows.

    :meth:`table` sums them into the category's unit table; given a weight per week (how many
    times each week is drawn into a resampled year, :mod:`govsocial.awards.stability`), it
    gives that year's table without copying or regrouping a row: every measure is additive,
    so a week drawn twice counts its sums twice and is two active weeks, and a unit with no
    post in the drawn weeks is absent, as it would be from a cube of those weeks.
    """

    m: Methodology
    category: Category
    followers: Followers
    has_theme: bool
    unit: Array  # per group
    platform: Array
    cluster: Array
    institution: Array
    account: Array
    group: Array  # per row: its group
    week: Array  # per row: its week
    values: dict[str, Array]  # per row: each additive measure, NaN as 0
    active_group: Array  # the distinct (group, week) pairs with a post
    active_week: Array
    member_group: Array  # the distinct (group, account) pairs
    member_account: Array
    member_of_row: Array  # per row: its pair

    def table(self, week_weights: Array | None = None) -> UnitTable:
        size = len(self.unit)
        row_weight: Array | None = None
        if week_weights is not None:
            inside = (self.week >= 0) & (self.week < len(week_weights))
            row_weight = np.where(inside, week_weights[np.where(inside, self.week, 0)], 0.0)

        def total(values: Array) -> Array:
            weighted = values if row_weight is None else values * row_weight
            summed: Array = np.bincount(self.group, weights=weighted, minlength=size)
            return summed

        sums = {name: total(self.values[name]) for name in SUMS}
        if self.has_theme:
            sums |= {f"theme_{name}": total(self.values[f"theme_{name}"]) for name in SUMS}
        sources = {
            f"followers_source_{source}": sum(
                (total(self.values[name]) for name in names), np.zeros(size)
            )
            for source, names in FOLLOWER_SOURCES.items()
        }
        active_weights = None if week_weights is None else week_weights[self.active_week]
        active = np.bincount(self.active_group, weights=active_weights, minlength=size)
        member_posts = np.bincount(
            self.member_of_row,
            weights=self.values["n"] if row_weight is None else self.values["n"] * row_weight,
            minlength=len(self.member_group),
        )
        present = member_posts > 0 if week_weights is not None else np.ones_like(member_posts, bool)
        keep = sums["n"] > 0 if week_weights is not None else np.ones(size, dtype=bool)
        # Renumber the groups kept (a unit absent from the drawn weeks leaves the table).
        renumber = np.cumsum(keep) - 1
        kept = int(keep.sum())
        groups = renumber[self.member_group[present]]
        accounts = self.member_account[present]
        inside = keep[self.member_group[present]]
        groups, accounts = groups[inside], accounts[inside]
        table = UnitTable(
            self.unit[keep], self.platform[keep], self.cluster[keep], self.institution[keep],
            self.account[keep],
        )  # fmt: skip
        bounds = np.searchsorted(groups, np.arange(1, kept))
        table.accounts = [tuple(p.tolist()) for p in np.split(accounts, bounds)] if kept else []
        sums = {k: v[keep] for k, v in sums.items()}
        table.columns = {
            "posts": sums["n"],
            "active_weeks": active[keep],
            "interactions": sums["interactions"],
            **_follower_columns(self.followers, groups, accounts, kept),
            **{k: v[keep] for k, v in sources.items()},
            **{f"_{k}": v for k, v in sums.items()},
        }
        eligible = np.ones(kept, dtype=bool)
        for _, failed in minimums(table.columns, self.category.eligibility):
            eligible &= ~failed
        metrics, notes = unit_metrics(
            sums,
            table.columns,
            platform=table.platform,
            cluster=table.cluster,
            weeks=weeks_in_period(self.m),
            has_theme=self.has_theme,
            eligible=eligible,
        )
        table.columns |= metrics
        table.notes += notes
        return table


def prepare_units(
    columns: Mapping[str, Array],
    followers: Followers,
    m: Methodology,
    category: Category,
    theme_column: str | None,
    owners: Mapping[int, AccountInfo] | None = None,
) -> PreparedUnits:
    """The category's rows of the cube, filtered and grouped (see :func:`build_units`)."""
    col = dict(columns)
    platforms = category.platforms or m.platforms
    account_unit = category.unit == "account"
    keep = ~col["is_repost"].astype(bool) & np.isin(col["platform"], list(platforms))
    if not account_unit and m.accounts == "main":
        main = main_accounts(_cube_owners(col) if owners is None else owners, followers)
        keep &= np.isin(col["account_id"].astype(np.int64), main)
    if category.media_types:
        keep &= np.isin(col["media_type"], list(category.media_types))
    col = {k: v[keep] for k, v in col.items()}
    unit = col["account_id"].astype(str) if account_unit else col["institution_id"].astype(str)
    first, group = group_rows([unit, col["platform"]])
    size = len(first)
    names = [*SUMS, *(n for names in FOLLOWER_SOURCES.values() for n in names)]
    values = {name: np.nan_to_num(col[name].astype(float)) for name in names}
    if theme_column is not None:
        theme = col[theme_column].astype(bool)
        values |= {f"theme_{name}": np.where(theme, values[name], 0.0) for name in SUMS}
    week = col["week"].astype(np.int64)
    width = int(week.max(initial=0)) + 1
    pairs = np.unique((group.astype(np.int64) * width + week)[col["n"] > 0])
    account = col["account_id"].astype(np.int64)
    span = int(account.max(initial=0)) + 1
    members, member_of_row = np.unique(group.astype(np.int64) * span + account, return_inverse=True)
    return PreparedUnits(
        m,
        category,
        followers,
        theme_column is not None,
        unit[first],
        col["platform"][first],
        col["cluster_id"][first],
        col["institution_id"][first],
        col["account_id"][first] if account_unit else np.full(size, -1),
        group,
        week,
        values,
        pairs // width,
        pairs % width,
        members // span,
        members % span,
        member_of_row.ravel(),
    )


def minimums(columns: dict[str, Array], rules: Eligibility) -> list[tuple[str, Array]]:
    """Each eligibility minimum of a (unit, platform) row, with the rows that fail it, in the
    order a row's reason is reported. The shrinkage prior is estimated from the rows failing
    none; the ranking adds "a value for every component" (:mod:`govsocial.awards.ranking`)."""
    return [
        ("min_posts", columns["posts"] < max(rules.min_posts, 1)),
        ("min_active_weeks", columns["active_weeks"] < rules.min_active_weeks),
        ("min_followers", columns["followers"] < rules.min_followers),
    ]


def _follower_columns(
    followers: Followers, groups: Array, accounts: Array, size: int
) -> dict[str, Array]:
    """Per group: the summed followers of its accounts at the period's start and end, and the
    largest distance of their readings from the period's start and end (infinite when an
    account has no snapshot)."""
    known = accounts < len(followers.first)
    at = np.where(known, accounts, 0)

    def summed(values: Array) -> Array:
        total: Array = np.bincount(groups, weights=np.where(known, values[at], 0.0), minlength=size)
        return total

    def farthest(gaps: Array) -> Array:
        out = np.zeros(size)
        np.maximum.at(out, groups, np.where(known, gaps[at], np.inf))
        return out

    return {
        "followers": summed(followers.last),
        "followers_first": summed(followers.first),
        "followers_first_gap_days": farthest(followers.first_gap_days),
        "followers_last_gap_days": farthest(followers.last_gap_days),
    }
