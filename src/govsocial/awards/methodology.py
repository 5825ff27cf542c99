"""Award methodologies as validated data: a TOML file becomes a frozen :class:`Methodology`.

A methodology says what is measured (period, platforms, clusters), which categories are
awarded, how each is scored (weighted metrics from :data:`METRICS`), who is eligible, how ties
break and what the jury weighs. Shipped files live in ``awards/methodologies/``; any other file
loads by path. The format is documented in docs/methodology.md.

Every problem in a file is collected and reported together in one :class:`MethodologyError`:
the file, the key path (``categories[2].components[0].metric``), the bad value and the fix.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import ceil
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from govsocial.checking import Checker, Problem, Table, choices, report
from govsocial.errors import MethodologyError, UsageError
from govsocial.metrics.catalogue import METRICS
from govsocial.metrics.defaults import INTERACTIONS_VERSIONS, MAX_FOLLOWER_GAP_DAYS
from govsocial.vocabulary import MEDIA_TYPES, PLATFORMS

SHIPPED_DIR = Path(__file__).parent / "methodologies"
DOCS = "docs/methodology.md"
Unit = Literal["institution", "account"]
UNITS: tuple[Unit, ...] = ("institution", "account")
TIEBREAKERS = ("posts", "followers", "interactions", "platforms", "id")
CHAMPION_RULES = ("most_trophies", "most_nominations")
# How an institution's accounts and platforms make its score (docs/methodology.md, "Accounts
# and platforms of an institution", with the incentives of each). accounts: "main" = on each
# platform its account with the most followers, "pooled" = all its accounts there summed.
# platform_combination: "sum" = weighted sum over all the category's platforms, 0 where it is
# not eligible, ÷ their total weight (monotone: withholding a platform never helps).
ACCOUNT_RULES: tuple[Literal["main", "pooled"], ...] = ("main", "pooled")
# How the jury's scores make each panel's places (docs/jury.md, "The tally"): the mean of each
# juror's standardised scores (default), or Borda points.
JURY_RULES: tuple[Literal["standardised", "borda"], ...] = ("standardised", "borda")
PLATFORM_COMBINATIONS: tuple[Literal["sum"], ...] = ("sum",)
THEME_METRICS = ("theme_share", "theme_engagement_rate")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # stands in for a bad date, never returned
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_ID_ALLOWED = "lower-case letters, digits, '_' or '-' (at most 64)"


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
    names: tuple[str, ...] = ()  # theme files (text/themes/<name>.yaml): a post tagged any


@dataclass(frozen=True)
class Category:
    id: str
    title_id: str
    title_en: str
    description_id: str
    description_en: str
    unit: Unit
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
    jury_rule: Literal["standardised", "borda"] = "standardised"  # [jury] rule: the tally


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
            f"{label}: not valid TOML: {exc}. Fix the syntax (see {DOCS})."
        ) from exc
    check = Checker(DOCS)  # tomllib keeps no lines: each problem is named by its key path
    methodology = _methodology(check, raw, known, sha=sha, source=source, text=text)

    def error(problems: list[Problem]) -> MethodologyError:
        outcome = f"in the methodology; it was not loaded (the format is in {DOCS})."
        return MethodologyError(report(label, problems, outcome))

    check.raise_if_any(error)
    return methodology


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


def _methodology(
    c: Checker, raw: Table, known: Collection[str] | None, *, sha: str, source: str, text: str
) -> Methodology:
    """The methodology of ``raw``, with a default for each bad value (each one a problem)."""
    c.table(raw, "", _TOP, _TOP_OPTIONAL)
    ident, edition = _ident(c, raw, ""), c.string(raw, "edition", "")
    version = c.string(raw, "version", "")
    title = c.table(raw.get("title", {}), "title", ("id", "en"))
    title_id, title_en = c.string(title, "id", "title"), c.string(title, "en", "title")
    period = c.table(raw.get("period", {}), "period", ("start", "end"))
    # A date is midnight in Jakarta (WIB); the period is kept in UTC.
    start, end = c.moment(period, "start", "period"), c.moment(period, "end", "period")
    if start and end and start >= end:
        c.problem(
            "period.end",
            f"{period['end']} is not after period.start {period['start']}",
            "make end later than start (end is exclusive: the day after the last day)",
            value=period["end"],
        )
    platforms = c.names(raw, "platforms", "", PLATFORMS, nonempty=True)
    clusters = c.names(raw, "clusters", "", None, nonempty=True)
    if known is not None:
        for i, cluster in enumerate(clusters):
            if cluster not in known:
                c.problem(
                    f"clusters[{i}]",
                    f"unknown cluster {cluster!r}",
                    f"{choices(cluster, sorted(known))}; or register it first",
                    value=cluster,
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
                value=cat.eligibility.min_active_weeks,
            )
        if cat.unit == "account" and cat.eligibility.min_platforms > 1:
            c.problem(
                f"{at}.min_platforms",
                "an account is on one platform",
                "remove it",
                value=cat.eligibility.min_platforms,
            )
        elif cat.eligibility.min_platforms > len(cat.platforms or platforms):
            c.problem(
                f"{at}.min_platforms",
                f"{cat.eligibility.min_platforms} is more than the category's platforms",
                "lower it or list more platforms",
                value=cat.eligibility.min_platforms,
            )
    jury = c.table(raw.get("jury", {}), "jury", (), ("criteria", "rule"))
    return Methodology(
        id=ident,
        edition=edition,
        title_id=title_id,
        title_en=title_en,
        version=version,
        period_start=start or _EPOCH,
        period_end=end or _EPOCH,
        platforms=platforms,
        clusters=clusters,
        interactions_version=c.choice(raw, "interactions_version", "", INTERACTIONS_VERSIONS, 1),
        max_follower_gap_days=c.integer(
            raw, "max_follower_gap_days", "", MAX_FOLLOWER_GAP_DAYS, 1, None
        ),
        platform_weights=MappingProxyType(weights),
        categories=categories,
        jury=c.items(jury, "criteria", "jury", lambda t, w: _criterion(c, t, w), nonempty=False),
        champion_rule=c.choice(raw, "champion_rule", "", CHAMPION_RULES, "most_trophies"),
        accounts=c.choice(raw, "accounts", "", ACCOUNT_RULES, "main"),
        platform_combination=c.choice(
            raw, "platform_combination", "", PLATFORM_COMBINATIONS, "sum"
        ),
        sha256=sha,
        source=source,
        text=text,
        jury_rule=c.choice(jury, "rule", "jury", JURY_RULES, "standardised"),
    )


def _ident(c: Checker, raw: Table, at: str) -> str:
    return c.ident(raw, "id", at, _ID_RE, _ID_ALLOWED)


def _category(c: Checker, raw: Table, at: str, platforms: tuple[str, ...]) -> Category:
    c.table(raw, at, _CATEGORY, _CATEGORY_OPTIONAL)
    title = c.table(raw.get("title", {}), f"{at}.title", ("id", "en"))
    text = c.table(raw.get("description", {}), f"{at}.description", ("id", "en"))
    unit = c.choice(raw, "unit", at, UNITS, "institution")
    theme = None
    if isinstance(raw.get("theme"), str | list):  # theme files by name: "climate", [...]
        from govsocial.text.themes import list_themes

        named = raw["theme"] if isinstance(raw["theme"], list) else [raw["theme"]]
        names = c.names({"theme": named}, "theme", at, list_themes(), nonempty=True)
        theme = Theme((), (), names)
    elif "theme" in raw:
        t = c.table(raw["theme"], f"{at}.theme", (), ("hashtags", "keywords"))
        tags = c.names(t, "hashtags", f"{at}.theme", None, lambda s: s.lower().lstrip("#"))
        words = c.names(t, "keywords", f"{at}.theme", None, str.lower)
        if not tags and not words and isinstance(raw["theme"], Mapping):
            c.problem(f"{at}.theme", "has no hashtags and no keywords", "list at least one")
        theme = Theme(tags, words)

    def component(t: Table, where: str) -> Component:
        c.table(t, where, ("metric",), ("weight",))
        metric = c.choice(t, "metric", where, tuple(METRICS), "")
        info = METRICS.get(metric)
        if info and info.unit not in ("both", unit):
            fits = [m for m, i in METRICS.items() if i.unit in ("both", unit)]
            c.problem(
                f"{where}.metric",
                f"'{metric}' is computed per {info.unit}, but the category's unit is '{unit}'",
                f"use unit = '{info.unit}' or one of {', '.join(fits)}",
                value=metric,
            )
        if metric in THEME_METRICS and theme is None:
            c.problem(
                f"{where}.metric",
                f"'{metric}' needs the category's theme, and there is none",
                'name its theme files (theme = ["climate", "sdg13"]) or add a [categories.theme] '
                "table with hashtags and/or keywords to this category",
                value=metric,
            )
        return Component(metric, c.number(t, "weight", where, 1.0))

    eligibility = c.table(raw.get("eligibility", {}), f"{at}.eligibility", (), _ELIGIBILITY)
    tiebreakers = c.names(raw, "tiebreakers", at, TIEBREAKERS) if "tiebreakers" in raw else None
    return Category(
        id=_ident(c, raw, at),
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


def _criterion(c: Checker, raw: Table, at: str) -> JuryCriterion:
    c.table(raw, at, ("id", "title", "weight", "description"))
    title = c.table(raw.get("title", {}), f"{at}.title", ("id", "en"))
    return JuryCriterion(
        id=_ident(c, raw, at),
        title_id=c.string(title, "id", f"{at}.title"),
        title_en=c.string(title, "en", f"{at}.title"),
        weight=c.number(raw, "weight", at, 1.0),
        description_en=c.string(raw, "description", at),
    )
