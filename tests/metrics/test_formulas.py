"""Unit metric formulas: the two-part engagement rate (no constant added to zero rates), the
prior from eligible units, the tau² = 0 fallback, follower growth that is never made up, notes
that say what happened, and the cube sums they read, checked on a warehouse."""

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.awards.methodology import load_methodology
from govsocial.compute.backend import open_backend
from govsocial.demo import load_world
from govsocial.metrics.cube import SUMS, compute_cube, follower_snapshots
from govsocial.metrics.facts import post_facts
from govsocial.metrics.formulas import (
    DEFAULT_PRIOR_MIN_POSTS,
    follower_growth,
    growth_tolerance_days,
    unit_metrics,
)
from govsocial.store import Warehouse
from govsocial.synth import generate

Rates = list[float]


def metrics(
    units: list[Rates], eligible: list[bool] | None = None, platform: str = "x"
) -> tuple[dict[str, np.ndarray], list[str]]:
    """unit_metrics over units given as the engagement rates of their posts (0 = a post
    without interactions), all in one stratum."""
    s = {name: np.zeros(len(units)) for name in SUMS}
    for i, rates in enumerate(units):
        r = np.asarray(rates, dtype=float)
        logs = np.log(r[r > 0])
        s["n"][i] = s["n_rated"][i] = len(r)
        s["n_positive"][i] = len(logs)
        s["sum_rate"][i] = r.sum()
        s["sum_log_positive"][i] = logs.sum()
        s["sum_log2_positive"][i] = (logs**2).sum()
    c = {
        "posts": s["n"],
        "active_weeks": np.full(len(units), 10.0),
        "followers": np.full(len(units), 1000.0),
        "followers_first": np.full(len(units), 900.0),
    }
    return unit_metrics(
        s,
        c,
        platform=np.array([platform] * len(units)),
        cluster=np.array(["pemda"] * len(units)),
        weeks=53,
        has_theme=False,
        eligible=None if eligible is None else np.array(eligible),
    )


def steady(rng: np.random.Generator, center: float, posts: int, zeros: float = 0.0) -> Rates:
    """Log-normal post rates around ``center``, a share ``zeros`` of them without interactions."""
    rates = np.exp(rng.normal(np.log(center), 0.8, posts))
    rates[rng.random(posts) < zeros] = 0.0
    return list(rates)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(1e-3, 1e3))
def test_rates_scale_with_the_data_no_constant_decides(seed: int, scale: float) -> None:
    # Dividing every audience by `scale` multiplies every post rate by it; every unit's
    # engagement rate must follow exactly. ln(rate + 1e-5) did not: the constant is fixed while
    # the rates move, so how much a post without interactions cost depended on the audience.
    rng = np.random.default_rng(seed)
    units = [
        steady(rng, rng.uniform(0.002, 0.05), int(rng.integers(2, 80)), rng.uniform(0, 0.5))
        for _ in range(int(rng.integers(4, 12)))
    ]
    eligible = [len(u) >= 12 for u in units]
    base, _ = metrics(units, eligible)
    scaled, _ = metrics([[r * scale for r in u] for u in units], eligible)
    assert scaled["engagement_rate"] == pytest.approx(base["engagement_rate"] * scale, rel=1e-7)


def test_posts_without_interactions_cost_their_share() -> None:
    # Z: half its posts get nothing, the other half 0.05 (mean rate 0.025). S: every post
    # 0.01. Z's audience interacts 2.5 times as much per post. With ln(rate + 1e-5) each empty
    # post counted as a rate of 0.00001 and Z's typical rate fell to 0.0007, below S; with
    # 1e-3 it was 0.007. Now an empty post costs its share: Z = 0.5 × 0.05.
    rng = np.random.default_rng(1)
    z = [0.0, 0.05] * 100
    s = [0.01] * 200
    others = [steady(rng, 0.02, 200) for _ in range(4)]
    values, _ = metrics([z, s, *others])
    rate = values["engagement_rate"]
    assert rate[0] > rate[1]
    assert rate[0] == pytest.approx(0.025, rel=0.02)
    assert rate[1] == pytest.approx(0.01, rel=0.02)


def test_a_unit_that_never_got_an_interaction_is_near_zero_not_missing() -> None:
    rng = np.random.default_rng(2)
    units = [[0.0] * 40, *(steady(rng, 0.02, 60) for _ in range(5))]
    rate = metrics(units)[0]["engagement_rate"]
    assert 0 <= rate[0] < 0.05 * rate[1:].min()
    # too few units to shrink: its unshrunk value, exactly 0
    assert metrics(units[:3])[0]["engagement_rate"][0] == 0.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 11), st.floats(1e-4, 2.0), st.floats(0, 1)),
        min_size=1,
        max_size=5,
    ),
    st.integers(0, 10_000),
)
def test_ineligible_units_do_not_move_the_eligible_rates(
    intruders: list[tuple[int, float, float]], seed: int
) -> None:
    # However many ineligible units (few posts, dead or viral) share the stratum, the prior is
    # the eligible units' own: their engagement rates do not move. (One viral ineligible
    # account used to double tau² and halve every shrinkage factor of its stratum.)
    rng = np.random.default_rng(seed)
    eligible = [steady(rng, 0.01 * (1 + i), 30, 0.1) for i in range(5)]
    alone = metrics(eligible, [True] * 5)[0]["engagement_rate"]
    others = [steady(rng, center, posts, zeros) for posts, center, zeros in intruders]
    mixed = metrics([*eligible, *others], [True] * 5 + [False] * len(others))[0]
    assert mixed["engagement_rate"][:5] == pytest.approx(alone, rel=1e-12)
    assert np.all(np.isfinite(mixed["engagement_rate"][5:]))  # shrunk with that prior


def test_without_an_eligibility_mask_small_units_do_not_fit_the_prior() -> None:
    rng = np.random.default_rng(3)
    units = [steady(rng, 0.01 * (1 + i), 40) for i in range(5)]
    viral = [[0.9] * (DEFAULT_PRIOR_MIN_POSTS - 1)]
    default = metrics([*units, *viral])[0]["engagement_rate"]
    explicit = metrics([*units, *viral], [True] * 5 + [False])[0]["engagement_rate"]
    assert default == pytest.approx(explicit, rel=1e-12)


def test_tau2_zero_ranks_by_the_unshrunk_rate_never_a_whole_stratum_tie() -> None:
    # Six units drawn from one distribution: they differ no more than chance (tau² = 0). The
    # old estimator set every unit to the stratum mean, so the ranking fell to the
    # tie-breakers (raw interactions: the largest audience). Now each keeps 2/(k - 1) of its
    # distance to the mean: the order is that of the unshrunk typical rates.
    units = [[0.004, 0.016], [0.008, 0.0085], [0.0075, 0.0095], [0.007, 0.01], [0.006, 0.012]]
    units.append([0.0079, 0.0081])
    values, notes = metrics(units, [True] * len(units))
    rate = values["engagement_rate"]
    unshrunk = np.array([np.exp(np.mean(np.log(u))) for u in units])
    assert any("τ² = 0" in n and "order is that of the unshrunk rates" in n for n in notes)
    assert len(set(np.round(rate, 12))) == len(units)
    assert list(np.argsort(rate)) == list(np.argsort(unshrunk))


def test_notes_say_what_happened() -> None:
    rng = np.random.default_rng(4)
    two = [steady(rng, 0.01, 30), steady(rng, 0.02, 30)]
    (note,) = metrics(two, platform="tiktok")[1]
    assert note.startswith("engagement_rate not shrunk in tiktok × pemda: only 2 eligible units")
    exact = [[0.01] * 20, [0.02] * 20, [0.03] * 20, [0.04] * 20]  # no noise: not "too few"
    (note,) = metrics(exact)[1]
    assert "no sampling noise" in note and "eligible unit" in note
    assert "fewer than" not in note
    many = [steady(rng, 0.01 * (1 + i), 50) for i in range(6)]
    assert metrics(many)[1] == []  # shrunk as intended: nothing to say
    # a stratum where nothing is eligible is not ranked: no note about it
    assert metrics(two, [False, False])[1] == []


def test_follower_growth_is_missing_not_zero() -> None:
    first = np.array([100.0, np.nan, 100.0, 100.0, 0.0])
    last = np.array([110.0, 100.0, 100.0, 120.0, 50.0])
    # no reading dates: computed from the sums; a unit without a start reading has no value
    plain = follower_growth(first, last, None, None, 45.0)
    assert plain[0] == pytest.approx(0.1) and np.isnan(plain[1]) and np.isnan(plain[4])
    # with dates: the same reading at both ends (start gap 0, end gap 365 days) is no value;
    # a reading 46 days from the end is too far; 0.0 growth from good readings stays 0.0
    first_gap = np.array([0.0, 0.0, 3.0, 0.0, 0.0])
    last_gap = np.array([0.0, 0.0, 1.0, 46.0, 0.0])
    checked = follower_growth(first, last, first_gap, last_gap, 45.0)
    assert checked[0] == pytest.approx(0.1)
    assert np.isnan(checked[1]) and np.isnan(checked[3]) and np.isnan(checked[4])
    assert checked[2] == 0.0
    single = follower_growth(np.array([100.0]), np.array([100.0]), [0.0], [365.0], 45.0)
    assert np.isnan(single[0])
    assert growth_tolerance_days(53) == 45.0 and growth_tolerance_days(4) == 7.0


# --- on a warehouse -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formulas")
    db = folder / "w.duckdb"
    with Warehouse.open(db, create=True) as wh:
        load_world(wh, generate(folder / "files", seed=5, posts=6_000))
    return db


def test_cube_sums_match_the_posts(world: Path) -> None:
    m = load_methodology("gsm2025")
    with Warehouse.open(world, read_only=True) as wh, open_backend(wh) as backend:
        cube = compute_cube(backend, m)
        facts = backend.to_arrow(post_facts(backend, m).select("engagement_rate"))
    assert set(SUMS) <= set(cube.column_names)
    rate = facts.column("engagement_rate").to_numpy(zero_copy_only=False).astype(float)
    rated = rate[np.isfinite(rate)]
    positive = rated[rated > 0]
    assert 0 < len(positive) < len(rated)  # the world has posts without interactions (X)
    total = {name: pc.sum(cube.column(name)).as_py() for name in SUMS}
    assert total["n_rated"] == len(rated)
    assert total["n_positive"] == len(positive)
    assert total["sum_log_positive"] == pytest.approx(np.log(positive).sum(), rel=1e-9)
    assert total["sum_log2_positive"] == pytest.approx((np.log(positive) ** 2).sum(), rel=1e-9)


def test_the_reading_at_the_end_of_the_period_counts(world: Path) -> None:
    # The synthetic world reads every account at the period's very end (gsm2025's end,
    # exclusive for posts): that reading is the audience at the end, and growth needs it.
    m = load_methodology("gsm2025")
    with Warehouse.open(world, read_only=True) as wh, open_backend(wh) as backend:
        snaps = follower_snapshots(backend, m)
    latest = max(snaps.column("captured_at").to_pylist())
    assert latest == m.period_end
