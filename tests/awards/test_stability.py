"""How sure each ranking is: the bootstrap over weeks on worlds whose answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from govsocial.awards.methodology import Methodology, load_methodology
from govsocial.awards.ranking import UnitScore, rank
from govsocial.awards.stability import (
    UnitCertainty,
    Verdict,
    bootstrap,
    ordinal,
    verdict,
    week_draws,
)
from govsocial.awards.units import UNIT_SUMS, Array, Followers, build_units, prepare_units

METHODOLOGY = """\
id = "weeks"
edition = "Stability test"
version = "1"
title = { id = "Uji", en = "Test" }
period = { start = 2025-01-01, end = 2025-04-01 }
platforms = ["instagram"]
clusters = ["pemda"]
interactions_version = 1
champion_rule = "most_trophies"

[[categories]]
id = "active"
title = { id = "Aktif", en = "Active" }
description = { id = "-", en = "-" }
unit = "account"
nominees = NOMINEES
tiebreakers = ["id"]
components = [{ metric = "posts_per_week", weight = 1.0 }]
"""
WEEKS = 13  # 1 January to 1 April 2025


def methodology(tmp_path: Path, nominees: int) -> Methodology:
    path = tmp_path / f"weeks{nominees}.toml"
    path.write_text(METHODOLOGY.replace("NOMINEES", str(nominees)), encoding="utf-8")
    return load_methodology(path)


def cube(weekly: dict[int, list[int]]) -> dict[str, Array]:
    """Cube columns: per account, its posts in each week (one image row per week)."""
    rows = [(a, w, n) for a, posts in sorted(weekly.items()) for w, n in enumerate(posts) if n]
    size = len(rows)
    columns: dict[str, Array] = {
        "account_id": np.array([a for a, _, _ in rows], dtype=np.int64),
        "institution_id": np.array([f"i{a}" for a, _, _ in rows], dtype=object),
        "cluster_id": np.full(size, "pemda", dtype=object),
        "platform": np.full(size, "instagram", dtype=object),
        "media_type": np.full(size, "image", dtype=object),
        "is_repost": np.zeros(size, dtype=bool),
        "week": np.array([w for _, w, _ in rows], dtype=np.int32),
    }
    for name in UNIT_SUMS:
        columns[name] = np.zeros(size)
    columns["n"] = np.array([n for _, _, n in rows], dtype=np.int64)
    return columns


def followers(accounts: int) -> Followers:
    audience = np.full(accounts + 1, 5_000.0)
    return Followers(audience, audience, np.zeros(accounts + 1), np.zeros(accounts + 1))


def run(
    m: Methodology, weekly: dict[int, list[int]], replicates: int = 200, seed: int = 3
) -> tuple[list[UnitScore], dict[str, UnitCertainty], Verdict]:
    columns, audience = cube(weekly), followers(max(weekly))
    category = m.categories[0]
    units = build_units(columns, audience, m, category, None)
    real = {category.id: {k: r.eligible for k, r in rank(units, category, m).items()}}
    found = bootstrap(columns, audience, m, {}, {}, real, lambda _: False, replicates, seed)
    eligible = real[category.id]["pemda"]
    sure = found[(category.id, "pemda")]
    places = category.nominees
    judged = verdict(
        [sure[u.unit].stability for u in eligible[:places]],
        [sure[u.unit].stability for u in eligible[places:]],
        replicates,
    )
    return eligible, sure, judged


def test_one_unit_far_ahead_is_clear(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    leaders = {1: [30] * WEEKS, 2: [20] * WEEKS, 3: [12] * WEEKS}
    weekly = {**leaders, **{a: list(rng.poisson(3, WEEKS)) for a in (4, 5, 6, 7)}}
    eligible, sure, judged = run(methodology(tmp_path, 3), weekly)
    assert [u.unit for u in eligible[:3]] == ["1", "2", "3"]
    assert [sure[u].stability for u in "123"] == [1.0, 1.0, 1.0]
    assert [sure[u].rank_interval for u in "123"] == [(1, 1), (2, 2), (3, 3)]
    assert all(sure[u].stability == 0.0 for u in "4567")
    assert judged.clear and judged.places == ()
    assert judged.statement.startswith("Clear: every nominee stays a nominee in at least 100%")


def test_two_near_identical_units_at_the_boundary_are_indistinguishable(tmp_path: Path) -> None:
    # 1 and 2 are far ahead; 3 and 4 post the same number of posts over the period, in different
    # weeks, so which of them takes the 3rd place depends on which weeks happened.
    three = [9, 1, 8, 2, 7, 3, 6, 4, 5, 5, 4, 6, 0]
    four = [1, 9, 2, 8, 3, 7, 4, 6, 5, 5, 6, 4, 0]
    weekly = {1: [40] * WEEKS, 2: [30] * WEEKS, 3: three, 4: four, 5: [1] * WEEKS}
    eligible, sure, judged = run(methodology(tmp_path, 3), weekly)
    assert [u.unit for u in eligible[:4]] == ["1", "2", "3", "4"]  # the id breaks the tie
    assert sure["1"].stability == sure["2"].stability == 1.0
    assert 0.2 < sure["3"].stability < 0.8 and 0.2 < sure["4"].stability < 0.8
    assert sure["3"].stability + sure["4"].stability == pytest.approx(1.0)
    assert sure["3"].rank_interval == (3, 4) and sure["4"].rank_interval == (3, 4)
    assert not judged.clear and judged.places == (3, 4)
    assert judged.statement.startswith(
        "The 3rd and 4th places are statistically indistinguishable: over 200 resampled years"
    )


def test_the_same_seed_draws_the_same_years_and_another_seed_others(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    weekly = {a: list(rng.poisson(4, WEEKS)) for a in range(1, 9)}
    m = methodology(tmp_path, 3)
    first, again, other = (run(m, weekly, 50, seed)[1] for seed in (7, 7, 8))
    assert first == again
    assert first != other
    assert (week_draws(WEEKS, 4, 7) == week_draws(WEEKS, 4, 7)).all()


def copied_weeks(columns: dict[str, Array], drawn: Array) -> dict[str, Array]:
    """The cube of a resampled year written out: the rows of week ``drawn[j]`` copied into
    slot ``j`` (the definition the weighting must agree with)."""
    rows = [i for week in drawn for i in np.flatnonzero(columns["week"] == week)]
    slots = [j for j, week in enumerate(drawn) for _ in np.flatnonzero(columns["week"] == week)]
    out = {k: v[rows] for k, v in columns.items()}
    out["week"] = np.array(slots, dtype=np.int32)
    return out


def test_a_weighting_of_weeks_is_the_year_of_those_weeks_written_out(tmp_path: Path) -> None:
    """A week drawn twice counts its posts twice and is two active weeks; a unit whose weeks
    were never drawn is absent: over random years, the weighted table equals the table built
    from the copied rows."""
    m = methodology(tmp_path, 3)
    category = m.categories[0]
    rng = np.random.default_rng(4)
    for _ in range(25):
        weekly = {a: list(rng.poisson(1.5, WEEKS)) for a in range(1, 7)}
        columns = cube(weekly)
        columns["interactions"] = rng.integers(0, 50, len(columns["n"])).astype(float)
        audience = followers(max(weekly))
        prepared = prepare_units(columns, audience, m, category, None)
        drawn = rng.integers(0, WEEKS, WEEKS)
        weighted = prepared.table(np.bincount(drawn, minlength=WEEKS).astype(float))
        written = build_units(copied_weeks(columns, drawn), audience, m, category, None)
        assert weighted.unit.tolist() == written.unit.tolist()
        assert weighted.accounts == written.accounts
        for name in ("posts", "active_weeks", "interactions", "followers", "posts_per_week"):
            assert np.allclose(weighted.columns[name], written.columns[name]), name


def test_statements_name_the_places() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
    ]
    shaky = verdict([1.0, 1.0, 1.0, 0.97, 0.61], [0.39, 0.0], 200)
    assert not shaky.clear and shaky.places == (5, 6)
    assert shaky.statement == (
        "The 5th and 6th places are statistically indistinguishable: over 200 resampled "
        "years, the 5th stays a nominee in 61%; the 6th becomes one in 39%."
    )
    alone = verdict([1.0, 0.8], [], 1)
    assert alone.places == (2,) and alone.statement.startswith("The 2nd place is not sure")
    assert "1 resampled year," in alone.statement
    assert verdict([], [0.5], 200).clear
    assert verdict([0.95], [0.05], 200).clear
