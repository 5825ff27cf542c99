"""What a juror's panel page shows (:mod:`panels` renders it): the nominees of one category ×
cluster, each with the juror's own ballot as its form (or a refused
form's values and the refusal, or "saved at"), its evidence on the run's public pages, and,
once the jury is closed, every juror's ballot and the panel's outcome. Whether the panel can
still be changed (open, not submitted, before the deadline) is the page's ``editable``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from govsocial.jury.ballots import Ballot, panel_view
from govsocial.jury.juries import Jury, Nominee
from govsocial.web.context import Viewer, app_state
from govsocial.web.jury_views import (
    Criterion,
    RunNames,
    clock_time,
    criteria_of,
    run_names,
    user_of,
)

PANEL = "/jury/{jury_id}/panel/{category}/{cluster}"  # a panel's address (its route)
Kept = dict[str, tuple[dict[str, str], str]]  # unit → a refused form's (scores, comment)


@dataclass(frozen=True)
class Place:
    """Which panel: the jury, the category and the cluster (the routes read it from their
    path with ``Depends(Place)``)."""

    jury_id: int
    category: str
    cluster: str

    @property
    def address(self) -> str:
        return PANEL.format(jury_id=self.jury_id, category=self.category, cluster=self.cluster)


@dataclass
class NomineeRow:
    """One nominee on a juror's panel page, with the reader's own ballot and its form."""

    index: int
    nominee: Nominee
    ballot: Ballot | None  # the reader's own
    scores: dict[str, str]  # criterion → the form's value
    comment: str
    evidence: str
    error: str | None = None
    saved: str | None = None  # "Saved at 14.05 WIB"
    others: list[tuple[str, Ballot]] = field(default_factory=list)  # closed: (juror, ballot)


@dataclass
class PanelPage:
    jury: Jury
    category: str
    cluster_id: str
    names: RunNames
    criteria: list[Criterion]
    rows: list[NomineeRow]
    submitted: bool
    editable: bool
    deadline_passed: bool
    action: str  # the panel's address (its forms post under it)
    outcome: dict[str, Any] | None  # closed: the panel's part of the outcome

    def row(self, unit: str) -> NomineeRow | None:
        return next((r for r in self.rows if r.nominee.unit == unit), None)


def weighted(ballot: Ballot, jury: Jury) -> float | None:
    """A ballot's weighted score (None: recused or not fully scored)."""
    if ballot.recused or any(c.id not in ballot.scores for c in jury.criteria):
        return None
    total = sum(c.weight for c in jury.criteria)
    return sum(c.weight * ballot.scores[c.id] for c in jury.criteria) / total


def read_panel(
    request: Request,
    who: Viewer,
    at: Place,
    kept: Kept | None = None,
    errors: dict[str, str] | None = None,
    saved: str | None = None,
) -> PanelPage:
    """The panel as the signed-in juror may see it; ``kept``: a refused form's values per
    unit; ``errors``: its refusal per unit; ``saved``: the unit just saved."""
    state = app_state(request)
    me = user_of(who)
    view = panel_view(state.store(), me.id, at.jury_id, at.category, at.cluster)
    jury = view.jury
    names = run_names(state, jury, who.lang)
    own = {b.unit: b for b in view.ballots if b.juror_id == me.id}
    submitted = any(b.status == "submitted" for b in own.values())
    passed = datetime.now(UTC) >= jury.deadline
    rows = []
    for index, n in enumerate(view.nominees, start=1):
        ballot = own.get(n.unit)
        scores = {k: f"{v:g}" for k, v in (ballot.scores if ballot else {}).items()}
        comment = ballot.comment if ballot else ""
        if kept and n.unit in kept:
            scores, comment = kept[n.unit]
        evidence = names.evidence(at.category, at.cluster, n.rank)
        row = NomineeRow(index, n, ballot, scores, comment, evidence, (errors or {}).get(n.unit))
        if saved == n.unit and ballot is not None:
            row.saved = who._("Saved at {time}", time=clock_time(ballot.updated, who.lang))
        if jury.status == "closed":
            row.others = [
                (view.jurors.get(b.juror_id, str(b.juror_id)), b)
                for b in view.ballots
                if b.unit == n.unit
            ]
        rows.append(row)
    outcome = None
    if jury.outcome is not None:
        outcome = next(
            (
                p
                for p in jury.outcome["panels"]
                if (p["category"], p["cluster_id"]) == (at.category, at.cluster)
            ),
            None,
        )
    return PanelPage(
        jury,
        at.category,
        at.cluster,
        names,
        criteria_of(jury, who),
        rows,
        submitted,
        jury.status == "open" and not submitted and not passed,
        passed,
        at.address,
        outcome,
    )
