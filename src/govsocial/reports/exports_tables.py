"""The four export tables, built from a published run (docs/read-model.md).

Each is typed Arrow with the machine names of ``exports_columns.py``, the same whatever the
language of the report:

- ``nominees``: every nominee and held unit of every category × cluster, from results.json;
- ``leaderboards``: every eligible unit (standings.parquet), its component percentiles
  (components.parquet, platforms combined) pivoted to one column per metric;
- ``institutions``: per institution, its accounts summed (accounts.parquet), its active weeks
  and mean engagement rate (weekly.parquet), posts per week and nominations;
- ``accounts``: accounts.parquet, with each account's active weeks and posts per week.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from govsocial.publish.model import ReadModel
from govsocial.reports import exports_columns as columns
from govsocial.reports.exports_columns import Column
from govsocial.reports.i18n import N_ as _  # marked here, translated where shown

NOMINATED, HELD = "nominated", "held for review"  # the status codes (results, standings)


@dataclass(frozen=True)
class Export:
    """One exported table: its file name (without extension), sheet name and description
    (English, translated where shown), its columns and its rows."""

    name: str
    sheet: str
    about: str
    columns: tuple[Column, ...]
    table: pa.Table


def build(model: ReadModel) -> list[Export]:
    """The four tables of ``model``, in the order they are written."""
    return [nominees(model), leaderboards(model), institutions(model), accounts(model)]


def _metrics(results: dict[str, Any]) -> list[str]:
    """Every component metric of the run, in the order the categories first name them."""
    seen = [c["metric"] for cat in results["categories"] for c in cat["components"]]
    return list(dict.fromkeys(seen))


def _table(of: Sequence[Column], rows: list[dict[str, Any]]) -> pa.Table:
    """``rows`` (dicts; keys beyond the columns are left out) as a table of the columns."""
    return pa.Table.from_pylist(rows, schema=pa.schema([(c.name, c.kind) for c in of]))


def nominees(model: ReadModel) -> Export:
    of = columns.nominees(_metrics(model.results))
    return Export(
        "nominees",
        _("Nominees"),
        _("Every nominee and every unit held for review, of every category and cluster."),
        of,
        _table(of, list(nominee_rows(model.results))),
    )


def nominee_rows(results: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Each nominee and held unit of the results document: categories and clusters in its
    order, then by rank."""
    for category in results["categories"]:
        for cluster in category["clusters"]:
            units = [(n, NOMINATED) for n in cluster["nominees"]]
            units += [(h, HELD) for h in cluster["held"]]
            for unit, status in sorted(units, key=lambda pair: int(pair[0]["rank"])):
                theme, interval = unit.get("theme"), unit["rank_interval"]
                yield {
                    **unit,
                    "category": category["id"],
                    "cluster_id": cluster["cluster_id"],
                    "cluster_name": cluster["cluster_name"],
                    "status": status,
                    **{f"percentile_{c['metric']}": c["percentile"] for c in unit["components"]},
                    "rank_best": interval[0] if interval else None,
                    "rank_worst": interval[-1] if interval else None,
                    "severe_flags": sum(f["severity"] == "severe" for f in unit["flags"]),
                    "flags": "; ".join(_flag(f) for f in unit["flags"]) or None,
                    "theme_posts": theme["posts"] if theme else None,
                    "theme_terms": "; ".join(f"{t['term']} ({t['posts']})" for t in theme["terms"])
                    if theme
                    else None,
                }


def _flag(flag: dict[str, Any]) -> str:
    account = flag["handle"] or f"#{flag['account_id']}"
    return f"{flag['flag']} ({flag['severity']}), {flag['platform']} {account}: {flag['detail']}"


def leaderboards(model: ReadModel) -> Export:
    results = model.results
    components = model.table("components")
    combined = components.filter(pc.equal(components.column("platform"), ""))  # platforms combined
    percentiles: dict[tuple[str, str, str], dict[str, float]] = {}
    for row in combined.select(
        ["category", "cluster_id", "unit", "metric", "percentile"]
    ).to_pylist():
        unit = (row["category"], row["cluster_id"], row["unit"])
        percentiles.setdefault(unit, {})[f"percentile_{row['metric']}"] = row["percentile"]
    order = {
        (category["id"], cluster["cluster_id"]): (i, j)
        for i, category in enumerate(results["categories"])
        for j, cluster in enumerate(category["clusters"])
    }
    rows = sorted(
        model.table("standings").to_pylist(),
        key=lambda r: (*order[(r["category"], r["cluster_id"])], r["rank"]),
    )
    for row in rows:
        row.update(percentiles.get((row["category"], row["cluster_id"], row["unit"]), {}))
        row["status"] = row["status"] or None  # neither nominated nor held: no status
    of = columns.leaderboards(_metrics(results))
    return Export(
        "leaderboards",
        _("Leaderboards"),
        _("Every eligible unit of every category and cluster, nominated or not, by rank."),
        of,
        _table(of, rows),
    )


def _active_weeks(weekly: pa.Table, key: str) -> dict[Any, int]:
    """``key`` (account_id, institution_id) → its weeks with an original post (weekly.parquet
    has a row per account, media type and week with posts)."""
    weeks = weekly.group_by([key, "week"], use_threads=False).aggregate([])
    counted = weeks.group_by(key, use_threads=False).aggregate([("week", "count")])
    return dict(zip(counted.column(key).to_pylist(), counted.column(1).to_pylist(), strict=True))


def accounts(model: ReadModel) -> Export:
    table = model.table("accounts")
    table = table.set_column(0, "account_id", table.column("account_id").cast(pa.int64()))
    active = _active_weeks(model.table("weekly"), "account_id")
    weeks = int(model.results["stability"]["weeks"])  # of the period, rounded up
    rows = table.sort_by("account_id").to_pylist()
    for row in rows:
        row["active_weeks"] = active.get(row["account_id"], 0)
        row["posts_per_week"] = row["posts"] / weeks
    return Export(
        "accounts",
        _("Accounts"),
        _("Every registered account of the award's clusters, with its totals over the period."),
        columns.ACCOUNTS,
        _table(columns.ACCOUNTS, rows),
    )


SUMMED = ("followers", "posts", "reposts", "interactions", "likes", "comments", "shares",
          "rated_posts")  # fmt: skip


def institutions(model: ReadModel) -> Export:
    table = model.table("accounts")
    keys = ["institution_id", "institution_name", "cluster_id", "cluster_name", "region"]
    grouped = table.group_by(keys, use_threads=False).aggregate(
        [("account_id", "count"), ("platform", "count_distinct")]
        + [(name, "sum") for name in SUMMED]  # followers: null when no account has a reading
    )
    renamed = {"account_id_count": "accounts", "platform_count_distinct": "platforms"}
    grouped = grouped.rename_columns(
        [renamed.get(name, name.removesuffix("_sum")) for name in grouped.column_names]
    )
    owners = table.select(["account_id", "institution_id"]).cast(
        pa.schema([("account_id", pa.int64()), ("institution_id", pa.string())])
    )
    weekly = model.table("weekly").join(owners, "account_id")
    active = _active_weeks(weekly, "institution_id")
    rates = weekly.group_by("institution_id", use_threads=False).aggregate([("sum_rate", "sum")])
    sum_rate = dict(zip(rates.column(0).to_pylist(), rates.column(1).to_pylist(), strict=True))
    standings = model.results["champion"]["standings"]
    nominations = {s["institution_id"]: s["nominations"] for s in standings}
    weeks = int(model.results["stability"]["weeks"])
    clusters = list(model.coverage["clusters"])
    rows = grouped.to_pylist()
    for row in rows:
        key, rated = row["institution_id"], row["rated_posts"]
        row["engagement_rate"] = sum_rate[key] / rated if rated else None  # mean over posts
        row["active_weeks"] = active.get(key, 0)
        row["posts_per_week"] = row["posts"] / weeks
        row["nominations"] = nominations.get(key, 0)
    place = {cluster: i for i, cluster in enumerate(clusters)}
    rows.sort(key=lambda r: (place.get(r["cluster_id"], len(place)), r["institution_name"],
                             r["institution_id"]))  # fmt: skip
    return Export(
        "institutions",
        _("Institutions"),
        _("Every institution of the award's clusters: its accounts summed over the period."),
        columns.INSTITUTIONS,
        _table(columns.INSTITUTIONS, rows),
    )
