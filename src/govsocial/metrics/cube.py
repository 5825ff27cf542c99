"""The one heavy pass: post facts summed into a small cube of additive measures.

Grouped by account × media type × repost × week (× theme flags), the cube holds sums and
counts from which every metric of every category is derived exactly (means, shares, log-scale
variances), so the posts are scanned once per run whatever the number of categories. A year
of 1,000 accounts is at most a few hundred thousand cube rows, however many posts.

**Incremental runs** (:func:`cached_cube`): the cube is kept in the warehouse per *scope* and
week (:mod:`govsocial.store.cubecache`). The scope is everything the cube depends on besides
the posts: the methodology's scope fields, the theme filters, the registry's assignments of
accounts to institutions and clusters (with their handles, which mentions name), and the code
(govsocial's version and the source of the metrics and compute stages). Each week has a
*fingerprint*: a hash of its posts, of the follower readings they can use and of whether
their hashtags are shared with another institution over the period (:func:`week_fingerprints`),
and a post's new counts arrive as new ``post_metrics`` rows (:func:`metrics_changes`). A run
finds the changed weeks in two cheap
scans, reuses the kept rows of the others, runs the heavy pass only over the posts of the
changed weeks, and gives back the cube :func:`compute_cube` gives: the same rows in the same
order, each summed over the same posts. (DuckDB adds floating-point sums in parallel, so on
large warehouses the last bit of a sum can differ between any two passes, full or not; the
results document, rounded to 6 significant digits, is the same.)
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.compute as pc

import govsocial
from govsocial.metrics.evidence import cube_measures
from govsocial.metrics.facts import (
    DAY_SECONDS,
    TIMESTAMP,
    WEEK_SECONDS,
    collaboration,
    hashtag_users,
    post_facts,
)
from govsocial.metrics.formulas import weeks_in_period
from govsocial.metrics.scope import Scope
from govsocial.store.cubecache import CubeCache, CubeCacheUpdate, CubeWeek, MetricsState
from govsocial.vocabulary import COUNT_COLUMNS

if TYPE_CHECKING:
    from govsocial.compute.backend import Backend, Column, Table

KEYS = ("account_id", "institution_id", "cluster_id", "platform", "media_type", "is_repost", "week")


@dataclass(frozen=True)
class ThemeFilter:
    """Posts tagged with any of the theme files ``themes`` (``post_themes``, written by the
    text stage; ``themes_sha`` is their fingerprint), or matching any hashtag (as ``#tag`` in
    the text) or keyword (substring)."""

    name: str
    hashtags: tuple[str, ...]
    keywords: tuple[str, ...]
    themes: tuple[str, ...] = ()
    themes_sha: str = ""

    def expression(self, facts: Table, backend: Backend | None = None) -> Column:
        text = facts.text.fill_null("").lower()
        tests = []
        if self.hashtags:
            tests.append(text.re_search(self._hashtag_pattern()))
        tests += [text.contains(k.lower()) for k in self.keywords]
        if self.themes:
            if backend is None:
                raise ValueError("a filter of theme files needs the backend's post_themes")
            tagged = backend.table("post_themes")
            tagged = tagged.filter(tagged.theme.isin(list(self.themes)))
            tests.append(facts.post_id.isin(tagged.post_id))
        match = tests[0]
        for test in tests[1:]:
            match = match | test
        return match

    def _hashtag_pattern(self) -> str:
        tags = "|".join(re.escape(h.lower().lstrip("#")) for h in self.hashtags)
        return f"#({tags})([^a-z0-9_]|$)"

    def terms_in(self, text: str | None) -> dict[str, list[str]]:
        """The filter's own ``hashtags`` (as ``#tag``) and ``keywords`` that ``text`` holds,
        as :meth:`expression` tests them: the evidence of a match (theme files keep theirs in
        ``post_themes``). Kinds with nothing found are left out."""
        lowered = (text or "").lower()
        found = {
            "hashtags": sorted(
                {f"#{m.group(1)}" for m in re.finditer(self._hashtag_pattern(), lowered)}
            )
            if self.hashtags
            else [],
            "keywords": [k.lower() for k in self.keywords if k.lower() in lowered],
        }
        return {kind: terms for kind, terms in found.items() if terms}


def _one(condition: Column) -> Column:
    return ibis.ifelse(condition, 1, 0)


# Posts mentioning another institution's account, and posts carrying a hashtag another
# institution used (metrics/facts.py, ``collaboration``); NULL when not counted.
COLLABORATION_SUMS = ("n_mentions_other", "n_shared_hashtag")
# The additive measures: a unit's value is the sum over its cube rows (awards/units.py sums
# exactly these, the formulas read them). ``max_interactions`` is in the cube but not summed.
SUMS = (
    "n",
    "n_rated",
    "n_positive",
    "sum_rate",
    "sum_log_positive",
    "sum_log2_positive",
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
    *COLLABORATION_SUMS,
)


def cube_expression(
    backend: Backend,
    m: Scope,
    themes: Sequence[ThemeFilter] = (),
    weeks: Sequence[int] | None = None,
    users: Table | None = None,
    *,
    collaborations: bool = True,
) -> Table:
    """The cube as an expression; ``weeks``: only the posts of these weeks of the period;
    ``users``: the period's hashtag users (:func:`govsocial.metrics.facts.hashtag_users`),
    by default from the backend's posts (give them when those are only some weeks' posts).

    ``collaborations``: whether to count the posts that mention or share a hashtag with
    another institution (:data:`COLLABORATION_SUMS`). They cost about half the pass again
    (0.8 s on 1.5 s at 1M posts); without them those sums are NULL, and a methodology with no
    collaboration metric (:data:`govsocial.metrics.catalogue.COLLABORATION_METRICS`) needs
    none."""
    facts = post_facts(backend, m)
    if weeks is not None:
        facts = facts.filter(_in_weeks(facts, m, weeks))
    if collaborations:
        facts = collaboration(backend, m, facts, users)
        counted = {
            "n_mentions_other": _one(facts.mentions_other).sum(),
            "n_shared_hashtag": _one(facts.shared_hashtag).sum(),
        }
    else:  # not counted: NULL, "not known" (a sum of NULLs), with the same columns
        facts = facts.mutate(_unknown=ibis.null("int64"))
        counted = {name: facts._unknown.sum() for name in COLLABORATION_SUMS}
    facts = facts.mutate(**{t.name: t.expression(facts, backend) for t in themes})
    rate = facts.engagement_rate
    # ln of the rates of posts with any interaction (NULL otherwise: ln is never taken of 0).
    # Zero-interaction posts are counted apart (n_rated - n_positive): the two-part model of
    # metrics/formulas.py needs no constant added to a rate.
    log_positive = ibis.ifelse(rate > 0, rate, ibis.null("float64")).ln()
    return facts.group_by([*KEYS, *(t.name for t in themes)]).aggregate(
        n=facts.count(),
        n_rated=rate.count(),
        n_positive=_one(rate > 0).sum(),
        sum_rate=rate.sum(),
        sum_log_positive=log_positive.sum(),
        sum_log2_positive=(log_positive * log_positive).sum(),
        interactions=facts.interactions.sum(),
        likes=facts.likes.fill_null(0).sum(),
        comments=facts.comments.fill_null(0).sum(),
        shares=facts.shares.fill_null(0).sum(),
        n_liked=_one(facts.likes > 0).sum(),
        n_commented=_one(facts.comments > 0).sum(),
        n_shared=_one(facts.shares > 0).sum(),
        n_viewed=facts.view_rate.count(),
        sum_view_rate=facts.view_rate.sum(),
        n_above_audience=_one(facts.interactions > facts.followers_at_post).sum(),
        **counted,
        max_interactions=facts.interactions.max(),
        **cube_measures(facts),  # what the flags read (metrics/evidence.py)
    )


def compute_cube(
    backend: Backend,
    m: Scope,
    themes: Sequence[ThemeFilter] = (),
    weeks: Sequence[int] | None = None,
    users: Table | None = None,
    *,
    collaborations: bool = True,
) -> pa.Table:
    """Run the pass on the backend; the cube comes back sorted by its keys (deterministic).

    ``weeks``: only the rows of these weeks (the posts of the others are not read, but for
    the hashtags other institutions used: ``users``, as :func:`cube_expression` says, as
    ``collaborations``).
    """
    expr = cube_expression(backend, m, themes, weeks, users, collaborations=collaborations)
    table: pa.Table = backend.to_arrow(expr.order_by(_keys(themes)))
    return table


def _keys(themes: Sequence[ThemeFilter]) -> list[str]:
    return [*KEYS, *(t.name for t in themes)]


def _week(posted_at: Column, m: Scope) -> Column:
    """The week of the period a time falls in (0 for the first), as post facts number it."""
    start_epoch = int(m.period_start.timestamp())
    return ((posted_at.epoch_seconds() - start_epoch) // WEEK_SECONDS).cast("int32")


def _in_weeks(facts: Table, m: Scope, weeks: Sequence[int]) -> Column:
    """Posts of these weeks: a time range per run of consecutive weeks (read from the posts
    table's own column, so that the engine skips the other posts before any join), and the
    week number itself, exactly as :func:`post_facts` computes it."""
    wanted = sorted(set(weeks))
    if not wanted:
        return ibis.literal(False)
    runs: list[list[int]] = []
    for week in wanted:
        if runs and week == runs[-1][1] + 1:
            runs[-1][1] = week
        else:
            runs.append([week, week])
    ranges = [
        (facts.posted_at >= _at(m, first)) & (facts.posted_at < _at(m, last + 1))
        for first, last in runs
    ]
    within = ranges[0]
    for other in ranges[1:]:
        within = within | other
    return within & facts.week.isin(wanted)


def _at(m: Scope, week: int) -> Column:
    return ibis.literal(_moment(m, week), type=TIMESTAMP)


def _moment(m: Scope, week: int) -> datetime:
    """The first instant of ``week`` (the period's end for the week after the last)."""
    return min(m.period_start + timedelta(seconds=week * WEEK_SECONDS), m.period_end)


# ---------------------------------------------------------------- incremental


@dataclass(frozen=True)
class CachedCube:
    """The cube (as :func:`compute_cube` gives it), the weeks computed from the posts this
    time, and what to keep for the next run (``None``: nothing, e.g. on Spark)."""

    table: pa.Table
    computed: tuple[int, ...]
    update: CubeCacheUpdate | None


# What of a post a cube row can read (and its text, when there are theme filters).
_POST_FIELDS = (
    "post_id",
    "account_id",
    "platform",
    "posted_at",
    "media_type",
    "is_repost",
    "is_reply_to_other",
)
# ... and its hashtags and mentions, when collaborations are counted.
_LISTS = ["hashtags", "mentions"]
_EMPTY_WEEK = hashlib.sha256(b"no posts").hexdigest()


def cached_cube(
    backend: Backend,
    m: Scope,
    themes: Sequence[ThemeFilter] = (),
    cache: CubeCache | None = None,
    *,
    collaborations: bool = True,
) -> CachedCube:
    """The cube of ``m``, computed only for the weeks whose data changed since ``cache``
    kept them; the others are the kept rows. The table :func:`compute_cube` gives (up to the
    order of floating-point additions: module docstring).

    A week is computed again when its fingerprint (:func:`week_fingerprints`: its posts and
    the follower readings they can use) differs from the kept one, or when a post of the week
    got a count reading since the kept weeks were computed (:func:`metrics_changes`).

    On DuckDB only: on Spark (the relations are exported to Parquet for every run anyway, and
    its hash functions differ) the whole cube is computed and nothing is kept. The cache is
    only read here (a read-only warehouse is fine); keep ``update`` with
    :func:`govsocial.store.cubecache.save_cube_cache`.

    ``collaborations``: as :func:`cube_expression` says; a cube without them is a scope of
    its own (never given for one with them).
    """
    weeks = weeks_in_period(m)
    if cache is None or backend.engine != "duckdb":
        full = compute_cube(backend, m, themes, collaborations=collaborations)
        return CachedCube(full, tuple(range(weeks)), None)
    scope = scope_record(backend, m, themes, collaborations=collaborations)
    scope_hash = hashlib.sha256(scope.encode()).hexdigest()
    now = week_fingerprints(backend, m, themes, collaborations=collaborations)
    metrics, recounted = metrics_changes(backend, m, cache.metrics_state(scope_hash))
    kept = cache.fingerprints(scope_hash) if recounted is not None else {}
    same = [w for w in range(weeks) if kept.get(w) == now[w] and w not in (recounted or ())]
    reused = cache.rows(scope_hash, same)
    schemas = {week.rows.schema for week in reused.values()}
    if len(schemas) > 1:  # kept by other code: impossible unless the tables were edited
        reused = {}
    stale = [w for w in range(weeks) if w not in reused]
    fresh = None
    if stale:
        if len(stale) == weeks:
            fresh = compute_cube(backend, m, themes, collaborations=collaborations)
        else:
            users = hashtag_users(backend, m)  # of the whole period, not the weeks'
            part = _of_weeks(backend, m, stale)
            fresh = compute_cube(part, m, themes, stale, users, collaborations=collaborations)
        if schemas and schemas != {fresh.schema}:
            reused, stale = {}, list(range(weeks))
            fresh = compute_cube(backend, m, themes, collaborations=collaborations)
    computed = tuple(CubeWeek(w, now[w], _rows_of(fresh, w)) for w in stale if fresh is not None)
    update = CubeCacheUpdate(scope_hash, scope, weeks, metrics, computed)
    if not reused and fresh is not None:
        return CachedCube(fresh, tuple(stale), update)
    parts = [*([fresh] if fresh is not None else []), *(reused[w].rows for w in sorted(reused))]
    table = pa.concat_tables(parts).sort_by([(key, "ascending") for key in _keys(themes)])
    return CachedCube(table, tuple(stale), update)


def _of_weeks(backend: Backend, m: Scope, weeks: Sequence[int]) -> Backend:
    """``backend`` with only the posts of these weeks, and their latest counts ranked from
    their own readings: ``post_metrics_latest`` ranks every reading of every post (seconds at
    10M posts), the same for a week as for the year. DuckDB only, as the cache."""
    posts = backend.table("posts")
    numbered = posts.mutate(week=_week(posts.posted_at, m))
    posts = numbered.filter(_in_weeks(numbered, m, weeks)).drop("week")
    readings = _post_metrics(backend)
    readings = readings.semi_join(posts, readings.post_id == posts.post_id)
    newest = ibis.row_number().over(group_by=readings.post_id, order_by=ibis.desc("captured_at"))
    latest = readings.mutate(_newest=newest)
    latest = latest.filter(latest._newest == 0).drop("_newest")
    return backend.with_tables({"posts": posts, "post_metrics_latest": latest})


def _rows_of(cube: pa.Table, week: int) -> pa.Table:
    column = cube.column("week")
    return cube.filter(pc.equal(column, pa.scalar(week, column.type)))


def scope_record(
    backend: Backend, m: Scope, themes: Sequence[ThemeFilter], *, collaborations: bool = True
) -> str:
    """Everything the cube depends on besides the posts, as canonical JSON: the scope fields
    metrics read, the theme filters, whether collaborations are counted, a hash of the
    registry's assignments (account → institution → cluster, and its handles) and of the code
    that computes the cube."""
    accounts = backend.table("accounts")
    institutions = backend.table("institutions")
    owners = accounts.select("account_id", "institution_id", "platform", "handle_key").left_join(
        institutions.select("institution_id", "cluster_id"), "institution_id"
    )
    # The handles too: a post's mentions_other reads which institution a handle belongs to.
    owners = owners.select(
        "account_id", "institution_id", "cluster_id", "platform", "handle_key"
    ).order_by("account_id")
    registry = hashlib.sha256()
    for row in backend.to_arrow(owners).to_pylist():
        registry.update(json.dumps(row, sort_keys=True).encode())
    record = {
        "period": [m.period_start.isoformat(), m.period_end.isoformat()],
        "platforms": list(m.platforms),
        "clusters": list(m.clusters),
        "interactions_version": m.interactions_version,
        "max_follower_gap_days": m.max_follower_gap_days,
        "themes": [
            [t.name, list(t.hashtags), list(t.keywords), list(t.themes), t.themes_sha]
            for t in themes
        ],
        "collaborations": collaborations,
        "registry": registry.hexdigest(),
        "govsocial": govsocial.__version__,
        "code": _code_hash(),
        "engine": [backend.engine, backend.engine_version],
    }
    return json.dumps(record, sort_keys=True)


@functools.cache
def _code_hash() -> str:
    """The source of the stages that compute the cube: a changed formula is a new scope,
    also between releases (an editable install keeps its version number)."""
    root = Path(govsocial.__file__).resolve().parent
    digest = hashlib.sha256()
    sources = [*root.joinpath("metrics").glob("*.py"), *root.joinpath("compute").glob("*.py")]
    for path in [*sorted(sources), root / "vocabulary.py"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def week_fingerprints(
    backend: Backend,
    m: Scope,
    themes: Sequence[ThemeFilter] = (),
    *,
    collaborations: bool = True,
) -> dict[int, str]:
    """Week → a hash of its posts and of the follower readings they can use, in one pass.

    Per week and account: its posts of the week on the methodology's platforms (what
    :data:`_POST_FIELDS` holds, the text when there are theme filters, the hashtags and
    mentions when ``collaborations`` are counted); the account's follower readings that a
    post of the week can use (those within ``max_follower_gap_days``, plus a day, of the
    week); and whether the account has any reading at all (which tells ``too_far`` from
    ``none``). With ``collaborations``, also per week each hashtag its posts carry with
    whether it is shared over the whole period (used by two institutions or more, else by
    which one: :func:`govsocial.metrics.facts.hashtag_users`), since a post's
    ``shared_hashtag`` reads the other weeks' posts: a campaign tag another institution takes
    up in week 40 changes the weeks of every earlier post carrying it, and those only. Hashes
    are counted, xor-ed and summed per group: scans of the posts, no join over them but the
    tags' with their users. Their counts are followed by :func:`metrics_changes`.
    """
    weeks = weeks_in_period(m)
    snaps = backend.table("account_snapshots")
    scoped = _posts_in_period(backend, m)
    fields = [*_POST_FIELDS, *(["text"] if themes else []), *(_LISTS if collaborations else [])]
    post = ibis.struct({f: scoped[f] for f in fields}).hash()
    by_account = scoped.group_by(week=_week(scoped.posted_at, m), account_id=scoped.account_id)
    by_account = by_account.aggregate(**_digest("", post))

    # The follower readings near each week, per account (a few readings per account).
    margin = timedelta(days=m.max_follower_gap_days, seconds=DAY_SECONDS)
    stamps = pa.timestamp("us", tz="UTC")
    bounds = ibis.memtable(
        pa.table(
            {
                "b_week": pa.array(range(weeks), pa.int32()),
                "b_from": pa.array([_moment(m, w) - margin for w in range(weeks)], stamps),
                "b_to": pa.array([_moment(m, w + 1) + margin for w in range(weeks)], stamps),
            }
        )
    )
    near = bounds.join(
        snaps, [snaps.captured_at >= bounds.b_from, snaps.captured_at <= bounds.b_to]
    )
    reading = ibis.struct({"captured_at": near.captured_at, "followers": near.followers}).hash()
    readings = near.group_by(r_week=near.b_week, r_account=near.account_id).aggregate(
        **_digest("r_", reading)
    )
    readers = snaps.select(reader=snaps.account_id).distinct()
    per_account = by_account.left_join(
        readings,
        [by_account.week == readings.r_week, by_account.account_id == readings.r_account],
    ).left_join(readers, by_account.account_id == readers.reader)
    account = ibis.struct(
        {
            "account_id": per_account.account_id,
            **{f"{p}{k}": per_account[f"{p}{k}"] for p in ("", "r_") for k in ("n", "x", "s")},
            "has_reading": per_account.reader.notnull(),
        }
    ).hash()
    by_week = per_account.group_by("week").aggregate(**_digest("", account))
    if collaborations:
        by_week = _with_shared_tags(backend, m, scoped, by_week)
    found = {
        int(item.pop("week")): json.dumps(item, sort_keys=True)
        for item in backend.to_arrow(by_week).to_pylist()
    }
    return {
        w: hashlib.sha256(found[w].encode()).hexdigest() if w in found else _EMPTY_WEEK
        for w in range(weeks)
    }


def _with_shared_tags(backend: Backend, m: Scope, scoped: Table, by_week: Table) -> Table:
    """``by_week`` with a digest of what the week's posts read of the other weeks: whether
    each of their hashtags is shared (:func:`govsocial.metrics.facts.hashtag_users`: used by
    two institutions or more, else by which one), over the period."""
    users = hashtag_users(backend, m)
    status = users.select(
        s_tag=users.u_tag, s_status=ibis.ifelse(users.u_users >= 2, "*", users.u_first)
    )
    tagging = scoped.filter(~scoped.is_reply_to_other.fill_null(False))  # no post fact
    tagged = tagging.select(t_week=_week(tagging.posted_at, m), t_tag=tagging.hashtags.unnest())
    tagged = tagged.distinct()
    tagged = tagged.left_join(status, tagged.t_tag == status.s_tag)
    shared = ibis.struct({"tag": tagged.t_tag, "status": tagged.s_status}).hash()
    by_tag = tagged.group_by("t_week").aggregate(**_digest("t_", shared))
    joined: Table = by_week.left_join(by_tag, by_week.week == by_tag.t_week).drop("t_week")
    return joined


def metrics_changes(
    backend: Backend, m: Scope, kept: MetricsState | None
) -> tuple[MetricsState, set[int] | None]:
    """The count readings now, and the weeks of the posts that got one since ``kept``.

    ``post_metrics`` only grows: an import adds readings under a new, higher batch id. So the
    readings up to ``kept.batch`` must be those ``kept`` summed up (a checksum of every one:
    if any was changed, removed or added under an old id, the answer is ``None``, every week),
    and the readings after it are the new ones: a post with one may have new latest counts.
    One scan of the readings, and a join of the new ones (few) with the posts.
    """
    readings = _post_metrics(backend)
    reading = ibis.struct(
        {c: readings[c] for c in ("post_id", "captured_at", *COUNT_COLUMNS)}
    ).hash()
    since = kept.batch if kept else -1
    old = readings.batch_id <= since
    low = reading % 4294967296
    sums = readings.aggregate(
        batch=readings.batch_id.max(),
        n=readings.count(),
        x=reading.bit_xor(),
        s=low.sum(),
        n_old=readings.count(where=old),
        x_old=reading.bit_xor(where=old),
        s_old=low.sum(where=old),
    )
    [row] = backend.to_arrow(sums).to_pylist()
    now = MetricsState(int(row["batch"] or 0), json.dumps([row["n"], row["x"], row["s"]]))
    if kept is None or json.dumps([row["n_old"], row["x_old"], row["s_old"]]) != kept.checksum:
        return now, None
    new = readings.filter(readings.batch_id > since).select("post_id").distinct()
    scoped = _posts_in_period(backend, m)
    touched = scoped.semi_join(new, scoped.post_id == new.post_id)
    touched = touched.select(week=_week(touched.posted_at, m)).distinct()
    return now, {int(w) for w in backend.to_arrow(touched).column("week").to_pylist()}


def _posts_in_period(backend: Backend, m: Scope) -> Table:
    posts = backend.table("posts")
    return posts.filter(
        posts.posted_at >= ibis.literal(m.period_start, type=TIMESTAMP),
        posts.posted_at < ibis.literal(m.period_end, type=TIMESTAMP),
        posts.platform.isin(list(m.platforms)),
    )


def _post_metrics(backend: Backend) -> Table:
    """Every count reading of every post: the table ``post_metrics``, which the backend's
    relations do not offer (they give the latest readings, which rank every reading: seconds
    at 10M posts). DuckDB only, as the cache."""
    return backend.post_readings()


def _digest(prefix: str, value: Column) -> dict[str, Column]:
    """Order-free aggregates of a 64-bit hash: count, xor and sum of its low 32 bits."""
    return {
        f"{prefix}n": value.count(),
        f"{prefix}x": value.bit_xor(),
        f"{prefix}s": (value % 4294967296).sum(),
    }


def follower_snapshots(backend: Backend, m: Scope) -> pa.Table:
    """Follower snapshots up to and including the period's end, sorted by account and time.

    A reading taken at the very end of the period (the period is ``[start, end)``) is the
    audience at its end, the one follower growth wants: it is included.
    """
    snaps = backend.table("account_snapshots")
    end = ibis.literal(m.period_end, type="timestamp('UTC')")
    expr = snaps.filter(snaps.captured_at <= end).select("account_id", "captured_at", "followers")
    result: pa.Table = backend.to_arrow(expr.order_by(["account_id", "captured_at"]))
    return result
