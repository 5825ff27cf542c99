"""A published run's public data, as the public pages and the JSON API show it: read once from
its read model (docs/read-model.md) and kept per run (:func:`run_data`).
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from govsocial.errors import NotFoundError
from govsocial.publish.model import ReadModel
from govsocial.vocabulary import PLATFORM_NAMES
from govsocial.web.context import AppState
from govsocial.web.pages import once, one_at_a_time


class RunData:
    """What the public pages and the API show of one published run, read once from its read
    model: leaderboard rows (standings with their components' percentiles, combined and per
    platform), institutions and their accounts; weekly activity and top posts on first use."""

    def __init__(self, model: ReadModel, folder: str) -> None:
        self.model = model
        self.folder = folder  # the run's name in URLs (its folder)
        self.run_id = model.run_id
        self.results: dict[str, Any] = model.results
        self.coverage: dict[str, Any] = model.coverage
        self.categories: list[dict[str, Any]] = self.results["categories"]
        self.category = {c["id"]: c for c in self.categories}
        self.clusters: dict[str, str] = {}
        for c in self.categories:
            for cl in c["clusters"]:
                self.clusters.setdefault(cl["cluster_id"], cl["cluster_name"])
        self.cluster_order = {c: i for i, c in enumerate(self.clusters)}
        self.platforms: list[str] = list(self.coverage["platforms"])
        self.panels = {
            (c["id"], cl["cluster_id"]): cl for c in self.categories for cl in c["clusters"]
        }
        self._accounts()
        self._standings()

    # -- reading

    def _accounts(self) -> None:
        rows = self.model.table("accounts").to_pylist()
        rows.sort(key=lambda a: (a["platform"], a["handle"] or "", a["account_id"]))
        self.accounts: dict[int, dict[str, Any]] = {a["account_id"]: a for a in rows}
        self.accounts_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.institutions: dict[str, dict[str, Any]] = {}
        for a in rows:
            self.accounts_of[a["institution_id"]].append(a)
            self.institutions.setdefault(
                a["institution_id"], _institution(a, a["cluster_name"], a["region"])
            )

    def _standings(self) -> None:
        combined: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
        platform: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        for part in self.model.table("components").to_pylist():
            key = (part["category"], part["cluster_id"], part["unit"])
            if not part["platform"]:
                combined[key][part["metric"]] = part["percentile"]
                continue
            scored = platform[key].setdefault(
                part["platform"], {"rank": part["rank"], "of": part["of"], "components": {}}
            )
            scored["components"][part["metric"]] = {
                "value": part["value"],
                "percentile": part["percentile"],
            }
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.of_institution: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.model.table("standings").to_pylist():
            key = (row["category"], row["cluster_id"], row["unit"])
            if row["account_id"] is not None:
                on: tuple[str, ...] = (row["platform"],)
            else:
                on = tuple(sorted({a["platform"] for a in self.accounts_of[row["institution_id"]]}))
            cluster_name = self.clusters.get(row["cluster_id"], row["cluster_id"])
            row.update(
                cluster_name=cluster_name,
                status=row["status"] or None,
                components=combined.get(key, {}),
                by_platform=platform.get(key, {}),
                on=on,
            )
            self.rows[row["category"]].append(row)
            self.of_institution[row["institution_id"]].append(row)
            self.institutions.setdefault(row["institution_id"], _institution(row, cluster_name))
        self.eligible = {
            (c, cl): n
            for c, rows in self.rows.items()
            for cl, n in Counter(r["cluster_id"] for r in rows).items()
        }

    @functools.cached_property
    def weekly(self) -> dict[str, list[dict[str, Any]]]:
        """Each institution's weekly rows (read on the first institution page)."""
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.model.table("weekly").to_pylist():
            account = self.accounts.get(row["account_id"])
            if account is not None:
                row["week_start"] = row["week_start"].isoformat()
                found[account["institution_id"]].append(row)
        for rows in found.values():
            rows.sort(key=lambda r: (r["week"], r["account_id"], r["media_type"]))
        return found

    @functools.cached_property
    def top_posts(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.model.table("top_posts").to_pylist():
            row["posted_at"] = row["posted_at"].isoformat() if row["posted_at"] else None
            found[row["institution_id"]].append(row)
        for rows in found.values():
            rows.sort(key=lambda r: r["place"])
        return found

    # -- institutions

    def institution(self, institution_id: str) -> dict[str, Any]:
        found = self.institutions.get(institution_id)
        if found is None:
            raise NotFoundError(
                f"run {self.run_id} has no institution {institution_id!r}; the run's "
                f"institutions are listed at /runs/{self.folder}/institutions"
            )
        return found

    def institution_name(self, institution_id: str) -> str:
        """Its name, or its id when the run does not know it."""
        found = self.institutions.get(institution_id)
        return str(found["institution_name"]) if found else institution_id

    def standings_of(self, institution_id: str) -> list[dict[str, Any]]:
        """Its rank and score in every category × cluster it is eligible in (each account
        for account categories), in the methodology's order."""
        position = {c: i for i, c in enumerate(self.category)}
        rows = sorted(
            self.of_institution.get(institution_id, []),
            key=lambda r: (
                position[r["category"]],
                self.cluster_order.get(r["cluster_id"], 0),
                r["rank"],
            ),
        )
        return [dict(r, of=self.eligible.get((r["category"], r["cluster_id"]), 0)) for r in rows]

    def nominee(self, category: str, cluster: str, unit: str) -> Mapping[str, Any] | None:
        panel = self.panels.get((category, cluster))
        for n in (panel or {}).get("nominees", []):
            if unit_of(n) == unit:
                return n  # type: ignore[no-any-return]
        return None


def _institution(
    record: Mapping[str, Any], cluster_name: str, region: str | None = None
) -> dict[str, Any]:
    return {
        "institution_id": record["institution_id"],
        "institution_name": record["institution_name"],
        "cluster_id": record["cluster_id"],
        "cluster_name": cluster_name,
        "region": region,
    }


def account_totals(accounts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Posts, followers and interactions of ``accounts`` summed (followers: None when none
    of them has a reading)."""
    accounts = list(accounts)
    followers = [a["followers"] for a in accounts if a["followers"] is not None]
    return {
        "posts": sum(a["posts"] or 0 for a in accounts),
        "followers": sum(followers) if followers else None,
        "interactions": sum(a["interactions"] or 0 for a in accounts),
    }


def unit_of(record: Mapping[str, Any]) -> str:
    """The unit key of a results record: the account id as text, or the institution id."""
    account = record.get("account_id")
    return str(account) if account is not None else str(record["institution_id"])


def label_of(record: Mapping[str, Any]) -> str:
    """A unit's name as the public reads it: the institution, and the account's handle and
    platform for account units."""
    name = str(record["institution_name"])
    if record.get("account_id") is None:
        return name
    platform = PLATFORM_NAMES.get(record.get("platform") or "", record.get("platform") or "")
    handle = f"@{record['handle']}" if record.get("handle") else str(record["account_id"])
    return f"{name} ({handle}, {platform})"


def model_of(state: AppState, run_id: str) -> ReadModel:
    """``state.model(run_id)``, one request at a time per run: opening a run checks every
    file's SHA-256 (seconds for a large run), which concurrent first visitors must not all do.
    Once open it is a stat and a lookup."""
    with one_at_a_time(("model", run_id)):
        return state.model(run_id)


def run_data(state: AppState, run_id: str) -> RunData:
    """The public data of the published run ``run_id`` (its folder's name), read once."""
    model = model_of(state, run_id)
    data: RunData = once(state, (run_id, "public-data"), lambda: RunData(model, run_id))
    return data
