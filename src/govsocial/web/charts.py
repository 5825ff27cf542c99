"""The public pages' charts as Vega-Lite specs (drawn by static/charts.js from a JSON data block,
without eval): a leaderboard's best scores and an institution's posts and interactions per week.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from govsocial.web.boards import Board
from govsocial.web.published import label_of

CHART_BARS = 20  # units in a leaderboard's score chart
CHARTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega-interpreter.min.js")
CHART_SCRIPTS = tuple(f"/static/vendor/{name}" for name in CHARTS)  # what a page with a chart loads


def _spec(description: str, **body: Any) -> dict[str, Any]:
    """A Vega-Lite spec with the pages' schema version and look."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": description,
        **body,
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 12, "titleFontSize": 12}},
    }


def board_chart(board: Board, gettext: Callable[..., str]) -> dict[str, Any] | None:
    """A bar chart of the best scores among the board's units (its table is the text)."""
    best = sorted(board.rows, key=lambda r: (-float(r["score"]), r["rank"]))[:CHART_BARS]
    if not best:
        return None
    labels: dict[str, int] = {}
    values = []
    for r in best:
        label = label_of(r)
        labels[label] = labels.get(label, 0) + 1
        if labels[label] > 1:
            label = f"{label} ({labels[label]})"
        values.append(
            {"label": label, "score": r["score"], "rank": r["rank"], "cluster": r["cluster_name"]}
        )
    score, cluster = gettext("Score"), gettext("Cluster")
    encoding: dict[str, Any] = {
        "y": {
            "field": "label",
            "type": "nominal",
            "sort": {"field": "score", "order": "descending"},
            "title": None,
            "axis": {"labelLimit": 280},
        },
        "x": {
            "field": "score",
            "type": "quantitative",
            "title": score,
            "scale": {"domain": [0, 1]},
            "axis": {"format": ".1f", "tickCount": 5},
        },
        "tooltip": [
            {"field": "label", "type": "nominal", "title": gettext("Unit")},
            {"field": "score", "type": "quantitative", "title": score, "format": ".3f"},
            {"field": "rank", "type": "quantitative", "title": gettext("Rank")},
            {"field": "cluster", "type": "nominal", "title": cluster},
        ],
    }
    if not board.query.cluster:
        encoding["color"] = {
            "field": "cluster",
            "type": "nominal",
            "title": cluster,
            "legend": {"orient": "bottom"},
        }
    return _spec(
        gettext("Bar chart of the scores of the best-ranked units"),
        width="container",
        height=22 * len(values),  # a fixed height: a step height would drop "fit" (warns)
        autosize={"type": "fit-x", "contains": "padding"},
        data={"values": values},
        mark={"type": "bar", "color": "#1d4ed8"} if board.query.cluster else "bar",
        encoding=encoding,
    )


def weekly_chart(
    weeks: list[dict[str, Any]], media: Callable[[str], str], gettext: Callable[..., str]
) -> dict[str, Any] | None:
    """Posts per week by media type (stacked) above interactions per week."""
    if not weeks:
        return None
    values = [
        {
            "start": w["week_start"],
            "end": w["week_end"],
            "type": media(w["media_type"]),
            "posts": w["posts"],
            "interactions": w["interactions"],
        }
        for w in weeks
    ]
    x = {
        "field": "start",
        "type": "temporal",
        "title": None,
        "scale": {"type": "utc"},
        "axis": {"format": "%d %b", "labelOverlap": True},
    }
    week = gettext("Week starting")
    return _spec(
        gettext("Posts and interactions per week"),
        data={"values": values},
        vconcat=[
            {
                "width": "container",
                "height": 160,
                "mark": "bar",
                "encoding": {
                    "x": x,
                    "x2": {"field": "end"},
                    "y": {
                        "aggregate": "sum",
                        "field": "posts",
                        "type": "quantitative",
                        "title": gettext("Posts"),
                    },
                    "color": {
                        "field": "type",
                        "type": "nominal",
                        "title": gettext("Type"),
                        "legend": {"orient": "right"},
                    },
                    "tooltip": [
                        {
                            "field": "start",
                            "type": "temporal",
                            "timeUnit": "utcyearmonthdate",
                            "title": week,
                            "format": "%d %b %Y",
                        },
                        {"field": "type", "type": "nominal", "title": gettext("Type")},
                        {
                            "field": "posts",
                            "type": "quantitative",
                            "title": gettext("Posts"),
                            "format": ",d",
                        },
                    ],
                },
            },
            {
                "width": "container",
                "height": 120,
                "mark": {"type": "bar", "color": "#b45309"},
                "encoding": {
                    "x": x,
                    "x2": {"field": "end"},
                    "y": {
                        "aggregate": "sum",
                        "field": "interactions",
                        "type": "quantitative",
                        "title": gettext("Interactions"),
                        "axis": {"format": ",d"},
                    },
                },
            },
        ],
        resolve={"scale": {"x": "shared"}},
    )


def institution_weeks(
    rows: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """An institution's weekly rows summed over its accounts: (per week and media type, for
    the chart; per week with its posts by type, for the table; the media types seen)."""
    by: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["week_start"], r["media_type"])
        found = by.setdefault(
            key,
            {
                "week_start": r["week_start"],
                "week_end": (date.fromisoformat(r["week_start"]) + timedelta(days=7)).isoformat(),
                "media_type": r["media_type"],
                "posts": 0,
                "interactions": 0,
            },
        )
        found["posts"] += int(r["posts"] or 0)
        found["interactions"] += round(r["interactions"] or 0)
    series = sorted(by.values(), key=lambda w: (w["week_start"], w["media_type"]))
    types = sorted({w["media_type"] for w in series})
    table: dict[str, dict[str, Any]] = {}
    for w in series:
        week = table.setdefault(
            w["week_start"],
            {"week_start": w["week_start"], "posts": 0, "interactions": 0, "by_type": {}},
        )
        week["posts"] += w["posts"]
        week["interactions"] += w["interactions"]
        week["by_type"][w["media_type"]] = w["posts"]
    return series, list(table.values()), types
