"""Reading and checking the jury's forms (used by :mod:`judging`, :mod:`jury_opening` and
:mod:`panels`): text fields cut to a length, deadlines given in WIB, the juror and the panel an
organiser's form names, a nominee's scores; and the HTTP status a refusal of the core gets when
a page shows it in its form.

A value that is not what the form asks for is an InputError that names the field and the fix,
in the reader's language; the page shows it with the user's input kept.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from starlette.datastructures import FormData

from govsocial.errors import (
    AuthError,
    ConfigError,
    GovsocialError,
    InputError,
    MethodologyError,
    NotFoundError,
)
from govsocial.jury.juries import Jury
from govsocial.vocabulary import WIB
from govsocial.web.context import Viewer
from govsocial.web.jury_views import criteria_of, wib

LOCAL_TIME = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">, in WIB


def status_of(exc: GovsocialError) -> int:
    """The HTTP status of a refusal from the core (as app.py's handlers give it)."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, AuthError):
        return 403
    if isinstance(exc, ConfigError | MethodologyError):
        return 409
    return 400


async def posted(request: Request) -> FormData:
    """The request's form (already read by the CSRF check: Starlette keeps it)."""
    return await request.form()


def text(form: FormData, name: str, limit: int = 10_000) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


# ---------------------------------------------------------------- deadlines (WIB)


def local_input(moment: datetime) -> str:
    """A time as a datetime-local input shows it (WIB, to the minute)."""
    return wib(moment).strftime(LOCAL_TIME)


def parse_local(value: str, who: Viewer) -> datetime:
    """A datetime-local input's value, read as WIB."""
    try:
        return datetime.strptime(value.strip(), LOCAL_TIME).replace(tzinfo=WIB).astimezone(UTC)
    except ValueError:
        raise InputError(
            who._(
                "The deadline '{value}' is not a date and time; give it as YYYY-MM-DDTHH:MM (WIB).",
                value=value,
            )
        ) from None


# ---------------------------------------------------------------- an organiser's forms


def juror_id(form: FormData, who: Viewer) -> int:
    """The juror an organiser's form names (field ``juror``)."""
    try:
        return int(text(form, "juror", 20))
    except ValueError:
        raise InputError(who._("Choose a juror.")) from None


def panel_of(form: FormData) -> tuple[str | None, str | None]:
    """The panel a form names ('' = every category or cluster)."""
    return text(form, "category", 200) or None, text(form, "cluster", 200) or None


# ---------------------------------------------------------------- a juror's ballot


def given_scores(form: FormData) -> dict[str, str]:
    """The scores of a nominee's form as given (fields ``score.<criterion>``), to read them
    and to show them again if refused."""
    return {
        key.removeprefix("score."): value.strip()[:40]
        for key, value in form.multi_items()
        if key.startswith("score.") and isinstance(value, str)
    }


def parse_scores(given: dict[str, str], jury: Jury, who: Viewer) -> dict[str, float]:
    """The scores of :func:`given_scores` as numbers (an empty one is not scored yet)."""
    titles = {c.id: c.title for c in criteria_of(jury, who)}
    scores = {}
    for criterion, value in given.items():
        if not value:
            continue
        try:
            scores[criterion] = float(value.replace(",", "."))
        except ValueError:
            raise InputError(
                who._(
                    "{criterion}: '{value}' is not a number; give a score from 0 to 10.",
                    criterion=titles.get(criterion, criterion),
                    value=value,
                )
            ) from None
    return scores
