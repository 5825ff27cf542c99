"""What the closed juries on a published run decided, as the public may read it: the places and
winner of each category × cluster and the champion (:func:`decision`), from
:func:`govsocial.jury.closing.published_outcomes`. Never a ballot, a juror or an open jury.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from govsocial.jury.closing import published_outcomes
from govsocial.web.context import AppState, app_state
from govsocial.web.pages import once
from govsocial.web.published import RunData, label_of, run_data


@dataclass(frozen=True)
class Decision:
    """What closed juries on a run decided, for the public: per panel the jury's places and
    winner (the latest closed jury that judged the panel), and the champion of the latest
    closed jury. Never a ballot or a juror."""

    juries: tuple[int, ...]
    closed: str | None  # when the latest closed
    panels: Mapping[tuple[str, str], Mapping[str, Any]]
    champion: Mapping[str, Any] | None

    @property
    def decided(self) -> bool:
        return bool(self.juries)

    @functools.cached_property
    def winners(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(
            (c, cl, p["winner"]["unit"]) for (c, cl), p in self.panels.items() if p["winner"]
        )

    @functools.cached_property
    def wins(self) -> Counter[str]:
        """Institution id → the panels its units won."""
        return Counter(p["winner"]["institution_id"] for p in self.panels.values() if p["winner"])

    def is_champion(self, institution_id: str) -> bool:
        """Whether the latest closed jury made it the overall champion."""
        return (self.champion or {}).get("institution_id") == institution_id

    def won_by(self, institution_id: str) -> list[Mapping[str, Any]]:
        return [
            p
            for p in self.panels.values()
            if p["winner"] and p["winner"]["institution_id"] == institution_id
        ]


def closed_juries(state: AppState, run_id: str) -> tuple[int, ...]:
    """The ids of the closed juries on ``run_id``, read again whenever the state file changes
    (closing a jury shows at once; no query per request otherwise)."""

    def query() -> tuple[int, ...]:
        with state.store().read() as tx:
            rows = tx.all(
                "SELECT id FROM juries WHERE run_id = ? AND status = 'closed' ORDER BY id",
                (run_id,),
            )
        return tuple(int(r[0]) for r in rows)

    found: tuple[int, ...] = state.while_state_unchanged(("closed-juries", run_id), query)
    return found


def decision(state: AppState, data: RunData) -> Decision:
    ids = closed_juries(state, data.run_id)
    if not ids:
        return Decision((), None, {}, None)

    def make() -> Decision:
        return _decision(data, published_outcomes(state.store(), data.run_id))

    found: Decision = once(state, (data.folder, "decision", ids), make)
    return found


def published_run(request: Request, run_id: str) -> tuple[AppState, RunData, Decision]:
    """The app's state, the public data of the published run ``run_id`` and what its closed
    juries decided: what every public page and API endpoint of a run starts from."""
    state = app_state(request)
    data = run_data(state, run_id)
    return state, data, decision(state, data)


def champion_name(data: RunData, found: Decision) -> str | None:
    if not found.champion or not found.champion.get("institution_id"):
        return None
    return data.institution_name(found.champion["institution_id"])


def _decision(data: RunData, outcomes: list[dict[str, Any]]) -> Decision:
    if not outcomes:
        return Decision((), None, {}, None)
    panels: dict[tuple[str, str], dict[str, Any]] = {}
    for outcome in outcomes:  # oldest first: a later jury's panel replaces an earlier one's
        for p in outcome["panels"]:
            category, cluster = p["category"], p["cluster_id"]
            placed = [_placed(data, category, cluster, x) for x in p["placed"]]
            winner = next(
                (x for x in placed if p["winner"] and x["unit"] == p["winner"]["unit"]), None
            )
            panels[(category, cluster)] = {
                "category": category,
                "cluster_id": cluster,
                "jury_id": outcome["jury_id"],
                "closed": outcome["closed"],
                "rule": outcome["rule"],
                "winner": winner,
                "placed": placed,
            }
    latest = outcomes[-1]
    champion = dict(latest["champion"])
    champion["tied_names"] = [data.institution_name(i) for i in champion.get("tied") or ()]
    champion["trophy_table"] = sorted(
        (
            {"institution_id": i, "institution_name": data.institution_name(i), "trophies": n}
            for i, n in (champion.get("trophies") or {}).items()
        ),
        key=lambda t: (-t["trophies"], t["institution_name"]),
    )
    return Decision(tuple(o["jury_id"] for o in outcomes), latest["closed"], panels, champion)


def _placed(data: RunData, category: str, cluster: str, x: Mapping[str, Any]) -> dict[str, Any]:
    nominee = data.nominee(category, cluster, x["unit"])
    return {
        "place": x["place"],
        "unit": x["unit"],
        "institution_id": nominee["institution_id"] if nominee else x["unit"],
        "institution_name": nominee["institution_name"] if nominee else x["unit"],
        "account_id": nominee.get("account_id") if nominee else None,
        "platform": nominee.get("platform") if nominee else None,
        "handle": nominee.get("handle") if nominee else None,
        "label": label_of(nominee) if nominee else x["unit"],
        "jury_score": x.get("jury_score"),
        "jurors": x.get("jurors"),
        "rank": x.get("rank"),
    }
