"""Institution scorecards: one HTML page and one A4 PDF per institution of a published run.

A scorecard is for an institution's communication team: its accounts, its activity week by
week, its engagement rate among its cluster's accounts, its media mix, its top posts, its place
in each category and what would move it up (``scorecard_gaps.py``). Everything is read from
the published run (``publish/model.py``); the words go through the ``scorecard`` catalogue and
the numbers and dates through the language's locale (``i18n.py``).

The page is self-contained (its CSS inline, its charts inline SVG: no script, no network), so
a browser opens it from disk and WeasyPrint turns the same text into the PDF, embedding the
fonts it uses. WeasyPrint and the charts are CPU-bound: from :data:`POOL_FROM` institutions on,
the cards are written by :data:`WORKERS` processes (``spawn``: vl-convert runs threads, which
a fork would copy in an unknown state), each reading the run once.
"""

from __future__ import annotations

import base64
import concurrent.futures
import multiprocessing
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from govsocial.awards.methodology import Category
from govsocial.errors import ConfigError
from govsocial.publish.model import ReadModel
from govsocial.reports import charts
from govsocial.reports.files import atomic_write, file_stem
from govsocial.reports.i18n import N_, Language, check_language, template_environment
from govsocial.reports.scorecard_facts import Facts, RunTables, institution_facts, platform_name
from govsocial.reports.scorecard_gaps import HELD, NOMINATED, NOT_ELIGIBLE, Place, places
from govsocial.vocabulary import WIB

WORKERS = 2  # the target machine has 2 cores
POOL_FROM = 8  # fewer cards are written in this process (starting a worker costs ~2 s)
MEDIA_MINIMUM = 5  # posts of a media type before the card names it the best performing


MEDIA_LABELS = {
    "image": N_("Image"),
    "video": N_("Video"),
    "text": N_("Text"),
    "link": N_("Link"),
    "carousel": N_("Carousel"),
    "reel": N_("Reel"),
}
METRIC_LABELS = {
    "posts_per_week": N_("posting frequency (original posts per week)"),
    "active_weeks_share": N_("consistency (share of weeks with a post)"),
    "engagement_rate": N_("engagement rate (interactions per follower)"),
    "engagement_rate_raw": N_("engagement rate without adjustment"),
    "interactions_per_post": N_("interactions per post"),
    "view_rate": N_("view rate (views per follower)"),
    "follower_growth": N_("follower growth"),
    "theme_share": N_("share of posts on the category's theme"),
    "theme_engagement_rate": N_("engagement rate of the posts on the theme"),
    "collaboration_mention_share": N_("share of posts mentioning another institution"),
    "shared_hashtag_share": N_("share of posts with a hashtag another institution used"),
}
LEVERS = {
    "posts_per_week": N_("Post more often"),
    "active_weeks_share": N_("Post in more weeks of the year"),
    "engagement_rate": N_("Raise interactions per follower"),
    "engagement_rate_raw": N_("Raise interactions per follower"),
    "interactions_per_post": N_("Raise interactions per post"),
    "view_rate": N_("Raise views per follower"),
    "follower_growth": N_("Grow the audience"),
    "theme_share": N_("Publish more on the category's theme"),
    "theme_engagement_rate": N_("Raise interactions on the theme's posts"),
    "collaboration_mention_share": N_("Mention partner institutions in more posts"),
    "shared_hashtag_share": N_("Use shared campaign hashtags in more posts"),
}
PERCENT_METRICS = {
    "active_weeks_share",
    "engagement_rate",
    "engagement_rate_raw",
    "view_rate",
    "follower_growth",
    "theme_share",
    "theme_engagement_rate",
    "collaboration_mention_share",
    "shared_hashtag_share",
}
STATUS = {
    NOMINATED: N_("Nominee"),
    HELD: N_("Held for review"),
    "": N_("Ranked"),
    NOT_ELIGIBLE: N_("Not eligible"),
}


def write_scorecards(
    model: ReadModel,
    out: Path,
    lang: str = "id",
    pdf: bool = True,
    institutions: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write ``out/scorecards/<institution_id>.html`` (and ``.pdf`` with ``pdf``) for each of
    ``institutions`` (default: every institution of the run); returns the files written, in
    the order of the institutions, each HTML before its PDF. ``progress(done, total)`` is
    called after each institution."""
    check_language(lang)
    run = RunTables.from_model(model)
    ids = list(run.institutions() if institutions is None else dict.fromkeys(institutions))
    unknown = [i for i in ids if i not in run.accounts]
    if unknown:
        raise ConfigError(
            f"No institution {', '.join(map(repr, unknown[:5]))} in the published run "
            f"{model.run_id}; it has {len(run.accounts)}, "
            f"e.g. {', '.join(run.institutions()[:3])}."
        )
    folder = Path(out) / "scorecards"
    folder.mkdir(parents=True, exist_ok=True)
    if len(ids) < POOL_FROM:
        renderer = Renderer(run, folder, lang, pdf)
        return _collect((renderer.write(i) for i in ids), len(ids), progress)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        WORKERS,
        mp_context=context,
        initializer=_start_worker,
        initargs=(str(model.folder), str(folder), lang, pdf),
    ) as pool:
        futures = [pool.submit(_write_in_worker, i) for i in ids]
        try:
            done = _collect((f.result() for f in futures), len(ids), progress)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return done


class Renderer:
    """Writes the scorecards of one run in one language (one per process)."""

    def __init__(self, run: RunTables, folder: Path, lang: str, pdf: bool) -> None:
        self.run, self.folder, self.pdf = run, folder, pdf
        self.lang = Language(lang, "scorecard")
        self.template = _environment(self.lang).get_template("scorecard/scorecard.html")

    def write(self, institution_id: str) -> list[Path]:
        html = self.html(institution_id)
        stem = self.folder / file_stem(institution_id)
        written = [stem.with_suffix(".html")]
        atomic_write(written[0], html.encode("utf-8"))
        if self.pdf:
            written.append(stem.with_suffix(".pdf"))
            atomic_write(written[1], self.pdf_of(html))
        return written

    def pdf_of(self, html: str) -> bytes:
        """The A4 PDF of a scorecard's ``html`` (no file or network is read)."""
        import weasyprint

        document = weasyprint.HTML(
            string=_svg_as_images(html), base_url=str(self.folder), url_fetcher=_data_only()
        )
        pdf: bytes = document.write_pdf()
        return pdf

    def html(self, institution_id: str) -> str:
        facts = institution_facts(self.run, institution_id)
        found = places(self.run, institution_id)
        rated = [m for m in facts.media if m.rate is not None and m.posts >= MEDIA_MINIMUM]
        return self.template.render(
            lang=self.lang.lang,
            f=facts,
            places=found,
            run=self._run_info(),
            charts=self._charts(facts, found),
            nominations=sum(p.status == NOMINATED for p in found),
            main_rule=self.run.methodology.accounts == "main",
            best_media=max(rated, key=lambda m: m.rate or 0.0) if len(rated) > 1 else None,
            media_minimum=MEDIA_MINIMUM,
        )

    def _run_info(self) -> dict[str, Any]:
        model, m = self.run.model, self.run.methodology
        return {
            "synthetic": model.synthetic,
            "edition": m.edition,
            "methodology_id": m.id,
            "version": m.version,
            "run_id": model.run_id,
            "published_at": model.manifest.get("published_at"),
            "first_day": self.run.first_day,
            "last_day": (m.period_end - timedelta(microseconds=1)).astimezone(WIB).date(),
            "weeks": self.run.weeks,
        }

    def _charts(self, facts: Facts, found: list[Place]) -> dict[str, Markup | None]:
        """The card's charts as inline SVG (None: nothing to draw), each named by its title,
        which the page also shows as its caption."""
        t = self.lang
        drawn: dict[str, Markup | None] = dict.fromkeys(("weekly", "peers", "media", "categories"))

        def draw(kind: str, rows: list[dict[str, Any]], title: str, *keys: str) -> Markup:
            return Markup(charts.draw(kind, t, rows, *keys, label=title))

        if facts.posts:
            platforms = dict.fromkeys(r["platform"] for r in facts.weekly)
            drawn["weekly"] = draw(
                "weekly_posts", facts.weekly, t.gettext("Original posts per week"), *platforms
            )
            media = [
                {
                    "media": t.gettext(MEDIA_LABELS.get(m.media_type, m.media_type)),
                    "posts": m.posts,
                    "rate": m.rate,
                    "cluster_rate": m.cluster_rate,
                }
                for m in facts.media
            ]
            drawn["media"] = draw("media_mix", media, t.gettext("Media mix"))
        if facts.peer_points:
            platforms = dict.fromkeys(r["platform"] for r in facts.peer_points)
            title = t.gettext("Engagement rate: your accounts among the cluster's accounts")
            drawn["peers"] = draw("peer_rates", facts.peer_points, title, *platforms)
        ranked = [
            {"category": category_title(p.category, t.lang), "score": p.score, "line": p.line}
            for p in found
            if p.score is not None
        ]
        if ranked:
            title = t.gettext("Your score and the nominee line per category")
            drawn["categories"] = draw("category_scores", ranked, title)
        return drawn


def category_title(category: Category, lang: str) -> str:
    """The category's title from the methodology, in Indonesian or English."""
    return category.title_id if lang == "id" else category.title_en


def _environment(t: Language) -> jinja2.Environment:
    env = template_environment("")

    def media_label(media: str) -> str:
        return t.gettext(MEDIA_LABELS[media]) if media in MEDIA_LABELS else media

    def metric_label(metric: str) -> str:
        return t.gettext(METRIC_LABELS[metric]) if metric in METRIC_LABELS else metric

    def lever(metric: str) -> str:
        if metric in LEVERS:
            return t.gettext(LEVERS[metric])
        return t.gettext("Raise {metric}", metric=metric_label(metric))

    def metric_value(metric: str, value: float | None) -> str:
        return t.percent(value, 2) if metric in PERCENT_METRICS else t.number(value, 2)

    def unit_name(row: dict[str, Any]) -> str:
        name = str(row["institution_name"])
        return (
            f"{name} ({platform_name(row['platform'])} @{row['handle']})"
            if row.get("account_id") is not None
            else name
        )

    def status_text(place: Place) -> str:
        return t.gettext(STATUS.get(place.status, place.status))

    env.globals.update(
        _=t.gettext,
        num=t.number,
        pct=t.percent,
        date=t.date,
        datetime=t.datetime,
        platform_name=platform_name,
        platform_list=lambda ps: ", ".join(platform_name(p) for p in ps),
        media_label=media_label,
        media_list=lambda ms: ", ".join(media_label(m) for m in ms),
        metric_label=metric_label,
        metric_value=metric_value,
        lever=lever,
        unit_name=unit_name,
        status_text=status_text,
        title=lambda category: category_title(category, t.lang),
        upper_first=lambda text: text[:1].upper() + text[1:],
    )
    return env


def _svg_as_images(html: str) -> str:
    """The page with each inline chart as an image of the same SVG (a ``data:`` address):
    WeasyPrint then reads the SVG with an XML parser instead of giving each of its elements
    the page's CSS, which made each PDF about a quarter slower. The drawing is the same."""

    def image(found: re.Match[str]) -> str:
        svg = found.group(0)
        size = re.search(r'width="([\d.]+)"', svg)
        label = re.search(r'aria-label="([^"]*)"', svg)
        return (
            f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}"'
            f' alt="{label.group(1) if label else ""}"'
            f' style="width: {size.group(1) if size else 470}px">'
        )

    return _SVG.sub(image, html)


def _data_only() -> Any:
    """WeasyPrint's fetcher limited to the page's own ``data:`` images: a scorecard reads no
    file and no address. (Recent WeasyPrint versions take a fetcher object, older ones a
    function.)"""
    import weasyprint

    fetcher_class = getattr(weasyprint.urls, "URLFetcher", None)
    if fetcher_class is not None:
        return fetcher_class(allowed_protocols=("data",))

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        if not url.startswith("data:"):
            raise ValueError(f"a scorecard fetches nothing, not even {url}")
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return fetch


_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def _collect(
    results: Iterable[list[Path]], total: int, progress: Callable[[int, int], None] | None
) -> list[Path]:
    written: list[Path] = []
    for done, paths in enumerate(results, 1):
        written += paths
        if progress is not None:
            progress(done, total)
    return written


_worker: Renderer | None = None


def _start_worker(folder: str, out: str, lang: str, pdf: bool) -> None:
    global _worker
    _worker = Renderer(RunTables.from_model(ReadModel.open(folder)), Path(out), lang, pdf)


def _write_in_worker(institution_id: str) -> list[Path]:
    assert _worker is not None, "the pool's initializer did not run"
    return _worker.write(institution_id)
