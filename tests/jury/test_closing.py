"""Tallying a jury from its submitted ballots and closing it: complete panels only, the
winners and the champion recorded, the jury read-only and no longer blind afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from govsocial.errors import AuthError
from govsocial.jury.audit import entries, verify
from govsocial.jury.ballots import read_ballots, recuse, reopen, save_draft, submit
from govsocial.jury.closing import close_jury, tally
from govsocial.jury.juries import Jury, Nominee, assign, get_jury, open_jury
from govsocial.jury.store import StateStore
from govsocial.jury.tally import Candidate, Mark, standardised, tally_panel, weighted_score
from govsocial.publish.model import ReadModel
from jury.world import CATEGORIES, CLUSTERS, CRITERIA, DEADLINE, People, fill, panel

Favourite = Callable[[str, str], int]  # (category, cluster) → the place the jury prefers


def judge(store: StateStore, people: People, jury: Jury, favourite: Favourite) -> None:
    """Every juror scores every panel: 9 for the favourite place, lower for the others, each
    juror with their own leniency (juror 1 harsh and narrow, juror 3 lenient and wide)."""
    for j, juror in enumerate(people.jurors):
        for category in CATEGORIES:
            for cluster in CLUSTERS:
                best = favourite(category, cluster)

                def score(place: int, nominee: Nominee, j: int = j, best: int = best) -> float:
                    base = 9.0 if place == best else 5.0 - place * 0.5
                    return min(10.0, [0.5 * base + 2, base, 1.1 * base][j])

                fill(store, juror, jury.id, category, cluster, score)


def test_the_organiser_watches_the_tally_of_submitted_ballots_only(
    store: StateStore, people: People, jury: Jury
) -> None:
    one, two, three = people.jurors
    units = [n.unit for n in panel(store, jury.id, "most_active", "pemda")]
    varied = [
        {"content_quality": 9, "public_value": 2, "responsiveness": 5, "creativity": 4},
        {"content_quality": 3, "public_value": 8, "responsiveness": 8, "creativity": 8},
        {"content_quality": 6, "public_value": 6, "responsiveness": 1, "creativity": 10},
        {"content_quality": 5, "public_value": 5, "responsiveness": 5, "creativity": 5},
        {"content_quality": 0, "public_value": 10, "responsiveness": 3, "creativity": 7},
    ]
    for i, unit in enumerate(units):
        save_draft(store, one, jury.id, "most_active", "pemda", unit, varied[i])
        save_draft(store, two, jury.id, "most_active", "pemda", unit, varied[-1 - i])
        save_draft(store, three, jury.id, "most_active", "pemda", unit, varied[(i + 2) % 5])
    recuse(store, three, jury.id, "most_active", "pemda", units[1], "I advised them in 2024")
    submit(store, one, jury.id, "most_active", "pemda")
    submit(store, three, jury.id, "most_active", "pemda")  # juror two's are still drafts
    with pytest.raises(AuthError):
        tally(store, one, jury.id)
    outcome = tally(store, people.organiser, jury.id)
    found = next(
        p for p in outcome.panels if (p.category, p.cluster_id) == ("most_active", "pemda")
    )
    assert found.submitted == (one, three) and found.jurors == people.jurors
    # The same, computed by hand from the weighted criteria.
    weighted = {
        one: {u: weighted_score(varied[i], jury.criteria) for i, u in enumerate(units)},
        three: {
            u: weighted_score(varied[(i + 2) % 5], jury.criteria)
            for i, u in enumerate(units)
            if i != 1
        },
    }
    z = {j: standardised(v) for j, v in weighted.items()}
    for placed in found.tally.placed:
        scores = [z[j][placed.unit] for j in z if placed.unit in z[j]]
        assert placed.jury_score == pytest.approx(sum(scores) / len(scores), abs=1e-8)
        assert placed.jurors == len(scores)
    assert found.tally.agreement.left_out == (three,) and found.tally.agreement.w is None
    nominees = panel(store, jury.id, "most_active", "pemda")
    expected = tally_panel(
        [Candidate(n.unit, n.score, n.rank) for n in nominees],
        [Mark(j, u, v) for j, row in weighted.items() for u, v in row.items()]
        + [Mark(three, units[1], None)],
    )
    assert found.tally == expected
    assert found.winner is not None and found.winner.unit == expected.placed[0].unit


def test_closing_waits_for_every_juror_of_every_panel(
    store: StateStore, people: People, jury: Jury
) -> None:
    judge(store, people, jury, lambda c, k: 0)
    reopen(store, people.organiser, jury.id, people.jurors[1], "best_account", "pemda", "typo")
    with pytest.raises(AuthError, match=f"best_account × pemda waits for juror {people.jurors[1]}"):
        close_jury(store, people.organiser, jury.id)
    submit(store, people.jurors[1], jury.id, "best_account", "pemda")
    with pytest.raises(AuthError, match="only an organiser"):
        close_jury(store, people.jurors[0], jury.id)
    assert close_jury(store, people.organiser, jury.id).jury_id == jury.id
    assert get_jury(store, jury.id).status == "closed"


def test_a_panel_needs_its_panel_size_and_a_score_for_every_nominee(
    store: StateStore, people: People, published: ReadModel
) -> None:
    small = open_jury(
        store,
        people.organiser,
        published.folder,
        deadline=DEADLINE,
        categories=["most_active"],
        clusters=["pemda"],
        jurors=people.jurors[:2],
    )
    one, two = people.jurors[:2]
    units = [n.unit for n in panel(store, small.id, "most_active", "pemda")]
    for juror in (one, two):
        fill(store, juror, small.id, "most_active", "pemda", lambda p, n: 8.0 - p, send=False)
        recuse(store, juror, small.id, "most_active", "pemda", units[2], "conflict of interest")
        submit(store, juror, small.id, "most_active", "pemda")
    with pytest.raises(AuthError) as caught:
        close_jury(store, people.organiser, small.id)
    assert "most_active × pemda has 2 jurors of 3" in caught.value.message
    assert f"every juror recused from {units[2]}; assign another juror" in caught.value.message
    assign(store, people.organiser, small.id, people.jurors[2])
    fill(store, people.jurors[2], small.id, "most_active", "pemda", lambda p, n: 1.0 + p)
    outcome = close_jury(store, people.organiser, small.id)
    placed = outcome.panels[0].tally.placed
    assert [p.jurors for p in placed if p.unit == units[2]] == [1]


@pytest.mark.parametrize(
    ("favourite", "champion", "trophies"),
    [
        # Prov. Aceh is a nominee of both pemda panels: winning both makes it the champion.
        (
            lambda c, k: {"pemda": {"most_active": 1, "best_account": 2}}.get(k, {}).get(c, 4),
            "syn-prov-aceh",
            2,
        ),
        # Kemenag wins both kementerian panels, Aceh both pemda ones: two trophies each; the
        # run's standings break the tie (Kemenag is first there).
        (
            lambda c, k: {"most_active": 1, "best_account": 2}[c] if k == "pemda" else 0,
            "syn-kemenag",
            2,
        ),
    ],
)
def test_closing_records_the_winners_and_the_champion(
    store: StateStore,
    people: People,
    jury: Jury,
    published: ReadModel,
    favourite: Favourite,
    champion: str,
    trophies: int,
) -> None:
    judge(store, people, jury, favourite)
    outcome = close_jury(store, people.organiser, jury.id)
    for p in outcome.panels:
        nominees = panel(store, jury.id, p.category, p.cluster_id)
        assert p.winner == nominees[favourite(p.category, p.cluster_id)]
        assert p.tally.agreement.w is not None and p.tally.agreement.w > 0.9
        assert p.tally.leniency[people.jurors[0]] < 0 < p.tally.leniency[people.jurors[2]]
    assert outcome.champion.institution_id == champion
    assert outcome.champion.trophies[champion] == trophies
    closed = get_jury(store, jury.id)
    assert closed.status == "closed" and closed.outcome == json.loads(json.dumps(outcome.as_json()))
    assert closed.outcome is not None
    assert closed.outcome["champion"]["institution_id"] == champion
    last = list(entries(store))[-1]
    assert last.action == "jury.close" and last.after["outcome"] == closed.outcome
    assert verify(store).ok


def test_a_closed_jury_is_read_only_and_no_longer_blind(
    store: StateStore, people: People, jury: Jury
) -> None:
    judge(store, people, jury, lambda c, k: 3)
    close_jury(store, people.organiser, jury.id)
    one = people.jurors[0]
    unit = panel(store, jury.id, "most_active", "pemda")[0].unit
    scores = dict.fromkeys(CRITERIA, 1.0)
    attempts: list[Callable[[], object]] = [
        lambda: save_draft(store, one, jury.id, "most_active", "pemda", unit, scores),
        lambda: reopen(store, people.organiser, jury.id, one, "most_active", "pemda", "late"),
        lambda: assign(store, people.organiser, jury.id, people.spare),
        lambda: close_jury(store, people.organiser, jury.id),
    ]
    for attempt in attempts:
        with pytest.raises(AuthError, match="is closed"):
            attempt()
    assert {b.juror_id for b in read_ballots(store, one, jury.id)} == set(people.jurors)
    # A new jury on the same run may open once this one is closed.
    again = open_jury(store, people.organiser, jury.folder, deadline=DEADLINE, rule="borda")
    assert again.id != jury.id


def test_borda_as_the_jury_rule(store: StateStore, people: People, published: ReadModel) -> None:
    borda = open_jury(
        store,
        people.organiser,
        published.folder,
        deadline=DEADLINE,
        categories=["most_active"],
        clusters=["kementerian"],
        jurors=people.jurors,
        rule="borda",
    )
    for juror, best in zip(people.jurors, (2, 2, 4), strict=True):
        fill(
            store,
            juror,
            borda.id,
            "most_active",
            "kementerian",
            lambda p, n, best=best: 9.0 if p == best else 3.0 + 0.1 * p,
        )
    outcome = close_jury(store, people.organiser, borda.id)
    placed = outcome.panels[0].tally.placed
    # Place 2 is first for two jurors (1 point each) and third of five for the last, who
    # scores it above two others (2 of 4: 0.5): (1 + 1 + 0.5) / 3.
    assert outcome.rule == "borda"
    assert placed[0].jury_score == pytest.approx(2.5 / 3)
    winner = outcome.panels[0].winner
    assert winner == panel(store, borda.id, "most_active", "kementerian")[2]
