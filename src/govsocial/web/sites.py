"""The results site of a published run (govsocial.reports.site) inside the web's layout: built
once per run and language (:func:`site`), its pages served with the jury's decision
(:func:`site_page`), and the links between the site and the web's own pages of the run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, cast
from urllib.parse import quote, urlencode

import jinja2
from fastapi.responses import Response
from markupsafe import Markup

from govsocial.errors import NotFoundError
from govsocial.reports.site import Site
from govsocial.web.context import AppState, Viewer, language, loader
from govsocial.web.decisions import Decision, champion_name, decision
from govsocial.web.pages import REQUEST, once, serve
from govsocial.web.published import model_of, run_data, unit_of


class _Overrides(jinja2.BaseLoader):
    """The site's overview and category pages come from templates/public/, which extend the
    site's own (adding the jury's decision); every other template as the web finds it."""

    NAMES: ClassVar[dict[str, str]] = {
        "index.html": "public/index.html",
        "category.html": "public/category.html",
    }

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if template not in self.NAMES:
            raise jinja2.TemplateNotFound(template)
        return loader().get_source(environment, self.NAMES[template])


@functools.cache
def public_loader() -> jinja2.BaseLoader:
    return jinja2.ChoiceLoader([_Overrides(), loader()])


def site(state: AppState, run_id: str, who: Viewer) -> Site:
    """The results site of ``run_id`` in the viewer's language (built once per run and
    language; each page is rendered with the viewer's own context)."""
    model = model_of(state, run_id)
    words = language(who.lang)

    def make() -> Site:
        return Site(
            model,
            words.site,
            link_scorecards=True,  # served by web/scorecards.py
            loader=public_loader(),
            globals={
                "_": words.gettext,
                "ngettext": words.ngettext,
                "in_run": True,
                "institution_url": lambda institution_id: institution_url(run_id, institution_id),
            },
            context=lambda: REQUEST.get({}),
        )

    built: Site = once(state, (run_id, "site", who.lang), make)
    return built


def helper(built: Site, name: str) -> Callable[..., str]:
    """One of the site's template functions (``_``, ``title``, ``metric``, ``media``...)."""
    return cast(Callable[..., str], built.env.globals[name])


def institution_url(run_id: str, institution_id: str) -> str:
    return f"/runs/{run_id}/institutions/{quote(institution_id, safe='')}"


def board_url(run_id: str, params: Mapping[str, str]) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/runs/{run_id}/leaderboard" + (f"?{query}" if query else "")


def run_page(
    built: Site, template: str, run_id: str, context: Mapping[str, Any], **values: Any
) -> str:
    """A web page of the run (not a site page: the leaderboard, institutions), rendered with
    the site's templates and functions in the request's ``context``."""
    layout = {"root": f"/runs/{run_id}/", "in_run": True, "error": None, "done": None}
    return str(built.env.get_template(template).render({**context, **layout, **values}))


def site_page(state: AppState, run_id: str, who: Viewer, name: str) -> Response:
    """The site's page ``name`` (``index.html``, ``categories/{category}/{cluster}.html``...)
    with the jury's decision: its winners, places and champion."""
    built = site(state, run_id, who)
    data = run_data(state, run_id)
    found = decision(state, data)
    category, cluster = _panel_of(name)

    def make(context: dict[str, Any]) -> str:
        pages = dict(built.pages())
        if name not in pages:
            raise NotFoundError(
                f"run {run_id} has no page {name!r}; its categories are listed at "
                f"/runs/{run_id}/index.html#categories"
            )
        context.update(
            decision=found,
            panel=found.panels.get((category, cluster)),
            board_url=board_url(run_id, {"category": category, "cluster": cluster}),
            nominee_badge=_badge(built, found, category, cluster),
            champion_name=champion_name(data, found),
        )
        return pages[name]()

    return serve(state, run_id, who, ("site", name, found.juries), make, f"/runs/{run_id}/{name}")


def _panel_of(name: str) -> tuple[str, str]:
    parts = name.removesuffix(".html").split("/")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "categories" else ("", "")


def _badge(
    built: Site, found: Decision, category: str, cluster: str
) -> Callable[[Mapping[str, Any]], Markup]:
    """A nominee's mark on its category page: the jury's winner, or its place."""
    panel = found.panels.get((category, cluster))
    gettext = helper(built, "_")

    def badge(nominee: Mapping[str, Any]) -> Markup:
        if not panel:
            return Markup("")
        unit = unit_of(nominee)
        if panel["winner"] and panel["winner"]["unit"] == unit:
            return Markup('<strong class="badge winner">{}</strong>').format(gettext("Winner"))
        for x in panel["placed"]:
            if x["unit"] == unit:
                text = gettext("place {place} by the jury", place=x["place"])
                return Markup('<span class="badge">{}</span>').format(text)
        return Markup("")

    return badge
