"""A jury's tally from its submitted ballots, and closing: the winners and the champion.

The organiser may watch the tally while the jury is open (submitted ballots only: drafts never
count); closing checks that every panel is complete, tallies once more in the same
transaction and records the outcome (``juries.outcome``), which the public pages show.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from govsocial.errors import AuthError
from govsocial.jury.juries import Jury, Nominee, load_jury, open_for_changes, panel_nominees, panels
from govsocial.jury.store import StateStore, Transaction, iso
from govsocial.jury.tally import Candidate, Mark, PanelTally, tally_panel, weighted_score
from govsocial.jury.users import Actor, signed_in
from govsocial.words import count


@dataclass(frozen=True)
class PanelOutcome:
    category: str
    cluster_id: str
    jurors: tuple[int, ...]  # assigned
    submitted: tuple[int, ...]  # of them, those who submitted
    tally: PanelTally
    winner: Nominee | None


@dataclass(frozen=True)
class Champion:
    rule: str
    institution_id: str | None  # None: no sole champion (``tied`` says who)
    institution_name: str | None
    trophies: Mapping[str, int]  # institution → categories won (most_trophies)
    tied: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class Outcome:
    jury_id: int
    rule: str
    panels: tuple[PanelOutcome, ...]
    champion: Champion

    def as_json(self) -> dict[str, Any]:
        """The outcome as ``juries.outcome`` keeps it (docs/jury.md, "The outcome")."""
        return {
            "jury_id": self.jury_id,
            "rule": self.rule,
            "panels": [
                {
                    "category": p.category,
                    "cluster_id": p.cluster_id,
                    "winner": asdict(p.winner) if p.winner else None,
                    "placed": [asdict(x) for x in p.tally.placed],
                    "agreement": asdict(p.tally.agreement),
                    "leniency": {str(j): v for j, v in p.tally.leniency.items()},
                    "jurors": list(p.jurors),
                }
                for p in self.panels
            ],
            "champion": asdict(self.champion),
        }


def tally(store: StateStore, actor: Actor, jury_id: int) -> Outcome:
    """The organiser's view of the tally: submitted ballots so far (the winners once closed)."""
    with store.read() as tx:
        signed_in(tx, actor, "organiser")
        return _outcome(tx, load_jury(tx, jury_id))


def _outcome(tx: Transaction, jury: Jury) -> Outcome:
    found = []
    for category, cluster_id in panels(tx, jury.id):
        nominees = panel_nominees(tx, jury.id, category, cluster_id)
        key = (jury.id, category, cluster_id)
        jurors = [
            r[0]
            for r in tx.all(
                "SELECT juror_id FROM assignments WHERE jury_id = ? AND category = ? AND "
                "cluster_id = ? ORDER BY 1",
                key,
            )
        ]
        rows = tx.all(
            "SELECT juror_id, unit, scores, recused FROM ballots WHERE jury_id = ? AND "
            "category = ? AND cluster_id = ? AND status = 'submitted' ORDER BY juror_id, unit",
            key,
        )
        marks = [
            Mark(
                r["juror_id"],
                r["unit"],
                None if r["recused"] else weighted_score(json.loads(r["scores"]), jury.criteria),
            )
            for r in rows
        ]
        candidates = [Candidate(n.unit, n.score, n.rank) for n in nominees]
        result = tally_panel(candidates, marks, jury.rule)
        by_unit = {n.unit: n for n in nominees}
        winner = by_unit[result.winner.unit] if result.winner else None
        submitted = tuple(sorted({m.juror for m in marks}))
        found.append(PanelOutcome(category, cluster_id, tuple(jurors), submitted, result, winner))
    outcome = tuple(found)
    return Outcome(jury.id, jury.rule, outcome, _champion(tx, jury, outcome))


def _champion(tx: Transaction, jury: Jury, outcome: tuple[PanelOutcome, ...]) -> Champion:
    """``most_trophies``: the institution that wins the most of the jury's categories; a tie
    is broken by the run's standings (nominations, then first places); still tied, no sole
    champion. ``most_nominations``: the run's champion (the jury does not change it)."""
    row = tx.one("SELECT champion FROM juries WHERE id = ?", (jury.id,))
    run: dict[str, Any] = json.loads(row[0]) if row else {"rule": "most_trophies", "standings": []}
    rule: str = run["rule"]
    names: dict[str, str] = {s["institution_id"]: s["institution_name"] for s in run["standings"]}
    position: dict[str, int] = {s["institution_id"]: s["position"] for s in run["standings"]}
    won: dict[str, set[str]] = {}
    for panel in outcome:
        if panel.winner:
            names[panel.winner.institution_id] = panel.winner.institution_name
            won.setdefault(panel.winner.institution_id, set()).add(panel.category)
    trophies = {i: len(c) for i, c in sorted(won.items())}
    if run["rule"] == "most_nominations":
        sole: str | None = run.get("institution_id")
        explanation = "The run's champion (most nominations): the jury does not change it."
        return Champion(rule, sole, names.get(sole or ""), trophies, (), explanation)

    def merit(institution: str) -> tuple[int, int]:
        return (-trophies[institution], position.get(institution, 10**9))

    best = min((merit(i) for i in trophies), default=None)
    leaders = tuple(sorted(i for i in trophies if merit(i) == best))
    explanation = (
        "The institution that wins the most categories; a tie is broken by the run's "
        "standings (nominations, then first places)."
    )
    if len(leaders) == 1:
        return Champion(rule, leaders[0], names[leaders[0]], trophies, (), explanation)
    tied = ", ".join(names[i] for i in leaders) or "nobody (no winner)"
    explanation += f" Tied after both: {tied}; no sole champion."
    return Champion(rule, None, None, trophies, leaders, explanation)


def close_jury(store: StateStore, actor: Actor, jury_id: int) -> Outcome:
    """Close the jury: every panel has at least ``panel_size`` jurors, every one of them
    submitted, and every nominee has a counted score (not everyone recused). Records the
    winners and the champion; the jury is then read-only and its ballots readable by all
    jurors."""
    with store.write() as tx:
        who = signed_in(tx, actor, "organiser")
        jury = open_for_changes(tx, jury_id)
        outcome = _outcome(tx, jury)
        problems = _incomplete(jury, outcome)
        if problems:
            raise AuthError(f"jury {jury_id} cannot close yet: {'; '.join(problems)}")
        recorded = outcome.as_json()
        tx.execute(
            "UPDATE juries SET status = 'closed', outcome = ?, closed = ? WHERE id = ?",
            (json.dumps(recorded), iso(tx.at), jury_id),
        )
        after = {"status": "closed", "outcome": recorded}
        tx.audit(who.actor, "jury.close", f"jury:{jury_id}", {"status": "open"}, after)
        return outcome


def _incomplete(jury: Jury, outcome: Outcome) -> list[str]:
    found = []
    for p in outcome.panels:
        where = f"{p.category} × {p.cluster_id}"
        if len(p.jurors) < jury.panel_size:
            found.append(f"{where} has {count(len(p.jurors), 'juror')} of {jury.panel_size}")
        waiting = sorted(set(p.jurors) - set(p.submitted))
        if waiting:
            found.append(f"{where} waits for juror {', '.join(map(str, waiting))}")
        unscored = [x.unit for x in p.tally.placed if x.jury_score is None]
        if unscored and not waiting:
            found.append(
                f"{where}: every juror recused from {', '.join(unscored)}; assign another juror"
            )
    return found


PUBLIC_PLACE = ("place", "unit", "jury_score", "jurors", "rank")


def published_outcomes(store: StateStore, run_id: str) -> list[dict[str, Any]]:
    """What the public sees of the closed juries on the run ``run_id`` (oldest first): per
    panel the winner and the places (unit, place, jury score, the quantitative rank), and the
    champion. Not the jurors, their ballots, agreement or leniency (the organiser's)."""
    with store.read() as tx:
        rows = tx.all(
            "SELECT id, outcome, closed FROM juries WHERE run_id = ? AND status = 'closed' "
            "ORDER BY id",
            (run_id,),
        )
    public = []
    for row in rows:
        outcome = json.loads(row["outcome"])
        public.append(
            {
                "jury_id": row["id"],
                "closed": row["closed"],
                "rule": outcome["rule"],
                "panels": [
                    {
                        "category": p["category"],
                        "cluster_id": p["cluster_id"],
                        "winner": p["winner"],
                        "placed": [{k: x[k] for k in PUBLIC_PLACE if k in x} for x in p["placed"]],
                    }
                    for p in outcome["panels"]
                ],
                "champion": outcome["champion"],
            }
        )
    return public
