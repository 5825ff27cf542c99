"""Static charts of the reports: Altair specifications drawn to SVG by vl-convert.

vl-convert bundles Vega and Vega-Lite and runs them in an embedded JavaScript engine: no
browser, and no network (``allowed_base_urls=[]``: a chart can load nothing; its data is
inline). The SVG is inlined in the HTML page and read as it is by WeasyPrint for the PDF.

Every title and axis label goes through the report's :class:`~govsocial.reports.i18n.Language`
(the caller's domain), and the axes format numbers and months with the same locale data as the
text (Babel's CLDR data handed to d3): ``12,3%`` and ``Agu 2024`` in Indonesian. The text is
set in DejaVu Sans, which fontconfig finds and WeasyPrint embeds in the PDF.

Speed (a run draws four charts for each of ~200 institutions, and WeasyPrint draws each SVG
element in Python, a text in about 3 ms): each chart's specification is built with Altair and
validated once per language (:func:`spec`), and each drawing only adds its rows (Vega-Lite's
top-level ``datasets``). The marks are few: weekly posts are a stepped area per platform, not a
bar per week; the cluster's accounts are a box per platform, not a dot per account; the
titles are the page's text, not the drawing's; few ticks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import altair as alt
import vl_convert

from govsocial.reports.i18n import Language

FONT = "DejaVu Sans"
WIDTH = 470  # px: the text column of an A4 page at 96 dpi, with the axes' labels beside it
PLATFORM_COLOURS = {
    "Facebook": "#3b5998",
    "Instagram": "#c13584",
    "X": "#222222",
    "YouTube": "#cc0000",
    "TikTok": "#1c9c95",
}
OWN = "#d95f02"  # the institution's own marks
BOX = "#c6d3e3"  # the cluster's
LINE = "#b2182b"  # the nominee line
ROWS = "rows"  # the name of a chart's dataset

Rows = Sequence[Mapping[str, Any]]


def draw(kind: str, lang: Language, rows: Rows, *keys: str, label: str = "") -> str:
    """The chart ``kind`` (a function of this module) of ``rows``, as an ``<svg>`` element to
    inline in a page, named ``label`` for screen readers (the page shows its title and how to
    read it as text beside it). ``keys``: the platforms the chart shows, in order (they set
    its colours and rows)."""
    specification = dict(spec(kind, lang.lang, lang.domain, tuple(keys)))
    specification["datasets"] = {ROWS: [dict(r) for r in rows]}
    svg = vl_convert.vegalite_to_svg(
        specification,
        allowed_base_urls=[],  # a chart reads no file and no address: its data is inline
        format_locale=_number_locale(lang.lang),
        time_format_locale=_time_locale(lang.lang),
    )
    named = f' role="img" aria-label="{escape(label)}"'
    return re.sub(r"^<svg\b", "<svg" + named, svg.strip(), count=1)


@functools.cache
def spec(kind: str, lang: str, domain: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The Vega-Lite specification of a chart, without its rows, validated by Altair."""
    build = _KINDS[kind]
    chart = build(Language(lang, domain), list(keys))
    specification: dict[str, Any] = chart.to_dict()
    return specification


def weekly_posts(t: Language, platforms: list[str]) -> alt.TopLevelMixin:
    """Original posts per week, stacked by platform. Rows: ``start`` (ISO date), ``platform``
    (display name), ``order`` (its place in the stack), ``posts``, with a last row per
    platform at the period's end (where the last step ends)."""
    area = (
        alt.Chart(alt.NamedData(ROWS))
        .mark_area(interpolate="step-after", opacity=0.9)
        .encode(
            x=alt.X("start:T", title=None, axis=alt.Axis(format="%b %Y", tickCount=7)),
            y=alt.Y(
                "posts:Q",
                title=t.gettext("Original posts"),
                stack="zero",
                axis=alt.Axis(format="d", tickMinStep=1, tickCount=4),
            ),
            color=alt.Color(
                "platform:N",
                title=None,
                scale=alt.Scale(domain=platforms, range=[PLATFORM_COLOURS[p] for p in platforms]),
                legend=alt.Legend(orient="bottom", direction="horizontal"),
            ),
            order=alt.Order("order:Q"),
        )
    )
    return _configured(area.properties(width=WIDTH, height=130))


def peer_rates(t: Language, platforms: list[str]) -> alt.TopLevelMixin:
    """Per platform, the engagement rates of the cluster's accounts as a box (the middle half,
    the median, whiskers from the lowest to the highest), and the institution's own accounts
    as diamonds; log scale. Rows: platform, rate (> 0), own (bool)."""
    x = alt.X(
        "rate:Q",
        title=t.gettext("Engagement rate (mean per post, log scale)"),
        scale=alt.Scale(type="log"),
        axis=alt.Axis(format="~%", tickCount=5, grid=False),
    )
    y = alt.Y("platform:N", title=None, sort=platforms, axis=alt.Axis(ticks=False))
    base = alt.Chart(alt.NamedData(ROWS))
    box = base.mark_boxplot(
        extent="min-max",
        color=BOX,
        median={"color": "#333333"},
        rule={"color": "#666666"},
        size=18,
    ).encode(x=x, y=y)
    own = (
        base.transform_filter("datum.own")
        .mark_point(size=110, filled=True, color=OWN, shape="diamond", opacity=1)
        .encode(x=x, y=y)
    )
    return _configured(alt.layer(box, own).properties(width=WIDTH, height=alt.Step(30)))


def media_mix(t: Language, platforms: list[str]) -> alt.TopLevelMixin:
    """Side by side: original posts per media type, and their mean engagement rate with the
    cluster's (a tick). Rows: media (display name), posts, rate, cluster_rate (or None)."""
    base = alt.Chart(alt.NamedData(ROWS))
    y = alt.Y("media:N", title=None, sort=None, axis=alt.Axis(ticks=False))
    posts = (
        base.mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("posts:Q", title=t.gettext("Original posts"), axis=alt.Axis(tickCount=4)), y=y
        )
        .properties(width=180, height=alt.Step(20))
    )
    rates = base.mark_bar(color=OWN).encode(
        x=alt.X(
            "rate:Q",
            title=t.gettext("Mean engagement rate per post"),
            axis=alt.Axis(format="~%", tickCount=4),
        ),
        y=y,
    )
    cluster = base.mark_tick(color="#333333", thickness=2, size=18).encode(
        x=alt.X("cluster_rate:Q"), y=y
    )
    rate_chart = alt.layer(rates, cluster).properties(width=180, height=alt.Step(20))
    return _configured(alt.hconcat(posts, rate_chart).resolve_scale(y="shared"))


def category_scores(t: Language, platforms: list[str]) -> alt.TopLevelMixin:
    """Per category (``category``: its title): the unit's ``score`` (a bar) and the last
    nominee's (``line``: a tick), 0–1."""
    base = alt.Chart(alt.NamedData(ROWS))
    y = alt.Y("category:N", title=None, sort=None, axis=alt.Axis(ticks=False))
    bars = base.mark_bar(color="#4c78a8").encode(
        x=alt.X(
            "score:Q",
            title=t.gettext("Score (0–1)"),
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(values=[0, 0.25, 0.5, 0.75, 1], format=".2~f"),
        ),
        y=y,
    )
    line = base.mark_tick(color=LINE, thickness=3, size=22).encode(x="line:Q", y=y)
    return _configured(alt.layer(bars, line).properties(width=WIDTH - 120, height=alt.Step(24)))


_KINDS = {f.__name__: f for f in (weekly_posts, peer_rates, media_mix, category_scores)}


def _configured(chart: Any) -> alt.TopLevelMixin:
    configured: alt.TopLevelMixin = (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=10, titleFontSize=10, labelColor="#333333")
        .configure_legend(labelFontSize=10, titleFontSize=10)
    )
    return configured


@functools.cache
def _number_locale(lang: str) -> dict[str, Any]:
    """d3's number format locale from the language's CLDR symbols (Babel)."""
    symbols = Language(lang).locale.number_symbols["latn"]
    return {
        "decimal": symbols["decimal"],
        "thousands": symbols["group"],
        "grouping": [3],
        "currency": ["", ""],
        "percent": "%",
    }


@functools.cache
def _time_locale(lang: str) -> dict[str, Any]:
    """d3's time format locale (month and day names) from the language's CLDR data (Babel)."""
    locale = Language(lang).locale
    months = [locale.months["format"]["wide"][m] for m in range(1, 13)]
    short = [locale.months["format"]["abbreviated"][m].rstrip(".") for m in range(1, 13)]
    days = [locale.days["format"]["wide"][(d + 6) % 7] for d in range(7)]  # d3: Sunday first
    short_days = [locale.days["format"]["abbreviated"][(d + 6) % 7] for d in range(7)]
    return {
        "dateTime": "%A, %e %B %Y %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": days,
        "shortDays": short_days,
        "months": months,
        "shortMonths": short,
    }
