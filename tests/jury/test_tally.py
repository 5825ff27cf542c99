"""The tally's arithmetic: standardised scores make a lenient and a harsh juror weigh the same
(property: no shift or positive scaling of one juror changes any place), a recusal removes
exactly its pair, Borda, the tiebreaks, Kendall's W against hand-computed values."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.awards.methodology import JuryCriterion
from govsocial.jury.tally import (
    Candidate,
    Mark,
    borda_points,
    kendalls_w,
    mid_ranks,
    standardised,
    tally_panel,
    weighted_score,
)

UNITS = ("a", "b", "c", "d", "e")
CANDIDATES = [Candidate(u, 0.9 - 0.1 * i, i + 1) for i, u in enumerate(UNITS)]


def marks(table: dict[int, Sequence[float | None]]) -> list[Mark]:
    return [Mark(j, u, v) for j, row in table.items() for u, v in zip(UNITS, row, strict=True)]


def test_weighted_score_uses_the_methodology_weights() -> None:
    criteria = [JuryCriterion("q", "", "", 0.75, ""), JuryCriterion("v", "", "", 0.25, "")]
    assert weighted_score({"q": 8, "v": 4}, criteria) == pytest.approx(7.0)
    doubled = [JuryCriterion("q", "", "", 3, ""), JuryCriterion("v", "", "", 1, "")]
    assert weighted_score({"q": 8, "v": 4}, doubled) == pytest.approx(7.0)  # relative weights


def test_standardised_scores_and_a_flat_juror() -> None:
    z = standardised({"a": 2, "b": 4, "c": 6})
    assert z == pytest.approx({"a": -math.sqrt(1.5), "b": 0.0, "c": math.sqrt(1.5)})
    assert standardised({"a": 0.1, "b": 0.1, "c": 0.1}) == {"a": 0.0, "b": 0.0, "c": 0.0}


def test_a_lenient_and_a_harsh_juror_weigh_the_same() -> None:
    # Juror 1 is harsh and narrow and prefers b; juror 2 is lenient and wide and prefers a.
    # By the raw mean juror 2's wide scores decide (a: 6.5, b: 6); standardised, juror 1's
    # clear preference for b counts as much as juror 2's small one for a over b.
    three = CANDIDATES[:3]
    given = [Mark(1, "a", 3), Mark(1, "b", 5), Mark(1, "c", 4)]
    given += [Mark(2, "a", 10), Mark(2, "b", 7), Mark(2, "c", 0)]
    result = tally_panel(three, given)
    assert result.winner is not None and result.winner.unit == "b"
    z1, z2 = standardised({"a": 3, "b": 5, "c": 4}), standardised({"a": 10, "b": 7, "c": 0})
    assert result.placed[0].jury_score == pytest.approx((z1["b"] + z2["b"]) / 2)
    assert [p.unit for p in result.placed] == ["b", "a", "c"]
    assert result.leniency == {1: pytest.approx(4 - 29 / 6), 2: pytest.approx(17 / 3 - 29 / 6)}
    assert result.agreement.w == pytest.approx(0.25)  # R = (4, 3, 5), S = 2: 12·2 / (4·24)


def test_ties_go_to_the_quantitative_score_then_the_rank() -> None:
    same = marks({1: [5, 5, 5, 5, 5]})
    assert [p.unit for p in tally_panel(CANDIDATES, same).placed] == list(UNITS)
    level = [Candidate(u, 0.5, 5 - i) for i, u in enumerate(UNITS)]  # equal scores: rank
    assert [p.unit for p in tally_panel(level, same).placed] == list(reversed(UNITS))


def test_a_nominee_nobody_scored_comes_last_without_a_jury_score() -> None:
    result = tally_panel(CANDIDATES, marks({1: [None, 1, 2, 3, 4], 2: [None, 4, 3, 2, 1]}))
    assert result.placed[-1].unit == "a" and result.placed[-1].jury_score is None
    assert result.placed[-1].jurors == 0
    assert result.agreement.w is None and result.agreement.left_out == (1, 2)
    nobody = tally_panel(CANDIDATES, marks({1: [None] * 5}))
    assert nobody.winner is None


def test_borda_counts_the_nominees_beaten_ties_by_half() -> None:
    assert borda_points({"a": 9, "b": 7, "c": 7, "d": 1}) == {
        "a": 1.0,
        "b": pytest.approx(0.5),
        "c": pytest.approx(0.5),
        "d": 0.0,
    }
    result = tally_panel(CANDIDATES, marks({1: [9, 8, 7, 6, 5], 2: [1, 9, 2, 3, 4]}), "borda")
    points = {p.unit: p.jury_score for p in result.placed}
    assert points == {"a": 0.5, "b": 0.875, "c": 0.375, "d": 0.375, "e": 0.375}
    assert [p.unit for p in result.placed] == ["b", "a", "c", "d", "e"]
    with pytest.raises(ValueError, match="no tally rule"):
        tally_panel(CANDIDATES, [], "median")  # type: ignore[arg-type]


def test_kendalls_w_by_hand() -> None:
    # Three jurors, four nominees, the third reversed: R = (6, 7, 8, 9), mean 7.5, S = 5,
    # W = 12·5 / (3²·(4³ − 4)) = 60 / 540 = 1/9.
    a = {"p": 4, "q": 3, "r": 2, "s": 1}
    reversed_ = {"p": 1, "q": 2, "r": 3, "s": 4}
    assert kendalls_w([a, a, reversed_]) == pytest.approx(1 / 9)
    # With ties: juror A scores (10, 10, 5) → mid-ranks (1.5, 1.5, 3), T_A = 2³ − 2 = 6;
    # B (9, 6, 3) → (1, 2, 3). R = (2.5, 3.5, 6), mean 4, S = 6.5;
    # W = 12·6.5 / (2²·(3³ − 3) − 2·6) = 78 / 84 = 13/14.
    assert mid_ranks({"x": 10, "y": 10, "z": 5}) == {"x": 1.5, "y": 1.5, "z": 3.0}
    assert kendalls_w([{"x": 10, "y": 10, "z": 5}, {"x": 9, "y": 6, "z": 3}]) == pytest.approx(
        13 / 14
    )
    assert kendalls_w([a, a, a]) == 1.0
    assert kendalls_w([a, reversed_]) == 0.0
    assert kendalls_w([a]) is None
    assert kendalls_w([{"p": 1, "q": 1}, {"p": 2, "q": 2}]) is None  # all tied: undefined


scores = st.integers(min_value=0, max_value=10).map(float)
panels = st.integers(min_value=2, max_value=5).flatmap(
    lambda n: st.lists(st.lists(scores, min_size=n, max_size=n), min_size=1, max_size=5)
)


def _marks(rows: list[list[float]]) -> list[Mark]:
    return [Mark(j, UNITS[i], v) for j, row in enumerate(rows) for i, v in enumerate(row)]


def _candidates(rows: list[list[float]]) -> list[Candidate]:
    return CANDIDATES[: len(rows[0])]


@settings(max_examples=300, deadline=None)
@given(
    rows=panels,
    juror=st.integers(min_value=0, max_value=4),
    shift=st.floats(min_value=-20, max_value=20, allow_nan=False),
    factor=st.floats(min_value=0.05, max_value=20, allow_nan=False),
)
def test_shifting_or_scaling_one_juror_changes_no_place(
    rows: list[list[float]], juror: int, shift: float, factor: float
) -> None:
    juror %= len(rows)
    before = tally_panel(_candidates(rows), _marks(rows))
    for change in (lambda v: v + shift, lambda v: v * factor):
        moved = [[change(v) for v in row] if j == juror else row for j, row in enumerate(rows)]
        after = tally_panel(_candidates(rows), _marks(moved))
        assert [p.unit for p in after.placed] == [p.unit for p in before.placed]
        assert after.winner == before.winner
        assert after.agreement == before.agreement  # rankings are unchanged too


def _reference(rows: list[list[float]], dropped: tuple[int, int]) -> dict[str, float | None]:
    """The standardised rule written out by hand, with the pair ``dropped`` absent."""
    sums: dict[str, list[float]] = {u: [] for u in UNITS[: len(rows[0])]}
    for j, row in enumerate(rows):
        values = {UNITS[i]: v for i, v in enumerate(row) if (j, i) != dropped}
        if not values:
            continue
        mean = sum(values.values()) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values.values()) / len(values))
        for unit, v in values.items():
            flat = max(values.values()) == min(values.values())
            sums[unit].append(0.0 if flat else (v - mean) / sd)
    return {u: sum(z) / len(z) if z else None for u, z in sums.items()}


@settings(max_examples=300, deadline=None)
@given(
    rows=panels,
    juror=st.integers(min_value=0, max_value=4),
    nominee=st.integers(min_value=0, max_value=4),
)
def test_a_recusal_removes_exactly_its_pair(
    rows: list[list[float]], juror: int, nominee: int
) -> None:
    juror %= len(rows)
    nominee %= len(rows[0])
    given_marks = [
        Mark(m.juror, m.unit, None) if (m.juror, m.unit) == (juror, UNITS[nominee]) else m
        for m in _marks(rows)
    ]
    result = tally_panel(_candidates(rows), given_marks)
    expected = _reference(rows, (juror, nominee))
    for placed in result.placed:
        want = expected[placed.unit]
        if want is None:
            assert placed.jury_score is None
        else:
            assert placed.jury_score == pytest.approx(want, abs=1e-8)
        scored = len(rows) - (placed.unit == UNITS[nominee])
        assert placed.jurors == scored  # only that nominee loses one juror
    assert result.agreement.left_out == (juror,)  # W: over the complete rankings only
    assert result.agreement.jurors == len(rows) - 1


@settings(max_examples=200, deadline=None)
@given(
    row=st.lists(st.integers(min_value=0, max_value=100), min_size=2, max_size=8, unique=True),
    jurors=st.integers(min_value=2, max_value=6),
)
def test_w_is_one_for_identical_rankings_and_zero_for_opposed(row: list[int], jurors: int) -> None:
    units = [f"u{i}" for i in range(len(row))]
    ranking = dict(zip(units, map(float, row), strict=True))
    assert kendalls_w([ranking] * jurors) == 1.0
    opposed = {u: -v for u, v in ranking.items()}
    w = kendalls_w([ranking, opposed] * (jurors // 2) + [ranking] * (jurors % 2))
    assert w is not None
    if jurors % 2 == 0:
        assert w == 0.0
    else:  # one juror more on one side: W = 1/m²
        assert w == pytest.approx(1 / jurors**2)
