"""The jury's tally of one category × cluster, and how much the jurors agree (docs/jury.md).

Pure functions over plain records: :mod:`govsocial.jury.juries` reads the submitted ballots
and calls :func:`tally_panel`; the tests call it with generated ballots.

- Each juror's score of a nominee is the weighted mean of their criterion scores, with the
  methodology's ``[[jury.criteria]]`` weights (:func:`weighted_score`).
- ``standardised`` (default): each juror's scores become z-scores within that juror's own
  ballots of the panel, ``z = (x − mean) / sd`` (population sd), so a lenient and a harsh
  juror, or one who uses 6–8 and one who uses 2–10, weigh the same; a juror whose scores are
  all equal contributes 0s. A nominee's jury score is the mean of its z-scores over the jurors
  who scored it: a recused (juror, nominee) pair leaves both that mean and the juror's own
  standardisation.
- ``borda``: each juror's points for a nominee are the nominees they scored below it, plus
  half of those they scored equal, divided by (scored − 1), so a ballot spans 0–1 whatever
  the recusals; the jury score is the mean over the jurors who scored it (Borda 1781, with
  ties sharing points).
- Places: jury score (rounded to :data:`DECIMALS`, so equal data gives equal values), then the
  quantitative score of results.json, then its rank. A nominee that no juror scored has no
  jury score and comes last.
- Agreement: Kendall's W with the tie correction (Kendall & Babington Smith 1939) over the
  complete rankings only: a juror who recused from any nominee of the panel is left out of W
  (and named), since W needs every juror to rank every nominee.
- Leniency: a juror's mean raw score in the panel minus the mean of every raw score there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from govsocial.awards.methodology import JuryCriterion

Rule = Literal["standardised", "borda"]
RULES: tuple[Rule, ...] = ("standardised", "borda")
DECIMALS = 9  # jury scores are rounded before ranking: float noise never decides a place


@dataclass(frozen=True)
class Candidate:
    """A nominee as the tally sees it: its key and its standing in results.json."""

    unit: str
    quantitative: float  # its score in results.json (0–1)
    rank: int  # its rank there (1 = best)


@dataclass(frozen=True)
class Mark:
    """One juror's weighted score of one nominee; ``value`` None: the juror recused."""

    juror: int
    unit: str
    value: float | None


@dataclass(frozen=True)
class Placed:
    place: int  # 1 = the winner
    unit: str
    jury_score: float | None  # None: every juror recused from it
    jurors: int  # jurors whose score counts
    quantitative: float
    rank: int


@dataclass(frozen=True)
class Agreement:
    """Kendall's W over the complete rankings of a panel (None when it is undefined: fewer
    than two complete rankings or nominees, or every juror tying every nominee)."""

    w: float | None
    jurors: int  # complete rankings used
    nominees: int
    left_out: tuple[int, ...]  # jurors left out of W because they recused


@dataclass(frozen=True)
class PanelTally:
    rule: Rule
    placed: tuple[Placed, ...]  # best first
    agreement: Agreement
    leniency: Mapping[int, float]  # juror → mean raw score minus the panel's mean

    @property
    def winner(self) -> Placed | None:
        first = self.placed[0] if self.placed else None
        return first if first is not None and first.jury_score is not None else None


def weighted_score(scores: Mapping[str, float], criteria: Sequence[JuryCriterion]) -> float:
    """Σ wᵢ·sᵢ / Σ wᵢ over the methodology's criteria (each must be scored)."""
    total = sum(c.weight for c in criteria)
    return sum(c.weight * float(scores[c.id]) for c in criteria) / total


def standardised(values: Mapping[str, float]) -> dict[str, float]:
    """z-scores of one juror's values (population sd); all 0 when the values are all equal
    (compared as given: a mean of equal floats need not equal them)."""
    if not values:
        return {}
    if max(values.values()) == min(values.values()):
        return dict.fromkeys(values, 0.0)
    mean = math.fsum(values.values()) / len(values)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values.values()) / len(values))
    return {unit: (v - mean) / sd for unit, v in values.items()}


def borda_points(values: Mapping[str, float]) -> dict[str, float]:
    """Each nominee's share of the others it beats (ties count half), 0–1; 0 for a lone one."""
    if len(values) < 2:
        return dict.fromkeys(values, 0.0)
    others = len(values) - 1
    return {
        unit: (sum(1 for w in values.values() if v > w) + (_equal(values, v) - 1) / 2) / others
        for unit, v in values.items()
    }


def _equal(values: Mapping[str, float], v: float) -> int:
    return sum(1 for w in values.values() if w == v)


def mid_ranks(values: Mapping[str, float]) -> dict[str, float]:
    """Rank 1 = the highest value; tied values share the mean of their ranks."""
    ordered = sorted(values.values(), reverse=True)
    first: dict[float, int] = {}
    for i, v in enumerate(ordered):
        first.setdefault(v, i + 1)
    return {unit: first[v] + (_equal(values, v) - 1) / 2 for unit, v in values.items()}


def kendalls_w(rankings: Sequence[Mapping[str, float]]) -> float | None:
    """Kendall's coefficient of concordance of ``m`` jurors' scores of the same ``n`` nominees,
    with the correction for ties (Kendall & Babington Smith 1939):

        W = 12 S / (m² (n³ − n) − m Σⱼ Tⱼ),   S = Σᵢ (Rᵢ − m (n + 1) / 2)²,
        Tⱼ = Σ (t³ − t) over the groups of t tied nominees in juror j's ranking,

    Rᵢ the sum of nominee i's mid-ranks. 1 = identical rankings, 0 = no agreement. None when
    it is undefined (m < 2, n < 2, or every juror ties every nominee)."""
    m = len(rankings)
    if m < 2:
        return None
    units = sorted(rankings[0])
    n = len(units)
    if n < 2 or any(sorted(r) != units for r in rankings):
        return None
    sums = dict.fromkeys(units, 0.0)
    ties = 0
    for scores in rankings:
        for unit, rank in mid_ranks(scores).items():
            sums[unit] += rank
        groups: dict[float, int] = {}
        for v in scores.values():
            groups[v] = groups.get(v, 0) + 1
        ties += sum(t**3 - t for t in groups.values())
    denominator = m * m * (n**3 - n) - m * ties
    if denominator == 0:
        return None
    mean = m * (n + 1) / 2
    s = math.fsum((r - mean) ** 2 for r in sums.values())
    return round(12 * s / denominator, DECIMALS)


def tally_panel(
    candidates: Sequence[Candidate], marks: Iterable[Mark], rule: Rule = "standardised"
) -> PanelTally:
    """Place the panel's nominees by the jury (see the module's docstring for the rules)."""
    if rule not in RULES:
        raise ValueError(f"no tally rule {rule!r}; the rules are {', '.join(RULES)}")
    units = {c.unit for c in candidates}
    by_juror: dict[int, dict[str, float]] = {}
    recusing: set[int] = set()
    for mark in marks:
        if mark.unit not in units:
            raise ValueError(f"juror {mark.juror} scored {mark.unit!r}, not a nominee here")
        by_juror.setdefault(mark.juror, {})
        if mark.value is None:
            recusing.add(mark.juror)
        else:
            by_juror[mark.juror][mark.unit] = float(mark.value)
    convert = standardised if rule == "standardised" else borda_points
    counted: dict[str, list[float]] = {unit: [] for unit in units}
    for values in by_juror.values():
        for unit, converted in convert(values).items():
            counted[unit].append(converted)

    def jury_score(unit: str) -> float | None:
        found = counted[unit]
        return round(math.fsum(found) / len(found), DECIMALS) if found else None

    def order(c: Candidate) -> tuple[int, float, float, int, str]:
        score = jury_score(c.unit)
        return (score is None, -(score or 0.0), -c.quantitative, c.rank, c.unit)

    placed = tuple(
        Placed(place, c.unit, jury_score(c.unit), len(counted[c.unit]), c.quantitative, c.rank)
        for place, c in enumerate(sorted(candidates, key=order), start=1)
    )
    complete = [
        values
        for juror, values in sorted(by_juror.items())
        if juror not in recusing and len(values) == len(units)
    ]
    left_out = tuple(sorted(j for j in by_juror if j in recusing))
    agreement = Agreement(kendalls_w(complete), len(complete), len(units), left_out)
    return PanelTally(rule, placed, agreement, _leniency(by_juror))


def _leniency(by_juror: Mapping[int, Mapping[str, float]]) -> dict[int, float]:
    every = [v for values in by_juror.values() for v in values.values()]
    if not every:
        return {}
    panel = math.fsum(every) / len(every)
    return {
        juror: round(math.fsum(values.values()) / len(values) - panel, DECIMALS)
        for juror, values in sorted(by_juror.items())
        if values
    }
