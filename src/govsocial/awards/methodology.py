"""Award methodologies as validated data: a TOML file becomes a frozen :class:`Methodology`.

A methodology says what is measured (period, platforms, clusters), which categories are
awarded, how each is scored (weighted metrics from :data:`METRICS`), who is eligible, how ties
break and what the jury weighs. Shipped files live in ``awards/methodologies/``; any other file
loads by path. The format is documented in docs/methodology.md.

Every problem in a file is collected and reported together in one :class:`MethodologyError`:
the file, the key path (``categories[2].components[0].metric``), the bad value and the fix.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import ceil, inf
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from govsocial.errors import MethodologyError, UsageError
from govsocial.metrics.defaults import INTERACTIONS_VERSIONS, MAX_FOLLOWER_GAP_DAYS
from govsocial.vocabulary import MEDIA_TYPES, PLATFORMS, WIB  # periods are in Jakarta time
from govsocial.words import count

SHIPPED_DIR = Path(__file__).parent / "methodologies"
UNITS = ("institution", "account")
TIEBREAKERS = ("posts", "followers", "interactions", "platforms", "id")
CHAMPION_RULES = ("most_trophies", "most_nominations")
# How an institution's accounts and platforms make its score (docs/methodology.md, "Accounts
# and platforms of an institution", with the incentives of each). accounts: "main" = on each
# platform its account with the most followers, "pooled" = all its accounts there summed.
# platform_combination: "sum" = weighted sum over all the category's platforms, 0 where it is
# not eligible, ÷ their total weight (monotone: withholding a platform never helps).
ACCOUNT_RULES = ("main", "pooled")
PLATFORM_COMBINATIONS = ("sum",)
THEME_METRICS = ("theme_share", "theme_engagement_rate")
_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # stands in for a bad date, never returned
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class MetricInfo:
    """A metric the engine computes: its unit ("institution", "account" or "both")."""

    name: str
    unit: Literal["institution", "account", "both"]
    description: str
    source: str


_POSTS = "posts: original posts only (reposts excluded)"
_RATE = "posts: interactions; account_snapshots: followers at posting time"
_MORRIS = f"{_RATE}; shrinkage: Morris (1983), JASA 78(381)"
_BONSON = "Bonsón & Ratkai (2013), Online Information Review 37(5)"
# name: (description, source); every metric works per institution and per account ("both").
_METRIC_ROWS = {
    "posts_per_week": ("original posts ÷ weeks in the period (rounded up)", _POSTS),
    "active_weeks_share": ("share of the period's weeks with ≥ 1 original post", _POSTS),
    "engagement_rate": ("typical interactions ÷ followers, shrunk toward its stratum", _MORRIS),
    "engagement_rate_raw": ("mean interactions ÷ followers, without shrinkage", _RATE),
    "interactions_per_post": ("mean interactions per post", _RATE),
    "view_rate": ("mean views ÷ followers over posts with a view count", f"posts: views; {_RATE}"),
    "follower_growth": ("followers at period end ÷ at period start − 1", "account_snapshots"),
    "theme_share": ("share of posts matching the category's theme", "posts: text"),
    "theme_engagement_rate": ("engagement_rate over the theme's posts only", _MORRIS),
    "bonson_p1": ("P1: % of posts with ≥ 1 like", _BONSON),
    "bonson_p2": ("P2: likes per post", _BONSON),
    "bonson_p3": ("P3: P2 ÷ followers (period end) × 1000", _BONSON),
    "bonson_c1": ("C1: % of posts with ≥ 1 comment", _BONSON),
    "bonson_c2": ("C2: comments per post", _BONSON),
    "bonson_c3": ("C3: C2 ÷ followers (period end) × 1000", _BONSON),
    "bonson_v1": ("V1: % of posts shared ≥ once", _BONSON),
    "bonson_v2": ("V2: shares per post", _BONSON),
    "bonson_v3": ("V3: V2 ÷ followers (period end) × 1000", _BONSON),
    "bonson_e": ("E: P3 + C3 + V3", _BONSON),
}
METRICS: dict[str, MetricInfo] = {
    name: MetricInfo(name, "both", description, source)
    for name, (description, source) in _METRIC_ROWS.items()
}


@dataclass(frozen=True)
class Component:
    metric: str
    weight: float  # relative: the engine divides by the category's sum of weights


@dataclass(frozen=True)
class Eligibility:
    min_posts: int = 0  # original posts in the period, in the category's media types
    min_active_weeks: int = 0
    min_followers: int = 0
    min_platforms: int = 1


@dataclass(frozen=True)
class Theme:
    hashtags: tuple[str, ...]  # lower case, without '#'
    keywords: tuple[str, ...]  # lower case; substrings of the lower-cased text


@dataclass(frozen=True)
class Category:
    id: str
    title_id: str
    title_en: str
    description_id: str
    description_en: str
    unit: Literal["institution", "account"]
    media_types: tuple[str, ...]  # empty: all
    platforms: tuple[str, ...]  # empty: the methodology's platforms
    components: tuple[Component, ...]
    eligibility: Eligibility
    nominees: int
    tiebreakers: tuple[str, ...]  # always ends with "id", so ranks are total
    theme: Theme | None = None


@dataclass(frozen=True)
class JuryCriterion:
    id: str
    title_id: str
    title_en: str
    weight: float
    description_en: str


@dataclass(frozen=True)
class Methodology:
    id: str
    edition: str
    title_id: str
    title_en: str
    version: str
    period_start: datetime  # UTC, inclusive
    period_end: datetime  # UTC, exclusive
    platforms: tuple[str, ...]
    clusters: tuple[str, ...]
    interactions_version: int
    max_follower_gap_days: int
    platform_weights: Mapping[str, float] = field(hash=False)  # read-only, every platform
    categories: tuple[Category, ...]
    jury: tuple[JuryCriterion, ...]
    champion_rule: str
    accounts: Literal["main", "pooled"]
    platform_combination: Literal["sum"]
    sha256: str  # of the file's bytes
    source: str  # the path, or "shipped:<name>"
    text: str  # the file's text, as run


def list_methodologies() -> list[str]:
    """Names of the shipped methodology files."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.toml"))


def load_methodology(
    name_or_path: str | Path, known_clusters: Collection[str] | None = None
) -> Methodology:
    """Load and validate a shipped methodology by name, or any file by path.

    ``known_clusters``: the cluster ids that exist (e.g. in the warehouse); None skips that check.
    """
    shipped = list_methodologies()
    text_arg = str(name_or_path)
    if isinstance(name_or_path, str) and name_or_path in shipped:
        path, source = SHIPPED_DIR / f"{name_or_path}.toml", f"shipped:{name_or_path}"
    elif isinstance(name_or_path, Path) or text_arg.endswith(".toml") or Path(text_arg).exists():
        path, source = Path(name_or_path), text_arg
    else:  # a wrong name is a wrong option value (exit 2), like an unknown engine
        raise UsageError(
            f"no shipped methodology named '{text_arg}'. Shipped: {', '.join(shipped)}; "
            "or give the path of a .toml file."
        )
    if not path.is_file():
        raise UsageError(f"{path}: no such methodology file. Check the path.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MethodologyError(
            f"{path}: not UTF-8 text (byte {exc.start}). Save as UTF-8."
        ) from exc
    return _parse(text, hashlib.sha256(data).hexdigest(), source, str(path), known_clusters)


def parse_methodology(
    text: str, source: str = "<text>", known_clusters: Collection[str] | None = None
) -> Methodology:
    """Validate a methodology from its text (e.g. the text a past run stored)."""
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _parse(text, sha, source, source, known_clusters)


def _parse(
    text: str, sha: str, source: str, label: str, known: Collection[str] | None
) -> Methodology:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MethodologyError(
            f"{label}: not valid TOML: {exc}. Fix the syntax (see docs/methodology.md)."
        ) from exc
    check = _Checker()
    result = _methodology(check, raw, known)
    if check.problems:
        lines = "\n".join(f"  - {p}" for p in check.problems)
        raise MethodologyError(
            f"{label}: {count(len(check.problems), 'problem')} in the methodology; it was not "
            f"loaded (the format is in docs/methodology.md).\n{lines}"
        )
    return Methodology(**result, sha256=sha, source=source, text=text)


_TOP = ("id", "edition", "version", "title", "period", "platforms", "clusters", "categories")
_TOP_OPTIONAL = (
    "interactions_version",
    "champion_rule",
    "accounts",
    "platform_combination",
    "max_follower_gap_days",
    "platform_weights",
    "jury",
)
_CATEGORY = ("id", "title", "description", "unit", "components")
_CATEGORY_OPTIONAL = ("media_types", "platforms", "nominees", "tiebreakers", "eligibility", "theme")


def _methodology(c: _Checker, raw: dict[str, Any], known: Collection[str] | None) -> dict[str, Any]:
    c.table(raw, "", _TOP, _TOP_OPTIONAL)
    ident, edition = c.ident(raw, "id", ""), c.string(raw, "edition", "")
    version = c.string(raw, "version", "")
    title = c.table(raw.get("title", {}), "title", ("id", "en"))
    title_id, title_en = c.string(title, "id", "title"), c.string(title, "en", "title")
    period = c.table(raw.get("period", {}), "period", ("start", "end"))
    start, end = c.moment(period, "start", "period"), c.moment(period, "end", "period")
    if start and end and start >= end:
        c.problem(
            "period.end",
            f"{period['end']} is not after period.start {period['start']}",
            "make end later than start (end is exclusive: the day after the last day)",
        )
    platforms = c.names(raw, "platforms", "", PLATFORMS, nonempty=True)
    clusters = c.names(raw, "clusters", "", None, nonempty=True)
    if known is not None:
        for i, cluster in enumerate(clusters):
            if cluster not in known:
                c.problem(
                    f"clusters[{i}]",
                    f"unknown cluster {cluster!r}",
                    f"{_choices(cluster, sorted(known))}; or register it first",
                )
    weights_raw = c.table(raw.get("platform_weights", {}), "platform_weights", (), platforms)
    weights = {p: c.number(weights_raw, p, "platform_weights", 1.0) for p in platforms}
    categories = c.items(raw, "categories", "", lambda t, w: _category(c, t, w, platforms))
    weeks = ceil((end - start) / timedelta(weeks=1)) if start and end and start < end else 10**9
    for i, cat in enumerate(categories):
        at = f"categories[{i}].eligibility"
        if cat.eligibility.min_active_weeks > weeks:
            c.problem(
                f"{at}.min_active_weeks",
                f"{cat.eligibility.min_active_weeks} is more than the period's {weeks} weeks",
                f"give at most {weeks}",
            )
        if cat.unit == "account" and cat.eligibility.min_platforms > 1:
            c.problem(f"{at}.min_platforms", "an account is on one platform", "remove it")
        elif cat.eligibility.min_platforms > len(cat.platforms or platforms):
            c.problem(
                f"{at}.min_platforms",
                f"{cat.eligibility.min_platforms} is more than the category's platforms",
                "lower it or list more platforms",
            )
    jury = c.table(raw.get("jury", {}), "jury", (), ("criteria",))
    return {
        "id": ident,
        "edition": edition,
        "version": version,
        "title_id": title_id,
        "title_en": title_en,
        "period_start": start or _EPOCH,
        "period_end": end or _EPOCH,
        "platforms": platforms,
        "clusters": clusters,
        "interactions_version": c.choice(raw, "interactions_version", "", INTERACTIONS_VERSIONS, 1),
        "max_follower_gap_days": c.integer(
            raw, "max_follower_gap_days", "", MAX_FOLLOWER_GAP_DAYS, 1, None
        ),
        "platform_weights": MappingProxyType(weights),
        "categories": categories,
        "jury": c.items(jury, "criteria", "jury", lambda t, w: _criterion(c, t, w), nonempty=False),
        "champion_rule": c.choice(raw, "champion_rule", "", CHAMPION_RULES, "most_trophies"),
        "accounts": c.choice(raw, "accounts", "", ACCOUNT_RULES, "main"),
        "platform_combination": c.choice(
            raw, "platform_combination", "", PLATFORM_COMBINATIONS, "sum"
        ),
    }


def _category(c: _Checker, raw: dict[str, Any], at: str, platforms: tuple[str, ...]) -> Category:
    c.table(raw, at, _CATEGORY, _CATEGORY_OPTIONAL)
    title = c.table(raw.get("title", {}), f"{at}.title", ("id", "en"))
    text = c.table(raw.get("description", {}), f"{at}.description", ("id", "en"))
    unit = c.choice(raw, "unit", at, UNITS, "institution")
    theme = None
    if "theme" in raw:
        t = c.table(raw["theme"], f"{at}.theme", (), ("hashtags", "keywords"))
        tags = c.names(t, "hashtags", f"{at}.theme", None, lambda s: s.lower().lstrip("#"))
        words = c.names(t, "keywords", f"{at}.theme", None, str.lower)
        if not tags and not words and isinstance(raw["theme"], dict):
            c.problem(f"{at}.theme", "has no hashtags and no keywords", "list at least one")
        theme = Theme(tags, words)

    def component(t: dict[str, Any], where: str) -> Component:
        c.table(t, where, ("metric",), ("weight",))
        metric = c.choice(t, "metric", where, tuple(METRICS), "")
        info = METRICS.get(metric)
        if info and info.unit not in ("both", unit):
            fits = [m for m, i in METRICS.items() if i.unit in ("both", unit)]
            c.problem(
                f"{where}.metric",
                f"'{metric}' is computed per {info.unit}, but the category's unit is '{unit}'",
                f"use unit = '{info.unit}' or one of {', '.join(fits)}",
            )
        if metric in THEME_METRICS and theme is None:
            c.problem(
                f"{where}.metric",
                f"'{metric}' needs the category's theme, and there is none",
                "add a [categories.theme] table with hashtags and/or keywords to this category",
            )
        return Component(metric, c.number(t, "weight", where, 1.0))

    eligibility = c.table(raw.get("eligibility", {}), f"{at}.eligibility", (), _ELIGIBILITY)
    tiebreakers = c.names(raw, "tiebreakers", at, TIEBREAKERS) if "tiebreakers" in raw else None
    return Category(
        id=c.ident(raw, "id", at),
        title_id=c.string(title, "id", f"{at}.title"),
        title_en=c.string(title, "en", f"{at}.title"),
        description_id=c.string(text, "id", f"{at}.description"),
        description_en=c.string(text, "en", f"{at}.description"),
        unit=unit,
        media_types=c.names(raw, "media_types", at, MEDIA_TYPES),
        platforms=c.names(raw, "platforms", at, platforms),
        components=c.items(raw, "components", at, component, unique="metric"),
        eligibility=Eligibility(
            **{
                k: c.integer(eligibility, k, f"{at}.eligibility", v, v, None)
                for k, v in _ELIGIBILITY.items()
            }
        ),
        nominees=c.integer(raw, "nominees", at, 5, 3, 5),
        tiebreakers=_with_id(("posts", "followers") if tiebreakers is None else tiebreakers),
        theme=theme,
    )


_ELIGIBILITY = {"min_posts": 0, "min_active_weeks": 0, "min_followers": 0, "min_platforms": 1}


def _with_id(tiebreakers: tuple[str, ...]) -> tuple[str, ...]:
    return tiebreakers if "id" in tiebreakers else (*tiebreakers, "id")


def _criterion(c: _Checker, raw: dict[str, Any], at: str) -> JuryCriterion:
    c.table(raw, at, ("id", "title", "weight", "description"))
    title = c.table(raw.get("title", {}), f"{at}.title", ("id", "en"))
    return JuryCriterion(
        id=c.ident(raw, "id", at),
        title_id=c.string(title, "id", f"{at}.title"),
        title_en=c.string(title, "en", f"{at}.title"),
        weight=c.number(raw, "weight", at, 1.0),
        description_en=c.string(raw, "description", at),
    )


def _key(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _choices(bad: object, choices: Collection[object]) -> str:
    close = difflib.get_close_matches(str(bad), [str(x) for x in choices], n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}valid: {', '.join(str(x) for x in choices)}"


class _Checker:
    """Reads values out of the parsed TOML, recording a problem (and a default) for bad ones."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, key: str, reason: str, fix: str) -> None:
        self.problems.append(f"{key or 'top level'}: {reason}" + (f". Fix: {fix}" if fix else ""))

    def table(
        self, raw: object, at: str, required: Collection[str], optional: Collection[str] = ()
    ) -> dict[str, Any]:
        """``raw`` as a table, after reporting unknown and missing keys."""
        if not isinstance(raw, dict):
            self.problem(at, f"expected a table {{...}}, got {raw!r}", "see docs/methodology.md")
            return {}
        valid = (*required, *optional)
        for key in raw:
            if key not in valid:
                self.problem(
                    _key(at, key), "unknown key", _choices(key, valid) if valid else "remove it"
                )
        for key in required:
            if key not in raw:
                self.problem(_key(at, key), "missing", "add it (see docs/methodology.md)")
        return raw

    def string(self, raw: dict[str, Any], key: str, at: str) -> str:
        value = raw.get(key, "")
        if not isinstance(value, str) or (key in raw and not value.strip()):
            self.problem(_key(at, key), f"expected a non-empty text, got {value!r}", "quote it")
            return ""
        return value

    def ident(self, raw: dict[str, Any], key: str, at: str) -> str:
        value = self.string(raw, key, at)
        if value and not _ID_RE.match(value):
            self.problem(
                _key(at, key),
                f"{value!r} is not a valid id",
                "use lower-case letters, digits, '_' or '-' (at most 64)",
            )
        return value

    def number(self, raw: dict[str, Any], key: str, at: str, default: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < inf:
            self.problem(_key(at, key), f"{value!r} is not a number > 0", "give e.g. 1.0")
            return default
        return float(value)

    def integer(
        self, raw: dict[str, Any], key: str, at: str, default: int, low: int, high: int | None
    ) -> int:
        value = raw.get(key, default)
        span = f"from {low} to {high}" if high is not None else f"≥ {low}"
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            self.problem(
                _key(at, key), f"{value!r} is not a whole number {span}", f"give one {span}"
            )
            return default
        return value

    def choice(
        self, raw: dict[str, Any], key: str, at: str, choices: tuple[Any, ...], default: Any
    ) -> Any:
        value = raw.get(key, default)  # a missing required key is reported by table()
        if key in raw and (value not in choices or isinstance(value, bool)):
            self.problem(_key(at, key), f"unknown value {value!r}", _choices(value, choices))
            return default
        return value

    def names(
        self,
        raw: dict[str, Any],
        key: str,
        at: str,
        choices: Collection[str] | None,
        normalise: Callable[[str], str] | None = None,
        nonempty: bool = False,
    ) -> tuple[str, ...]:
        """A list of distinct texts, each one of ``choices`` (when given)."""
        value = raw.get(key, [])
        if not isinstance(value, list) or (nonempty and not value and key in raw):
            self.problem(
                _key(at, key),
                f"expected a non-empty list, got {value!r}",
                f'write {key} = ["...", ...]',
            )
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            where = f"{_key(at, key)}[{i}]"
            if not isinstance(item, str) or not item.strip():
                self.problem(where, f"expected a non-empty text, got {item!r}", "quote it")
            elif choices is not None and item not in choices:
                self.problem(where, f"unknown value {item!r}", _choices(item, choices))
            elif (normalise(item) if normalise else item) in out:
                self.problem(where, f"{item!r} is listed twice", "remove the duplicate")
            else:
                out.append(normalise(item) if normalise else item)
        return tuple(out)

    def items(
        self,
        raw: dict[str, Any],
        key: str,
        at: str,
        parse: Callable[[dict[str, Any], str], _T],
        unique: str = "id",
        nonempty: bool = True,
    ) -> tuple[_T, ...]:
        """A list of tables, each parsed by ``parse(table, key_path)``; ``unique`` distinct."""
        value = raw.get(key, [])
        if not isinstance(value, list) or (nonempty and not value and key in raw):
            self.problem(
                _key(at, key),
                f"expected a non-empty list of tables, got {value!r}",
                "add at least one entry (see docs/methodology.md)",
            )
            return ()
        out: list[_T] = []
        seen: set[str] = set()
        for i, table in enumerate(value):
            where = f"{_key(at, key)}[{i}]"
            if not isinstance(table, dict):
                self.problem(where, f"expected a table, got {table!r}", "see docs/methodology.md")
                continue
            out.append(parse(table, where))
            ident = getattr(out[-1], unique)
            if ident and ident in seen:
                self.problem(
                    f"{where}.{unique}", f"{ident!r} appears twice", "remove or rename one"
                )
            seen.add(ident)
        return tuple(out)

    def moment(self, raw: dict[str, Any], key: str, at: str) -> datetime | None:
        """A TOML date (00:00 WIB) or date-time (WIB unless it has an offset), in UTC."""
        value = raw.get(key)
        if value is None:
            return None  # reported by table()
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=WIB)
        elif isinstance(value, date):
            value = datetime.combine(value, time(), WIB)
        else:
            self.problem(
                _key(at, key),
                f"{value!r} is not a date",
                "write e.g. 2024-08-01 (a TOML date, without quotes)",
            )
            return None
        return value.astimezone(UTC)
