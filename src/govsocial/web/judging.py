"""The jury's pages (docs/web.md, "Jury"): the organiser opens a jury on a published run,
assigns jurors, watches their progress and the live tally, extends the deadline, reopens a
juror's panel and closes the jury; a juror scores the nominees of their panels, recuses from a
nominee, saves drafts and submits each panel.

Every call to the jury core (govsocial.jury) passes the signed-in user's id: the core checks
the role, the assignment, the deadline and blindness in its own transaction. No juror route
takes a juror id (the juror is always the signed-in user); an organiser's forms name the juror
they act on.

    GET  /jury                                     the organiser's juries, or a juror's panels
    GET  /jury/new, POST /jury/new                 open a jury (organiser)
    GET  /jury/{id}                                the organiser's view, or a juror's panels
    POST /jury/{id}/assign|unassign|deadline|reopen|close          (organiser)
    GET  /jury/{id}/panel/{category}/{cluster}     a juror's panel: nominees, ballots
    POST /jury/{id}/panel/{category}/{cluster}/save|recuse|submit  (juror; save and recuse
                                                   answer htmx with the nominee's form)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from govsocial.awards.methodology import JURY_RULES, JuryCriterion, parse_methodology
from govsocial.errors import (
    AuthError,
    ConfigError,
    GovsocialError,
    InputError,
    MethodologyError,
    NotFoundError,
)
from govsocial.jury.ballots import (
    Ballot,
    Progress,
    panel_view,
    progress,
    recuse,
    reopen,
    save_draft,
    submit,
)
from govsocial.jury.closing import close_jury, tally
from govsocial.jury.juries import (
    DEFAULT_PANEL_SIZE,
    Jury,
    Nominee,
    assign,
    extend_deadline,
    get_jury,
    list_juries,
    nominees,
    open_jury,
    unassign,
)
from govsocial.jury.users import User, list_users
from govsocial.reports.i18n import N_
from govsocial.vocabulary import WIB
from govsocial.web.context import (
    AppState,
    Forbidden,
    Viewer,
    app_state,
    language,
    need,
    render,
)

router = APIRouter(include_in_schema=False)  # pages, not the JSON API
JURY = need("organiser", "juror")
ORGANISER = need("organiser")
JUROR = need("juror")
DEFAULT_DAYS = 30  # a new jury's deadline, from now
FRAGMENT = "X-Jury-Fragment"  # marks an htmx answer that replaces one nominee's form
LOCAL_TIME = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">, in WIB

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


# ---------------------------------------------------------------- shared helpers


def _user(who: Viewer) -> User:
    assert who.user is not None  # need(...) let only signed-in users through
    return who.user


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


def wib(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(WIB)


def clock_time(moment: datetime | str, lang: str) -> str:
    """'14.05 WIB' (id) or '14:05 WIB' (en)."""
    return wib(moment).strftime("%H.%M WIB" if lang == "id" else "%H:%M WIB")


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
    categories = {
        c["id"]: str(c["title"].get(lang) or c["title"]["en"]) for c in results["categories"]
    }
    clusters = {
        k["cluster_id"]: str(k.get("cluster_name") or k["cluster_id"])
        for c in results["categories"]
        for k in c["clusters"]
    }
    return RunNames(folder, categories, clusters, True)


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


# ---------------------------------------------------------------- /jury


@router.get("/jury", response_class=HTMLResponse)
def index(request: Request, who: Viewer = Depends(JURY)) -> Response:
    state = app_state(request)
    store = state.store()
    me = _user(who)
    juries = list_juries(store)
    if me.role == "organiser":
        listed = []
        for jury in reversed(juries):
            rows = progress(store, me.id, jury.id)
            listed.append(
                {
                    "jury": jury,
                    "names": run_names(state, jury, who.lang),
                    "assignments": len(rows),
                    "submitted": sum(1 for r in rows if r.submitted),
                    "panels": len({(r.category, r.cluster_id) for r in rows}),
                }
            )
        return render(
            who,
            "jury/index.html",
            page_title=who._("Juries"),
            current="jury",
            juries=listed,
            runs=state.runs(),
        )
    mine = []
    for jury in reversed(juries):
        rows = progress(store, me.id, jury.id)
        if rows:
            mine.append({"jury": jury, "names": run_names(state, jury, who.lang), "rows": rows})
    return render(
        who,
        "jury/mine.html",
        page_title=who._("Your juries"),
        current="jury",
        juries=mine,
        now=datetime.now(UTC),
    )


# ---------------------------------------------------------------- opening a jury


def _new_page(
    request: Request,
    who: Viewer,
    form: dict[str, Any] | None = None,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    state = app_state(request)
    runs = state.runs()
    chosen_id = (form or {}).get("run") or request.query_params.get("run") or ""
    model = next((m for m in runs if m.folder.name == chosen_id), runs[0] if runs else None)
    jurors = [u for u in list_users(state.store(), _user(who).id) if u.role == "juror"]
    active = [u for u in jurors if not u.disabled]
    categories: list[tuple[str, str]] = []
    clusters: list[tuple[str, str]] = []
    rule, has_criteria = "standardised", False
    if model is not None:
        results = model.results
        categories = [
            (c["id"], str(c["title"].get(who.lang) or c["title"]["en"]))
            for c in results["categories"]
        ]
        clusters = [
            (k["cluster_id"], str(k.get("cluster_name") or k["cluster_id"]))
            for k in results["categories"][0]["clusters"]
        ]
        try:
            methodology = parse_methodology(model.methodology_text, "methodology.toml")
        except MethodologyError:
            methodology = None
        if methodology is not None:
            rule, has_criteria = methodology.jury_rule, bool(methodology.jury)
    default = {
        "run": model.folder.name if model else "",
        "categories": [c for c, _ in categories],
        "clusters": [k for k, _ in clusters],
        # every active juror on every panel when there are no more of them than a panel
        # needs (GSM's three); else the organiser picks
        "jurors": [str(u.id) for u in active] if len(active) <= DEFAULT_PANEL_SIZE else [],
        "deadline": local_input(
            (datetime.now(UTC) + timedelta(days=DEFAULT_DAYS)).replace(
                minute=0, second=0, microsecond=0
            )
        ),
        "panel_size": str(DEFAULT_PANEL_SIZE),
        "rule": rule,
    }
    if form is not None and form.get("run") != default["run"]:
        form = None  # another run was chosen: its own defaults
    return render(
        who,
        "jury/new.html",
        status=status,
        page_title=who._("Open a jury"),
        current="jury",
        runs=runs,
        model=model,
        categories=categories,
        clusters=clusters,
        jurors=jurors,
        has_criteria=has_criteria,
        methodology_rule=rule,
        rules=JURY_RULES,
        rule_names=RULE_NAMES,
        form={**default, **(form or {})},
        **values,
    )


@router.get("/jury/new", response_class=HTMLResponse)
def new(request: Request, who: Viewer = Depends(ORGANISER)) -> Response:
    return _new_page(request, who)


@router.post("/jury/new")
def create(
    request: Request, form: FormData = Depends(posted), who: Viewer = Depends(ORGANISER)
) -> Response:
    state = app_state(request)
    kept: dict[str, Any] = {
        "run": text(form, "run", 200),
        "categories": texts(form, "category"),
        "clusters": texts(form, "cluster"),
        "jurors": texts(form, "juror"),
        "deadline": text(form, "deadline", 40),
        "panel_size": text(form, "panel_size", 10),
        "rule": text(form, "rule", 40),
    }
    try:
        model = state.model(kept["run"])
        if not kept["categories"]:
            raise InputError(who._("Choose at least one category."))
        if not kept["clusters"]:
            raise InputError(who._("Choose at least one cluster."))
        try:
            size = int(kept["panel_size"])
            jurors = [int(j) for j in kept["jurors"]]
        except ValueError:
            raise InputError(
                who._("The panel size and the jurors must be whole numbers.")
            ) from None
        rule = (
            kept["rule"] or parse_methodology(model.methodology_text, "methodology.toml").jury_rule
        )
        if rule not in JURY_RULES:
            raise InputError(
                who._(
                    "The tally rule '{rule}' is not one of: {rules}.",
                    rule=rule,
                    rules=", ".join(JURY_RULES),
                )
            )
        opened = open_jury(
            state.store(),
            _user(who).id,
            model.folder,
            deadline=parse_local(kept["deadline"], who),
            categories=kept["categories"],
            clusters=kept["clusters"],
            jurors=jurors,
            panel_size=size,
            rule=rule,  # checked above
        )
    except GovsocialError as exc:
        return _new_page(request, who, kept, status_of(exc), error=exc.message)
    return RedirectResponse(f"/jury/{opened.id}", status_code=303)


# ---------------------------------------------------------------- the organiser's jury


@dataclass
class PanelRow:
    """One panel on the organiser's page."""

    category: str
    cluster_id: str
    progress: list[Progress]
    assignable: list[User]  # active jurors not on the panel
    tally: dict[str, Any] | None  # the panel's part of the outcome (live, or as closed)
    nominees: dict[str, Nominee] = field(default_factory=dict)  # unit → nominee


def _jury_page(
    request: Request, who: Viewer, jury_id: int, status: int = 200, **values: Any
) -> HTMLResponse:
    state = app_state(request)
    store = state.store()
    me = _user(who)
    jury = get_jury(store, jury_id)
    if me.role == "juror":
        return _juror_jury_page(request, who, jury, status, **values)
    users = {u.id: u for u in list_users(store, me.id)}
    jurors = [u for u in users.values() if u.role == "juror"]
    rows = progress(store, me.id, jury_id)
    everyone = nominees(store, jury_id)
    outcome: dict[str, Any] = (
        jury.outcome if jury.outcome is not None else tally(store, me.id, jury_id).as_json()
    )
    tallies = {(p["category"], p["cluster_id"]): p for p in outcome["panels"]}
    panels: dict[tuple[str, str], PanelRow] = {}
    for n in everyone:
        key = (n.category, n.cluster_id)
        if key not in panels:
            on = [r for r in rows if (r.category, r.cluster_id) == key]
            taken = {r.juror_id for r in on}
            free = [u for u in jurors if u.id not in taken and not u.disabled]
            panels[key] = PanelRow(n.category, n.cluster_id, on, free, tallies.get(key))
        panels[key].nominees[n.unit] = n
    ordered = [panels[k] for k in sorted(panels, key=lambda p: panel_order(jury, p))]
    institutions = {n.institution_id: n.institution_name for n in everyone}
    submitted = sum(1 for r in rows if r.submitted)
    return render(
        who,
        "jury/jury.html",
        status=status,
        page_title=who._("Jury {id}", id=jury.id),
        current="jury",
        jury=jury,
        names=run_names(state, jury, who.lang),
        panels=ordered,
        users=users,
        jurors=[u for u in jurors if not u.disabled],
        outcome=outcome,
        tied=champion_names(outcome, institutions),
        assignments=len(rows),
        submitted=submitted,
        deadline_input=local_input(jury.deadline),
        rule_names=RULE_NAMES,
        signed=lambda v: signed(v, who.lang),
        **values,
    )


def _juror_jury_page(
    request: Request, who: Viewer, jury: Jury, status: int, **values: Any
) -> HTMLResponse:
    state = app_state(request)
    store = state.store()
    rows = progress(store, _user(who).id, jury.id)
    if not rows:
        raise Forbidden(who._("You are not a juror of jury {id}.", id=jury.id))
    outcome = jury.outcome
    labels: dict[tuple[str, str, str], Nominee] = {}
    institutions: dict[str, str] = {}
    if outcome is not None:
        for n in nominees(store, jury.id):
            labels[(n.category, n.cluster_id, n.unit)] = n
            institutions[n.institution_id] = n.institution_name
    return render(
        who,
        "jury/juror_jury.html",
        status=status,
        page_title=who._("Jury {id}", id=jury.id),
        current="jury",
        jury=jury,
        names=run_names(state, jury, who.lang),
        rows=rows,
        outcome=outcome,
        tied=champion_names(outcome, institutions) if outcome else [],
        now=datetime.now(UTC),
        **values,
    )


@router.get("/jury/{jury_id}", response_class=HTMLResponse)
def jury_page(request: Request, jury_id: int, who: Viewer = Depends(JURY)) -> Response:
    return _jury_page(request, who, jury_id)


def _organiser_action(
    request: Request, who: Viewer, jury_id: int, act: Callable[[], str]
) -> HTMLResponse:
    """Run ``act()`` (a core call; it returns what it did) and show the jury's page with that,
    or with the core's refusal. An unknown jury is a 404 page."""
    get_jury(app_state(request).store(), jury_id)
    try:
        done = act()
    except GovsocialError as exc:
        return _jury_page(request, who, jury_id, status_of(exc), error=exc.message)
    return _jury_page(request, who, jury_id, done=done)


def _juror_id(form: FormData, who: Viewer) -> int:
    try:
        return int(text(form, "juror", 20))
    except ValueError:
        raise InputError(who._("Choose a juror.")) from None


def _panel_of(form: FormData) -> tuple[str | None, str | None]:
    """The panel a form names ('' = every category or cluster)."""
    return text(form, "category", 200) or None, text(form, "cluster", 200) or None


@router.post("/jury/{jury_id}/assign")
def assign_juror(
    request: Request,
    jury_id: int,
    form: FormData = Depends(posted),
    who: Viewer = Depends(ORGANISER),
) -> Response:
    store = app_state(request).store()

    def act() -> str:
        category, cluster = _panel_of(form)
        added = assign(store, _user(who).id, jury_id, _juror_id(form, who), category, cluster)
        return language(who.lang).ngettext(
            "The juror was assigned to {n} panel.",
            "The juror was assigned to {n} panels.",
            len(added),
        )

    return _organiser_action(request, who, jury_id, act)


@router.post("/jury/{jury_id}/unassign")
def unassign_juror(
    request: Request,
    jury_id: int,
    form: FormData = Depends(posted),
    who: Viewer = Depends(ORGANISER),
) -> Response:
    store = app_state(request).store()

    def act() -> str:
        unassign(
            store,
            _user(who).id,
            jury_id,
            _juror_id(form, who),
            text(form, "category", 200),
            text(form, "cluster", 200),
        )
        return who._("The juror was taken off the panel.")

    return _organiser_action(request, who, jury_id, act)


@router.post("/jury/{jury_id}/deadline")
def deadline(
    request: Request,
    jury_id: int,
    form: FormData = Depends(posted),
    who: Viewer = Depends(ORGANISER),
) -> Response:
    store = app_state(request).store()

    def act() -> str:
        moved = extend_deadline(
            store, _user(who).id, jury_id, parse_local(text(form, "deadline", 40), who)
        )
        return who._(
            "The deadline is now {deadline}.", deadline=language_datetime(who, moved.deadline)
        )

    return _organiser_action(request, who, jury_id, act)


@router.post("/jury/{jury_id}/reopen")
def reopen_panel(
    request: Request,
    jury_id: int,
    form: FormData = Depends(posted),
    who: Viewer = Depends(ORGANISER),
) -> Response:
    store = app_state(request).store()

    def act() -> str:
        reopen(
            store,
            _user(who).id,
            jury_id,
            _juror_id(form, who),
            text(form, "category", 200),
            text(form, "cluster", 200),
            text(form, "reason", 4000),
        )
        return who._("The juror's panel is open again: their ballots are drafts until they submit.")

    return _organiser_action(request, who, jury_id, act)


@router.post("/jury/{jury_id}/close")
def close(request: Request, jury_id: int, who: Viewer = Depends(ORGANISER)) -> Response:
    store = app_state(request).store()

    def act() -> str:
        close_jury(store, _user(who).id, jury_id)
        return who._("The jury is closed: the winners and the champion are recorded and published.")

    return _organiser_action(request, who, jury_id, act)


# ---------------------------------------------------------------- a juror's panel


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


def _number(value: float) -> str:
    return f"{value:g}"


def _panel(
    request: Request,
    who: Viewer,
    jury_id: int,
    category: str,
    cluster: str,
    kept: dict[str, tuple[dict[str, str], str]] | None = None,
    errors: dict[str, str] | None = None,
    saved: str | None = None,
) -> PanelPage:
    """The panel as the signed-in juror may see it; ``kept``: a refused form's values per
    unit; ``errors``: its refusal per unit; ``saved``: the unit just saved."""
    state = app_state(request)
    me = _user(who)
    view = panel_view(state.store(), me.id, jury_id, category, cluster)
    jury = view.jury
    names = run_names(state, jury, who.lang)
    own = {b.unit: b for b in view.ballots if b.juror_id == me.id}
    submitted = any(b.status == "submitted" for b in own.values())
    now = datetime.now(UTC)
    passed = now >= jury.deadline
    rows = []
    for index, n in enumerate(view.nominees, start=1):
        ballot = own.get(n.unit)
        scores = {k: _number(v) for k, v in (ballot.scores if ballot else {}).items()}
        comment = ballot.comment if ballot else ""
        if kept and n.unit in kept:
            scores, comment = kept[n.unit]
        row = NomineeRow(
            index,
            n,
            ballot,
            scores,
            comment,
            names.evidence(category, cluster, n.rank),
            (errors or {}).get(n.unit),
        )
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
                if (p["category"], p["cluster_id"]) == (category, cluster)
            ),
            None,
        )
    return PanelPage(
        jury,
        category,
        cluster,
        names,
        criteria_of(jury, who),
        rows,
        submitted,
        jury.status == "open" and not submitted and not passed,
        passed,
        f"/jury/{jury.id}/panel/{category}/{cluster}",
        outcome,
    )


def _panel_page(
    request: Request,
    who: Viewer,
    jury_id: int,
    category: str,
    cluster: str,
    status: int = 200,
    error: str | None = None,
    **options: Any,
) -> HTMLResponse:
    page = _panel(request, who, jury_id, category, cluster, **options)
    return render(
        who,
        "jury/panel.html",
        status=status,
        page_title=f"{page.names.category(category)} · {page.names.cluster(cluster)}",
        current="jury",
        page=page,
        error=error,
        weighted=lambda b: _weighted(b, page.jury),
    )


def _weighted(ballot: Ballot, jury: Jury) -> float | None:
    """A ballot's weighted score (None: recused or not fully scored)."""
    if ballot.recused or any(c.id not in ballot.scores for c in jury.criteria):
        return None
    total = sum(c.weight for c in jury.criteria)
    return sum(c.weight * ballot.scores[c.id] for c in jury.criteria) / total


def _nominee_answer(
    request: Request,
    who: Viewer,
    jury_id: int,
    category: str,
    cluster: str,
    unit: str,
    status: int = 200,
    error: str | None = None,
    **options: Any,
) -> Response:
    """After a save or a recusal: htmx gets the nominee's form again (with "saved at" or the
    refusal); a browser without JavaScript goes back to the panel (or sees the refusal)."""
    htmx = request.headers.get("hx-request") == "true"
    if not htmx and error is None:
        page = _panel(request, who, jury_id, category, cluster)
        index = next((r.index for r in page.rows if r.nominee.unit == unit), 0)
        address = f"{page.action}#nominee-{index}" if index else page.action
        return RedirectResponse(address, status_code=303)
    errors = {unit: error} if error else None
    if not htmx:
        return _panel_page(
            request, who, jury_id, category, cluster, status, error, errors=errors, **options
        )
    page = _panel(request, who, jury_id, category, cluster, errors=errors, **options)
    row = next((r for r in page.rows if r.nominee.unit == unit), None)
    if row is None:
        raise NotFoundError(f"{unit!r} is not a nominee of {category} × {cluster}")
    answer = render(
        who,
        "jury/_nominee.html",
        status=status,
        page=page,
        row=row,
        weighted=lambda b: _weighted(b, page.jury),
    )
    answer.headers[FRAGMENT] = "1"
    return answer


@router.get("/jury/{jury_id}/panel/{category}/{cluster}", response_class=HTMLResponse)
def panel(
    request: Request, jury_id: int, category: str, cluster: str, who: Viewer = Depends(JUROR)
) -> Response:
    return _panel_page(request, who, jury_id, category, cluster)


def parse_scores(
    form: FormData, jury: Jury, who: Viewer
) -> tuple[dict[str, float], dict[str, str]]:
    """The scores of a nominee's form (fields ``score.<criterion>``; an empty one is not
    scored yet), and the form's values as given (to show them again if refused)."""
    given = {
        key.removeprefix("score."): value.strip()[:40]
        for key, value in form.multi_items()
        if key.startswith("score.") and isinstance(value, str)
    }
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
    return scores, given


@router.post("/jury/{jury_id}/panel/{category}/{cluster}/save")
def save(
    request: Request,
    jury_id: int,
    category: str,
    cluster: str,
    form: FormData = Depends(posted),
    who: Viewer = Depends(JUROR),
) -> Response:
    store = app_state(request).store()
    unit, comment = text(form, "unit", 200), text(form, "comment")
    given: dict[str, str] = {}
    try:
        scores, given = parse_scores(form, get_jury(store, jury_id), who)
        save_draft(store, _user(who).id, jury_id, category, cluster, unit, scores, comment)
    except (InputError, AuthError, NotFoundError) as exc:
        if not isinstance(exc, InputError):
            _check_panel(request, who, jury_id, category, cluster, unit)
        kept = {unit: (given, comment)}
        return _nominee_answer(
            request, who, jury_id, category, cluster, unit, status_of(exc), exc.message, kept=kept
        )
    return _nominee_answer(request, who, jury_id, category, cluster, unit, saved=unit)


def _check_panel(
    request: Request, who: Viewer, jury_id: int, category: str, cluster: str, unit: str
) -> None:
    """Raise what the app shows as a page (403, 404) when the juror may not see the panel
    or the nominee is not on it: no form to show the refusal in."""
    page = _panel(request, who, jury_id, category, cluster)
    if unit not in {r.nominee.unit for r in page.rows}:
        raise NotFoundError(f"{unit!r} is not a nominee of {category} × {cluster}")


@router.post("/jury/{jury_id}/panel/{category}/{cluster}/recuse")
def recuse_from(
    request: Request,
    jury_id: int,
    category: str,
    cluster: str,
    form: FormData = Depends(posted),
    who: Viewer = Depends(JUROR),
) -> Response:
    store = app_state(request).store()
    unit, reason = text(form, "unit", 200), text(form, "reason")
    try:
        if not reason.strip():
            raise InputError(who._("Say why you recuse (the conflict of interest)."))
        recuse(store, _user(who).id, jury_id, category, cluster, unit, reason)
    except (InputError, AuthError, NotFoundError) as exc:
        if not isinstance(exc, InputError):
            _check_panel(request, who, jury_id, category, cluster, unit)
        return _nominee_answer(
            request, who, jury_id, category, cluster, unit, status_of(exc), exc.message
        )
    return _nominee_answer(request, who, jury_id, category, cluster, unit, saved=unit)


@router.post("/jury/{jury_id}/panel/{category}/{cluster}/submit")
def submit_panel(
    request: Request,
    jury_id: int,
    category: str,
    cluster: str,
    who: Viewer = Depends(JUROR),
) -> Response:
    store = app_state(request).store()
    try:
        submit(store, _user(who).id, jury_id, category, cluster)
    except (InputError, AuthError) as exc:
        return _panel_page(request, who, jury_id, category, cluster, status_of(exc), exc.message)
    return RedirectResponse(f"/jury/{jury_id}/panel/{category}/{cluster}", status_code=303)
