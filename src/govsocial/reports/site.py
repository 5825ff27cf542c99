"""The results site of a published run: static pages that open from disk, with no network.

``write_site(model, out)`` writes, from the read model (docs/read-model.md) alone:

- ``index.html``: the edition, the period, what the data covers, the champion standings and
  a table of categories × clusters linking to their pages;
- ``categories/<category>/<cluster>.html``: the nominees (and the units held for review) with
  their evidence, how sure the ranking is, the leaderboard of every eligible unit, and why the
  others were not eligible;
- ``methodology.html``: the methodology written out from the run's methodology file, the
  metric catalogue and the results' stability settings, with what it takes to reproduce it;
- ``site.css``: one local stylesheet, for screens, phones and print.

Every label and sentence is a message of the ``site`` catalogue (``reports/locales/<lang>/
site.po``), every number and date is formatted by :class:`~govsocial.reports.i18n.Language`.
The folder is built beside ``out`` under a temporary name and renamed into place: a report
appears whole or not at all, and an earlier report in ``out`` is replaced only at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from govsocial import __version__
from govsocial.awards.methodology import Methodology, parse_methodology
from govsocial.errors import ConfigError, OutputError
from govsocial.metrics.catalogue import METRICS as CATALOGUE
from govsocial.publish.model import ReadModel
from govsocial.reports import site_text
from govsocial.reports.files import file_stem
from govsocial.reports.i18n import Language, check_language, template_environment
from govsocial.reports.site_text import Said
from govsocial.vocabulary import PLATFORM_NAMES

CSS = "site.css"
# Written last into every site folder: says the folder is a govsocial report (of which run),
# so that writing a report again may replace it; any other non-empty folder is left alone.
MARKER = ".govsocial-report.json"
SCORE_DECIMALS = 3  # scores, percentiles and contributions, all 0-1

Progress = Callable[[int, int], None]


def write_site(
    model: ReadModel,
    out: Path,
    lang: str = "id",
    progress: Progress | None = None,
    *,
    link_scorecards: bool = True,
) -> Path:
    """Write the results site of ``model`` into the folder ``out`` (replacing an earlier
    report there) in ``lang``; returns the path of ``index.html``.

    ``progress(done, total)`` is called after each page. ``link_scorecards``: link each
    institution to ``scorecards/<institution_id>.html`` (the report writes them after the
    site).
    """
    site = Site(model, Language(check_language(lang), "site"), link_scorecards)
    pages = site.pages()
    total = len(pages)
    with building(Path(out), model.run_id) as folder:
        css = resources.files("govsocial.reports") / "static" / CSS
        (folder / CSS).write_bytes(css.read_bytes())
        for done, (name, render) in enumerate(pages, start=1):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(), encoding="utf-8")
            if progress:
                progress(done, total)
        marker = {"run_id": model.run_id, "lang": lang, "govsocial_version": __version__}
        (folder / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
    return Path(out) / "index.html"


# ---------------------------------------------------------------- the folder, atomically


@contextlib.contextmanager
def building(out: Path, run_id: str) -> Iterator[Path]:
    """A new folder beside ``out`` to write the site into; renamed to ``out`` when the block
    succeeds (an earlier report there is renamed away first, then deleted), removed when it
    fails. A non-empty folder that is not a govsocial report is refused, never replaced."""
    out = Path(os.path.abspath(out))
    _check_out(out)
    token = secrets.token_hex(4)
    partial = out.with_name(f".{out.name}.{token}.building")
    try:
        partial.mkdir()
        yield partial
        if out.exists():
            old = out.with_name(f".{out.name}.{token}.old")
            os.rename(out, old)
            try:
                os.rename(partial, out)
            except OSError:
                os.rename(old, out)  # put the earlier report back
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(partial, out)
    except BaseException as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(exc, OSError):
            kept = "the earlier report there is as it was" if out.exists() else "nothing was left"
            raise OutputError(
                f"Could not write the report of run {run_id} into {out}: "
                f"{exc.strerror or exc}. Check the folder and the disk, then try again; {kept}."
            ) from exc
        raise


def _check_out(out: Path) -> None:
    if not out.parent.is_dir():
        raise ConfigError(
            f"Cannot write the report into {out}: the folder {out.parent} does not exist. "
            f"Create it first (mkdir -p {out.parent}) or choose another folder."
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"Cannot write the report into {out}: it is a file, not a folder.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ConfigError(
            f"{out} is a folder with files that are not a govsocial report: the report "
            "replaces its folder whole, so it is not written there. Choose a new or empty "
            "folder (e.g. --out report)."
        )


# ---------------------------------------------------------------- the pages


@dataclass
class ClusterPage:
    """One category × cluster: what its page shows beside the results' records."""

    category: Mapping[str, Any]
    cluster: Mapping[str, Any]
    path: str  # relative to the site's folder
    leaderboard: list[dict[str, Any]] = field(default_factory=list)


class Site:
    """The site of one published run in one language: its pages, rendered on demand."""

    def __init__(
        self,
        model: ReadModel,
        lang: Language,
        link_scorecards: bool = True,
        *,
        loader: jinja2.BaseLoader | None = None,
        globals: Mapping[str, Any] | None = None,
        context: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        """``loader``, ``globals`` and ``context``: the web app renders the same pages inside
        its own layout (a loader whose ``base.html`` extends ``site/base.html``), with its own
        globals, and ``context()`` called at each rendering for the values of that request
        (who is signed in): a Site is shared by concurrent requests, its globals are not
        changed after it is made."""
        self.model = model
        self.lang = lang
        self.results = model.results
        self.coverage = model.coverage
        self.methodology: Methodology = parse_methodology(
            model.methodology_text, f"run {model.run_id}"
        )
        self.link_scorecards = link_scorecards
        self.cluster_names = {
            cl["cluster_id"]: cl["cluster_name"]
            for c in self.results["categories"]
            for cl in c["clusters"]
        }
        self.clusters = [
            ClusterPage(c, cl, f"categories/{c['id']}/{cl['cluster_id']}.html")
            for c in self.results["categories"]
            for cl in c["clusters"]
        ]
        self._leaderboards()
        self.env = self._environment()
        if loader is not None:
            self.env.loader = loader
        self.env.globals.update(globals or {})
        self.context = context

    # -- data

    def _leaderboards(self) -> None:
        """Every eligible unit of each category × cluster, by rank, with its components'
        combined percentiles (standings.parquet, components.parquet)."""
        percentiles: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
        parts = self.model.table("components").select(
            ["category", "cluster_id", "unit", "platform", "metric", "percentile"]
        )
        for row in parts.to_pylist():
            if not row["platform"]:  # the combined row of a unit's component
                key = (row["category"], row["cluster_id"], row["unit"])
                percentiles[key][row["metric"]] = row["percentile"]
        boards: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in self.model.table("standings").to_pylist():
            row["components"] = percentiles.get(
                (row["category"], row["cluster_id"], row["unit"]), {}
            )
            boards[(row["category"], row["cluster_id"])].append(row)
        for page in self.clusters:
            board = boards.get((page.category["id"], page.cluster["cluster_id"]), [])
            page.leaderboard = sorted(board, key=lambda r: int(r["rank"]))

    def pages(self) -> list[tuple[str, Callable[[], str]]]:
        """(path in the folder, its rendering), the overview first."""
        pages: list[tuple[str, Callable[[], str]]] = [
            ("index.html", self.index),
            ("methodology.html", self.methodology_page),
        ]
        for i, page in enumerate(self.clusters):
            before = self.clusters[i - 1] if i else None
            after = self.clusters[i + 1] if i + 1 < len(self.clusters) else None
            pages.append((page.path, _bind(self.category_page, page, before, after)))
        return pages

    # -- rendering

    def _environment(self) -> jinja2.Environment:
        env = template_environment("site")
        lang = self.lang
        env.globals.update(
            _=lang.gettext,
            lang=lang.lang,
            run_id=self.model.run_id,
            version=self.model.manifest.get("govsocial_version", __version__),
            synthetic=self.model.synthetic,
            edition=self.results["methodology"]["edition"],
            title=self._title,
            platform=lambda p: PLATFORM_NAMES.get(p, p),
            media=lambda m: site_text.label(lang, site_text.MEDIA_TYPES, m),
            unit_kind=lambda u: site_text.label(lang, site_text.UNITS, u),
            status=lambda s: site_text.label(lang, site_text.STATUS, s, ""),
            severity=lambda s: site_text.label(lang, site_text.SEVERITY, s),
            metric=lambda m: site_text.metric_label(lang, m),
            metric_value=lambda m, v: site_text.metric_value(lang, m, v),
            flag_label=lambda f: site_text.label(lang, site_text.FLAG_LABELS, f),
            flag_meaning=lambda f: site_text.label(lang, site_text.FLAG_MEANINGS, f, ""),
            flag_detail=lambda d: site_text.flag_detail(lang, d, self.cluster_names),
            ineligible=lambda r: site_text.ineligible_label(lang, r),
            ordinal=lambda n: site_text.ordinal(lang, n),
            cluster_name=lambda c: self.cluster_names.get(c, c),
            scorecard=self._scorecard,
            period=self._period(),
        )
        env.filters.update(
            num=lambda v, d=None: lang.number(v, d),
            score=lambda v: lang.number(_six(v), SCORE_DECIMALS),
            pct=lambda v, d=1: lang.percent(v, d),
            date=lang.date,
            datetime=lang.datetime,
        )
        return env

    def _title(self, record: Mapping[str, Any]) -> str:
        """A {id, en} title in the page's language."""
        return str(record["id"] if self.lang.lang == "id" else record["en"])

    def _scorecard(self, institution_id: str, root: str) -> str | None:
        if not self.link_scorecards:
            return None
        return f"{root}scorecards/{file_stem(institution_id)}.html"

    def _period(self) -> dict[str, str]:
        period = self.results["methodology"]["period"]
        end = datetime.fromisoformat(period["end"]) - timedelta(seconds=1)  # end is exclusive
        return {"start": self.lang.date(period["start"]), "last": self.lang.date(end)}

    def _render(self, template: str, root: str, **values: Any) -> str:
        extra = self.context() if self.context else {}
        return self.env.get_template(template).render(root=root, **{**extra, **values})

    def index(self) -> str:
        coverage = self.coverage
        champion = self.results["champion"]
        by_category: dict[str, dict[str, ClusterPage]] = defaultdict(dict)
        for page in self.clusters:
            by_category[page.category["id"]][page.cluster["cluster_id"]] = page
        return self._render(
            "index.html",
            "",
            page_title=self.lang.gettext("Results"),
            results=self.results,
            manifest=self.model.manifest,
            coverage=coverage,
            methodology_title=self._title(
                {"id": self.methodology.title_id, "en": self.methodology.title_en}
            ),
            clusters=list(self.methodology.clusters),
            grid=by_category,
            champion=champion,
            champion_text=site_text.champion_explanation(self.lang, champion),
            category_titles={c["id"]: self._title(c["title"]) for c in self.results["categories"]},
            posts_total=sum(int(p["posts"]) for p in coverage["posts"].values()),
            reposts_total=sum(int(p["reposts"]) for p in coverage["posts"].values()),
        )

    def category_page(
        self, page: ClusterPage, before: ClusterPage | None, after: ClusterPage | None
    ) -> str:
        category, cluster = page.category, page.cluster
        rule = next(c for c in self.methodology.categories if c.id == category["id"])
        stability = self.results["stability"]
        note = (
            Said(str(cluster["note"]))
            if self.lang.lang == "en" and cluster["note"]
            else _maybe(site_text.cluster_note(self.lang, cluster, rule.nominees))
        )
        return self._render(
            "category.html",
            "../../",
            page_title=f"{self._title(category['title'])} · {cluster['cluster_name']}",
            page=page,
            category=category,
            cluster=cluster,
            rule=rule,
            stability=stability,
            certainty_text=site_text.certainty_sentence(
                self.lang,
                cluster,
                int(stability["replicates"]),
                float(stability["stays"]),
                float(stability["enters"]),
            ),
            note=note,
            notes=[
                site_text.category_note(self.lang, n, self.cluster_names) for n in category["notes"]
            ],
            metrics=[c["metric"] for c in category["components"]],
            before=before,
            after=after,
            title_of=lambda p: f"{self._title(p.category['title'])} · {p.cluster['cluster_name']}",
        )

    def methodology_page(self) -> str:
        m = self.methodology
        used = list(dict.fromkeys(c.metric for cat in m.categories for c in cat.components))
        metrics = [
            {
                "name": name,
                "label": site_text.metric_label(self.lang, name),
                "words": self.lang.gettext(site_text.METRICS[name].words)
                if name in site_text.METRICS
                else "",
                "formula": self.lang.gettext(CATALOGUE[name].description),
                "source": self.lang.gettext(CATALOGUE[name].source),
            }
            for name in used
        ]
        shrunk = any(n in ("engagement_rate", "theme_engagement_rate") for n in used)
        return self._render(
            "methodology.html",
            "",
            page_title=self.lang.gettext("Methodology"),
            m=m,
            methodology_title=self._title({"id": m.title_id, "en": m.title_en}),
            results=self.results,
            manifest=self.model.manifest,
            metrics=metrics,
            shrunk=shrunk,
            weight_share=lambda cat, w: w / sum(c.weight for c in cat.components),
            platforms_of=lambda cat: list(cat.platforms or m.platforms),
            champion_text=site_text.champion_explanation(self.lang, self.results["champion"]),
            tiebreaker=lambda t: site_text.label(self.lang, site_text.TIEBREAKERS, t),
            stability=self.results["stability"],
        )


def _bind(
    render: Callable[[ClusterPage, ClusterPage | None, ClusterPage | None], str],
    page: ClusterPage,
    before: ClusterPage | None,
    after: ClusterPage | None,
) -> Callable[[], str]:
    return lambda: render(page, before, after)


def _maybe(text: str | None) -> Said | None:
    return Said(text) if text else None


def _six(value: float | None) -> float | None:
    """A score as the results document publishes it (6 significant digits), so a leaderboard
    read from the tables shows the same digits as the nominees read from the results."""
    return None if value is None else float(f"{value:.6g}")
