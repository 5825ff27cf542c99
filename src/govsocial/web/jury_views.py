"""What the jury's pages share in showing things (used by :mod:`judging`, :mod:`jury_opening`,
:mod:`jury_forms` and :mod:`panels`): who may come, the words the templates translate, times
in WIB, how a jury's run names its categories and clusters, the criteria in the reader's
language, the order of panels and the names of a tied champion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from govsocial.awards.methodology import JuryCriterion
from govsocial.errors import ConfigError, NotFoundError
from govsocial.jury.juries import Jury
from govsocial.jury.users import User
from govsocial.reports.i18n import N_
from govsocial.vocabulary import WIB
from govsocial.web.context import AppState, Viewer, language, need

JURY = need("organiser", "juror")
ORGANISER = need("organiser")
JUROR = need("juror")

# Shown as _(…): the states, the rules, and the shipped methodologies' criteria descriptions
# (the methodology has them in English only).
WORDS = (
    N_("not started"),
    N_("draft"),
    N_("submitted"),
    N_("open"),
    N_("closed"),
)
RULE_NAMES = {
    "standardised": N_("standardised scores (the mean of each juror's z-scores)"),
    "borda": N_("Borda points (the share of the other nominees each one beats)"),
}
CRITERIA_DESCRIPTIONS = (
    N_("Accurate, clear and well-produced content: language, visuals and fact-checking."),
    N_(
        "How useful the content is to citizens: public services, policies explained, "
        "calls to action."
    ),
    N_("Dialogue with the public: answering questions and complaints, quickly and politely."),
    N_("Original formats and storytelling that fit each platform."),
)


def user_of(who: Viewer) -> User:
    """The signed-in user (the jury's routes let only signed-in users through)."""
    assert who.user is not None  # need(...) let only signed-in users through
    return who.user


# ---------------------------------------------------------------- times and numbers


def wib(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(WIB)


def clock_time(moment: datetime | str, lang: str) -> str:
    """'14.05 WIB' (id) or '14:05 WIB' (en)."""
    return wib(moment).strftime("%H.%M WIB" if lang == "id" else "%H:%M WIB")


def language_datetime(who: Viewer, moment: datetime) -> str:
    """A time as the pages show it ('22 November 2026 14.05 WIB')."""
    return language(who.lang).site.datetime(moment)


def signed(value: float | None, lang: str) -> str:
    """+0,42 / −0,42 (two decimals, the sign always shown)."""
    if value is None:
        return "–"
    shown = f"{abs(value):.2f}"
    if lang == "id":
        shown = shown.replace(".", ",")
    return ("+" if value > 0 else "−" if value < 0 else "±") + shown


# ---------------------------------------------------------------- the run's names


def category_titles(results: dict[str, Any], lang: str) -> dict[str, str]:
    """A run's categories (its results' order): id → title in ``lang`` (else English)."""
    return {c["id"]: str(c["title"].get(lang) or c["title"]["en"]) for c in results["categories"]}


def cluster_names(clusters: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Clusters of a run's results: id → name (the id when it has none)."""
    return {k["cluster_id"]: str(k.get("cluster_name") or k["cluster_id"]) for k in clusters}


@dataclass(frozen=True)
class RunNames:
    """How a jury's run names its categories and clusters (ids when it is gone)."""

    folder: str  # the run's folder name under the published root (its pages' address)
    categories: dict[str, str]
    clusters: dict[str, str]
    published: bool

    def category(self, category_id: str) -> str:
        return self.categories.get(category_id, category_id)

    def cluster(self, cluster_id: str) -> str:
        return self.clusters.get(cluster_id, cluster_id)

    def evidence(self, category_id: str, cluster_id: str, rank: int) -> str:
        """The nominee's place on the run's public category page (its evidence)."""
        return f"/runs/{self.folder}/categories/{category_id}/{cluster_id}.html#rank-{rank}"


def run_names(state: AppState, jury: Jury, lang: str) -> RunNames:
    folder = Path(jury.folder).name
    try:
        results = state.model(folder).results
    except (NotFoundError, ConfigError):
        return RunNames(folder, {}, {}, False)
    clusters = cluster_names(k for c in results["categories"] for k in c["clusters"])
    return RunNames(folder, category_titles(results, lang), clusters, True)


# ---------------------------------------------------------------- criteria, panels, outcome


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    description: str
    weight: float


def criteria_of(jury: Jury, who: Viewer) -> list[Criterion]:
    """The jury's criteria in the viewer's language (titles from the methodology; the
    descriptions, English there, translated when the catalogue knows them)."""

    def title(c: JuryCriterion) -> str:
        return c.title_id if who.lang == "id" and c.title_id else c.title_en

    return [Criterion(c.id, title(c), who._(c.description_en), c.weight) for c in jury.criteria]


def panel_order(jury: Jury, panel: tuple[str, str]) -> tuple[int, int, str, str]:
    category, cluster = panel
    return (
        jury.categories.index(category) if category in jury.categories else 10**6,
        jury.clusters.index(cluster) if cluster in jury.clusters else 10**6,
        category,
        cluster,
    )


def champion_names(outcome: dict[str, Any], known: dict[str, str]) -> list[str]:
    """The names of the institutions tied for the champion (ids when unknown)."""
    tied: list[str] = list(outcome["champion"].get("tied") or [])
    return [known.get(i, i) for i in tied]
