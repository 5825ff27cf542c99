"""The results document: typed records, their canonical JSON and the run id.

Every record below is one table of docs/results-schema.md, with the same name and the same
fields in the same order (tests/awards/test_results.py holds the two together). The engine
builds a :class:`Results`; :func:`dumps` turns it into the canonical text: fields in record
order, floats rounded to :data:`SIGNIFICANT_DIGITS`, NaN and infinities as null, no timestamps
of the run itself. The same inputs therefore give byte-identical text on every backend.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Literal

from govsocial import __version__

SCHEMA = "govsocial.results/3"
SIGNIFICANT_DIGITS = 6  # floats are rounded so that backends' last-bit differences vanish
Severity = Literal["severe", "info"]
SEVERITIES: tuple[Severity, ...] = ("severe", "info")
NOMINATED, HELD = "nominated", "held for review"


@dataclass(frozen=True)
class Period:
    start: str  # ISO 8601, UTC, inclusive
    end: str  # exclusive


@dataclass(frozen=True)
class RunMethodology:
    id: str
    edition: str
    version: str
    sha256: str
    champion_rule: str
    period: Period


@dataclass(frozen=True)
class DataInfo:
    fingerprint: str
    posts_in_scope: int


@dataclass(frozen=True)
class Stability:
    """How the stability analysis was made (govsocial/awards/stability.py)."""

    method: str  # "bootstrap over weeks"
    replicates: int  # resampled years
    seed: int  # of the generator, from the run id
    weeks: int  # weeks of the period, drawn with replacement in each replicate
    interval: list[float]  # the percentiles of a rank interval: [0.025, 0.975]
    stays: float  # a nominee is sure when a nominee in at least this share of replicates
    enters: float  # the first non-nominee, when a nominee in at most this share


@dataclass(frozen=True)
class Title:
    id: str  # Indonesian
    en: str


@dataclass(frozen=True)
class ComponentWeight:
    metric: str
    weight: float


@dataclass(frozen=True)
class ComponentScore:
    metric: str
    weight: float
    percentile: float
    contribution: float


@dataclass(frozen=True)
class MetricValue:
    value: float
    percentile: float


@dataclass(frozen=True)
class PlatformScore:
    platform: str
    rank: int
    of: int
    score: float
    posts: int
    active_weeks: int
    followers: int
    followers_source: Mapping[str, int]
    components: Mapping[str, MetricValue]


@dataclass(frozen=True)
class TopPost:
    post_id: int
    platform: str
    platform_post_id: str
    url: str | None
    posted_at: str
    media_type: str
    interactions: int
    engagement_rate: float | None
    expected: float
    overperformance: float


@dataclass(frozen=True)
class ThemeTerm:
    term: str
    posts: int


@dataclass(frozen=True)
class ThemedPost:
    post_id: int
    platform: str
    platform_post_id: str
    url: str | None
    posted_at: str
    media_type: str
    interactions: int
    themes: tuple[str, ...]
    terms: tuple[str, ...]


@dataclass(frozen=True)
class ThemeEvidence:
    posts: int
    terms: tuple[ThemeTerm, ...]
    examples: tuple[ThemedPost, ...]


@dataclass(frozen=True)
class Flag:
    account_id: int
    platform: str
    handle: str | None
    flag: str
    severity: Severity
    detail: str


@dataclass(frozen=True)
class Nominee:
    rank: int
    institution_id: str
    institution_name: str
    account_id: int | None  # account units only
    platform: str | None
    handle: str | None
    score: float
    components: tuple[ComponentScore, ...]
    platforms: tuple[PlatformScore, ...]
    posts: int
    followers: int
    interactions: int
    top_posts: tuple[TopPost, ...]
    theme: ThemeEvidence | None  # themed categories: which posts, which terms
    flags: tuple[Flag, ...]
    stability: float  # share of resampled years in which it is a nominee
    rank_interval: tuple[int, int]  # 2.5% and 97.5% percentiles of its rank in them


@dataclass(frozen=True)
class HeldNominee(Nominee):
    """A unit ranked within the nominee places whose accounts have a severe flag."""

    reason: str  # each severe flag, its account and its detail


@dataclass(frozen=True)
class Challenger:
    """An eligible non-nominee (no severe flag) that may take a nominee place."""

    place: int  # after the nominees: nominees + 1 is the first non-nominee
    rank: int
    institution_id: str
    institution_name: str
    account_id: int | None
    handle: str | None
    stability: float
    rank_interval: tuple[int, int]


@dataclass(frozen=True)
class Certainty:
    clear: bool
    statement: str
    places: tuple[int, ...]  # the places that are not sure; empty when clear
    challengers: tuple[Challenger, ...]


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    cluster_name: str
    considered: int
    eligible: int
    ineligible: Mapping[str, int]
    note: str | None
    nominees: tuple[Nominee, ...]
    held: tuple[HeldNominee, ...]
    certainty: Certainty


@dataclass(frozen=True)
class Category:
    id: str
    title: Title
    unit: str
    media_types: tuple[str, ...]
    components: tuple[ComponentWeight, ...]
    notes: tuple[str, ...]
    clusters: tuple[Cluster, ...]


@dataclass(frozen=True)
class Standing:
    position: int  # 1 = first; institutions the rule cannot separate share a position
    institution_id: str
    institution_name: str
    nominations: int  # categories in which the institution has a nominee (each at most once)
    first_places: int  # categories in which it holds the first nominee place
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Champion:
    rule: str
    decided: bool
    institution_id: str | None
    explanation: str
    standings: tuple[Standing, ...]


@dataclass(frozen=True)
class Results:
    schema: str
    run_id: str
    synthetic_data: bool
    methodology: RunMethodology
    data: DataInfo
    stability: Stability
    code_version: str
    categories: tuple[Category, ...]
    champion: Champion


RECORDS: tuple[type, ...] = (
    Results,
    RunMethodology,
    Period,
    DataInfo,
    Stability,
    Category,
    Title,
    ComponentWeight,
    Cluster,
    Certainty,
    Challenger,
    Nominee,
    HeldNominee,
    ComponentScore,
    PlatformScore,
    MetricValue,
    TopPost,
    ThemeEvidence,
    ThemeTerm,
    ThemedPost,
    Flag,
    Champion,
    Standing,
)


def run_id(methodology_sha256: str, data_fingerprint: str, code_version: str = __version__) -> str:
    """Same methodology file + same data loaded + same code (and results schema) = same run
    id. The schema is part of it so that a document of a new shape never hides behind the id
    of a run kept with the old one."""
    text = f"{methodology_sha256}\n{data_fingerprint}\n{code_version}\n{SCHEMA}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_json(value: object) -> Any:
    """A record as JSON values: fields in declaration order, tuples as lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    return value


def clean(value: Any) -> Any:
    """Round floats to SIGNIFICANT_DIGITS, NaN/inf to None, recursively."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def dumps(document: Results | Mapping[str, Any]) -> str:
    """The canonical text: the same document always gives the same bytes (and a document
    read back from that text gives the same text again)."""
    return (
        json.dumps(clean(as_json(document)), ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    )


NOMINEE_COLUMNS = (
    "category",
    "cluster",
    "rank",
    "status",
    "institution_id",
    "institution_name",
    "account_id",
    "platform",
    "handle",
    "score",
    "posts",
    "followers",
    "flags",
    "theme_posts",
    "theme_terms",
)


def nominee_rows(document: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """One row per nominee, and per unit held for review, in rank order and
    :data:`NOMINEE_COLUMNS` order (for CSV and spreadsheets). ``status`` is "nominated" or
    "held for review"; ``theme_posts`` and ``theme_terms`` (its most frequent matched terms)
    are empty outside themed categories. Reads documents of schemas 1 and 2 too (no ``held``,
    no ``theme``)."""
    rows = []
    for category in document["categories"]:
        for cluster in category["clusters"]:
            units = [(n, NOMINATED) for n in cluster["nominees"]]
            units += [(n, HELD) for n in cluster.get("held", [])]
            for n, status in sorted(units, key=lambda unit: int(unit[0]["rank"])):
                rows.append(
                    (
                        category["id"],
                        cluster["cluster_id"],
                        n["rank"],
                        status,
                        n["institution_id"],
                        n["institution_name"],
                        n.get("account_id"),
                        n.get("platform"),
                        n.get("handle"),
                        n["score"],
                        n["posts"],
                        n["followers"],
                        ";".join(sorted({f["flag"] for f in n["flags"]})),
                        (n.get("theme") or {}).get("posts"),
                        ";".join(t["term"] for t in (n.get("theme") or {}).get("terms", [])),
                    )
                )
    return rows
