"""What the jury tests share: a settable clock, the people, and filling in ballots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from govsocial.jury.ballots import save_draft, submit
from govsocial.jury.juries import Nominee, nominees
from govsocial.jury.store import StateStore
from govsocial.jury.users import Console, add_user

START = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
DEADLINE = START + timedelta(days=30)
CATEGORIES = ["most_active", "best_account"]  # an institution and an account category
CLUSTERS = ["kementerian", "pemda"]
CRITERIA = ("content_quality", "public_value", "responsiveness", "creativity")  # gsm2025's
PASSWORD = "kata-sandi-yang-panjang-{}"  # each user's, with their login


class Clock:
    """The store's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class People:
    organiser: int
    jurors: tuple[int, int, int]
    spare: int  # a fourth juror, assigned to nothing
    operator: int


def make_people(store: StateStore) -> People:
    console = Console("test")

    def add(login: str, role: str, institution: str | None = None) -> int:
        user = add_user(
            store,
            console,
            name=login.title(),
            login=login,
            role=role,  # type: ignore[arg-type]
            password=PASSWORD.format(login),
            institution_id=institution,
        )
        return user.id

    organiser = add("organiser", "organiser")
    jurors = (add("juror1", "juror"), add("juror2", "juror"), add("juror3", "juror"))
    return People(organiser, jurors, add("juror4", "juror"), add("operator", "operator", "x"))


def panel(store: StateStore, jury_id: int, category: str, cluster: str) -> list[Nominee]:
    return [
        n for n in nominees(store, jury_id) if (n.category, n.cluster_id) == (category, cluster)
    ]


def fill(
    store: StateStore,
    juror: int,
    jury_id: int,
    category: str,
    cluster: str,
    score: Callable[[int, Nominee], float],
    *,
    send: bool = True,
) -> None:
    """The juror scores every nominee of the panel ``score(place, nominee)`` on every
    criterion (place: the nominee's 0-based place in results.json), then submits."""
    for place, nominee in enumerate(panel(store, jury_id, category, cluster)):
        value = score(place, nominee)
        scores = dict.fromkeys(CRITERIA, value)
        save_draft(store, juror, jury_id, category, cluster, nominee.unit, scores, "ok")
    if send:
        submit(store, juror, jury_id, category, cluster)
