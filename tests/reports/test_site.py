"""The results site: every nominee and number on its pages is the run's (results.json and the
read model's tables, read back from the HTML), the methodology page names every component
with its weight, Indonesian by default and English when asked, written atomically, and it
opens from disk in a real browser without a single network request."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govsocial.awards.engine import CHAMPION_RULES
from govsocial.awards.methodology import parse_methodology
from govsocial.errors import ConfigError
from govsocial.metrics.catalogue import METRICS as CATALOGUE
from govsocial.publish.model import MANIFEST, ReadModel
from govsocial.reports import site_text
from govsocial.reports.i18n import Language, catalogue
from govsocial.reports.site import MARKER, write_site
from govsocial.vocabulary import PLATFORM_NAMES
from reports.browser import browser_page
from reports.pages import page
from reports.published import published_fixture  # noqa: F401


def number(text: str, lang: str) -> float:
    """A number as the page shows it in ``lang``, read back ('1.234,5' in id)."""
    text = text.strip().rstrip("%×").strip()
    text = text.replace(".", "").replace(",", ".") if lang == "id" else text.replace(",", "")
    return float(text)


def close(shown: str, value: float, lang: str, decimals: int) -> bool:
    return abs(number(shown, lang) - value) <= 0.5 * 10.0**-decimals + 1e-9


# ------------------------------------------------------------------ the sites


@pytest.fixture(scope="module")
def sites(published: ReadModel, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("site")
    return {lang: write_site(published, root / lang, lang).parent for lang in ("id", "en")}


def cluster_pages(model: ReadModel) -> Iterator[tuple[dict[str, Any], dict[str, Any], str]]:
    for category in model.results["categories"]:
        for cluster in category["clusters"]:
            yield category, cluster, f"categories/{category['id']}/{cluster['cluster_id']}.html"


LANGS = pytest.mark.parametrize("lang", ["id", "en"])


@LANGS
def test_every_nominee_and_its_evidence_is_the_results(
    published: ReadModel, sites: dict[str, Path], lang: str
) -> None:
    language = Language(lang, "site")
    checked = 0
    for _category, cluster, path in cluster_pages(published):
        html = page(sites[lang] / path)
        articles = list(html.all("article", class_="nominee"))
        units = [*cluster["nominees"], *cluster["held"]]
        assert [int(a.attrs["data-rank"]) for a in articles] == [u["rank"] for u in units]
        for article, unit in zip(articles, units, strict=True):
            assert unit["institution_name"] in article.one("h3").text()
            if unit["handle"]:
                assert f"@{unit['handle']}" in article.one("h3").text()
            assert int(article.one("dd", class_="rank-value").text()) == unit["rank"]
            assert close(article.one("dd", class_="score").text(), unit["score"], lang, 3)
            for key in ("posts", "followers", "interactions"):
                assert number(article.one("dd", class_=key).text(), lang) == unit[key]
            stability = article.one("dd", class_="stability").text()
            assert close(stability.split("%")[0], 100 * unit["stability"], lang, 0)
            low, high = article.one("dd", class_="interval").text().split("–")
            assert [int(low), int(high)] == unit["rank_interval"]
            # the score, component by component
            rows = article.one("table", class_="components").rows()
            assert len(rows) == len(unit["components"])
            for cells, part in zip(rows, unit["components"], strict=True):
                assert cells[0].text() == site_text.metric_label(language, part["metric"])
                assert close(cells[1].text(), part["weight"], lang, 6)
                assert close(cells[2].text(), part["percentile"], lang, 3)
                assert close(cells[3].text(), part["contribution"], lang, 3)
            # per platform: rank of how many
            rows = article.one("table", class_="platforms").rows()
            assert len(rows) == len(unit["platforms"])
            for cells, p in zip(rows, unit["platforms"], strict=True):
                assert cells[0].text() == PLATFORM_NAMES[p["platform"]]
                rank, of = re.findall(r"[\d.,]+", cells[1].text())
                assert (number(rank, lang), number(of, lang)) == (p["rank"], p["of"])
                assert close(cells[2].text(), p["score"], lang, 3)
                assert number(cells[3].text(), lang) == p["posts"]
                assert number(cells[4].text(), lang) == p["active_weeks"]
                assert number(cells[5].text(), lang) == p["followers"]
            # top posts, with their links
            if unit["top_posts"]:
                rows = article.one("table", class_="posts").rows()
                assert len(rows) == len(unit["top_posts"])
                for cells, post in zip(rows, unit["top_posts"], strict=True):
                    if post["url"]:
                        assert cells[0].one("a").attrs["href"] == post["url"]
                    assert number(cells[3].text(), lang) == post["interactions"]
                    assert close(cells[6].text(), post["overperformance"], lang, 1)
            flags = sorted(li.attrs["data-flag"] for li in article.all("li", class_="flag"))
            assert flags == sorted(f["flag"] for f in unit["flags"])
            checked += 1
    assert checked >= 60  # 5 categories × 4 clusters × (up to) 5 nominees


@LANGS
def test_the_leaderboards_are_the_standings(
    published: ReadModel, sites: dict[str, Path], lang: str
) -> None:
    language = Language(lang, "site")
    standings = published.table("standings").to_pylist()
    parts = {
        (r["category"], r["cluster_id"], r["unit"], r["metric"]): r["percentile"]
        for r in published.table("components").to_pylist()
        if not r["platform"]
    }
    for category, cluster, path in cluster_pages(published):
        html = page(sites[lang] / path)
        expected = sorted(
            (
                r
                for r in standings
                if r["category"] == category["id"] and r["cluster_id"] == cluster["cluster_id"]
            ),
            key=lambda r: r["rank"],
        )
        rows = html.one("table", class_="leaderboard").rows()
        assert len(rows) == len(expected) == cluster["eligible"]
        metrics = [c["metric"] for c in category["components"]]
        for cells, row in zip(rows, expected, strict=True):
            assert int(cells[0].text()) == row["rank"]
            assert row["institution_name"] in cells[1].text()
            assert close(cells[2].text(), row["score"], lang, 3)
            for i, metric in enumerate(metrics, start=3):
                key = (category["id"], cluster["cluster_id"], row["unit"], metric)
                assert close(cells[i].text(), parts[key], lang, 3)
            rest = cells[3 + len(metrics) :]
            counts = ("posts", "followers", "interactions", "platforms")
            for cell, count in zip(rest[:4], counts, strict=True):
                assert number(cell.text(), lang) == row[count]
            shown_status = rest[4].text()
            assert shown_status == (
                language.gettext(site_text.STATUS[row["status"]]) if row["status"] else ""
            )
        nominated = [r["unit"] for r in expected if r["status"] == "nominated"]
        units = [
            str(n["account_id"]) if n["account_id"] is not None else n["institution_id"]
            for n in cluster["nominees"]
        ]
        assert nominated == units  # the standings' status is the results' nominees


@LANGS
def test_eligibility_counts_and_notes_are_the_clusters(
    published: ReadModel, sites: dict[str, Path], lang: str
) -> None:
    for category, cluster, path in cluster_pages(published):
        html = page(sites[lang] / path)
        rows = html.one("table", class_="eligibility").rows()
        assert number(rows[0][1].text(), lang) == cluster["considered"]
        assert number(rows[1][1].text(), lang) == cluster["eligible"]
        reasons = {
            tr.attrs["data-reason"]: number(tr.one("td").text(), lang)
            for tr in html.all("tr")
            if "data-reason" in tr.attrs
        }
        assert reasons == cluster["ineligible"]
        notes = html.all("ul", class_="notes")
        shown = [li.text() for ul in notes for li in ul.all("li")]
        assert len(shown) == len(category["notes"])
        if lang == "en":
            assert shown == category["notes"]


def test_how_sure_in_words_is_the_engines_statement(published: ReadModel) -> None:
    """The site composes the certainty statement and a cluster's note from the results'
    numbers: in English it is the engine's sentence word for word, so the Indonesian one,
    composed the same way, says the same."""
    stability = published.results["stability"]
    wanted = {c.id: c.nominees for c in parse_methodology(published.methodology_text).categories}
    en, id_ = Language("en", "site"), Language("id", "site")
    unsure = 0
    for category, cluster in (
        (c, cl) for c in published.results["categories"] for cl in c["clusters"]
    ):
        args = (stability["replicates"], stability["stays"], stability["enters"])
        assert site_text.certainty_sentence(en, cluster, *args) == cluster["certainty"]["statement"]
        indonesian = site_text.certainty_sentence(id_, cluster, *args)
        for place in cluster["certainty"]["places"]:
            assert f"ke-{place}" in indonesian
        unsure += not cluster["certainty"]["clear"]
        note = site_text.cluster_note(en, cluster, wanted[category["id"]])
        assert note == cluster["note"]
    assert unsure  # the small run has unsure clusters: the composed sentences were exercised


@LANGS
def test_the_overview_shows_coverage_champion_and_every_page(
    published: ReadModel, sites: dict[str, Path], lang: str
) -> None:
    coverage = published.coverage
    html = page(sites[lang] / "index.html")
    tables = {t.one("caption").text(): t for t in html.all("table")}
    language = Language(lang, "site")
    clusters = tables[language.gettext("Institutions per cluster")].rows()
    assert [number(r[1].text(), lang) for r in clusters] == [
        coverage["institutions"].get(c, 0) for c in coverage["clusters"]
    ]
    platforms = tables[language.gettext("Accounts and posts per platform")].rows()
    for cells, p in zip(platforms, coverage["platforms"], strict=True):
        assert cells[0].text() == PLATFORM_NAMES[p]
        assert number(cells[1].text(), lang) == coverage["accounts"].get(p, 0)
        assert number(cells[2].text(), lang) == coverage["posts"][p]["posts"]
        assert number(cells[3].text(), lang) == coverage["posts"][p]["reposts"]
    points = tables[language.gettext("Data points")].rows()
    assert [number(r[1].text(), lang) for r in points] == [
        coverage["post_readings"],
        coverage["follower_readings"],
    ]
    standings = tables[language.gettext("Standings towards the overall champion")].rows()
    champion = published.results["champion"]["standings"]
    assert [(int(r[0].text()), r[1].text()) for r in standings] == [
        (s["position"], s["institution_name"]) for s in champion
    ]
    links = {a.attrs["href"] for a in html.one("table", class_="grid").all("a")}
    assert links == {path for _, _, path in cluster_pages(published)}
    assert all((sites[lang] / link).is_file() for link in links)


@LANGS
def test_the_methodology_page_names_every_component_with_its_weight(
    published: ReadModel, sites: dict[str, Path], lang: str
) -> None:
    html = page(sites[lang] / "methodology.html")
    language = Language(lang, "site")
    used = set()
    for category in published.results["categories"]:
        section = html.one("section", id=f"category-{category['id']}")
        rows = section.one("table", class_="weights").rows()
        assert len(rows) == len(category["components"])
        total = sum(c["weight"] for c in category["components"])
        for cells, part in zip(rows, category["components"], strict=True):
            assert part["metric"] in cells[0].text()
            assert site_text.metric_label(language, part["metric"]) in cells[0].text()
            assert close(cells[1].text(), part["weight"], lang, 6)
            assert close(cells[2].text(), 100 * part["weight"] / total, lang, 0)
            used.add(part["metric"])
    for metric in used:
        section = html.one("section", id=f"metric-{metric}")
        text = section.text()
        assert language.gettext(CATALOGUE[metric].description) in text  # the formula
        assert language.gettext(CATALOGUE[metric].source) in text  # the data and citation
        assert language.gettext(site_text.METRICS[metric].words) in text
    reproduce = html.one("section", aria_labelledby="reproduce").text()
    manifest = published.manifest
    for value in (
        published.run_id,
        manifest["methodology_sha256"],
        manifest["data_fingerprint"],
        manifest["govsocial_version"],
    ):
        assert value in reproduce
    assert f"--stability {published.results['stability']['replicates']}" in reproduce


def test_indonesian_by_default_english_when_asked(
    published: ReadModel, sites: dict[str, Path], tmp_path: Path
) -> None:
    default = write_site(published, tmp_path / "default").read_text(encoding="utf-8")
    assert default == (sites["id"] / "index.html").read_text(encoding="utf-8")
    for lang, words in {
        "id": ["Ringkasan", "Kategori dan klaster", "Cakupan data", "DATA SINTETIS"],
        "en": ["Overview", "Categories and clusters", "What the data covers", "SYNTHETIC DATA"],
    }.items():
        html = page(sites[lang] / "index.html")
        assert html.one("html").attrs["lang"] == lang
        text = html.text()
        for word in words:
            assert word in text, (lang, word)
    posts = published.results["data"]["posts_in_scope"]
    assert posts >= 1000
    assert f"{posts:,}".replace(",", ".") in page(sites["id"] / "index.html").text()
    assert f"{posts:,}" in page(sites["en"] / "index.html").text()
    assert "Agustus 2024" in page(sites["id"] / "index.html").text()
    assert "August 2024" in page(sites["en"] / "index.html").text()
    category = next(cluster_pages(published))[2]
    id_text = page(sites["id"] / category).text()
    en_text = page(sites["en"] / category).text()
    assert "Nominasi" in id_text and "Papan peringkat" in id_text and "Leaderboard" not in id_text
    assert "Nominees" in en_text and "Leaderboard" in en_text


def test_every_page_says_synthetic_data(published: ReadModel, sites: dict[str, Path]) -> None:
    assert published.synthetic
    pages = list(sites["id"].rglob("*.html"))
    assert len(pages) == 2 + sum(1 for _ in cluster_pages(published))
    for path in pages:
        banner = page(path).one("div", class_="synthetic")
        assert "DATA SINTETIS" in banner.text()


def test_every_text_of_the_site_has_its_indonesian_translation() -> None:
    """The texts the site shows by id (labels, metric words, the catalogue's formulas and
    sources, the champion rules) are in site.po, with the msgid's placeholders."""
    found = catalogue("id", "site")
    texts = [
        *(t for m in site_text.METRICS.values() for t in (m.label, m.words)),
        *(t for pair in site_text.FLAGS.values() for t in pair),
        *site_text.TIEBREAKERS.values(),
        *site_text.MEDIA_TYPES.values(),
        *site_text.UNITS.values(),
        *site_text.STATUS.values(),
        *site_text.SEVERITY.values(),
        *(t for m in CATALOGUE.values() for t in (m.description, m.source)),
        *CHAMPION_RULES.values(),
    ]
    assert set(CATALOGUE) <= set(site_text.METRICS)
    missing = [t for t in texts if t not in found]
    assert not missing
    for msgid, msgstr in found.items():
        text = msgstr if isinstance(msgstr, str) else msgstr[0]
        assert set(re.findall(r"\{(\w*)\}", msgid)) == set(re.findall(r"\{(\w*)\}", text))


def test_engine_sentences_are_translated_or_shown_as_english() -> None:
    id_ = Language("id", "site")
    names = {"pemda": "Pemerintah Daerah"}
    said = site_text.flag_detail(
        id_,
        "44.1 likes per comment against a median of 5.0 for facebook accounts in cluster pemda",
        names,
    )
    assert said.lang is None
    assert said.text.startswith("44,1 suka per komentar") and "Pemerintah Daerah" in said.text
    said = site_text.flag_detail(
        id_, "1,234 of 2,000 posts got more interactions than the account had followers"
    )
    assert said.text.startswith("1.234 dari 2.000 unggahan")
    unknown = site_text.flag_detail(id_, "a sentence of a newer version")
    assert unknown == site_text.Said("a sentence of a newer version", "en")
    note = site_text.category_note(
        id_,
        "engagement_rate not shrunk in tiktok × pemda: only 2 eligible units with interactions "
        "on their posts; estimating the prior needs at least 4.",
        names,
    )
    assert note.lang is None and "TikTok" in note.text and "Pemerintah Daerah" in note.text


# ------------------------------------------------------------------ held, themed and noted


def edited(model: ReadModel, folder: Path, edit: Any) -> ReadModel:
    """A copy of the published run whose results.json ``edit(results)`` changed, its
    manifest's hash updated (the site reads only the read model)."""
    shutil.copytree(model.folder, folder)
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    edit(results)
    data = json.dumps(results).encode("utf-8")
    (folder / "results.json").write_bytes(data)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["results.json"] = hashlib.sha256(data).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return ReadModel.open(folder)


def test_held_units_theme_evidence_and_notes_are_shown(
    published: ReadModel, tmp_path: Path
) -> None:
    flag = {
        "account_id": 1,
        "platform": "instagram",
        "handle": "akun_uji",
        "flag": "implausible_counts",
        "severity": "severe",
        "detail": "3 of its 40 posts have counts no audience of its size explains",
    }
    theme: dict[str, Any] = {
        "posts": 17,
        "terms": [{"term": "#perubahaniklim", "posts": 9}, {"term": "emisi karbon", "posts": 4}],
        "examples": [
            {
                "post_id": 5,
                "platform": "x",
                "platform_post_id": "55",
                "url": "https://x.com/akun_uji/status/55",
                "posted_at": "2025-01-02T03:04:05+00:00",
                "media_type": "text",
                "interactions": 1234,
                "themes": ["climate"],
                "terms": ["#perubahaniklim"],
            }
        ],
    }

    def edit(results: dict[str, Any]) -> None:
        cluster = results["categories"][0]["clusters"][0]
        held = dict(cluster["nominees"][0], flags=[flag], reason="Held for review: test.")
        cluster["held"] = [held]
        cluster["nominees"] = cluster["nominees"][1:]
        cluster["nominees"][0]["theme"] = theme
        results["categories"][0]["notes"] = ["A note of a form the site does not know."]

    model = edited(published, tmp_path / "run", edit)
    index = write_site(model, tmp_path / "site", link_scorecards=False)
    category = model.results["categories"][0]
    cluster = category["clusters"][0]
    html = page(index.parent / "categories" / category["id"] / f"{cluster['cluster_id']}.html")
    articles = list(html.all("article", class_="held"))
    assert len(articles) == 1
    held = articles[0]
    assert cluster["held"][0]["institution_name"] in held.one("h3").text()
    assert "Ditahan untuk ditinjau" in held.text()
    severe = held.one("li", class_="severe")
    assert "Angka tidak wajar" in severe.text() and "@akun_uji" in severe.text()
    assert held.one("span", lang="en").text() == flag["detail"]  # not a form it knows: English
    themed = html.one("section", class_="theme")
    assert "17" in themed.text()
    terms = [(r[0].text(), number(r[1].text(), "id")) for r in next(themed.all("table")).rows()]
    assert terms == [("#perubahaniklim", 9), ("emisi karbon", 4)]
    assert themed.one("a").attrs["href"] == theme["examples"][0]["url"]
    assert "Ditahan untuk ditinjau (penanda berat" in html.one("p", class_="note").text()
    note = html.one("ul", class_="notes").one("li")
    assert note.one("span").attrs["lang"] == "en"
    assert not list(
        html.all("a", href=f"../../scorecards/{cluster['nominees'][0]['institution_id']}.html")
    )


# ------------------------------------------------------------------ the folder


def test_a_report_is_replaced_whole_and_other_folders_are_refused(
    published: ReadModel, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    write_site(published, out)
    (out / "scorecards").mkdir()
    (out / "scorecards" / "old.html").write_text("old")
    write_site(published, out, "en")
    assert not (out / "scorecards").exists()  # the earlier report went, whole
    assert page(out / "index.html").one("html").attrs["lang"] == "en"
    assert json.loads((out / MARKER).read_text())["run_id"] == published.run_id
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder left

    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "letter.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not a govsocial report"):
        write_site(published, mine)
    assert [p.name for p in mine.iterdir()] == ["letter.txt"]


def test_a_failed_write_leaves_the_earlier_report(published: ReadModel, tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_site(published, out)
    before = (out / "index.html").read_text(encoding="utf-8")

    def fail(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_site(published, out, "en", progress=fail)
    assert (out / "index.html").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_progress_counts_every_page(published: ReadModel, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    write_site(published, tmp_path / "site", progress=lambda d, t: seen.append((d, t)))
    total = 2 + sum(1 for _ in cluster_pages(published))
    assert seen == [(d, total) for d in range(1, total + 1)]


# ------------------------------------------------------------------ in a real browser


def test_the_site_opens_from_disk_in_chromium_without_network(
    published: ReadModel, sites: dict[str, Path], tmp_path: Path
) -> None:
    index = sites["id"] / "index.html"
    category, cluster, _ = next(cluster_pages(published))
    with browser_page(tmp_path / "profile") as (browser, requests):
        browser.goto(index.as_uri())
        assert browser.locator("html").get_attribute("lang") == "id"
        assert browser.get_by_text("DATA SINTETIS").first.is_visible()
        browser.locator("table.grid a").first.click()
        browser.wait_for_load_state()
        assert browser.url.endswith(f"categories/{category['id']}/{cluster['cluster_id']}.html")
        heading = browser.locator("h1").inner_text()
        assert category["title"]["id"] in heading and cluster["cluster_name"] in heading
        first = cluster["nominees"][0]["institution_name"]
        assert browser.locator("article.nominee h3").first.inner_text().endswith(first) or (
            first in browser.locator("article.nominee h3").first.inner_text()
        )
        assert browser.get_by_role("heading", name="Papan peringkat").is_visible()
        browser.get_by_role("link", name="Metodologi").first.click()
        browser.wait_for_load_state()
        assert browser.url.endswith("/methodology.html")
        assert browser.locator("h1").inner_text().startswith("Metodologi")
        assert browser.get_by_role("heading", name="Mengulang perhitungan hasil ini").is_visible()
        stylesheet = browser.evaluate(
            "getComputedStyle(document.querySelector('.synthetic')).backgroundColor"
        )
        assert stylesheet == "rgb(139, 0, 0)"  # site.css was loaded, from disk
    assert len(requests) >= 3  # the three pages (and their stylesheet)
    assert all(url.startswith("file://") for url in requests), [
        u for u in requests if not u.startswith("file://")
    ]
