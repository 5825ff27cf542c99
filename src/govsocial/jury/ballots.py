"""Ballots: a juror scores each nominee of their panels, or recuses; submits; the organiser
may reopen. Every rule is checked here, in the write transaction, from the acting user's id
(docs/jury.md, "The rules"):

- only a juror assigned to the panel writes there, and only their own ballots;
- only while the jury is open and before its deadline, and only a ballot not submitted;
- scores are the methodology's criteria, each 0–10; a draft may leave some out, a submission
  may not (each nominee is fully scored, or recused with a reason);
- blind: a juror reads only their own ballots until the jury closes.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from govsocial.errors import AuthError, InputError, NotFoundError
from govsocial.jury.juries import Jury, Nominee, load_jury, open_for_changes, panel_nominees
from govsocial.jury.store import StateStore, Transaction, iso
from govsocial.jury.users import Actor, User, signed_in
from govsocial.words import count

SCALE = (0.0, 10.0)  # every criterion is scored from 0 to 10 (decimals allowed)
MAX_COMMENT = 4000
_WHERE = "jury_id = ? AND juror_id = ? AND category = ? AND cluster_id = ?"


@dataclass(frozen=True)
class Ballot:
    jury_id: int
    juror_id: int
    category: str
    cluster_id: str
    unit: str
    scores: Mapping[str, float]  # criterion id → 0–10
    comment: str
    status: Literal["draft", "submitted"]
    recused: bool
    recusal_reason: str | None
    updated: str

    @property
    def subject(self) -> str:
        return (
            f"ballot:{self.jury_id}/{self.juror_id}/{self.category}/{self.cluster_id}/{self.unit}"
        )

    def audited(self) -> dict[str, Any]:
        return {
            "scores": dict(self.scores),
            "comment": self.comment,
            "status": self.status,
            "recused": self.recused,
            "recusal_reason": self.recusal_reason,
        }


def _ballot(row: sqlite3.Row) -> Ballot:
    return Ballot(
        row["jury_id"],
        row["juror_id"],
        row["category"],
        row["cluster_id"],
        row["unit"],
        json.loads(row["scores"]),
        row["comment"],
        row["status"],
        bool(row["recused"]),
        row["recusal_reason"],
        row["updated"],
    )


def _panel_gate(
    tx: Transaction, actor: Actor, jury_id: int, category: str, cluster_id: str
) -> tuple[User, Jury]:
    """The acting juror and the jury, if they may write on this panel now."""
    who = signed_in(tx, actor, "juror")
    jury = open_for_changes(tx, jury_id)
    if tx.at >= jury.deadline:
        raise AuthError(
            f"the deadline of jury {jury_id} ({iso(jury.deadline)}) has passed; ask the "
            "organiser to extend it"
        )
    if not tx.one(
        f"SELECT 1 FROM assignments WHERE {_WHERE}", (jury_id, who.id, category, cluster_id)
    ):
        raise AuthError(
            f"{who.login} is not a juror of {category} × {cluster_id} in jury {jury_id}"
        )
    return who, jury


def _current(
    tx: Transaction, who: User, jury_id: int, category: str, cluster_id: str, unit: str
) -> Ballot | None:
    if unit not in {n.unit for n in panel_nominees(tx, jury_id, category, cluster_id)}:
        raise NotFoundError(f"{unit!r} is not a nominee of {category} × {cluster_id}")
    row = tx.one(
        f"SELECT * FROM ballots WHERE {_WHERE} AND unit = ?",
        (jury_id, who.id, category, cluster_id, unit),
    )
    ballot = _ballot(row) if row is not None else None
    if ballot is not None and ballot.status == "submitted":
        raise AuthError(
            f"{who.login}'s ballots of {category} × {cluster_id} are submitted and locked; "
            "ask the organiser to reopen them"
        )
    return ballot


def _write(
    tx: Transaction,
    who: User,
    key: tuple[int, str, str, str],
    before: Ballot | None,
    values: tuple[str, str, int, str | None],
    action: str,
) -> Ballot:
    jury_id, category, cluster_id, unit = key
    tx.execute(
        "INSERT INTO ballots (jury_id, juror_id, category, cluster_id, unit, scores, comment, "
        "status, recused, recusal_reason, updated) VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?) "
        "ON CONFLICT (jury_id, juror_id, category, cluster_id, unit) DO UPDATE SET "
        "scores = excluded.scores, comment = excluded.comment, recused = excluded.recused, "
        "recusal_reason = excluded.recusal_reason, updated = excluded.updated",
        (jury_id, who.id, category, cluster_id, unit, *values, iso(tx.at)),
    )
    row = tx.one(
        f"SELECT * FROM ballots WHERE {_WHERE} AND unit = ?",
        (jury_id, who.id, category, cluster_id, unit),
    )
    assert row is not None
    after = _ballot(row)
    tx.audit(who.actor, action, after.subject, before and before.audited(), after.audited())
    return after


def save_draft(
    store: StateStore,
    actor: Actor,
    jury_id: int,
    category: str,
    cluster_id: str,
    unit: str,
    scores: Mapping[str, float],
    comment: str = "",
) -> Ballot:
    """Save the acting juror's draft of one nominee (replacing a recusal, if any)."""
    with store.write() as tx:
        who, jury = _panel_gate(tx, actor, jury_id, category, cluster_id)
        before = _current(tx, who, jury_id, category, cluster_id, unit)
        checked = _checked_scores(jury, scores)
        if len(comment) > MAX_COMMENT:
            raise InputError(f"the comment has more than {MAX_COMMENT:,} characters")
        values = (json.dumps(checked, sort_keys=True), comment, 0, None)
        key = (jury_id, category, cluster_id, unit)
        return _write(tx, who, key, before, values, "ballot.draft")


def _checked_scores(jury: Jury, scores: Mapping[str, float]) -> dict[str, float]:
    known = {c.id for c in jury.criteria}
    unknown = sorted(set(scores) - known)
    if unknown:
        raise InputError(
            f"no criterion {', '.join(unknown)} in this jury; its criteria: "
            f"{', '.join(c.id for c in jury.criteria)}"
        )
    checked = {}
    low, high = SCALE
    for criterion, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{criterion}: {value!r} is not a number")
        if not math.isfinite(value) or not low <= value <= high:
            raise InputError(f"{criterion}: {value} is not a score from {low:g} to {high:g}")
        checked[criterion] = float(value)
    return checked


def recuse(
    store: StateStore,
    actor: Actor,
    jury_id: int,
    category: str,
    cluster_id: str,
    unit: str,
    reason: str,
) -> Ballot:
    """Declare a conflict of interest with one nominee: the ballot's scores are cleared and
    the pair leaves the tally. Saving a draft for the nominee withdraws the recusal."""
    if not reason.strip():
        raise InputError("a recusal needs its reason (the conflict of interest)")
    if len(reason) > MAX_COMMENT:
        raise InputError(f"the reason has more than {MAX_COMMENT:,} characters")
    with store.write() as tx:
        who, _ = _panel_gate(tx, actor, jury_id, category, cluster_id)
        before = _current(tx, who, jury_id, category, cluster_id, unit)
        comment = before.comment if before else ""
        key = (jury_id, category, cluster_id, unit)
        return _write(tx, who, key, before, ("{}", comment, 1, reason.strip()), "ballot.recuse")


def submit(
    store: StateStore, actor: Actor, jury_id: int, category: str, cluster_id: str
) -> list[Ballot]:
    """Submit the acting juror's ballots of a panel: each nominee fully scored or recused.
    Submitted ballots are locked until the organiser reopens them."""
    with store.write() as tx:
        who, jury = _panel_gate(tx, actor, jury_id, category, cluster_id)
        key = (jury_id, who.id, category, cluster_id)
        mine = {
            b.unit: b for b in map(_ballot, tx.all(f"SELECT * FROM ballots WHERE {_WHERE}", key))
        }
        if any(b.status == "submitted" for b in mine.values()):
            raise AuthError(f"{who.login} has submitted {category} × {cluster_id} already")
        needed = [c.id for c in jury.criteria]
        missing = []
        for nominee in panel_nominees(tx, jury_id, category, cluster_id):
            ballot = mine.get(nominee.unit)
            lacks = [c for c in needed if ballot is None or c not in ballot.scores]
            if ballot is None or (not ballot.recused and lacks):
                missing.append(f"{nominee.label} ({', '.join(lacks)})")
        if missing:
            raise InputError(
                f"not submitted: {count(len(missing), 'nominee')} still to score or recuse "
                f"from: {'; '.join(missing)}"
            )
        tx.execute(
            f"UPDATE ballots SET status = 'submitted', updated = ? WHERE {_WHERE}",
            (iso(tx.at), *key),
        )
        done = list(map(_ballot, tx.all(f"SELECT * FROM ballots WHERE {_WHERE}", key)))
        subject = f"panel:{jury_id}/{who.id}/{category}/{cluster_id}"
        after = {"status": "submitted", "ballots": {b.unit: b.audited() for b in done}}
        tx.audit(who.actor, "panel.submit", subject, {"status": "draft"}, after)
        return done


def reopen(
    store: StateStore,
    actor: Actor,
    jury_id: int,
    juror_id: int,
    category: str,
    cluster_id: str,
    reason: str,
) -> list[Ballot]:
    """The organiser reopens a juror's submitted ballots of a panel (back to drafts)."""
    if not reason.strip():
        raise InputError("reopening needs its reason (it is kept in the audit log)")
    with store.write() as tx:
        who = signed_in(tx, actor, "organiser")
        open_for_changes(tx, jury_id)
        key = (jury_id, juror_id, category, cluster_id)
        if not tx.one(f"SELECT 1 FROM ballots WHERE {_WHERE} AND status = 'submitted'", key):
            raise InputError(f"juror {juror_id} has not submitted {category} × {cluster_id}")
        tx.execute(
            f"UPDATE ballots SET status = 'draft', updated = ? WHERE {_WHERE}", (iso(tx.at), *key)
        )
        subject = f"panel:{jury_id}/{juror_id}/{category}/{cluster_id}"
        before, after = {"status": "submitted"}, {"status": "draft", "reason": reason.strip()}
        tx.audit(who.actor, "panel.reopen", subject, before, after)
        return list(map(_ballot, tx.all(f"SELECT * FROM ballots WHERE {_WHERE}", key)))


def read_ballots(store: StateStore, actor: Actor, jury_id: int) -> list[Ballot]:
    """The ballots ``actor`` may read: a juror their own until the jury closes, then all; an
    organiser all; nobody else any."""
    with store.read() as tx:
        who = signed_in(tx, actor, "organiser", "juror")
        jury = load_jury(tx, jury_id)
        mine_only = who.role == "juror" and jury.status == "open"
        rows = tx.all(
            "SELECT * FROM ballots WHERE jury_id = ? AND (? IS NULL OR juror_id = ?) "
            "ORDER BY category, cluster_id, juror_id, unit",
            (jury_id, *(2 * [who.id if mine_only else None])),
        )
        return list(map(_ballot, rows))


def my_panels(store: StateStore, actor: Actor, jury_id: int) -> list[tuple[str, str, str]]:
    """The acting juror's panels in a jury: (category, cluster, "draft" or "submitted")."""
    with store.read() as tx:
        who = signed_in(tx, actor, "juror")
        load_jury(tx, jury_id)
        rows = tx.all(
            "SELECT a.category, a.cluster_id, coalesce(max(b.status = 'submitted'), 0) AS done "
            "FROM assignments a "
            "LEFT JOIN ballots b USING (jury_id, juror_id, category, cluster_id) "
            "WHERE a.jury_id = ? AND a.juror_id = ? GROUP BY 1, 2 ORDER BY 1, 2",
            (jury_id, who.id),
        )
        return [(r[0], r[1], "submitted" if r[2] else "draft") for r in rows]


@dataclass(frozen=True)
class Progress:
    """How far one juror is on one panel (an assignment)."""

    category: str
    cluster_id: str
    juror_id: int
    nominees: int  # the panel's
    scored: int  # ballots with every criterion scored (not recused)
    recused: int  # ballots recused
    saved: int  # ballots saved at all (scored in part or in full, or recused)
    submitted: bool

    @property
    def status(self) -> Literal["not started", "draft", "submitted"]:
        if self.submitted:
            return "submitted"
        return "draft" if self.saved else "not started"


def progress(store: StateStore, actor: Actor, jury_id: int) -> list[Progress]:
    """Each assignment's progress, by panel then juror: an organiser reads every juror's, a
    juror only their own (blind: counts of others are not theirs to see either)."""
    with store.read() as tx:
        who = signed_in(tx, actor, "organiser", "juror")
        jury = load_jury(tx, jury_id)
        needed = {c.id for c in jury.criteria}
        only = who.id if who.role == "juror" else None
        sizes = {
            (r[0], r[1]): int(r[2])
            for r in tx.all(
                "SELECT category, cluster_id, count(*) FROM nominees WHERE jury_id = ? "
                "GROUP BY 1, 2",
                (jury_id,),
            )
        }
        found = []
        for a in tx.all(
            "SELECT category, cluster_id, juror_id FROM assignments WHERE jury_id = ? "
            "AND (? IS NULL OR juror_id = ?) ORDER BY category, cluster_id, juror_id",
            (jury_id, only, only),
        ):
            key = (jury_id, a["juror_id"], a["category"], a["cluster_id"])
            mine = list(map(_ballot, tx.all(f"SELECT * FROM ballots WHERE {_WHERE}", key)))
            found.append(
                Progress(
                    a["category"],
                    a["cluster_id"],
                    a["juror_id"],
                    sizes.get((a["category"], a["cluster_id"]), 0),
                    sum(1 for b in mine if not b.recused and needed <= set(b.scores)),
                    sum(1 for b in mine if b.recused),
                    len(mine),
                    any(b.status == "submitted" for b in mine),
                )
            )
        return found


@dataclass(frozen=True)
class PanelView:
    """One panel as its reader may see it: its nominees, the ballots they may read, and the
    names of the jurors whose ballots those are."""

    jury: Jury
    category: str
    cluster_id: str
    nominees: tuple[Nominee, ...]
    ballots: tuple[Ballot, ...]
    jurors: Mapping[int, str]  # juror id → name, of the ballots' jurors (and the reader)


def panel_view(
    store: StateStore, actor: Actor, jury_id: int, category: str, cluster_id: str
) -> PanelView:
    """A panel's nominees and ballots for ``actor``: a juror must be on the panel and reads
    their own ballots until the jury closes, then every juror's there; an organiser reads
    every ballot of the panel; nobody else any."""
    with store.read() as tx:
        who = signed_in(tx, actor, "organiser", "juror")
        jury = load_jury(tx, jury_id)
        found = panel_nominees(tx, jury_id, category, cluster_id)
        if not found:
            raise NotFoundError(f"jury {jury_id} has no panel {category} × {cluster_id}")
        assigned = [
            r[0]
            for r in tx.all(
                "SELECT juror_id FROM assignments WHERE jury_id = ? AND category = ? "
                "AND cluster_id = ? ORDER BY 1",
                (jury_id, category, cluster_id),
            )
        ]
        if who.role == "juror" and who.id not in assigned:
            raise AuthError(
                f"{who.login} is not a juror of {category} × {cluster_id} in jury {jury_id}"
            )
        mine_only = who.role == "juror" and jury.status == "open"
        rows = tx.all(
            "SELECT * FROM ballots WHERE jury_id = ? AND category = ? AND cluster_id = ? "
            "AND (? IS NULL OR juror_id = ?) ORDER BY juror_id, unit",
            (jury_id, category, cluster_id, *(2 * [who.id if mine_only else None])),
        )
        ballots = tuple(map(_ballot, rows))
        shown = {who.id} if mine_only else {*assigned, *(b.juror_id for b in ballots)}
        names = {
            r["id"]: r["name"]
            for r in tx.all(
                f"SELECT id, name FROM users WHERE id IN ({','.join('?' * len(shown))})",
                tuple(shown),
            )
        }
        return PanelView(jury, category, cluster_id, tuple(found), ballots, names)
