"""The jury's rules, each enforced by the library from the acting user's id: who may open,
assign, score, recuse, submit, reopen and read; a violation is a clear error and changes
nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from govsocial.errors import (
    AuthError,
    ConfigError,
    InputError,
    MethodologyError,
    NotFoundError,
)
from govsocial.jury.audit import entries, verify
from govsocial.jury.ballots import my_panels, read_ballots, recuse, reopen, save_draft, submit
from govsocial.jury.juries import (
    Jury,
    assign,
    extend_deadline,
    get_jury,
    nominees,
    open_jury,
    unassign,
)
from govsocial.jury.store import StateStore
from govsocial.jury.users import Console, disable_user
from govsocial.publish.model import ReadModel
from jury.world import CATEGORIES, CLUSTERS, CRITERIA, DEADLINE, Clock, People, fill, panel

FULL = dict.fromkeys(CRITERIA, 7.0)


def test_a_jury_copies_its_nominees_and_criteria_from_the_read_model(
    store: StateStore, people: People, jury: Jury, published: ReadModel
) -> None:
    expected = []
    for category in published.results["categories"]:
        for cluster in category["clusters"]:
            if category["id"] in CATEGORIES and cluster["cluster_id"] in CLUSTERS:
                for n in cluster["nominees"]:
                    unit = str(n["account_id"]) if n["account_id"] else n["institution_id"]
                    expected.append((category["id"], cluster["cluster_id"], unit, n["rank"]))
    found = [(n.category, n.cluster_id, n.unit, n.rank) for n in nominees(store, jury.id)]
    assert sorted(found) == sorted(expected) and len(found) == 20
    assert [(c.id, c.weight) for c in jury.criteria] == [
        ("content_quality", 0.35),
        ("public_value", 0.25),
        ("responsiveness", 0.2),
        ("creativity", 0.2),
    ]
    assert jury.run_id == published.run_id and jury.panel_size == 3 and jury.status == "open"
    assert jury.rule == "standardised" and jury.outcome is None
    account = next(n for n in nominees(store, jury.id) if n.category == "best_account")
    assert account.unit.isdigit() and "(" in account.label  # account units name the handle
    for juror in people.jurors:
        assert [p[:2] for p in my_panels(store, juror, jury.id)] == [
            (c, k) for c in sorted(CATEGORIES) for k in CLUSTERS
        ]
    actions = [e.action for e in entries(store)]
    assert actions[-4:] == ["jury.open", "jury.assign", "jury.assign", "jury.assign"]


def test_opening_a_jury_is_checked(
    store: StateStore, people: People, published: ReadModel, tmp_path: Path
) -> None:
    folder = published.folder
    with pytest.raises(AuthError, match="only an organiser"):
        open_jury(store, people.jurors[0], folder, deadline=DEADLINE)
    with pytest.raises(AuthError, match="only a signed-in user"):
        open_jury(store, Console("t"), folder, deadline=DEADLINE)
    with pytest.raises(NotFoundError, match="most_liked: the run has most_active"):
        open_jury(store, people.organiser, folder, deadline=DEADLINE, categories=["most_liked"])
    with pytest.raises(NotFoundError, match="cluster desa"):
        open_jury(store, people.organiser, folder, deadline=DEADLINE, clusters=["desa"])
    with pytest.raises(InputError, match="not in the future"):
        open_jury(store, people.organiser, folder, deadline=DEADLINE - timedelta(days=60))
    with pytest.raises(InputError, match="not an active juror"):
        open_jury(store, people.organiser, folder, deadline=DEADLINE, jurors=[people.operator])
    with pytest.raises(InputError, match="tally rule"):
        open_jury(store, people.organiser, folder, deadline=DEADLINE, rule="median")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not a published run"):
        open_jury(store, people.organiser, tmp_path, deadline=DEADLINE)
    assert store.sqlite.execute("SELECT count(*) FROM juries").fetchone()[0] == 0
    first = open_jury(store, people.organiser, folder, deadline=DEADLINE, rule="borda")
    assert first.rule == "borda" and len(first.categories) == 5 and len(first.clusters) == 4
    with pytest.raises(AuthError, match=f"jury {first.id} on run .* is open"):
        open_jury(store, people.organiser, folder, deadline=DEADLINE)


def test_a_methodology_without_jury_criteria_is_refused(
    store: StateStore, people: People, published: ReadModel, tmp_path: Path
) -> None:
    copy = tmp_path / "run"
    shutil.copytree(published.folder, copy)
    text = (copy / "methodology.toml").read_text("utf-8")
    (copy / "methodology.toml").write_text(text.split("[[jury.criteria]]")[0], "utf-8")
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    manifest["files"]["methodology.toml"] = hashlib.sha256(
        (copy / "methodology.toml").read_bytes()
    ).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(MethodologyError, match=r"no jury criteria"):
        open_jury(store, people.organiser, copy, deadline=DEADLINE)


def test_a_juror_writes_only_their_own_ballots_on_their_panels(
    store: StateStore, people: People, jury: Jury
) -> None:
    one, two = people.jurors[:2]
    unit = panel(store, jury.id, "most_active", "pemda")[0].unit
    mine = save_draft(store, one, jury.id, "most_active", "pemda", unit, {"creativity": 9}, "good")
    assert mine.juror_id == one and mine.status == "draft" and mine.scores == {"creativity": 9.0}
    theirs = save_draft(store, two, jury.id, "most_active", "pemda", unit, FULL)
    assert theirs.juror_id == two
    again = read_ballots(store, one, jury.id)
    assert [(b.juror_id, b.scores) for b in again] == [(one, {"creativity": 9.0})]
    with pytest.raises(AuthError, match="juror4 is not a juror of most_active × pemda"):
        save_draft(store, people.spare, jury.id, "most_active", "pemda", unit, FULL)
    for not_a_juror in (people.organiser, people.operator):
        with pytest.raises(AuthError, match="only a juror"):
            save_draft(store, not_a_juror, jury.id, "most_active", "pemda", unit, FULL)
    entry = next(e for e in entries(store) if e.action == "ballot.draft")
    assert entry.actor == f"user:{one}" and entry.before is None
    assert entry.after["scores"] == {"creativity": 9.0} and entry.after["comment"] == "good"


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({"charm": 5}, "no criterion charm"),
        ({"creativity": 11}, "not a score from 0 to 10"),
        ({"creativity": -0.5}, "not a score from 0 to 10"),
        ({"creativity": float("nan")}, "not a score"),
        ({"creativity": True}, "not a number"),
        ({"creativity": "5"}, "not a number"),
    ],
)
def test_bad_scores_are_refused(
    store: StateStore, people: People, jury: Jury, scores: dict[str, object], message: str
) -> None:
    unit = panel(store, jury.id, "most_active", "pemda")[0].unit
    with pytest.raises(InputError, match=message):
        save_draft(store, people.jurors[0], jury.id, "most_active", "pemda", unit, scores)  # type: ignore[arg-type]
    assert store.sqlite.execute("SELECT count(*) FROM ballots").fetchone()[0] == 0


def test_unknown_panels_nominees_and_long_comments_are_refused(
    store: StateStore, people: People, jury: Jury
) -> None:
    juror = people.jurors[0]
    with pytest.raises(NotFoundError, match="not a nominee"):
        save_draft(store, juror, jury.id, "most_active", "pemda", "syn-kemenag", FULL)
    with pytest.raises(NotFoundError, match="no jury 99"):
        save_draft(store, juror, 99, "most_active", "pemda", "x", FULL)
    unit = panel(store, jury.id, "most_active", "pemda")[0].unit
    with pytest.raises(AuthError, match="not a juror of most_engaging"):
        save_draft(store, juror, jury.id, "most_engaging", "pemda", unit, FULL)
    with pytest.raises(InputError, match="more than 4,000"):
        save_draft(store, juror, jury.id, "most_active", "pemda", unit, FULL, "x" * 4001)


def test_submitting_needs_every_nominee_scored_or_recused_and_locks(
    store: StateStore, people: People, jury: Jury
) -> None:
    juror = people.jurors[0]
    units = [n.unit for n in panel(store, jury.id, "most_active", "pemda")]
    for unit in units[:3]:
        save_draft(store, juror, jury.id, "most_active", "pemda", unit, FULL)
    save_draft(store, juror, jury.id, "most_active", "pemda", units[3], {"creativity": 1})
    with pytest.raises(InputError, match="2 nominees still to score") as caught:
        submit(store, juror, jury.id, "most_active", "pemda")
    assert "content_quality, public_value, responsiveness)" in caught.value.message
    recuse(store, juror, jury.id, "most_active", "pemda", units[4], "my brother works there")
    save_draft(store, juror, jury.id, "most_active", "pemda", units[3], FULL)
    done = submit(store, juror, jury.id, "most_active", "pemda")
    assert {b.status for b in done} == {"submitted"} and len(done) == 5
    assert [b.recused for b in done if b.unit == units[4]] == [True]
    with pytest.raises(AuthError, match="submitted and locked"):
        save_draft(store, juror, jury.id, "most_active", "pemda", units[0], FULL)
    with pytest.raises(AuthError, match="submitted and locked"):
        recuse(store, juror, jury.id, "most_active", "pemda", units[0], "changed my mind")
    with pytest.raises(AuthError, match="already"):
        submit(store, juror, jury.id, "most_active", "pemda")
    assert ("most_active", "pemda", "submitted") in my_panels(store, juror, jury.id)


def test_a_recusal_clears_the_scores_and_a_draft_withdraws_it(
    store: StateStore, people: People, jury: Jury
) -> None:
    juror = people.jurors[1]
    unit = panel(store, jury.id, "best_account", "kementerian")[2].unit
    save_draft(store, juror, jury.id, "best_account", "kementerian", unit, FULL, "note")
    with pytest.raises(InputError, match="needs its reason"):
        recuse(store, juror, jury.id, "best_account", "kementerian", unit, "   ")
    out = recuse(store, juror, jury.id, "best_account", "kementerian", unit, "former employer")
    assert out.recused and out.scores == {} and out.recusal_reason == "former employer"
    back = save_draft(store, juror, jury.id, "best_account", "kementerian", unit, FULL)
    assert not back.recused and back.recusal_reason is None and back.scores == FULL
    history = [e for e in entries(store) if e.subject == out.subject]
    assert [e.action for e in history] == ["ballot.draft", "ballot.recuse", "ballot.draft"]
    assert history[1].before["scores"] == FULL and history[1].after["recused"] is True


def test_only_the_organiser_reopens_with_a_reason(
    store: StateStore, people: People, jury: Jury
) -> None:
    juror = people.jurors[2]
    fill(store, juror, jury.id, "most_active", "kementerian", lambda place, n: 5.0 + place)
    with pytest.raises(AuthError, match="only an organiser"):
        reopen(store, juror, jury.id, juror, "most_active", "kementerian", "I want to change")
    with pytest.raises(InputError, match="needs its reason"):
        reopen(store, people.organiser, jury.id, juror, "most_active", "kementerian", "")
    with pytest.raises(InputError, match="has not submitted"):
        reopen(store, people.organiser, jury.id, juror, "most_active", "pemda", "typo")
    back = reopen(store, people.organiser, jury.id, juror, "most_active", "kementerian", "typo")
    assert {b.status for b in back} == {"draft"}
    unit = back[0].unit
    edited = save_draft(store, juror, jury.id, "most_active", "kementerian", unit, FULL)
    assert edited.scores == FULL
    last = list(entries(store))[-2]
    assert last.action == "panel.reopen" and last.after == {"status": "draft", "reason": "typo"}


def test_blind_a_juror_reads_only_their_own_ballots(
    store: StateStore, people: People, jury: Jury
) -> None:
    for juror in people.jurors:
        fill(store, juror, jury.id, "most_active", "pemda", lambda p, n: 3.0, send=False)
    for juror in people.jurors:
        assert {b.juror_id for b in read_ballots(store, juror, jury.id)} == {juror}
    assert {b.juror_id for b in read_ballots(store, people.organiser, jury.id)} == set(
        people.jurors
    )
    with pytest.raises(AuthError):
        read_ballots(store, people.operator, jury.id)
    with pytest.raises(AuthError):
        my_panels(store, people.organiser, jury.id)


def test_the_deadline_stops_writing_until_the_organiser_extends_it(
    store: StateStore, people: People, jury: Jury, clock: Clock
) -> None:
    juror = people.jurors[0]
    unit = panel(store, jury.id, "most_active", "pemda")[0].unit
    clock.now = DEADLINE
    with pytest.raises(AuthError, match="deadline .* has passed"):
        save_draft(store, juror, jury.id, "most_active", "pemda", unit, FULL)
    with pytest.raises(AuthError, match="only an organiser"):
        extend_deadline(store, juror, jury.id, DEADLINE + timedelta(days=7))
    with pytest.raises(InputError, match="not in the future"):
        extend_deadline(store, people.organiser, jury.id, DEADLINE - timedelta(days=1))
    later = extend_deadline(store, people.organiser, jury.id, DEADLINE + timedelta(days=7))
    assert later.deadline == DEADLINE + timedelta(days=7)
    assert save_draft(store, juror, jury.id, "most_active", "pemda", unit, FULL).scores == FULL


def test_a_disabled_juror_can_no_longer_write(
    store: StateStore, people: People, jury: Jury
) -> None:
    juror = people.jurors[0]
    unit = panel(store, jury.id, "most_active", "pemda")[0].unit
    save_draft(store, juror, jury.id, "most_active", "pemda", unit, FULL)
    disable_user(store, people.organiser, juror)
    with pytest.raises(AuthError, match="disabled"):
        save_draft(store, juror, jury.id, "most_active", "pemda", unit, {"creativity": 1})
    with pytest.raises(AuthError, match="disabled"):
        read_ballots(store, juror, jury.id)


def test_assigning_and_unassigning(store: StateStore, people: People, jury: Jury) -> None:
    spare = people.spare
    assert assign(store, people.organiser, jury.id, spare, cluster_id="pemda") == [
        ("best_account", "pemda"),
        ("most_active", "pemda"),
    ]
    assert assign(store, people.organiser, jury.id, spare, "most_active", "pemda") == []
    with pytest.raises(AuthError, match="only an organiser"):
        assign(store, people.jurors[0], jury.id, spare)
    with pytest.raises(NotFoundError, match="no panel most_engaging"):
        assign(store, people.organiser, jury.id, spare, "most_engaging")
    with pytest.raises(InputError, match="not an active juror"):
        assign(store, people.organiser, jury.id, people.organiser)
    unit = panel(store, jury.id, "most_active", "pemda")[0].unit
    save_draft(store, spare, jury.id, "most_active", "pemda", unit, FULL)
    unassign(store, people.organiser, jury.id, spare, "most_active", "pemda")
    assert read_ballots(store, spare, jury.id) == []
    with pytest.raises(AuthError, match="not a juror of"):
        save_draft(store, spare, jury.id, "most_active", "pemda", unit, FULL)
    fill(store, spare, jury.id, "best_account", "pemda", lambda p, n: 4.0)
    with pytest.raises(AuthError, match="reopen first"):
        unassign(store, people.organiser, jury.id, spare, "best_account", "pemda")
    with pytest.raises(NotFoundError):
        unassign(store, people.organiser, jury.id, spare, "most_active", "pemda")
    gone = next(e for e in entries(store) if e.action == "jury.unassign")
    assert gone.before["drafts"] == {unit: {"scores": FULL, "comment": ""}}
    assert verify(store).ok
    assert get_jury(store, jury.id).status == "open"
