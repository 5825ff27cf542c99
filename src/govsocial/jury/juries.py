"""Juries: opened by an organiser on a published run, its panels and their jurors.

A jury judges the nominees of some categories × clusters of one published run (its read
model, docs/read-model.md). A *panel* is one category × cluster; its jurors are the users
assigned to it. The nominees are copied from results.json when the jury opens, so that the
jury stays a complete record of what was judged (the run id ties it to the folder). Ballots
are :mod:`govsocial.jury.ballots`, closing :mod:`govsocial.jury.closing`, the arithmetic
:mod:`govsocial.jury.tally`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from govsocial.awards.methodology import JuryCriterion
from govsocial.errors import AuthError, InputError, MethodologyError, NotFoundError
from govsocial.jury.store import StateStore, Transaction, iso, parse_iso
from govsocial.jury.tally import RULES, Rule
from govsocial.jury.users import Actor, User, signed_in

DEFAULT_PANEL_SIZE = 3  # GSM 2020 had three jurors


@dataclass(frozen=True)
class Nominee:
    category: str
    cluster_id: str
    unit: str  # the institution id, or the account id as text (as in standings.parquet)
    institution_id: str
    institution_name: str
    label: str  # the institution's name, with the account's handle for account units
    rank: int  # in results.json
    score: float  # the quantitative score in results.json


@dataclass(frozen=True)
class Jury:
    id: int
    run_id: str
    folder: str
    methodology_id: str
    categories: tuple[str, ...]
    clusters: tuple[str, ...]
    criteria: tuple[JuryCriterion, ...]
    rule: Rule
    panel_size: int  # jurors each panel needs before the jury can close
    deadline: datetime
    status: str  # "open" or "closed"
    outcome: dict[str, Any] | None  # once closed: the winners and the champion (docs/jury.md)
    created: str
    created_by: int
    closed: str | None

    @property
    def subject(self) -> str:
        return f"jury:{self.id}"


def _jury(row: sqlite3.Row) -> Jury:
    return Jury(
        row["id"],
        row["run_id"],
        row["folder"],
        row["methodology_id"],
        tuple(json.loads(row["categories"])),
        tuple(json.loads(row["clusters"])),
        tuple(JuryCriterion(**c) for c in json.loads(row["criteria"])),
        row["rule"],
        row["panel_size"],
        parse_iso(row["deadline"]),
        row["status"],
        json.loads(row["outcome"]) if row["outcome"] else None,
        row["created"],
        row["created_by"],
        row["closed"],
    )


def load_jury(tx: Transaction, jury_id: int) -> Jury:
    row = tx.one("SELECT * FROM juries WHERE id = ?", (jury_id,))
    if row is None:
        raise NotFoundError(f"no jury {jury_id}")
    return _jury(row)


def open_for_changes(tx: Transaction, jury_id: int) -> Jury:
    jury = load_jury(tx, jury_id)
    if jury.status != "open":
        raise AuthError(f"jury {jury_id} is closed: nothing in it can change any more")
    return jury


def get_jury(store: StateStore, jury_id: int) -> Jury:
    """A jury's settings, and its outcome once closed (public: no ballot is in it)."""
    with store.read() as tx:
        return load_jury(tx, jury_id)


def list_juries(store: StateStore) -> list[Jury]:
    with store.read() as tx:
        return [_jury(r) for r in tx.all("SELECT * FROM juries ORDER BY id")]


def nominees(store: StateStore, jury_id: int) -> list[Nominee]:
    """Every panel's nominees, by category, cluster and rank."""
    with store.read() as tx:
        return panel_nominees(tx, jury_id)


def panel_nominees(
    tx: Transaction, jury_id: int, category: str | None = None, cluster_id: str | None = None
) -> list[Nominee]:
    rows = tx.all(
        "SELECT * FROM nominees WHERE jury_id = ? AND (? IS NULL OR category = ?) "
        "AND (? IS NULL OR cluster_id = ?) ORDER BY category, cluster_id, rank, unit",
        (jury_id, category, category, cluster_id, cluster_id),
    )
    return [Nominee(*(r[k] for k in Nominee.__dataclass_fields__)) for r in rows]


def open_jury(
    store: StateStore,
    actor: Actor,
    folder: Path | str,
    *,
    deadline: datetime,
    categories: Sequence[str] | None = None,
    clusters: Sequence[str] | None = None,
    jurors: Sequence[int] = (),
    panel_size: int = DEFAULT_PANEL_SIZE,
    rule: Rule = "standardised",
) -> Jury:
    """Open a jury on the published run in ``folder`` for ``categories`` × ``clusters`` (all
    of the run's by default), each panel needing ``panel_size`` jurors; ``jurors`` are
    assigned to every panel. A panel without nominees is left out."""
    from govsocial.awards.methodology import parse_methodology
    from govsocial.publish.model import ReadModel

    model = ReadModel.open(folder)  # checks every file against the manifest
    results = model.results
    criteria = parse_methodology(model.methodology_text, f"{model.folder}/methodology.toml").jury
    if not criteria:
        raise MethodologyError(
            f"the methodology of run {model.run_id} declares no jury criteria "
            "([[jury.criteria]], docs/methodology.md): there is nothing to score"
        )
    by_id = {c["id"]: c for c in results["categories"]}
    chosen = _chosen("category", categories, list(by_id))
    known_clusters = [c["cluster_id"] for c in results["categories"][0]["clusters"]]
    in_clusters = _chosen("cluster", clusters, known_clusters)
    if rule not in RULES:
        raise InputError(f"tally rule {rule!r}: one of {', '.join(RULES)}")
    if panel_size < 1:
        raise InputError("a panel needs at least one juror")
    found = [n for cat in chosen for n in _results_nominees(by_id[cat], in_clusters)]
    if not found:
        raise InputError("the chosen categories and clusters have no nominees to judge")
    with store.write() as tx:
        who = signed_in(tx, actor, "organiser")
        if deadline <= tx.at:
            raise InputError(f"the deadline {iso(deadline)} is not in the future")
        taken = tx.one(
            "SELECT id FROM juries WHERE run_id = ? AND status = 'open'", (model.run_id,)
        )
        if taken:
            raise AuthError(
                f"jury {taken[0]} on run {model.run_id} is open; close it before opening another"
            )
        cursor = tx.execute(
            "INSERT INTO juries (run_id, folder, methodology_id, categories, clusters, criteria,"
            " champion, rule, panel_size, deadline, status, created, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
            (
                model.run_id,
                str(model.folder),
                results["methodology"]["id"],
                json.dumps(chosen),
                json.dumps(in_clusters),
                json.dumps([asdict(c) for c in criteria]),
                json.dumps(_run_champion(results["champion"])),
                rule,
                panel_size,
                iso(deadline),
                iso(tx.at),
                who.id,
            ),
        )
        jury_id = int(cursor.lastrowid or 0)
        tx.sqlite.executemany(
            "INSERT INTO nominees VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(jury_id, *asdict(n).values()) for n in found],
        )
        jury = load_jury(tx, jury_id)
        settings = {
            k: v for k, v in _audited(jury).items() if k not in ("status", "outcome", "closed")
        }
        tx.audit(who.actor, "jury.open", jury.subject, None, {**settings, "nominees": len(found)})
        for juror in jurors:
            _assign(tx, who, jury, juror, panels(tx, jury_id))
    return jury


def _chosen(what: str, given: Sequence[str] | None, known: list[str]) -> list[str]:
    if given is None:
        return known
    unknown = [g for g in given if g not in known]
    if unknown or len(set(given)) != len(given) or not given:
        raise NotFoundError(
            f"{what} {', '.join(unknown) or '(repeated or none)'}: the run has "
            f"{', '.join(known)}; give each at most once"
        )
    return list(given)


def _results_nominees(category: dict[str, Any], clusters: list[str]) -> Iterable[Nominee]:
    for cluster in category["clusters"]:
        if cluster["cluster_id"] not in clusters:
            continue
        for n in cluster["nominees"]:  # not the units held for review
            account = n.get("account_id")
            unit = n["institution_id"] if account is None else str(account)
            label = n["institution_name"]
            if account is not None:
                label += f" ({n.get('platform')}: {n.get('handle') or account})"
            yield Nominee(
                category["id"],
                cluster["cluster_id"],
                unit,
                n["institution_id"],
                n["institution_name"],
                label,
                int(n["rank"]),
                float(n["score"]),
            )


def _run_champion(champion: dict[str, Any]) -> dict[str, Any]:
    """What closing needs of the run's champion standings (the trophies' tiebreak)."""
    return {
        "rule": champion["rule"],
        "institution_id": champion.get("institution_id"),
        "standings": [
            {k: s[k] for k in ("institution_id", "institution_name", "position")}
            for s in champion["standings"]
        ],
    }


def _audited(jury: Jury) -> dict[str, Any]:
    found = asdict(jury)
    found["deadline"] = iso(jury.deadline)
    found["criteria"] = [[c.id, c.weight] for c in jury.criteria]
    return found


def panels(tx: Transaction, jury_id: int) -> list[tuple[str, str]]:
    """The jury's panels (category, cluster) that have nominees."""
    return [
        (r[0], r[1])
        for r in tx.all(
            "SELECT DISTINCT category, cluster_id FROM nominees WHERE jury_id = ? ORDER BY 1, 2",
            (jury_id,),
        )
    ]


def assign(
    store: StateStore,
    actor: Actor,
    jury_id: int,
    juror_id: int,
    category: str | None = None,
    cluster_id: str | None = None,
) -> list[tuple[str, str]]:
    """Assign a juror to a panel, or to every panel of a category, cluster or the jury (None
    = every); returns the panels newly assigned."""
    with store.write() as tx:
        who = signed_in(tx, actor, "organiser")
        jury = open_for_changes(tx, jury_id)
        chosen = [
            p
            for p in panels(tx, jury_id)
            if category in (None, p[0]) and cluster_id in (None, p[1])
        ]
        if not chosen:
            raise NotFoundError(
                f"jury {jury_id} has no panel {category or '*'} × {cluster_id or '*'}; its "
                f"panels: {', '.join(f'{c} × {k}' for c, k in panels(tx, jury_id))}"
            )
        return _assign(tx, who, jury, juror_id, chosen)


def _assign(
    tx: Transaction, who: User, jury: Jury, juror_id: int, chosen: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    juror = tx.one("SELECT role, disabled FROM users WHERE id = ?", (juror_id,))
    if juror is None or juror["role"] != "juror" or juror["disabled"]:
        raise InputError(f"user {juror_id} is not an active juror")
    added = []
    for category, cluster in chosen:
        done = tx.execute(
            "INSERT OR IGNORE INTO assignments VALUES (?, ?, ?, ?)",
            (jury.id, juror_id, category, cluster),
        )
        if done.rowcount:
            added.append((category, cluster))
    if added:
        after = {"panels": [list(p) for p in added]}
        tx.audit(who.actor, "jury.assign", f"{jury.subject}/juror:{juror_id}", None, after)
    return added


def unassign(
    store: StateStore, actor: Actor, jury_id: int, juror_id: int, category: str, cluster_id: str
) -> None:
    """Take a juror off a panel, with their draft ballots there; refused once they submitted
    (reopen first): a submitted ballot is never deleted quietly."""
    with store.write() as tx:
        who = signed_in(tx, actor, "organiser")
        jury = open_for_changes(tx, jury_id)
        key = (jury_id, juror_id, category, cluster_id)
        where = "jury_id = ? AND juror_id = ? AND category = ? AND cluster_id = ?"
        if not tx.one(f"SELECT 1 FROM assignments WHERE {where}", key):
            raise NotFoundError(f"juror {juror_id} is not on panel {category} × {cluster_id}")
        if tx.one(f"SELECT 1 FROM ballots WHERE {where} AND status = 'submitted'", key):
            raise AuthError(
                f"juror {juror_id} has submitted on {category} × {cluster_id}; reopen first"
            )
        drafts = tx.all(f"SELECT unit, scores, comment FROM ballots WHERE {where}", key)
        tx.execute(f"DELETE FROM ballots WHERE {where}", key)
        tx.execute(f"DELETE FROM assignments WHERE {where}", key)
        before = {
            "panel": [category, cluster_id],
            "drafts": {
                d["unit"]: {"scores": json.loads(d["scores"]), "comment": d["comment"]}
                for d in drafts
            },
        }
        tx.audit(who.actor, "jury.unassign", f"{jury.subject}/juror:{juror_id}", before, None)


def extend_deadline(store: StateStore, actor: Actor, jury_id: int, deadline: datetime) -> Jury:
    with store.write() as tx:
        who = signed_in(tx, actor, "organiser")
        jury = open_for_changes(tx, jury_id)
        if deadline <= tx.at:
            raise InputError(f"the deadline {iso(deadline)} is not in the future")
        tx.execute("UPDATE juries SET deadline = ? WHERE id = ?", (iso(deadline), jury_id))
        before, after = {"deadline": iso(jury.deadline)}, {"deadline": iso(deadline)}
        tx.audit(who.actor, "jury.deadline", jury.subject, before, after)
        return load_jury(tx, jury_id)
