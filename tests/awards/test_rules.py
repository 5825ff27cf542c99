"""The award rules hold against the data built to attack them (issue 10, section 1).

- No gain from dilution: satellite accounts neither buy Most Active nor lift a rate.
- No gain from withholding a platform: becoming ineligible on a platform (or leaving it) never
  raises an institution's score or rank (property-based, on random unit tables).
- Ties are decided by the stated tie-breakers, never by floating-point noise.
- An audience floor: a 12-follower account does not win a rate category.

Unit tables are built directly where the rule is the ranking's; warehouses are built where it
depends on how accounts make a unit (the pipeline the engine runs: cube → units → ranking).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import post_row, write_csv
from govsocial.awards.methodology import Methodology, load_methodology, parse_methodology
from govsocial.awards.ranking import ClusterRanking, UnitScore, rank
from govsocial.awards.units import (
    FOLLOWER_SOURCES,
    UnitTable,
    build_units,
    cube_columns,
    follower_bounds,
)
from govsocial.compute.backend import open_backend
from govsocial.metrics.cube import compute_cube, follower_snapshots
from govsocial.registry import read_registry
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, apply_registry, load_file
from govsocial.store.lookup import accounts

# ---------------------------------------------------------------- unit tables

PLATFORMS = ("facebook", "instagram", "x")
METRIC_COLUMNS = ("engagement_rate", "posts_per_week")


def methodology(
    metrics: Sequence[str] = ("engagement_rate",),
    *,
    unit: str = "institution",
    eligibility: str = "min_posts = 10, min_followers = 1000",
    tiebreakers: str = '["posts", "id"]',
    platform_weights: dict[str, float] | None = None,
) -> Methodology:
    components = ", ".join(
        f'{{ metric = "{name}", weight = {i + 1}.0 }}' for i, name in enumerate(metrics)
    )
    weights = "".join(f"{p} = {w}\n" for p, w in (platform_weights or {}).items())
    return parse_methodology(
        f"""\
id = "rules"
edition = "Rules"
version = "1"
title = {{ id = "Aturan", en = "Rules" }}
period = {{ start = 2025-01-01, end = 2025-04-01 }}
platforms = {list(PLATFORMS)!r}
clusters = ["pemda", "lembaga"]

[platform_weights]
{weights}
[[categories]]
id = "c"
title = {{ id = "K", en = "C" }}
description = {{ id = "-", en = "-" }}
unit = "{unit}"
tiebreakers = {tiebreakers}
eligibility = {{ {eligibility} }}
components = [{components}]
""".replace("'", '"')
    )


def unit_table(rows: Sequence[dict[str, Any]]) -> UnitTable:
    """One row per (unit, platform): ``unit``, ``platform``, ``cluster`` and the columns the
    ranking reads (``posts``, ``active_weeks``, ``followers``, ``interactions``, metrics)."""
    names = {"posts", "active_weeks", "followers", "interactions", *METRIC_COLUMNS}
    names |= {f"followers_source_{source}" for source in FOLLOWER_SOURCES}
    names |= {k for r in rows for k in r} - {"unit", "platform", "cluster"}
    units = np.array([r["unit"] for r in rows], dtype=str)
    return UnitTable(
        unit=units,
        platform=np.array([r["platform"] for r in rows], dtype=str),
        cluster=np.array([r.get("cluster", "pemda") for r in rows], dtype=str),
        institution=units,
        account=np.full(len(rows), -1),
        accounts=[() for _ in rows],
        columns={k: np.array([r.get(k, 0.0) for r in rows], dtype=float) for k in sorted(names)},
    )


def row(unit: str, platform: str, value: float, **more: float | str) -> dict[str, Any]:
    return {
        "unit": unit,
        "platform": platform,
        "posts": 30.0,
        "active_weeks": 10.0,
        "followers": 5000.0,
        "interactions": 100.0,
        "engagement_rate": value,
        **more,
    }


def ranked(table: UnitTable, m: Methodology) -> dict[str, UnitScore]:
    clusters = rank(table, m.categories[0], m)
    return {u.unit: u for ranking in clusters.values() for u in ranking.eligible}


def order(table: UnitTable, m: Methodology, cluster: str = "pemda") -> list[str]:
    return [u.unit for u in rank(table, m.categories[0], m)[cluster].eligible]


# ---------------------------------------------------------------- rule 2: withholding


def test_dropping_a_weak_platform_does_not_lift_an_institution_over_a_better_one() -> None:
    """The demo's case: A beats B on the one platform they share, and is also on TikTok-like
    platform x, where it is the weakest. The old mean over eligible platforms ranked A below
    B, and above it had A posted less on x."""
    m = methodology()
    rows = [
        row("a", "instagram", 0.05),
        row("b", "instagram", 0.04),
        row("c", "instagram", 0.01),
        row("a", "x", 0.001),
        row("c", "x", 0.02),
        row("d", "x", 0.03),
    ]
    before = ranked(unit_table(rows), m)
    assert order(unit_table(rows), m)[0] == "a"  # the old rule: b first (0.75 vs a's 0.583)
    withheld = [
        r if (r["unit"], r["platform"]) != ("a", "x") else {**r, "posts": 3.0} for r in rows
    ]
    after = ranked(unit_table(withheld), m)
    assert after["a"].score < before["a"].score
    assert after["a"].rank >= before["a"].rank
    # Every platform of the category counts: a's x term is 0 now, b never had one.
    assert [p["platform"] for p in after["a"].platforms] == ["instagram"]
    assert after["a"].score == pytest.approx(after["a"].platforms[0]["score"] / len(PLATFORMS))


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[dict[str, Any]], Methodology]:
    units = [f"u{i}" for i in range(draw(st.integers(2, 7)))]
    rows = []
    for unit in units:
        cluster = draw(st.sampled_from(["pemda", "pemda", "lembaga"]))
        for platform in PLATFORMS:
            if not draw(st.booleans()):
                continue
            rows.append(
                {
                    **row(unit, platform, draw(st.integers(0, 6)) / 4, cluster=cluster),
                    "posts_per_week": draw(st.integers(0, 6)) / 2,
                    "posts": draw(st.sampled_from([5.0, 30.0, 30.0, 60.0])),
                    "followers": draw(st.sampled_from([400.0, 5000.0, 5000.0, 90000.0])),
                    "interactions": draw(st.sampled_from([10.0, 100.0])),
                }
            )
    metrics = draw(st.sampled_from([("engagement_rate",), ("engagement_rate", "posts_per_week")]))
    weights = {p: draw(st.sampled_from([0.5, 1.0, 2.0])) for p in PLATFORMS}
    tiebreakers = draw(st.sampled_from(['["posts", "id"]', '["followers", "id"]', '["id"]']))
    minimum = draw(st.sampled_from(["", ", min_platforms = 2"]))
    m = methodology(
        metrics,
        eligibility=f"min_posts = 10, min_followers = 1000{minimum}",
        tiebreakers=tiebreakers,
        platform_weights=weights,
    )
    return rows, m


@settings(max_examples=400, deadline=None)
@given(tables(), st.data())
def test_becoming_ineligible_on_a_platform_never_raises_score_or_rank(
    drawn: tuple[list[dict[str, Any]], Methodology], data: st.DataObject
) -> None:
    rows, m = drawn
    before = ranked(unit_table(rows), m)
    candidates = [
        i
        for i, r in enumerate(rows)
        if r["unit"] in before and r["posts"] >= 10 and r["followers"] >= 1000
    ]
    if not candidates:
        return
    i = data.draw(st.sampled_from(candidates))
    how = data.draw(st.sampled_from(["too_few_posts", "below_the_floor", "gone"]))
    if how == "gone":  # not posting there at all
        changed = rows[:i] + rows[i + 1 :]
    else:
        key, low = ("posts", 3.0) if how == "too_few_posts" else ("followers", 12.0)
        changed = [*rows[:i], {**rows[i], key: low}, *rows[i + 1 :]]
    unit = rows[i]["unit"]
    after = ranked(unit_table(changed), m)
    if unit in after:  # (else it dropped out: not a gain either)
        assert after[unit].score < before[unit].score
        assert after[unit].rank >= before[unit].rank


# ---------------------------------------------------------------- rule 3: ties


def test_equal_data_ties_and_the_tiebreakers_decide_not_float_noise() -> None:
    m = methodology(tiebreakers='["followers", "id"]')
    x = 0.1 + 0.2  # 0.30000000000000004: what one backend's sum gives
    rows = [
        row("a", "instagram", x, followers=9000.0),  # the noisy one, with more followers
        row("b", "instagram", 0.3, followers=8000.0),
        row("c", "instagram", 0.1),
    ]
    scores = ranked(unit_table(rows), m)
    assert scores["a"].score == scores["b"].score
    p = "percentile"
    assert scores["a"].components[0][p] == scores["b"].components[0][p]
    assert order(unit_table(rows), m) == ["b", "a", "c"]  # fewer followers wins the tie


@settings(max_examples=200, deadline=None)
@given(tables(), st.randoms(use_true_random=False))
def test_noise_in_the_last_bits_changes_no_score_and_no_rank(
    drawn: tuple[list[dict[str, Any]], Methodology], rnd: Any
) -> None:
    rows, m = drawn  # values on a grid of quarters: noise cannot reach a rounding boundary
    noisy = [
        {
            **r,
            "engagement_rate": r["engagement_rate"] * (1 + rnd.uniform(-1e-12, 1e-12)),
            "posts_per_week": r["posts_per_week"] * (1 + rnd.uniform(-1e-12, 1e-12)),
        }
        for r in rows
    ]
    exact, shaken = ranked(unit_table(rows), m), ranked(unit_table(noisy), m)
    assert {u: (s.rank, s.score) for u, s in exact.items()} == {
        u: (s.rank, s.score) for u, s in shaken.items()
    }


# ---------------------------------------------------------------- rule 6: the floor, per platform


def test_the_floor_applies_per_platform_and_a_platform_below_it_scores_zero() -> None:
    m = methodology()
    base = [row("a", "instagram", 0.02), row("b", "instagram", 0.03), row("c", "instagram", 0.01)]
    tiny_x = row("a", "x", 0.9, followers=12.0)  # a's 12-follower account on x: a huge rate
    with_x, without_x = ranked(unit_table([*base, tiny_x]), m), ranked(unit_table(base), m)
    assert with_x["a"].score == without_x["a"].score  # x counts 0, as if absent
    assert [p["platform"] for p in with_x["a"].platforms] == ["instagram"]
    no_floor = methodology(eligibility="min_posts = 10")
    assert ranked(unit_table([*base, tiny_x]), no_floor)["a"].rank == 1  # the attack, unfloored


def test_account_categories_compare_accounts_among_the_eligible_of_their_stratum() -> None:
    m = methodology(unit="account")
    rows = [row("1", "instagram", 0.02), row("2", "instagram", 0.03), row("3", "x", 0.01)]
    scores = ranked(unit_table(rows), m)
    # No population of absent units for accounts: alone on x is 0.5, never a free 1.0.
    assert (scores["2"].score, scores["1"].score, scores["3"].score) == (0.75, 0.25, 0.5)


# ---------------------------------------------------------------- warehouses


@dataclass(frozen=True)
class Account:
    handle: str
    platform: str
    followers: int
    posts: int  # over ``weeks`` weeks from the period's start
    likes: int  # per post
    weeks: int = 12
    readings: tuple[str, ...] = ("2024-07-20T00:00:00Z", "2025-07-25T00:00:00Z")  # followers


START = datetime(2024, 8, 5, 3, tzinfo=UTC)  # inside gsm2025's period


def world(tmp_path: Path, institutions: dict[str, list[Account]]) -> Warehouse:
    """A warehouse of pemda institutions, each with its accounts, follower snapshots at both
    ends of the period, and posts spread over the weeks."""
    lines = ["institutions:"]
    snapshots: list[dict[str, str]] = []
    posts: list[dict[str, Any]] = []
    n = 0
    for institution, owned in institutions.items():
        lines.append(
            f"  - {{id: {institution}, name: {institution}, cluster: pemda, sub_cluster: kota,"
        )
        entries = ", ".join(
            f'{{platform: {a.platform}, handle: {a.handle}, platform_id: "{a.handle}"}}'
            for a in owned
        )
        lines.append(f"     accounts: [{entries}]}}")
        for a in owned:
            for at in a.readings:
                snapshots.append(
                    {
                        "platform": a.platform,
                        "account_platform_id": a.handle,
                        "captured_at": at,
                        "followers": str(a.followers),
                    }
                )
            for i in range(a.posts):
                n += 1
                posted = START + timedelta(weeks=i % a.weeks, hours=i // a.weeks)
                posts.append(
                    post_row(
                        platform=a.platform,
                        account_platform_id=a.handle,
                        post_id=f"p{n}",
                        posted_at=posted.isoformat(),
                        captured_at="2025-07-30T00:00:00Z",
                        likes=a.likes + i % 3,
                        comments=1,
                        reactions=a.likes + i % 3 if a.platform == "facebook" else None,
                    )
                )
    (tmp_path / "r.yaml").write_text("\n".join(lines) + "\n")
    wh = Warehouse.open(tmp_path / "w.duckdb", create=True)
    apply_registry(wh, read_registry(tmp_path / "r.yaml"), tmp_path / "r.yaml")
    header = ["platform", "account_platform_id", "captured_at", "followers"]
    load_file(wh, write_csv(tmp_path / "s.csv", snapshots, header), stage)
    load_file(wh, write_csv(tmp_path / "p.csv", posts), stage)
    return wh


def rankings(wh: Warehouse, m: Methodology) -> dict[str, ClusterRanking]:
    """The engine's pipeline for every category: cube → units → ranking (pemda only)."""
    owners = accounts(wh)
    with open_backend(wh, "duckdb") as backend:
        cube = compute_cube(backend, m)
        followers = follower_bounds(follower_snapshots(backend, m), m)
    columns = cube_columns(cube)
    result = {}
    for category in m.categories:
        table = build_units(columns, followers, m, category, None, owners)
        result[category.id] = rank(table, category, m).get("pemda", ClusterRanking("pemda", 0, []))
    return result


def standings(ranking: ClusterRanking) -> list[tuple[str, float]]:
    return [(u.unit, round(u.score, 9)) for u in ranking.eligible]


def shipped(accounts_rule: str = "main", floor: bool = True) -> Methodology:
    text = load_methodology("gsm2025").text.replace(
        'accounts = "main"', f'accounts = "{accounts_rule}"'
    )
    return parse_methodology(text if floor else text.replace(", min_followers = 1000 ", " "))


def honest_cities() -> dict[str, list[Account]]:
    """Six cities with one Instagram account each, city i with rate about (i + 1) per mille
    and 30 + 2i posts; 'sat' is in the middle on both counts (3.3 per mille, 35 posts)."""
    cities = {}
    for i in range(6):
        followers = 20_000 + 10_000 * i
        likes = followers * (i + 1) // 1000
        cities[f"city{i}"] = [Account(f"city{i}_ig", "instagram", followers, 30 + 2 * i, likes)]
    return cities | {"sat": [Account("sat_ig", "instagram", 45_000, 35, 150)]}


def test_satellite_accounts_buy_nothing_under_main(tmp_path: Path) -> None:
    satellites = [Account(f"sat_{k}", "instagram", 50, 40, 10, weeks=20) for k in range(20)]
    attacked = honest_cities()
    attacked["sat"] = attacked["sat"] + satellites
    (tmp_path / "honest").mkdir()
    (tmp_path / "attacked").mkdir()
    with (
        world(tmp_path / "honest", honest_cities()) as honest,
        world(tmp_path / "attacked", attacked) as attack,
    ):
        main = shipped("main")
        clean, under_attack = rankings(honest, main), rankings(attack, main)
        for category in ("most_active", "most_engaging", "best_use_of_images"):
            assert standings(clean[category]) == standings(under_attack[category]), category
        # Under "pooled" the attack works: the reason gsm2025 does not pool.
        pooled_clean, pooled = (
            rankings(honest, shipped("pooled")),
            rankings(attack, shipped("pooled")),
        )

        def place(ranking: ClusterRanking) -> int:
            return [u.unit for u in ranking.eligible].index("sat") + 1

        assert place(pooled["most_active"]) == 1 < place(pooled_clean["most_active"])
        assert place(pooled["most_engaging"]) < place(pooled_clean["most_engaging"])


def test_the_main_account_is_chosen_by_followers_not_by_what_it_posted(tmp_path: Path) -> None:
    """A city whose big account goes silent is not represented by its small, lively one: it
    scores nothing on that platform (going silent on an account cannot be a gain)."""
    cities = honest_cities()
    cities["sat"] = [
        Account("sat_ig", "instagram", 45_000, 0, 0),  # the main account: silent all year
        Account("sat_small", "instagram", 5_000, 60, 400),  # a small one with a huge rate
    ]
    with world(tmp_path, cities) as wh:
        ranking = rankings(wh, shipped())
        for category in ("most_active", "most_engaging"):
            assert "sat" not in [u.unit for u in ranking[category].eligible], category


def test_a_twelve_follower_account_does_not_win_a_rate_category(tmp_path: Path) -> None:
    cities = honest_cities() | {"tiny": [Account("tiny_ig", "instagram", 12, 40, 6)]}
    with world(tmp_path, cities) as wh:
        floored, open_door = rankings(wh, shipped()), rankings(wh, shipped(floor=False))
        for category in ("most_engaging", "best_use_of_images"):
            assert open_door[category].eligible[0].unit == "tiny", category  # the old result
            assert "tiny" not in [u.unit for u in floored[category].eligible]
            assert floored[category].ineligible_reasons == {"min_followers": 1}
        assert "tiny" in [u.unit for u in floored["most_active"].eligible]  # no rate, no floor
        best = [u.unit for u in floored["best_account"].eligible]
        assert len(best) == 7 and all(not unit.startswith("tiny") for unit in best)


def test_each_unit_reports_where_its_followers_at_posting_came_from(tmp_path: Path) -> None:
    """Posts before an account's first reading use it only within 90 days; the results say,
    per unit and platform, how many posts used a reading before, one after, or none."""
    late = ("2024-09-01T00:00:00Z", "2025-07-25T00:00:00Z")  # 27 days after the first post
    lost = ("2025-03-01T00:00:00Z", "2025-07-25T00:00:00Z")  # > 90 days after every post
    cities = honest_cities() | {
        "late": [Account("late_ig", "instagram", 40_000, 36, 120, readings=late)],
        "lost": [Account("lost_ig", "instagram", 40_000, 36, 120, readings=lost)],
    }
    with world(tmp_path, cities) as wh:
        active = {u.unit: u for u in rankings(wh, shipped())["most_active"].eligible}
    source = {name: active[name].platforms[0]["followers_source"] for name in ("city0", "late")}
    # city0's two posts of week 11 (21 Oct) are 93 days after its 20 Jul reading: no rate.
    assert source["city0"] == {"before": 28, "after": 0, "unknown": 2}
    # 36 posts over 12 weeks from 5 Aug: weeks 0-3 (12 posts) precede the 1 Sep reading.
    assert source["late"] == {"before": 24, "after": 12, "unknown": 0}
    assert active["lost"].platforms[0]["followers_source"] == {
        "before": 0,
        "after": 0,
        "unknown": 36,
    }


def test_gsm2025_floors_every_category_that_compares_rates() -> None:
    gsm = load_methodology("gsm2025")
    rates = {"engagement_rate", "view_rate", "theme_engagement_rate"}
    for category in gsm.categories:
        compares_rates = any(c.metric in rates for c in category.components)
        assert (category.eligibility.min_followers >= 1000) == compares_rates, category.id
    assert (gsm.accounts, gsm.platform_combination) == ("main", "sum")
    # Dataclass fields mirror the file (a methodology file is data, read back as it was run).
    assert dataclasses.replace(gsm).text == gsm.text
