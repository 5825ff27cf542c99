"""What the jury pages read beside the core's rules: each assignment's progress, one panel as
its reader may see it (ballots.progress, ballots.panel_view), and the tally rule a methodology
declares ([jury] rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from govsocial.awards.methodology import load_methodology, parse_methodology
from govsocial.errors import AuthError, InputError, MethodologyError, NotFoundError
from govsocial.jury.ballots import panel_view, progress, recuse, save_draft, submit
from govsocial.jury.closing import close_jury
from govsocial.jury.juries import Jury, assign
from govsocial.jury.store import StateStore
from jury.world import CATEGORIES, CLUSTERS, CRITERIA, People, fill, panel

FULL = dict.fromkeys(CRITERIA, 7.0)
CATEGORY, CLUSTER = CATEGORIES[0], CLUSTERS[0]


def test_progress_counts_each_assignment_and_a_juror_sees_only_their_own(
    store: StateStore, people: People, jury: Jury
) -> None:
    one, two, three = people.jurors
    units = [n.unit for n in panel(store, jury.id, CATEGORY, CLUSTER)]
    save_draft(store, one, jury.id, CATEGORY, CLUSTER, units[0], FULL)
    save_draft(store, one, jury.id, CATEGORY, CLUSTER, units[1], {"creativity": 3.0})
    recuse(store, one, jury.id, CATEGORY, CLUSTER, units[2], "my brother works there")
    fill(store, two, jury.id, CATEGORY, CLUSTER, lambda place, n: float(place))
    every = progress(store, people.organiser, jury.id)
    assert len(every) == 3 * len(CATEGORIES) * len(CLUSTERS)
    by_key = {(p.category, p.cluster_id, p.juror_id): p for p in every}
    first = by_key[(CATEGORY, CLUSTER, one)]
    assert (first.nominees, first.scored, first.recused, first.saved) == (len(units), 1, 1, 3)
    assert first.status == "draft" and not first.submitted
    second = by_key[(CATEGORY, CLUSTER, two)]
    assert second.status == "submitted" and second.scored == len(units) == second.saved
    assert by_key[(CATEGORY, CLUSTER, three)].status == "not started"
    assert by_key[(CATEGORY, CLUSTERS[1], one)].status == "not started"
    # a juror reads their own rows only: nobody else's counts
    mine = progress(store, one, jury.id)
    assert {p.juror_id for p in mine} == {one} and first in mine
    assert progress(store, people.spare, jury.id) == []
    with pytest.raises(AuthError):
        progress(store, people.operator, jury.id)
    with pytest.raises(NotFoundError):
        progress(store, people.organiser, 999)


def test_a_panel_view_is_blind_until_the_jury_closes(
    store: StateStore, people: People, jury: Jury
) -> None:
    one, two, three = people.jurors
    units = [n.unit for n in panel(store, jury.id, CATEGORY, CLUSTER)]
    save_draft(store, one, jury.id, CATEGORY, CLUSTER, units[0], FULL, "mine")
    save_draft(store, two, jury.id, CATEGORY, CLUSTER, units[0], FULL, "secret")
    elsewhere = panel(store, jury.id, CATEGORY, CLUSTERS[1])[0].unit
    save_draft(store, two, jury.id, CATEGORY, CLUSTERS[1], elsewhere, FULL, "elsewhere")
    view = panel_view(store, one, jury.id, CATEGORY, CLUSTER)
    assert [n.unit for n in view.nominees] == units
    assert [(b.juror_id, b.comment) for b in view.ballots] == [(one, "mine")]
    assert set(view.jurors) == {one}
    organiser = panel_view(store, people.organiser, jury.id, CATEGORY, CLUSTER)
    assert {b.comment for b in organiser.ballots} == {"mine", "secret"}
    assert set(organiser.jurors) == {one, two, three}
    with pytest.raises(AuthError, match="not a juror of"):
        panel_view(store, people.spare, jury.id, CATEGORY, CLUSTER)
    with pytest.raises(AuthError):
        panel_view(store, people.operator, jury.id, CATEGORY, CLUSTER)
    with pytest.raises(NotFoundError, match="no panel"):
        panel_view(store, one, jury.id, CATEGORY, "nowhere")
    # closed: every juror of the panel reads every ballot there (and their names)
    for category in CATEGORIES:
        for cluster in CLUSTERS:
            for juror in people.jurors:
                fill(store, juror, jury.id, category, cluster, lambda place, n: float(place))
    close_jury(store, people.organiser, jury.id)
    closed = panel_view(store, one, jury.id, CATEGORY, CLUSTER)
    assert {b.juror_id for b in closed.ballots} == {one, two, three}
    assert len(closed.ballots) == 3 * len(units)
    assert closed.jurors[two] == "Juror2"
    with pytest.raises(AuthError, match="not a juror of"):  # still only their panels
        panel_view(store, people.spare, jury.id, CATEGORY, CLUSTER)


def test_a_juror_assigned_later_sees_the_panel(
    store: StateStore, people: People, jury: Jury
) -> None:
    assign(store, people.organiser, jury.id, people.spare, CATEGORY, CLUSTER)
    view = panel_view(store, people.spare, jury.id, CATEGORY, CLUSTER)
    assert view.ballots == () and set(view.jurors) == {people.spare}
    with pytest.raises(InputError, match="still to score"):
        submit(store, people.spare, jury.id, CATEGORY, CLUSTER)


def test_the_methodology_declares_the_jurys_tally_rule(tmp_path: Path) -> None:
    shipped = load_methodology("gsm2025")
    assert shipped.jury_rule == "standardised" and shipped.jury
    text = shipped.text.replace('rule = "standardised"', 'rule = "borda"')
    assert parse_methodology(text, "borda.toml").jury_rule == "borda"
    without = shipped.text.replace('[jury]\nrule = "standardised"\n', "")
    assert without != shipped.text
    assert parse_methodology(without, "plain.toml").jury_rule == "standardised"
    with pytest.raises(MethodologyError, match=r"jury\.rule") as caught:
        parse_methodology(shipped.text.replace('rule = "standardised"', 'rule = "median"'), "x")
    assert "borda" in str(caught.value) and "standardised" in str(caught.value)
