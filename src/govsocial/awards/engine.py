"""Run a methodology over the warehouse: cube → units → ranking → nominees with evidence.

The rules applied here, after ranking (documented in docs/methodology-engine.md):

- **Held for review.** A unit whose accounts carry a *severe* flag (counts implausible against
  the audience, see :func:`severity`) is never silently nominated: it is listed in its
  cluster's ``held`` with the flag and why, and the next eligible unit takes its place.
- **Champion.** The standings count each institution once per category, whatever the number
  of its units (accounts) nominated there, and follow the methodology's ``champion_rule``.
- **Notes** say what happened, and a note about a metric goes only to the categories that
  score that metric.

The results are typed records (:mod:`govsocial.awards.results`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa

from govsocial import __version__
from govsocial.awards.methodology import Category as CategoryRule
from govsocial.awards.methodology import Methodology
from govsocial.awards.ranking import ClusterRanking, UnitScore, rank
from govsocial.awards.results import (
    SCHEMA,
    Category,
    Certainty,
    Challenger,
    Champion,
    Cluster,
    ComponentScore,
    ComponentWeight,
    DataInfo,
    Flag,
    HeldNominee,
    MetricValue,
    Nominee,
    Period,
    PlatformScore,
    Results,
    RunMethodology,
    Severity,
    Stability,
    Standing,
    ThemedPost,
    ThemeEvidence,
    ThemeTerm,
    Title,
    TopPost,
    dumps,
    run_id,
)
from govsocial.awards.stability import (
    ENTERS,
    INTERVAL,
    METHOD,
    REPLICATES,
    STAYS,
    Certainties,
    UnitCertainty,
    bootstrap,
    seed_of,
    verdict,
)
from govsocial.awards.units import build_units, cube_columns, follower_bounds
from govsocial.compute.backend import open_backend
from govsocial.errors import MethodologyError
from govsocial.metrics.catalogue import COLLABORATION_METRICS, METRICS
from govsocial.metrics.cube import ThemeFilter, cached_cube, follower_snapshots
from govsocial.metrics.evidence import account_flags, themed_posts, top_posts
from govsocial.metrics.formulas import weeks_in_period
from govsocial.store import Warehouse
from govsocial.store.cubecache import CubeCache, CubeCacheUpdate
from govsocial.store.lookup import AccountInfo, accounts, cluster_names, institution_names
from govsocial.store.runs import data_fingerprint
from govsocial.store.summary import is_synthetic
from govsocial.words import count

# Flags without a ``severity`` are severe when their name starts with this: counts implausible
# against the account's audience. Any other flag is information for the jury.
SEVERE_PREFIX = "implausible_"

_TROPHIES = (
    "The champion is the institution that wins the most trophies: categories won, decided by "
    "the jury among the nominees. Before the jury nobody has a trophy, so no champion is named: "
    "the standings list the institutions that can still win, by the trophies within their reach "
    "(nominations: one per category in which the institution has a nominee, however many of "
    "its accounts are nominated there), then by first places (categories in which it holds the "
    "first nominee place)."
)
_NOMINATIONS = (
    "The champion is the institution with the most nominations (one per category in which the "
    "institution has a nominee, however many of its accounts are nominated there), then the "
    "most first places (categories in which it holds the first nominee place)."
)
# What each champion rule means; the engine applies exactly these.
CHAMPION_RULES = {"most_trophies": _TROPHIES, "most_nominations": _NOMINATIONS}

Rankings = dict[str, tuple[dict[str, ClusterRanking], list[str]]]
Flags = dict[int, tuple[Flag, ...]]


@dataclass(frozen=True)
class AwardRun:
    run_id: str
    results: Results
    text: str  # canonical JSON of results
    seconds: float
    data_fingerprint: str
    # The cube weeks this run computed, to keep for the next (store.cubecache.save_cube_cache;
    # awards.runs.keep_run does); None when nothing is to be kept (Spark, or use_cache=False).
    cube_cache: CubeCacheUpdate | None = None
    # What the published read model (publish/) is built from: every category's ranking of
    # every eligible unit, the cube the run summed, and its units' accounts.
    rankings: Rankings | None = field(default=None, repr=False, compare=False)
    cube: pa.Table | None = field(default=None, repr=False, compare=False)
    selections: dict[tuple[str, str], Selection] | None = field(
        default=None, repr=False, compare=False
    )

    @cached_property
    def document(self) -> dict[str, Any]:
        """The results as JSON values, exactly as in :attr:`text`."""
        parsed: dict[str, Any] = json.loads(self.text)
        return parsed


@dataclass(frozen=True)
class Selection:
    """The nominees of one category × cluster, and the units held for review."""

    nominees: list[UnitScore]
    held: list[tuple[UnitScore, tuple[Flag, ...]]]  # with their severe flags


def run_awards(
    wh: Warehouse,
    m: Methodology,
    engine: str = "duckdb",
    step: Callable[[str], None] | None = None,
    replicates: int = REPLICATES,
    use_cache: bool = True,
) -> AwardRun:
    """``replicates``: resampled years of the stability analysis (awards/stability.py).

    ``use_cache``: reuse the cube weeks the warehouse keeps whose data has not changed
    (metrics/cube.py, ``cached_cube``; the results are the same either way); the weeks
    computed are in the run's ``cube_cache``, for :func:`govsocial.awards.runs.keep_run`.
    """
    started = time.perf_counter()
    check_champion_rule(m)  # before the heavy pass, not after it
    say = step or (lambda _: None)
    fingerprint = data_fingerprint(wh)
    themes = {
        c.id: ThemeFilter(
            f"theme_{i}",
            c.theme.hashtags,
            c.theme.keywords,
            c.theme.names,
            themes_current(wh) if c.theme.names else "",
        )
        for i, c in enumerate(m.categories)
        if c.theme is not None
    }
    info = accounts(wh)
    with open_backend(wh, engine) as backend:
        say("Summarising posts")
        counted = any(
            c.metric in COLLABORATION_METRICS for cat in m.categories for c in cat.components
        )
        summed = cached_cube(
            backend,
            m,
            list(themes.values()),
            CubeCache(wh) if use_cache else None,
            collaborations=counted,
        )
        cube = summed.table
        followers = follower_bounds(follower_snapshots(backend, m), m)
        say("Ranking")
        flags = _typed_flags(account_flags(cube), info)
        rankings: Rankings = {}
        columns = cube_columns(cube)
        for category in m.categories:
            theme = themes.get(category.id)
            theme_column = theme.name if theme else None
            units = build_units(columns, followers, m, category, theme_column, info)
            rankings[category.id] = (rank(units, category, m), units.notes)
        selections = {
            (category.id, cluster): select_nominees(
                ranking.eligible,
                category.nominees,
                lambda unit: _severe(flags, _accounts_of(unit, info)),
            )
            for category in m.categories
            for cluster, ranking in rankings[category.id][0].items()
        }
        say("Collecting evidence")
        wanted = {
            account
            for chosen in selections.values()
            for unit in [*chosen.nominees, *(held for held, _ in chosen.held)]
            for account in _accounts_of(unit, info)
        }
        evidence = top_posts(backend, m, sorted(wanted), cube) if wanted else None
        themed = {
            category.id: _by_account(
                themed_posts(
                    backend,
                    m,
                    themes[category.id],
                    sorted(
                        {
                            account
                            for (chosen_category, _), chosen in selections.items()
                            if chosen_category == category.id
                            for unit in [*chosen.nominees, *(held for held, _ in chosen.held)]
                            for account in _accounts_of(unit, info)
                        }
                    ),
                )
            )
            for category in m.categories
            if category.id in themes
        }
    say("Measuring how sure each ranking is")
    the_run_id = run_id(m.sha256, fingerprint)
    seed = seed_of(the_run_id)
    certainties = bootstrap(
        columns,
        followers,
        m,
        {category: theme.name for category, theme in themes.items()},
        info,
        {c: {k: r.eligible for k, r in by.items()} for c, (by, _) in rankings.items()},
        lambda unit: bool(_severe(flags, _accounts_of(unit, info))),
        replicates,
        seed,
    )
    posts_in_scope = int(np.asarray(cube.column("n")).sum()) if len(cube) else 0
    categories = _categories(
        wh, m, rankings, selections, info, flags, evidence, themed, certainties, replicates
    )
    results = Results(
        schema=SCHEMA,
        run_id=the_run_id,
        synthetic_data=is_synthetic(wh),
        methodology=RunMethodology(
            m.id,
            m.edition,
            m.version,
            m.sha256,
            m.champion_rule,
            Period(m.period_start.isoformat(), m.period_end.isoformat()),
        ),
        data=DataInfo(fingerprint, posts_in_scope),
        stability=Stability(
            METHOD, replicates, seed, weeks_in_period(m), list(INTERVAL), STAYS, ENTERS
        ),
        code_version=__version__,
        categories=categories,
        champion=champion(m.champion_rule, categories),
    )
    text = dumps(results)
    return AwardRun(
        results.run_id,
        results,
        text,
        time.perf_counter() - started,
        fingerprint,
        summed.update,
        rankings,
        cube,
        selections,
    )


# ---------------------------------------------------------------- held for review


def themes_current(wh: Warehouse) -> str:
    """The fingerprint of the shipped theme files, once every post's theme tags are current
    with them; a MethodologyError saying how to bring them up to date otherwise (the run reads
    the warehouse only: `govsocial awards run` tags new posts itself before it computes)."""
    from govsocial.store.text import unread_posts
    from govsocial.text.themes import load_themes
    from govsocial.text.update import themes_fingerprint

    sha = themes_fingerprint(load_themes())
    stale = unread_posts(wh, sha)
    if stale:
        raise MethodologyError(
            f"{stale:,} posts are not yet tagged with the current theme files, which a themed "
            "category of this methodology reads. Run `govsocial text update` (or `govsocial "
            "awards run`, which does it first), then run again."
        )
    return sha


def severity(flag: Mapping[str, object]) -> Severity:
    """A flag's severity: its ``severity`` when it has one, else severe for the names that
    start with :data:`SEVERE_PREFIX`. An unknown severity counts as severe: a unit is held for
    review rather than nominated on a flag nobody can read."""
    given = flag.get("severity")
    if given is None:
        return "severe" if str(flag["flag"]).startswith(SEVERE_PREFIX) else "info"
    return "info" if given == "info" else "severe"


def select_nominees(
    eligible: Sequence[UnitScore],
    wanted: int,
    severe_flags: Callable[[UnitScore], tuple[Flag, ...]],
) -> Selection:
    """The first ``wanted`` eligible units in rank order that have no severe flag. A unit with
    one is held for review when it would otherwise have taken a nominee place (the next
    eligible unit takes it instead); units ranked below the last place are not looked at."""
    chosen = Selection([], [])
    for unit in eligible:
        if len(chosen.nominees) == wanted:
            break
        severe = severe_flags(unit)
        if severe:
            chosen.held.append((unit, severe))
        else:
            chosen.nominees.append(unit)
    return chosen


def _severe(flags: Flags, owned: list[int]) -> tuple[Flag, ...]:
    return tuple(f for a in owned for f in flags.get(a, ()) if f.severity == "severe")


def _typed_flags(
    raw: Mapping[int, Sequence[Mapping[str, object]]], info: dict[int, AccountInfo]
) -> Flags:
    known = {"flag", "detail", "severity"}
    typed: Flags = {}
    for account, items in sorted(raw.items()):
        for item in items:
            if set(item) - known or not {"flag", "detail"} <= set(item):
                raise TypeError(  # a programming error: evidence and results disagree
                    f"flag {item!r}: results.Flag holds flag, detail and severity; add new "
                    "fields to govsocial/awards/results.py and docs/results-schema.md"
                )
            where = info.get(account)
            flag = Flag(
                account,
                where.platform if where else "",
                where.handle if where else None,
                str(item["flag"]),
                severity(item),
                str(item["detail"]),
            )
            typed[account] = (*typed.get(account, ()), flag)
    return typed


def _held_reason(severe: tuple[Flag, ...]) -> str:
    def account(f: Flag) -> str:
        name = f"@{f.handle}" if f.handle else f"account {f.account_id}"
        return f"{name} ({f.platform})"

    reasons = "; ".join(f"{f.flag} on {account(f)}: {f.detail}" for f in severe)
    return (
        f"Held for review, not nominated: {reasons}. A person checks the counts; if they "
        "are genuine the unit regains its place."
    )


# ---------------------------------------------------------------- notes


def cluster_note(considered: int, eligible: int, wanted: int, chosen: Selection) -> str | None:
    """What happened in a cluster when it did not simply get ``wanted`` nominees."""
    if considered == 0:
        return "No units of this cluster have posts in this category's scope: no nominees."
    if eligible == 0:
        return (
            f"None of the {count(considered, 'unit')} with posts is eligible "
            "(see 'ineligible'): no nominees."
        )
    sentences = []
    if chosen.held:
        held_ranks = [unit.rank for unit, _ in chosen.held]
        stand_ins = [unit.rank for unit in chosen.nominees if unit.rank > wanted]
        sentences.append(
            f"Held for review (a severe flag, see 'held'): {_ranks(held_ranks)}."
            + (
                f" Nominated in {'its' if len(held_ranks) == 1 else 'their'} place: "
                f"the next eligible, {_ranks(stand_ins)}."
                if stand_ins
                else ""
            )
        )
    nominated = len(chosen.nominees)
    if nominated < wanted:
        held = f", {len(chosen.held)} of them held for review" if chosen.held else ""
        sentences.append(
            f"{count(nominated, 'nominee')} instead of {wanted}: only {eligible} of the "
            f"{count(considered, 'unit')} with posts {'is' if eligible == 1 else 'are'} "
            f"eligible (see 'ineligible'){held}."
        )
    return " ".join(sentences) or None


def _ranks(ranks: list[int]) -> str:
    if len(ranks) == 1:
        return f"rank {ranks[0]}"
    return f"ranks {', '.join(map(str, ranks[:-1]))} and {ranks[-1]}"


def category_notes(notes: Sequence[str], category: CategoryRule) -> tuple[str, ...]:
    """The unit table's notes that concern this category: a note that begins with a metric's
    name (e.g. "engagement_rate not shrunk ...") goes only to categories scoring that metric;
    any other note concerns every category built from the table."""
    scored = {c.metric for c in category.components}
    return tuple(
        sorted({n for n in notes if (metric := _metric_of(n)) is None or metric in scored})
    )


def _metric_of(note: str) -> str | None:
    word = note.split(" ", 1)[0]
    return word if word in METRICS else None


# ---------------------------------------------------------------- champion


def check_champion_rule(m: Methodology) -> None:
    if m.champion_rule not in CHAMPION_RULES:
        raise MethodologyError(
            f"{m.source}: champion_rule {m.champion_rule!r} cannot be applied by this version "
            f"of govsocial. Fix: set champion_rule to one of {', '.join(CHAMPION_RULES)}."
        )


def champion(rule: str, categories: Sequence[Category]) -> Champion:
    """Standings of the institutions with nominees, and the champion when the rule can name
    one before the jury (``most_nominations``: a sole leader; ``most_trophies`` never)."""
    if rule not in CHAMPION_RULES:
        raise MethodologyError(
            f"champion_rule {rule!r} cannot be applied by this version of govsocial. "
            f"Fix: set champion_rule to one of {', '.join(CHAMPION_RULES)}."
        )
    nominated: dict[str, set[str]] = {}
    first: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for category in categories:
        for cluster in category.clusters:
            for place, nominee in enumerate(cluster.nominees):
                institution = nominee.institution_id
                names[institution] = nominee.institution_name
                nominated.setdefault(institution, set()).add(category.id)
                first.setdefault(institution, set())
                if place == 0:
                    first[institution].add(category.id)

    def merit(institution: str) -> tuple[int, int]:
        return len(nominated[institution]), len(first[institution])

    ordered = sorted(nominated, key=lambda i: (tuple(-x for x in merit(i)), i))
    standings = tuple(
        Standing(
            1 + sum(1 for other in ordered if merit(other) > merit(institution)),
            institution,
            names[institution],
            len(nominated[institution]),
            len(first[institution]),
            tuple(sorted(nominated[institution])),
        )
        for institution in ordered
    )
    leaders = [s for s in standings if s.position == 1]
    explanation = CHAMPION_RULES[rule]
    decided = rule == "most_nominations" and len(leaders) == 1
    if not standings:
        explanation += " No institution has a nominee."
    elif rule == "most_nominations" and not decided:
        tied = ", ".join(s.institution_name for s in leaders)
        explanation += (
            f" {tied} tie on nominations and first places: the rule does not separate them, "
            "so no champion is named."
        )
    return Champion(
        rule, decided, leaders[0].institution_id if decided else None, explanation, standings
    )


# ---------------------------------------------------------------- the document


def _accounts_of(unit: UnitScore, info: dict[int, AccountInfo]) -> list[int]:
    """The accounts behind a unit's eligible platforms: their flags are the unit's, their
    posts its evidence."""
    if unit.account >= 0:
        return [unit.account]
    if unit.accounts:  # as the ranking combined them (e.g. only the main account)
        return list(unit.accounts)
    platforms = {p["platform"] for p in unit.platforms}
    return sorted(
        a.account_id
        for a in info.values()
        if a.institution_id == unit.institution and a.platform in platforms
    )


def _categories(
    wh: Warehouse,
    m: Methodology,
    rankings: Rankings,
    selections: dict[tuple[str, str], Selection],
    info: dict[int, AccountInfo],
    flags: Flags,
    evidence: pa.Table | None,
    themed: dict[str, dict[int, list[dict[str, Any]]]],
    certainties: Certainties,
    replicates: int,
) -> tuple[Category, ...]:
    names = institution_names(wh)
    clusters = cluster_names(wh)
    posts = _evidence_by_account(evidence)
    unknown = UnitCertainty(float("nan"), (0, 0))

    def record(unit: UnitScore, category: CategoryRule) -> Nominee:
        sure = certainties.get((category.id, unit.cluster), {}).get(unit.unit, unknown)
        return _nominee(unit, category, names, info, posts, themed.get(category.id), flags, sure)

    categories = []
    for category in m.categories:
        by_cluster, notes = rankings[category.id]
        cluster_records = []
        for cluster_id in m.clusters:
            ranking = by_cluster.get(cluster_id, ClusterRanking(cluster_id, 0, []))
            chosen = selections.get((category.id, cluster_id), Selection([], []))
            held = tuple(
                HeldNominee(
                    **{f.name: getattr(base, f.name) for f in fields(base)},
                    reason=_held_reason(severe),
                )
                for unit, severe in chosen.held
                for base in [record(unit, category)]
            )
            sure = certainties.get((category.id, cluster_id), {})
            picked = {u.unit for u in chosen.nominees} | {u.unit for u, _ in chosen.held}
            outsiders = [
                u
                for u in ranking.eligible
                if u.unit not in picked and not _severe(flags, _accounts_of(u, info))
            ]
            nominee_records = tuple(record(unit, category) for unit in chosen.nominees)
            challengers = [
                (place, u, sure[u.unit])
                for place, u in enumerate(outsiders, start=len(chosen.nominees) + 1)
                if u.unit in sure
                and (place == len(chosen.nominees) + 1 or sure[u.unit].stability > ENTERS)
            ]
            judged = verdict(
                [n.stability for n in nominee_records],
                [sure[u.unit].stability for u in outsiders if u.unit in sure],
                replicates,
            )
            certainty = Certainty(
                judged.clear,
                judged.statement,
                judged.places,
                tuple(
                    Challenger(
                        place,
                        u.rank,
                        u.institution,
                        names.get(u.institution, u.institution),
                        u.account if u.account >= 0 else None,
                        info[u.account].handle if u.account in info else None,
                        c.stability,
                        c.rank_interval,
                    )
                    for place, u, c in challengers
                ),
            )
            cluster_records.append(
                Cluster(
                    cluster_id=cluster_id,
                    cluster_name=clusters.get(cluster_id, (cluster_id, None))[0],
                    considered=ranking.considered,
                    eligible=len(ranking.eligible),
                    ineligible=dict(sorted(ranking.ineligible_reasons.items())),
                    note=cluster_note(
                        ranking.considered, len(ranking.eligible), category.nominees, chosen
                    ),
                    nominees=nominee_records,
                    held=held,
                    certainty=certainty,
                )
            )
        categories.append(
            Category(
                id=category.id,
                title=Title(category.title_id, category.title_en),
                unit=category.unit,
                media_types=category.media_types,
                components=tuple(ComponentWeight(c.metric, c.weight) for c in category.components),
                notes=category_notes(notes, category),
                clusters=tuple(cluster_records),
            )
        )
    return tuple(categories)


def _nominee(
    unit: UnitScore,
    category: CategoryRule,
    names: dict[str, str],
    info: dict[int, AccountInfo],
    posts: dict[int, list[TopPost]],
    themed: dict[int, list[dict[str, Any]]] | None,
    flags: Flags,
    sure: UnitCertainty,
) -> Nominee:
    owned = _accounts_of(unit, info)
    account = info[unit.account] if unit.account >= 0 else None
    media = set(category.media_types)
    candidates = [p for a in owned for p in posts.get(a, []) if not media or p.media_type in media]
    candidates.sort(key=lambda p: (-p.overperformance, -p.interactions, p.post_id))
    return Nominee(
        rank=unit.rank,
        institution_id=unit.institution,
        institution_name=names.get(unit.institution, unit.institution),
        account_id=unit.account if account else None,
        platform=account.platform if account else None,
        handle=account.handle if account else None,
        score=unit.score,
        components=tuple(ComponentScore(**_exactly(ComponentScore, c)) for c in unit.components),
        platforms=tuple(_platform(p) for p in unit.platforms),
        posts=int(unit.posts),
        followers=int(unit.followers),
        interactions=int(unit.interactions),
        top_posts=tuple(candidates[:3]),
        theme=None if themed is None else _theme_evidence(themed, owned, media),
        flags=tuple(f for a in owned for f in flags.get(a, ())),
        stability=sure.stability,
        rank_interval=sure.rank_interval,
    )


THEME_TERMS = 10  # the most frequent matched terms shown per nominee
THEME_EXAMPLES = 3  # its themed posts with most interactions


def _theme_evidence(
    themed: dict[int, list[dict[str, Any]]], accounts: list[int], media: set[str]
) -> ThemeEvidence:
    """A unit's themed posts (of the category's media types): how many, the terms that
    matched most of them, and the ones with most interactions."""
    posts = [
        p for a in accounts for p in themed.get(a, []) if not media or p["media_type"] in media
    ]
    counted = Counter(term for p in posts for term in p["terms"])
    terms = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:THEME_TERMS]
    examples = sorted(posts, key=lambda p: (-p["interactions"], p["post_id"]))[:THEME_EXAMPLES]
    return ThemeEvidence(
        posts=len(posts),
        terms=tuple(ThemeTerm(term, n) for term, n in terms),
        examples=tuple(
            ThemedPost(
                **{
                    **p,
                    "posted_at": p["posted_at"].isoformat(),
                    "themes": tuple(p["themes"]),
                    "terms": tuple(p["terms"]),
                }
            )
            for p in examples
        ),
    )


def _by_account(posts: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for post in posts:
        grouped.setdefault(int(post.pop("account_id")), []).append(post)
    return grouped


def _platform(row: Mapping[str, Any]) -> PlatformScore:
    values = _exactly(PlatformScore, row)
    values["components"] = {
        metric: MetricValue(**_exactly(MetricValue, value))
        for metric, value in row["components"].items()
    }
    return PlatformScore(**values)


def _exactly(record: type, row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` as the keyword arguments of ``record``; its keys must be the record's fields,
    so that nothing computed is silently left out of (or missing from) the document."""
    names = [f.name for f in fields(record)]
    if set(row) != set(names):
        raise TypeError(  # a programming error: ranking/evidence and results disagree
            f"results.{record.__name__} has fields {', '.join(names)} but got "
            f"{', '.join(row)}: add new fields to govsocial/awards/results.py and "
            "docs/results-schema.md"
        )
    return dict(row)


def _evidence_by_account(evidence: pa.Table | None) -> dict[int, list[TopPost]]:
    result: dict[int, list[TopPost]] = {}
    if evidence is None:
        return result
    for row in evidence.to_pylist():
        account = int(row.pop("account_id"))
        row["posted_at"] = row["posted_at"].isoformat()
        result.setdefault(account, []).append(TopPost(**_exactly(TopPost, row)))
    return result
