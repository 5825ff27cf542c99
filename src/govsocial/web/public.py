"""The published results, for everyone (docs/web.md, "Public pages"): the results site's pages of
each published run inside the web's layout, with the jury's winners once a jury on the run has
closed; leaderboards (filter by cluster and platform, sort by any column); institution pages;
charts (Vega-Lite specs in JSON data blocks, drawn by static/charts.js without eval).

Only published runs are read (their read model, docs/read-model.md) and, of the state store,
only the public outcome of closed juries (:func:`govsocial.jury.closing.published_outcomes`):
never a ballot, a juror or an open jury.

Speed: what a page shows is computed once per run (:class:`RunData`, kept by
:meth:`AppState.cached`), and each page is rendered once per (run, language, page, query,
signed-in user, closed juries) and kept (:class:`Pages`, bounded in size). A request is then a
small query (which juries on the run are closed), a dict lookup and the viewer's CSRF token put
in place of a placeholder. Closing a jury changes the key, so its winners show at once.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar, cast
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from govsocial.errors import InputError, NotFoundError
from govsocial.jury.closing import published_outcomes
from govsocial.publish.model import ReadModel
from govsocial.reports.files import file_stem
from govsocial.reports.i18n import N_
from govsocial.reports.site import CSS, Site
from govsocial.vocabulary import PLATFORM_NAMES
from govsocial.web.context import (
    AppState,
    Viewer,
    app_state,
    language,
    loader,
    page_context,
    render,
    viewer,
)

router = APIRouter()
# The values of the request being rendered (who is signed in, their CSRF token): a Site is
# shared by concurrent requests, so they are passed per rendering, never stored on it.
REQUEST: ContextVar[dict[str, Any]] = ContextVar("govsocial_web_request")
# Put in a kept page where the viewer's CSRF token goes (each viewer has their own).
PLACEHOLDER = "gsCsrfPlaceholder0x7f3a9c"
PAGES_LIMIT = 48_000_000  # characters of rendered pages kept per run (oldest used dropped)
CHART_BARS = 20  # units in a leaderboard's score chart
CHARTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega-interpreter.min.js")


# ---------------------------------------------------------------- kept pages


class Pages:
    """Rendered pages of one run, least recently used dropped beyond ``limit`` characters
    (a leaderboard has a page per filter and sort: the set is bounded, its size is not
    small). Concurrent requests for a page not yet kept wait for one rendering of it, instead
    of all rendering it at once (a cold cache under load)."""

    def __init__(self, limit: int = PAGES_LIMIT) -> None:
        self.limit = limit
        self._kept: OrderedDict[Any, str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._making: dict[Any, threading.Lock] = {}

    def get(self, key: Any, make: Callable[[], str]) -> str:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
            making = self._making.setdefault(key, threading.Lock())
        with making:  # the first caller renders; the others wait, then find it kept
            with self._lock:
                found = self._kept.get(key)
            if found is not None:
                return found
            try:
                made = make()
            except BaseException:
                with self._lock:
                    self._making.pop(key, None)
                raise
            with self._lock:
                self._making.pop(key, None)
                self._kept[key] = made
                self._size += len(made)
                while self._size > self.limit and len(self._kept) > 1:
                    _, dropped = self._kept.popitem(last=False)
                    self._size -= len(dropped)
        return made


_BUILDING: dict[Any, threading.Lock] = defaultdict(threading.Lock)
_BUILDING_LOCK = threading.Lock()


def once(state: AppState, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
    """``state.cached(key, make)``, made by one request while concurrent ones wait (reading a
    run's tables or building its site takes a while: fifty first visitors must not do it fifty
    times)."""
    found = state.cache.get(key)
    if found is not None:
        return found
    with _BUILDING_LOCK:
        lock = _BUILDING[key]
    with lock:
        return state.cached(key, make)


def pages(state: AppState, run_id: str) -> Pages:
    kept: Pages = once(state, (run_id, "public-pages"), Pages)
    return kept


# ---------------------------------------------------------------- the run's public data


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


@dataclass(frozen=True)
class Board:
    query: BoardQuery
    category: Mapping[str, Any]
    metrics: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    total: int  # units before paging (the API pages; the pages show every unit)


class RunData:
    """What the public pages and the API show of one published run, read once from its read
    model: leaderboard rows (standings with their components' percentiles, combined and per
    platform), institutions and their accounts; weekly activity and top posts on first use."""

    def __init__(self, model: ReadModel, folder: str) -> None:
        self.model = model
        self.folder = folder  # the run's name in URLs (its folder)
        self.run_id = model.run_id
        self.results: dict[str, Any] = model.results
        self.coverage: dict[str, Any] = model.coverage
        self.categories: list[dict[str, Any]] = self.results["categories"]
        self.category = {c["id"]: c for c in self.categories}
        self.clusters: dict[str, str] = {}
        for c in self.categories:
            for cl in c["clusters"]:
                self.clusters.setdefault(cl["cluster_id"], cl["cluster_name"])
        self.cluster_order = {c: i for i, c in enumerate(self.clusters)}
        self.platforms: list[str] = list(self.coverage["platforms"])
        self.panels = {
            (c["id"], cl["cluster_id"]): cl for c in self.categories for cl in c["clusters"]
        }
        self._accounts()
        self._standings()

    # -- reading

    def _accounts(self) -> None:
        rows = self.model.table("accounts").to_pylist()
        rows.sort(key=lambda a: (a["platform"], a["handle"] or "", a["account_id"]))
        self.accounts: dict[int, dict[str, Any]] = {a["account_id"]: a for a in rows}
        self.accounts_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.institutions: dict[str, dict[str, Any]] = {}
        for a in rows:
            self.accounts_of[a["institution_id"]].append(a)
            self.institutions.setdefault(
                a["institution_id"],
                {
                    "institution_id": a["institution_id"],
                    "institution_name": a["institution_name"],
                    "cluster_id": a["cluster_id"],
                    "cluster_name": a["cluster_name"],
                    "region": a["region"],
                },
            )

    def _standings(self) -> None:
        combined: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
        platform: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        for part in self.model.table("components").to_pylist():
            key = (part["category"], part["cluster_id"], part["unit"])
            if not part["platform"]:
                combined[key][part["metric"]] = part["percentile"]
                continue
            scored = platform[key].setdefault(
                part["platform"], {"rank": part["rank"], "of": part["of"], "components": {}}
            )
            scored["components"][part["metric"]] = {
                "value": part["value"],
                "percentile": part["percentile"],
            }
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.of_institution: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.model.table("standings").to_pylist():
            key = (row["category"], row["cluster_id"], row["unit"])
            if row["account_id"] is not None:
                on: tuple[str, ...] = (row["platform"],)
            else:
                on = tuple(sorted({a["platform"] for a in self.accounts_of[row["institution_id"]]}))
            row.update(
                cluster_name=self.clusters.get(row["cluster_id"], row["cluster_id"]),
                status=row["status"] or None,
                components=combined.get(key, {}),
                by_platform=platform.get(key, {}),
                on=on,
            )
            self.rows[row["category"]].append(row)
            self.of_institution[row["institution_id"]].append(row)
            self.institutions.setdefault(
                row["institution_id"],
                {
                    "institution_id": row["institution_id"],
                    "institution_name": row["institution_name"],
                    "cluster_id": row["cluster_id"],
                    "cluster_name": self.clusters.get(row["cluster_id"], row["cluster_id"]),
                    "region": None,
                },
            )
        self.eligible = {
            (c, cl): n
            for c, rows in self.rows.items()
            for cl, n in Counter(r["cluster_id"] for r in rows).items()
        }

    @functools.cached_property
    def weekly(self) -> dict[str, list[dict[str, Any]]]:
        """Each institution's weekly rows (read on the first institution page)."""
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.model.table("weekly").to_pylist():
            account = self.accounts.get(row["account_id"])
            if account is not None:
                row["week_start"] = row["week_start"].isoformat()
                found[account["institution_id"]].append(row)
        for rows in found.values():
            rows.sort(key=lambda r: (r["week"], r["account_id"], r["media_type"]))
        return found

    @functools.cached_property
    def top_posts(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.model.table("top_posts").to_pylist():
            row["posted_at"] = row["posted_at"].isoformat() if row["posted_at"] else None
            found[row["institution_id"]].append(row)
        for rows in found.values():
            rows.sort(key=lambda r: r["place"])
        return found

    # -- the leaderboard

    def query(
        self,
        category: str | None = None,
        cluster: str | None = None,
        platform: str | None = None,
        sort: str | None = None,
        order: str | None = None,
    ) -> BoardQuery:
        """The leaderboard's query, checked (an unknown value is refused naming the known
        ones); defaults: the first category, all clusters and platforms, by rank."""
        category = category or self.categories[0]["id"]
        if category not in self.category:
            raise InputError(
                f"there is no category {category!r} in run {self.run_id}; choose one of: "
                f"{', '.join(self.category)}"
            )
        clusters = [cl["cluster_id"] for cl in self.category[category]["clusters"]]
        if cluster and cluster not in clusters:
            raise InputError(
                f"there is no cluster {cluster!r} in category {category}; choose one of: "
                f"{', '.join(clusters)} (or none for all)"
            )
        if platform and platform not in self.platforms:
            raise InputError(
                f"there is no platform {platform!r} in run {self.run_id}; choose one of: "
                f"{', '.join(self.platforms)} (or none for all)"
            )
        columns = {c.key: c for c in self.columns(category, cluster or "", platform or "")}
        sort = sort or RANK.key
        if sort not in columns:
            raise InputError(f"cannot sort by {sort!r}; sort by one of: {', '.join(columns)}")
        if order and order not in ORDERS:
            raise InputError(f"order {order!r}: give asc or desc")
        order = order or ("desc" if columns[sort].descending else "asc")
        return BoardQuery(category, cluster or "", platform or "", sort, order)

    def columns(self, category: str, cluster: str, platform: str) -> tuple[Column, ...]:
        metrics = [
            Column(c["metric"], c["metric"], metric=c["metric"])
            for c in self.category[category]["components"]
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

    def board(self, q: BoardQuery, winners: frozenset[tuple[str, str, str]] = frozenset()) -> Board:
        """The rows of the query, sorted (a unit without a value last, whatever the order;
        ties by rank, cluster and unit). ``winners``: (category, cluster, unit) the jury
        chose."""
        category = self.category[q.category]
        rows = [
            self._view(r, q.platform, (q.category, r["cluster_id"], r["unit"]) in winners)
            for r in self.rows.get(q.category, [])
            if (not q.cluster or r["cluster_id"] == q.cluster)
            and (not q.platform or q.platform in r["on"])
        ]
        rows.sort(key=lambda r: (r["rank"], self.cluster_order.get(r["cluster_id"], 0), r["unit"]))
        value = _sort_value(q.sort, self.cluster_order)
        present = [r for r in rows if value(r) is not None]
        missing = [r for r in rows if value(r) is None]
        present.sort(key=value, reverse=q.order == "desc")  # stable: ties keep the rank order
        columns = self.columns(q.category, q.cluster, q.platform)
        metrics = tuple(c["metric"] for c in category["components"])
        ordered = tuple(present + missing)
        return Board(q, category, metrics, columns, ordered, len(ordered))

    def _view(self, row: Mapping[str, Any], platform: str, winner: bool) -> dict[str, Any]:
        """A leaderboard row; with a platform, its own rank, percentiles and raw values on
        that platform and its accounts' posts, followers and interactions there."""
        view = dict(row, winner=winner, platform_rank=None, platform_of=None, values=None)
        if not platform:
            return view
        on = row["by_platform"].get(platform)
        if row["account_id"] is not None:
            accounts = (
                [self.accounts[row["account_id"]]] if row["account_id"] in self.accounts else []
            )
        else:
            accounts = [
                a for a in self.accounts_of[row["institution_id"]] if a["platform"] == platform
            ]
        followers = [a["followers"] for a in accounts if a["followers"] is not None]
        view.update(
            platform_rank=on["rank"] if on else None,
            platform_of=on["of"] if on else None,
            components={m: v["percentile"] for m, v in on["components"].items()} if on else {},
            values={m: v["value"] for m, v in on["components"].items()} if on else {},
            posts=sum(a["posts"] or 0 for a in accounts),
            followers=sum(followers) if followers else None,
            interactions=sum(a["interactions"] or 0 for a in accounts),
        )
        return view

    # -- institutions

    def institution(self, institution_id: str) -> dict[str, Any]:
        found = self.institutions.get(institution_id)
        if found is None:
            raise NotFoundError(
                f"run {self.run_id} has no institution {institution_id!r}; the run's "
                f"institutions are listed at /runs/{self.folder}/institutions"
            )
        return found

    def standings_of(self, institution_id: str) -> list[dict[str, Any]]:
        """Its rank and score in every category × cluster it is eligible in (each account
        for account categories), in the methodology's order."""
        position = {c: i for i, c in enumerate(self.category)}
        rows = sorted(
            self.of_institution.get(institution_id, []),
            key=lambda r: (
                position[r["category"]],
                self.cluster_order.get(r["cluster_id"], 0),
                r["rank"],
            ),
        )
        return [dict(r, of=self.eligible.get((r["category"], r["cluster_id"]), 0)) for r in rows]

    def nominee(self, category: str, cluster: str, unit: str) -> Mapping[str, Any] | None:
        panel = self.panels.get((category, cluster))
        for n in (panel or {}).get("nominees", []):
            if unit_of(n) == unit:
                return n  # type: ignore[no-any-return]
        return None


def unit_of(record: Mapping[str, Any]) -> str:
    """The unit key of a results record: the account id as text, or the institution id."""
    account = record.get("account_id")
    return str(account) if account is not None else str(record["institution_id"])


def label_of(record: Mapping[str, Any]) -> str:
    """A unit's name as the public reads it: the institution, and the account's handle and
    platform for account units."""
    name = str(record["institution_name"])
    if record.get("account_id") is None:
        return name
    platform = PLATFORM_NAMES.get(record.get("platform") or "", record.get("platform") or "")
    handle = f"@{record['handle']}" if record.get("handle") else str(record["account_id"])
    return f"{name} ({handle}, {platform})"


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


def model_of(state: AppState, run_id: str) -> ReadModel:
    """``state.model(run_id)``, one request at a time per run: opening a run checks every
    file's SHA-256 (seconds for a large run), which concurrent first visitors must not all do.
    Once open it is a stat and a lookup."""
    with _BUILDING_LOCK:
        lock = _BUILDING[("model", run_id)]
    with lock:
        return state.model(run_id)


def run_data(state: AppState, run_id: str) -> RunData:
    """The public data of the published run ``run_id`` (its folder's name), read once."""
    model = model_of(state, run_id)
    data: RunData = once(state, (run_id, "public-data"), lambda: RunData(model, run_id))
    return data


# ---------------------------------------------------------------- the jury's decision


@dataclass(frozen=True)
class Decision:
    """What closed juries on a run decided, for the public: per panel the jury's places and
    winner (the latest closed jury that judged the panel), and the champion of the latest
    closed jury. Never a ballot or a juror."""

    juries: tuple[int, ...]
    closed: str | None  # when the latest closed
    panels: Mapping[tuple[str, str], Mapping[str, Any]]
    champion: Mapping[str, Any] | None

    @property
    def decided(self) -> bool:
        return bool(self.juries)

    @functools.cached_property
    def winners(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(
            (c, cl, p["winner"]["unit"]) for (c, cl), p in self.panels.items() if p["winner"]
        )

    def won_by(self, institution_id: str) -> list[Mapping[str, Any]]:
        return [
            p
            for p in self.panels.values()
            if p["winner"] and p["winner"]["institution_id"] == institution_id
        ]


def closed_juries(state: AppState, run_id: str) -> tuple[int, ...]:
    """The ids of the closed juries on ``run_id``, read again whenever the state file changes
    (closing a jury shows at once; no query per request otherwise)."""

    def query() -> tuple[int, ...]:
        with state.store().read() as tx:
            rows = tx.all(
                "SELECT id FROM juries WHERE run_id = ? AND status = 'closed' ORDER BY id",
                (run_id,),
            )
        return tuple(int(r[0]) for r in rows)

    found: tuple[int, ...] = state.while_state_unchanged(("closed-juries", run_id), query)
    return found


def decision(state: AppState, data: RunData) -> Decision:
    ids = closed_juries(state, data.run_id)
    if not ids:
        return Decision((), None, {}, None)

    def make() -> Decision:
        return _decision(data, published_outcomes(state.store(), data.run_id))

    found: Decision = once(state, (data.folder, "decision", ids), make)
    return found


def _decision(data: RunData, outcomes: list[dict[str, Any]]) -> Decision:
    if not outcomes:
        return Decision((), None, {}, None)
    panels: dict[tuple[str, str], dict[str, Any]] = {}
    for outcome in outcomes:  # oldest first: a later jury's panel replaces an earlier one's
        for p in outcome["panels"]:
            category, cluster = p["category"], p["cluster_id"]
            placed = [_placed(data, category, cluster, x) for x in p["placed"]]
            winner = next(
                (x for x in placed if p["winner"] and x["unit"] == p["winner"]["unit"]), None
            )
            panels[(category, cluster)] = {
                "category": category,
                "cluster_id": cluster,
                "jury_id": outcome["jury_id"],
                "closed": outcome["closed"],
                "rule": outcome["rule"],
                "winner": winner,
                "placed": placed,
            }
    latest = outcomes[-1]
    champion = dict(latest["champion"])
    champion["tied_names"] = [_institution_name(data, i) for i in champion.get("tied") or ()]
    champion["trophy_table"] = sorted(
        (
            {"institution_id": i, "institution_name": _institution_name(data, i), "trophies": n}
            for i, n in (champion.get("trophies") or {}).items()
        ),
        key=lambda t: (-t["trophies"], t["institution_name"]),
    )
    return Decision(tuple(o["jury_id"] for o in outcomes), latest["closed"], panels, champion)


def _placed(data: RunData, category: str, cluster: str, x: Mapping[str, Any]) -> dict[str, Any]:
    nominee = data.nominee(category, cluster, x["unit"])
    return {
        "place": x["place"],
        "unit": x["unit"],
        "institution_id": nominee["institution_id"] if nominee else x["unit"],
        "institution_name": nominee["institution_name"] if nominee else x["unit"],
        "account_id": nominee.get("account_id") if nominee else None,
        "platform": nominee.get("platform") if nominee else None,
        "handle": nominee.get("handle") if nominee else None,
        "label": label_of(nominee) if nominee else x["unit"],
        "jury_score": x.get("jury_score"),
        "jurors": x.get("jurors"),
        "rank": x.get("rank"),
    }


def _institution_name(data: RunData, institution_id: str) -> str:
    found = data.institutions.get(institution_id)
    return str(found["institution_name"]) if found else institution_id


# ---------------------------------------------------------------- rendering


class _Overrides(jinja2.BaseLoader):
    """The site's overview and category pages come from templates/public/, which extend the
    site's own (adding the jury's decision); every other template as the web finds it."""

    NAMES: ClassVar[dict[str, str]] = {
        "index.html": "public/index.html",
        "category.html": "public/category.html",
    }

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if template not in self.NAMES:
            raise jinja2.TemplateNotFound(template)
        return loader().get_source(environment, self.NAMES[template])


@functools.cache
def public_loader() -> jinja2.BaseLoader:
    return jinja2.ChoiceLoader([_Overrides(), loader()])


def site(state: AppState, run_id: str, who: Viewer) -> Site:
    """The results site of ``run_id`` in the viewer's language (built once per run and
    language; each page is rendered with the viewer's own context)."""
    model = model_of(state, run_id)
    words = language(who.lang)

    def make() -> Site:
        return Site(
            model,
            words.site,
            link_scorecards=True,  # served by web/scorecards.py
            loader=public_loader(),
            globals={
                "_": words.gettext,
                "ngettext": words.ngettext,
                "in_run": True,
                "institution_url": lambda institution_id: institution_url(run_id, institution_id),
            },
            context=lambda: REQUEST.get({}),
        )

    built: Site = once(state, (run_id, "site", who.lang), make)
    return built


def helper(built: Site, name: str) -> Callable[..., str]:
    """One of the site's template functions (``_``, ``title``, ``metric``, ``media``...)."""
    return cast(Callable[..., str], built.env.globals[name])


def institution_url(run_id: str, institution_id: str) -> str:
    return f"/runs/{run_id}/institutions/{quote(institution_id, safe='')}"


def serve(
    state: AppState,
    run_id: str,
    who: Viewer,
    key: tuple[Any, ...],
    make: Callable[[dict[str, Any]], str],
    here: str,
) -> HTMLResponse:
    """A page of ``run_id``, rendered by ``make(context)`` once per ``key``, language and
    signed-in user, and kept; the viewer's CSRF token is put in on every request."""
    user = who.user
    by = (user.id, user.name, user.role) if user else None

    def rendered() -> str:
        context = {**page_context(who), "csrf": PLACEHOLDER, "here": here}
        token = REQUEST.set(context)
        try:
            return make(context)
        finally:
            REQUEST.reset(token)

    html = pages(state, run_id).get((who.lang, by, *key), rendered)
    response = HTMLResponse(html.replace(PLACEHOLDER, who.csrf))
    response.headers["Vary"] = "Cookie, HX-Request"
    return response


def _site_page(state: AppState, run_id: str, who: Viewer, name: str) -> Response:
    built = site(state, run_id, who)
    data = run_data(state, run_id)
    found = decision(state, data)
    category, cluster = _panel_of(name)

    def make(context: dict[str, Any]) -> str:
        pages = dict(built.pages())
        if name not in pages:
            raise NotFoundError(
                f"run {run_id} has no page {name!r}; its categories are listed at "
                f"/runs/{run_id}/index.html#categories"
            )
        context.update(
            decision=found,
            panel=found.panels.get((category, cluster)),
            board_url=_board_url(run_id, {"category": category, "cluster": cluster}),
            nominee_badge=_badge(built, found, category, cluster),
            champion_name=_champion_name(data, found),
        )
        return pages[name]()

    return serve(state, run_id, who, ("site", name, found.juries), make, f"/runs/{run_id}/{name}")


def _panel_of(name: str) -> tuple[str, str]:
    parts = name.removesuffix(".html").split("/")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "categories" else ("", "")


def _badge(
    built: Site, found: Decision, category: str, cluster: str
) -> Callable[[Mapping[str, Any]], Markup]:
    """A nominee's mark on its category page: the jury's winner, or its place."""
    panel = found.panels.get((category, cluster))
    gettext = helper(built, "_")

    def badge(nominee: Mapping[str, Any]) -> Markup:
        if not panel:
            return Markup("")
        unit = unit_of(nominee)
        if panel["winner"] and panel["winner"]["unit"] == unit:
            return Markup('<strong class="badge winner">{}</strong>').format(gettext("Winner"))
        for x in panel["placed"]:
            if x["unit"] == unit:
                text = gettext("place {place} by the jury", place=x["place"])
                return Markup('<span class="badge">{}</span>').format(text)
        return Markup("")

    return badge


def _champion_name(data: RunData, found: Decision) -> str | None:
    if not found.champion or not found.champion.get("institution_id"):
        return None
    return _institution_name(data, found.champion["institution_id"])


def _board_url(run_id: str, params: Mapping[str, str]) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/runs/{run_id}/leaderboard" + (f"?{query}" if query else "")


def _run_values(run_id: str, **values: Any) -> dict[str, Any]:
    """What a page of a run (not a site page) passes to the layout."""
    return {"root": f"/runs/{run_id}/", "in_run": True, "error": None, "done": None, **values}


# ---------------------------------------------------------------- charts


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
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": gettext("Bar chart of the scores of the best-ranked units"),
        "width": "container",
        "height": 22 * len(values),  # a fixed height: a step height would drop "fit" (warns)
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": values},
        "mark": {"type": "bar", "color": "#1d4ed8"} if board.query.cluster else "bar",
        "encoding": encoding,
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 12, "titleFontSize": 12}},
    }


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
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": gettext("Posts and interactions per week"),
        "data": {"values": values},
        "vconcat": [
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
        "resolve": {"scale": {"x": "shared"}},
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 12, "titleFontSize": 12}},
    }


def institution_weeks(
    rows: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """An institution's weekly rows summed over its accounts: (per week and media type, for
    the chart; per week with its posts by type, for the table; the media types seen)."""
    from datetime import date, timedelta

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


# ---------------------------------------------------------------- the pages

FORM_SORTS = ("rank", "name", "score", "posts", "followers", "interactions", "status")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def front(request: Request, who: Viewer = Depends(viewer)) -> Response:
    runs = app_state(request).runs()
    if not runs:
        return render(who, "runs.html", page_title=who._("Published runs"), runs=[])
    return RedirectResponse(f"/runs/{runs[0].folder.name}/", status_code=303)


@router.get("/runs", response_class=HTMLResponse, include_in_schema=False)
def runs(request: Request, who: Viewer = Depends(viewer)) -> Response:
    return render(
        who,
        "runs.html",
        page_title=who._("Published runs"),
        runs=app_state(request).runs(),
        current="runs",
    )


@router.get("/runs/{run_id}", include_in_schema=False)
def run_root(run_id: str, request: Request) -> Response:
    model_of(app_state(request), run_id)  # 404 for no such run
    return RedirectResponse(f"/runs/{run_id}/", status_code=308)


@router.get("/runs/{run_id}/", response_class=HTMLResponse, include_in_schema=False)
@router.get("/runs/{run_id}/index.html", response_class=HTMLResponse, include_in_schema=False)
def overview(run_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    return _site_page(app_state(request), run_id, who, "index.html")


@router.get("/runs/{run_id}/methodology.html", response_class=HTMLResponse, include_in_schema=False)
def methodology(run_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    return _site_page(app_state(request), run_id, who, "methodology.html")


@router.get(
    "/runs/{run_id}/categories/{category}/{cluster}.html",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def category(
    run_id: str, category: str, cluster: str, request: Request, who: Viewer = Depends(viewer)
) -> Response:
    return _site_page(app_state(request), run_id, who, f"categories/{category}/{cluster}.html")


@router.get("/runs/{run_id}/site.css", include_in_schema=False)
@router.get("/site.css", include_in_schema=False)  # pages outside a run (root "/")
def stylesheet() -> Response:
    css = resources.files("govsocial.reports") / "static" / CSS
    return Response(
        css.read_bytes(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/runs/{run_id}/leaderboard", response_class=HTMLResponse, include_in_schema=False)
def leaderboard(
    run_id: str,
    request: Request,
    category: str | None = None,
    cluster: str | None = None,
    platform: str | None = None,
    sort: str | None = None,
    order: str | None = None,
    who: Viewer = Depends(viewer),
) -> Response:
    """Every eligible unit of a category (one cluster or all), filtered by platform, sorted
    by any column. An htmx request gets the board alone (filters, chart and table)."""
    state = app_state(request)
    data = run_data(state, run_id)
    q = data.query(category, cluster, platform, sort, order)
    found = decision(state, data)
    alone = request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )
    built = site(state, run_id, who)

    def make(context: dict[str, Any]) -> str:
        gettext = helper(built, "_")
        board = data.board(q, found.winners)
        title = helper(built, "title")(board.category["title"])
        values = {
            **context,
            **_run_values(run_id),
            "page_title": f"{gettext('Leaderboard')} · {title}",
            "current": "leaderboard",
            "data": data,
            "q": q,
            "board": board,
            "category_title": title,
            "sort_urls": {
                c.key: _board_url(
                    run_id,
                    q.params(
                        sort=c.key,
                        order=(
                            ("asc" if q.order == "desc" else "desc")
                            if c.key == q.sort
                            else ("desc" if c.descending else "asc")
                        ),
                    ),
                )
                for c in board.columns
            },
            "sort_label": next(
                helper(built, "metric")(c.metric) if c.metric else gettext(c.label)
                for c in board.columns
                if c.key == q.sort
            ),
            "form_sort": q.sort if q.sort in FORM_SORTS else "",
            "category_url": (
                f"/runs/{run_id}/categories/{q.category}/{q.cluster}.html" if q.cluster else None
            ),
            "chart": board_chart(board, gettext),
            "chart_scripts": [f"/static/vendor/{name}" for name in CHARTS],
        }
        template = "public/board.html" if alone else "public/leaderboard.html"
        return str(built.env.get_template(template).render(**values))

    here = _board_url(run_id, q.params())
    return serve(state, run_id, who, ("board", alone, q, found.juries), make, here)


@router.get("/runs/{run_id}/institutions", response_class=HTMLResponse, include_in_schema=False)
def institutions(run_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    """The run's institutions by cluster, with their nominations and wins."""
    state = app_state(request)
    data = run_data(state, run_id)
    found = decision(state, data)
    built = site(state, run_id, who)

    def make(context: dict[str, Any]) -> str:
        gettext = helper(built, "_")
        nominated: dict[str, int] = defaultdict(int)
        for rows in data.rows.values():
            for r in rows:
                if r["status"] == "nominated":
                    nominated[r["institution_id"]] += 1
        wins: dict[str, int] = defaultdict(int)
        for p in found.panels.values():
            if p["winner"]:
                wins[p["winner"]["institution_id"]] += 1
        groups = [
            (
                cluster_id,
                name,
                sorted(
                    (i for i in data.institutions.values() if i["cluster_id"] == cluster_id),
                    key=lambda i: str(i["institution_name"]).casefold(),
                ),
            )
            for cluster_id, name in data.clusters.items()
        ]
        values = {
            **context,
            **_run_values(run_id),
            "page_title": gettext("Institutions"),
            "current": "institutions",
            "groups": groups,
            "accounts_of": data.accounts_of,
            "nominated": nominated,
            "wins": wins,
            "decided": found.decided,
        }
        return str(built.env.get_template("public/institutions.html").render(**values))

    return serve(
        state,
        run_id,
        who,
        ("institutions", found.juries),
        make,
        f"/runs/{run_id}/institutions",
    )


@router.get(
    "/runs/{run_id}/institutions/{institution_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def institution(
    run_id: str, institution_id: str, request: Request, who: Viewer = Depends(viewer)
) -> Response:
    """One institution: its accounts, its rank and score in every category × cluster it is
    eligible in, its nominations and wins, its weekly activity and its top posts."""
    state = app_state(request)
    data = run_data(state, run_id)
    found_institution = data.institution(institution_id)
    found = decision(state, data)
    built = site(state, run_id, who)

    def make(context: dict[str, Any]) -> str:
        gettext = helper(built, "_")
        series, weeks, types = institution_weeks(data.weekly.get(institution_id, []))
        accounts = data.accounts_of.get(institution_id, [])
        followers = [a["followers"] for a in accounts if a["followers"] is not None]
        standings = data.standings_of(institution_id)
        wins = found.won_by(institution_id)
        stem = file_stem(institution_id)
        champion = found.champion or {}
        busiest = max(weeks, key=lambda w: (w["posts"], w["week_start"]), default=None)
        values = {
            **context,
            **_run_values(run_id),
            "page_title": found_institution["institution_name"],
            "current": "institutions",
            "inst": found_institution,
            "results": data.results,
            "accounts": accounts,
            "totals": {
                "posts": sum(a["posts"] or 0 for a in accounts),
                "interactions": sum(a["interactions"] or 0 for a in accounts),
                "followers": sum(followers) if followers else None,
            },
            "standings": standings,
            "nominations": [r for r in standings if r["status"] == "nominated"],
            "wins": wins,
            "is_champion": champion.get("institution_id") == institution_id,
            "decided": found.decided,
            "winner_units": found.winners,
            "weeks": weeks,
            "week_types": types,
            "busiest": busiest,
            "weekly_chart": weekly_chart(series, helper(built, "media"), gettext),
            "top_posts": data.top_posts.get(institution_id, []),
            "scorecard_html": f"/runs/{run_id}/scorecards/{stem}.html",
            "scorecard_pdf": f"/runs/{run_id}/scorecards/{stem}.pdf",
            "board_url": lambda category, cluster: _board_url(
                run_id, {"category": category, "cluster": cluster}
            ),
            "chart_scripts": [f"/static/vendor/{name}" for name in CHARTS],
        }
        return str(built.env.get_template("public/institution.html").render(**values))

    return serve(
        state,
        run_id,
        who,
        ("institution", institution_id, found.juries),
        make,
        institution_url(run_id, institution_id),
    )
